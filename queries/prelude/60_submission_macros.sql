-- lane: submissions
-- Table macros shared by the submission.* checks (after 50_submission_status.sql, whose
-- submission_labels they read). The check file is one SELECT over a macro.
-- (No semicolons inside comments or strings: the runner splits this file on them.)

-- submission.*: the snapshot's submission_status rows with `what`, the Vietnamese
-- "data type (period, target)" of the messages (labels from submission_labels).
CREATE OR REPLACE TEMP MACRO p_submission_rows(sid) AS TABLE
SELECT s.*,
       coalesce(ld.label, s.data_type) || ' ('
           || coalesce(lp.label, 'Tháng ' || try_cast(substr(s.period, 7) AS INTEGER), s.period)
           || ', ' || coalesce(lt.label, s.target) || ')' AS what
FROM submission_status s
LEFT JOIN submission_labels ld ON ld.kind = 'data_type' AND ld.code = s.data_type
LEFT JOIN submission_labels lp ON lp.kind = 'period' AND lp.code = s.period
LEFT JOIN submission_labels lt ON lt.kind = 'target' AND lt.code = s.target
WHERE s.snapshot_id = sid;

-- The rows of one status (late, missing) with `level` set to NULL (school-wide) when every
-- level of the school has that status with the same due date and days late.
CREATE OR REPLACE TEMP MACRO p_submission_collapsed(sid, wanted) AS TABLE
SELECT * REPLACE (CASE WHEN n_same = n_levels THEN NULL ELSE level END AS level)
FROM (
    SELECT st.*,
           count(*) OVER (PARTITION BY st.school_code, st.period, st.data_type, st.target,
                                       st.due_date, st.days_late) AS n_same,
           len(sch.levels) AS n_levels
    FROM p_submission_rows(sid) st
    LEFT JOIN (SELECT school_code, any_value(levels) AS levels FROM schools
               WHERE snapshot_id = sid GROUP BY school_code) sch
           ON sch.school_code = st.school_code
    WHERE st.status = wanted
);
