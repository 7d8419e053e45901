-- An active school whose active staff changed, against the trend baseline, by at least
-- min_people and by at least min_percent % of the baseline's count (.toml). The baseline's
-- count is its metrics (prev_school_levels repeats a school's staff in every level row),
-- the count now p_school_counts. Schools active in both snapshots; a school with no staff
-- in the baseline is not compared (school.no_records was its finding).
WITH before AS (
    SELECT school_code, max(staff) AS n FROM prev_school_levels GROUP BY school_code
), cmp AS (
    SELECT s.school_code, b.n AS before, coalesce(c.staff, 0) AS after
    FROM p_schools s
    JOIN before b ON b.school_code = s.school_code
    LEFT JOIN p_school_counts c ON c.school_code = s.school_code
    WHERE s.active
)
SELECT school_code AS record_key, school_code, NULL AS level, 'staff' AS field,
       CAST(after AS VARCHAR) AS value,
       soat_change_text(before, after, $trend_as_of) AS detail,
       NULL AS period
FROM cmp
WHERE soat_changed(before, after, $min_people, $min_percent)
