-- Timeliness per active school x level, DHIS2-style (see docs/deadlines.md):
--   expected  = submission_status rows whose due date has passed (status <> pending)
--   submitted = on_time + late
--   reporting_rate = submitted / expected, on_time_rate = on_time / expected
--   both 1.0 when expected = 0 (nothing was due, nothing is late)
--   median_days_late over the late rows (NULL when none)
-- Joined into metrics_school_level by queries/derived/5*.sql.
CREATE OR REPLACE TEMP TABLE timeliness_school_level AS
WITH school_level AS (
    SELECT DISTINCT school_code, level
    FROM (
        SELECT school_code, unnest(levels) AS level
        FROM schools
        WHERE snapshot_id = $snapshot_id
          AND school_code IS NOT NULL
          AND coalesce(status, '') NOT IN ('Sáp nhập', 'Giải thể')  -- active, as p_schools
    )
    WHERE level IS NOT NULL
),
agg AS (
    SELECT school_code, level,
           count(*) FILTER (WHERE status <> 'pending') AS expected,
           count(*) FILTER (WHERE status IN ('on_time', 'late')) AS submitted,
           count(*) FILTER (WHERE status = 'on_time') AS on_time,
           count(*) FILTER (WHERE status = 'late') AS late,
           count(*) FILTER (WHERE status = 'missing') AS missing,
           median(days_late) FILTER (WHERE status = 'late') AS median_days_late
    FROM submission_status
    WHERE snapshot_id = $snapshot_id
    GROUP BY school_code, level
)
SELECT sl.school_code, sl.level,
       coalesce(a.expected, 0) AS expected,
       coalesce(a.submitted, 0) AS submitted,
       coalesce(a.on_time, 0) AS on_time,
       coalesce(a.late, 0) AS late,
       coalesce(a.missing, 0) AS missing,
       CASE WHEN coalesce(a.expected, 0) = 0 THEN 1.0
            ELSE CAST(a.submitted AS DOUBLE) / a.expected END AS reporting_rate,
       CASE WHEN coalesce(a.expected, 0) = 0 THEN 1.0
            ELSE CAST(a.on_time AS DOUBLE) / a.expected END AS on_time_rate,
       CAST(a.median_days_late AS DOUBLE) AS median_days_late
FROM school_level sl
LEFT JOIN agg a ON a.school_code = sl.school_code AND a.level = sl.level;
