-- Findings over time, counted (after soat/history.py has set findings.change and since and
-- written findings_resolved). Re-runnable: the snapshot's rows are deleted first.
--   finding_changes         per school x level x check x period x since: open (new +
--                           persisting), new, persisting, resolved, age_days = as-of - since.
--                           Sums over its rows are exact for any scope and filter (the
--                           dashboard reads it), and the median age of open findings is the
--                           median of age_days weighted by `open`.
--   finding_changes_rollup  per province, unit (every school under it, through
--                           unit_closure), level (findings of that level and school-wide
--                           findings of schools having it), check and school, with the
--                           median age in days of the open findings.
-- new, persisting and resolved are NULL when there is no previous snapshot.
-- No semicolons inside comments or strings: the runner splits this file on them.

DELETE FROM finding_changes WHERE snapshot_id = $snapshot_id;

DELETE FROM finding_changes_rollup WHERE snapshot_id = $snapshot_id;

CREATE OR REPLACE TEMP TABLE fc_rows AS
SELECT school_code, unit_code, level, check_id, severity, period, since, change,
       CAST($as_of - since AS INTEGER) AS age_days, false AS resolved
FROM findings WHERE snapshot_id = $snapshot_id
UNION ALL
SELECT school_code, unit_code, level, check_id, severity, period, since, 'resolved',
       CAST($as_of - since AS INTEGER), true
FROM findings_resolved WHERE snapshot_id = $snapshot_id;

INSERT INTO finding_changes BY NAME
SELECT $snapshot_id AS snapshot_id, $prev_snapshot_id AS from_snapshot_id,
       school_code, unit_code, level, check_id, severity, period, since, age_days,
       count(*) FILTER (WHERE NOT resolved) AS open,
       CASE WHEN $prev_snapshot_id IS NOT NULL
            THEN count(*) FILTER (WHERE change = 'new') END AS new,
       CASE WHEN $prev_snapshot_id IS NOT NULL
            THEN count(*) FILTER (WHERE change = 'persisting') END AS persisting,
       CASE WHEN $prev_snapshot_id IS NOT NULL
            THEN count(*) FILTER (WHERE resolved) END AS resolved
FROM fc_rows
GROUP BY school_code, unit_code, level, check_id, severity, period, since, age_days;

INSERT INTO finding_changes_rollup BY NAME
WITH uc AS (
    SELECT DISTINCT unit_code, ancestor_code FROM unit_closure WHERE snapshot_id = $snapshot_id
), sl AS (
    SELECT DISTINCT school_code, unnest(levels) AS level FROM p_schools
), g AS (
    SELECT 'province' AS grain, NULL::VARCHAR AS g_unit, NULL::VARCHAR AS g_level,
           NULL::VARCHAR AS g_check, NULL::VARCHAR AS g_school, r.*
    FROM fc_rows r
    UNION ALL
    SELECT 'unit', uc.ancestor_code, NULL, NULL, NULL, r.*
    FROM fc_rows r JOIN uc ON uc.unit_code = r.unit_code
    UNION ALL
    SELECT 'level', NULL, coalesce(r.level, sl.level), NULL, NULL, r.*
    FROM fc_rows r LEFT JOIN sl ON r.level IS NULL AND sl.school_code = r.school_code
    WHERE coalesce(r.level, sl.level) IS NOT NULL
    UNION ALL
    SELECT 'check', NULL, NULL, r.check_id, NULL, r.* FROM fc_rows r
    UNION ALL
    SELECT 'school', NULL, NULL, NULL, r.school_code, r.* FROM fc_rows r
)
SELECT $snapshot_id AS snapshot_id, $prev_snapshot_id AS from_snapshot_id, grain,
       g_unit AS unit_code, g_level AS level, g_check AS check_id, g_school AS school_code,
       count(*) FILTER (WHERE NOT resolved) AS open,
       CASE WHEN $prev_snapshot_id IS NOT NULL
            THEN count(*) FILTER (WHERE change = 'new') END AS new,
       CASE WHEN $prev_snapshot_id IS NOT NULL
            THEN count(*) FILTER (WHERE change = 'persisting') END AS persisting,
       CASE WHEN $prev_snapshot_id IS NOT NULL
            THEN count(*) FILTER (WHERE resolved) END AS resolved,
       CAST(median(age_days) FILTER (WHERE NOT resolved) AS DOUBLE) AS median_age_days
FROM g
GROUP BY grain, g_unit, g_level, g_check, g_school;
