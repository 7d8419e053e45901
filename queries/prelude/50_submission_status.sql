-- lane: submissions
-- Submission status: one row per active school x school level x (period, data type, target)
-- that a deadline of the snapshot's school year applies to, with the push log folded in.
-- Rules and every decision where the spec is silent: docs/deadlines.md.
-- (No semicolons inside comments or strings: the runner splits this file on them.)

DELETE FROM submission_status WHERE snapshot_id = $snapshot_id;

-- Vietnamese labels used by the submission.* check messages.
CREATE OR REPLACE TEMP TABLE submission_labels AS
SELECT * FROM (VALUES
    ('data_type', 'staff', 'Cán bộ'),
    ('data_type', 'students', 'Học sinh'),
    ('data_type', 'classes', 'Lớp học'),
    ('data_type', 'rooms', 'Phòng học'),
    ('data_type', 'budget', 'Ngân sách'),
    ('period', 'dau_nam', 'Đầu năm'),
    ('period', 'giua_nam', 'Giữa năm'),
    ('period', 'cuoi_nam', 'Cuối năm'),
    ('target', 'Sở', 'lên Sở'),
    ('target', 'Bộ', 'lên Bộ')
) AS t(kind, code, label);

INSERT INTO submission_status
WITH present AS (
    -- without both the calendar and the push log there is nothing to compare
    SELECT count(DISTINCT table_name) = 2 AS ok
    FROM snapshot_tables
    WHERE snapshot_id = $snapshot_id AND table_name IN ('deadlines', 'submissions')
),
active AS (
    SELECT school_code,
           any_value(unit_code) AS unit_code,
           any_value(levels) AS levels,
           any_value(previous_codes) AS previous_codes
    FROM schools
    WHERE snapshot_id = $snapshot_id
      AND school_code IS NOT NULL
      -- active as p_schools has it: any status but the two that end a school (a status
      -- outside the vocabulary, 'Đang hoạt động', once dropped the school from monitoring)
      AND coalesce(status, '') NOT IN ('Sáp nhập', 'Giải thể')
    GROUP BY school_code
),
school_level AS (
    SELECT DISTINCT school_code, unit_code, level
    FROM (SELECT school_code, unit_code, unnest(levels) AS level FROM active)
    WHERE level IS NOT NULL
),
data_types AS (
    SELECT * FROM (VALUES ('staff'), ('students'), ('classes'), ('rooms'), ('budget')) AS t(data_type)
),
dl AS (
    SELECT d._row, d.period, d.level AS levels, d.data_type,
           coalesce(d.target, 'Sở') AS target,
           d.due_date, d.lock_date, d.unit_code, d.school_code, d.reference,
           CASE WHEN d.school_code IS NOT NULL THEN 1
                WHEN d.unit_code IS NOT NULL THEN 2
                WHEN len(coalesce(d.level, [])) > 0 THEN 3
                ELSE 4 END AS tier,
           len(coalesce(d.level, [])) AS n_levels
    FROM deadlines d
    WHERE d.snapshot_id = $snapshot_id
      AND (SELECT ok FROM present)
      AND coalesce(d.school_year, $school_year) = $school_year
      AND d.period IS NOT NULL
      AND d.due_date IS NOT NULL
      AND (d.data_type IS NULL OR d.data_type IN (SELECT data_type FROM data_types))
      AND coalesce(d.target, 'Sở') IN ('Sở', 'Bộ')
),
cand AS (
    -- every (school level, data type) each deadline row applies to
    SELECT sl.school_code, sl.unit_code, sl.level, dl.period, dt.data_type, dl.target,
           dl.due_date, dl.lock_date, dl.reference, dl.tier, dl.n_levels, dl._row,
           dl.data_type IS NULL AS any_type,
           coalesce(uc.depth, 0) AS depth
    FROM dl
    JOIN data_types dt ON dl.data_type IS NULL OR dl.data_type = dt.data_type
    JOIN school_level sl ON dl.n_levels = 0 OR list_contains(dl.levels, sl.level)
    LEFT JOIN unit_closure uc
           ON dl.tier = 2
          AND uc.snapshot_id = $snapshot_id
          AND uc.unit_code = sl.unit_code
          AND uc.ancestor_code = dl.unit_code
    WHERE (dl.tier <> 1 OR dl.school_code = sl.school_code)
      AND (dl.tier <> 2 OR uc.unit_code IS NOT NULL)
),
chosen AS (
    -- the most specific row wins: school extension, nearest unit extension, level row,
    -- province row, and within a tier a data-type-specific row, then the fewest levels,
    -- then the latest due date, then the earliest row of the calendar
    SELECT school_code, unit_code, level, period, data_type, target,
           first(due_date ORDER BY tier, depth, any_type, n_levels = 0, n_levels, due_date DESC, _row) AS due_date,
           first(lock_date ORDER BY tier, depth, any_type, n_levels = 0, n_levels, due_date DESC, _row) AS win_lock,
           first(lock_date ORDER BY tier, depth, any_type, n_levels = 0, n_levels, due_date DESC, _row)
               FILTER (WHERE tier >= 3) AS base_lock,
           first(reference ORDER BY tier, depth, any_type, n_levels = 0, n_levels, due_date DESC, _row) AS reference,
           min(tier) AS tier
    FROM cand
    GROUP BY school_code, unit_code, level, period, data_type, target
),
owner AS (
    -- a push under a school's own code, or under one of its previous codes (merged schools)
    SELECT code, school_code FROM (
        SELECT school_code AS code, school_code, 0 AS pref FROM active
        UNION ALL
        SELECT unnest(previous_codes) AS code, school_code, 1 AS pref
        FROM active WHERE previous_codes IS NOT NULL
    )
    WHERE code IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY code ORDER BY pref, school_code) = 1
),
push AS (
    SELECT o.school_code, s.period, s.data_type, coalesce(s.target, 'Sở') AS target,
           s.pushed_at, s.result, s.error, s._row
    FROM submissions s
    JOIN owner o ON o.code = s.school_code
    WHERE s.snapshot_id = $snapshot_id
      AND s.pushed_at IS NOT NULL
      AND coalesce(s.school_year, $school_year) = $school_year
),
chosen_k AS (
    -- an integer key per chosen row: the pushes are aggregated by it (not by ten columns)
    SELECT *, row_number() OVER () AS cid FROM chosen
),
push_agg AS (
    SELECT c.cid,
           min(p.pushed_at) FILTER (WHERE p.result = 'Thành công') AS first_success_at,
           max(p.pushed_at) AS last_push_at,
           first(p.result ORDER BY p.pushed_at DESC, p._row DESC) AS last_result,
           first(p.error ORDER BY p.pushed_at DESC, p._row DESC) AS last_error,
           count(p.pushed_at) AS pushes,
           count(p.pushed_at) FILTER (WHERE CAST(p.pushed_at AS DATE) > coalesce(c.win_lock, c.base_lock)) AS pushes_after_lock
    FROM chosen_k c
    JOIN push p
      ON p.school_code = c.school_code AND p.period = c.period
     AND p.data_type = c.data_type AND p.target = c.target
    GROUP BY c.cid
),
folded AS (
    SELECT c.school_code, c.unit_code, c.level, c.period, c.data_type, c.target, c.due_date,
           coalesce(c.win_lock, c.base_lock) AS lock_date, c.reference,
           CASE c.tier WHEN 1 THEN 'school' WHEN 2 THEN 'unit' WHEN 3 THEN 'level' ELSE 'province' END AS rule,
           a.first_success_at, a.last_push_at, a.last_result, a.last_error,
           coalesce(a.pushes, 0) AS pushes,
           coalesce(a.pushes_after_lock, 0) AS pushes_after_lock
    FROM chosen_k c
    LEFT JOIN push_agg a ON a.cid = c.cid
)
SELECT $snapshot_id, school_code, unit_code, level, $school_year, period, data_type, target,
       due_date, lock_date, reference, rule, first_success_at, last_push_at, last_result,
       last_error, pushes, pushes_after_lock,
       CASE WHEN first_success_at IS NOT NULL AND CAST(first_success_at AS DATE) <= due_date THEN 'on_time'
            WHEN first_success_at IS NOT NULL THEN 'late'
            WHEN due_date < $as_of THEN 'missing'
            ELSE 'pending' END AS status,
       CASE WHEN first_success_at IS NOT NULL AND CAST(first_success_at AS DATE) > due_date
                THEN date_diff('day', due_date, CAST(first_success_at AS DATE))
            WHEN first_success_at IS NULL AND due_date < $as_of
                THEN date_diff('day', due_date, CAST($as_of AS DATE))
            END AS days_late
FROM folded;
