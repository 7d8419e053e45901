-- An active school without any active student / staff record.
SELECT s.school_code AS record_key, s.school_code, NULL AS level, k.field, NULL AS value,
       k.label AS detail, NULL AS period
FROM p_schools s
CROSS JOIN (VALUES ('students', 'học sinh'), ('staff', 'cán bộ')) AS k(field, label)
LEFT JOIN p_school_counts n ON n.school_code = s.school_code
WHERE s.active
  AND coalesce(CASE k.field WHEN 'students' THEN n.students ELSE n.staff END, 0) = 0
