-- A school x grade whose number of classes of the year changed by at least min_classes
-- against the trend baseline of the same school year (.toml: baseline = same_year). Classes
-- are counted once per school and class code (p_class_key, prev_classes). Schools active
-- in both snapshots. record_key: the school code and the grade ("86000012 khối 6").
WITH cur AS (
    SELECT school_code, grade, count(*) AS classes FROM p_class_key GROUP BY ALL
), both_active AS (
    SELECT s.school_code, s.levels FROM p_schools s
    JOIN prev_schools p ON p.school_code = s.school_code AND p.active
    WHERE s.active
), cmp AS (
    SELECT coalesce(c.school_code, p.school_code) AS school_code,
           coalesce(c.grade, p.grade) AS grade,
           coalesce(p.classes, 0) AS before, coalesce(c.classes, 0) AS after
    FROM cur c
    FULL JOIN prev_classes p
           ON p.school_code = c.school_code AND p.grade IS NOT DISTINCT FROM c.grade
)
SELECT x.school_code || ' khối ' || coalesce(x.grade, '?') AS record_key, x.school_code,
       soat_grade_level(x.grade, b.levels) AS level, 'grade' AS field, x.grade AS value,
       'khối ' || coalesce(x.grade, '(không rõ)') || ' ' || CASE WHEN x.after < x.before
           THEN 'giảm' ELSE 'tăng' END
       || ' từ ' || x.before || ' lớp (bản chụp ngày ' || strftime($trend_as_of, '%d/%m/%Y')
       || ') ' || CASE WHEN x.after < x.before THEN 'xuống ' ELSE 'lên ' END
       || x.after || ' lớp' AS detail,
       NULL AS period
FROM cmp x
JOIN both_active b ON b.school_code = x.school_code
WHERE abs(x.after - x.before) >= $min_classes
