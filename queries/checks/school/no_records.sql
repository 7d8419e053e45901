-- An active school without any active student / staff record.
SELECT school_code AS record_key, school_code, NULL AS level, k.field, NULL AS value,
       k.label AS detail, NULL AS period
FROM p_schools s
CROSS JOIN (VALUES ('students', 'học sinh'), ('staff', 'cán bộ')) AS k(field, label)
WHERE s.active
  AND ((k.field = 'students'
        AND NOT EXISTS (SELECT 1 FROM p_students x WHERE x.school_code = s.school_code))
    OR (k.field = 'staff'
        AND NOT EXISTS (SELECT 1 FROM p_staff x WHERE x.school_code = s.school_code)))
