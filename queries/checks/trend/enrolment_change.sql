-- A school x level whose active students of the year changed, against the trend baseline,
-- by at least min_students and by at least min_percent % of the baseline's count (.toml).
-- Counted as metrics_school_level counts them: a student at the level of its class's grade
-- when the school has it, else at the school's first level. The baseline's counts are its
-- metrics (prev_school_levels). Schools active in both snapshots; a school x level with no
-- student in the baseline is not compared (school.no_records was its finding).
WITH m AS (
    SELECT school_code,
           list_distinct(list_filter(coalesce(levels, []::VARCHAR[]),
                                     lambda x: x IS NOT NULL)) AS levels
    FROM p_schools WHERE active
), per_level AS (
    -- a student's level is its class's (p_class_key); counted per class, not per student
    SELECT k.school_code, k.level, sum(n.students) AS students
    FROM p_class_key k JOIN p_class_students n ON n.class_idx = k.class_idx
    GROUP BY ALL
    UNION ALL
    SELECT school_code, NULL, count(*) FROM p_students WHERE class_idx IS NULL GROUP BY ALL
), cur AS (
    SELECT s.school_code,
           CASE WHEN list_contains(m.levels, s.level) THEN s.level ELSE m.levels[1] END AS level,
           sum(s.students) AS students
    FROM per_level s JOIN m ON m.school_code = s.school_code
    GROUP BY ALL
), cmp AS (
    SELECT p.school_code, p.level, p.students AS before,
           coalesce((SELECT sum(c.students) FROM cur c
                     WHERE c.school_code = p.school_code
                       AND c.level IS NOT DISTINCT FROM p.level), 0) AS after
    FROM prev_school_levels p
    JOIN m ON m.school_code = p.school_code
)
SELECT school_code AS record_key, school_code, level, 'students' AS field,
       CAST(after AS VARCHAR) AS value,
       coalesce('cấp ' || level || ' ', '') || soat_change_text(before, after, $trend_as_of)
           AS detail,
       NULL AS period
FROM cmp
WHERE soat_changed(before, after, $min_students, $min_percent)
