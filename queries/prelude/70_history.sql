-- The trend.* checks' baseline as small tables (soat/history.py picks it: the previous
-- checked snapshot of the same school year, else the latest of the previous school year).
-- h_<table> are the runner's views over the history catalog (the earlier snapshots). When
-- there is no baseline the parameter is NULL, these tables are empty and the trend checks
-- are reported "not run" without running.
-- (No semicolons inside comments or strings: the runner splits this file on them.)

-- The baseline's schools, one row per code (first row wins, as p_schools), with `active`.
CREATE OR REPLACE TEMP TABLE prev_schools AS
SELECT school_code, school_name, unit_code, levels, status,
       (status IS NULL OR status = 'Hoạt động'
        OR status NOT IN (SELECT value FROM p_vocab WHERE name = 'school_status')) AS active
FROM h_schools
WHERE snapshot_id = $trend_snapshot_id AND school_code IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY school_code ORDER BY _row) = 1;

-- Active students and staff per active school x level, as the baseline's metrics counted
-- them (metrics_school_level: staff are repeated in every level row of their school).
CREATE OR REPLACE TEMP TABLE prev_school_levels AS
SELECT school_code, level, students, staff
FROM h_metrics_school_level
WHERE snapshot_id = $trend_snapshot_id;

-- Classes of the snapshot's school year per school x grade (as p_class_key counts them:
-- one per school and class code), only when the baseline is of the same school year.
CREATE OR REPLACE TEMP TABLE prev_classes AS
SELECT school_code, grade, count(*) AS classes
FROM (SELECT school_code, class_code, any_value(grade) AS grade
      FROM h_classes
      WHERE snapshot_id = $trend_snapshot_id AND $trend_same_year
        AND soat_in_year(school_year, $school_year) AND class_code IS NOT NULL
      GROUP BY school_code, class_code)
GROUP BY school_code, grade;

-- "giảm từ 1.234 (bản chụp ngày 12/06/2025) xuống 800 (−35,2 %)": a count before (a, on
-- the baseline's date d) and now (b), for the messages. a is never 0 here.
CREATE OR REPLACE TEMP MACRO soat_change_text(a, b, d) AS (
    CASE WHEN b < a THEN 'giảm' ELSE 'tăng' END
    || ' từ ' || format('{:t.}', a) || ' (bản chụp ngày ' || strftime(d, '%d/%m/%Y') || ') '
    || CASE WHEN b < a THEN 'xuống ' ELSE 'lên ' END || format('{:t.}', b)
    || ' (' || CASE WHEN b < a THEN '−' ELSE '+' END
    || replace(printf('%.1f', 100.0 * abs(b - a) / a), '.', ',') || ' %)');

-- Did a count change by at least min_n and by at least min_percent % of the count before?
-- Integer arithmetic: 20 % of 15 is exactly 3.
CREATE OR REPLACE TEMP MACRO soat_changed(a, b, min_n, min_percent) AS (
    a > 0 AND abs(b - a) >= min_n AND abs(b - a) * 100 >= min_percent * a);
