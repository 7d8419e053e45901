-- Status 'late': the first successful push came after the due date.
-- A row per level is collapsed into one school-wide row (level NULL) when the same lateness
-- holds for every level of the school.
WITH s AS (
    SELECT st.*,
           count(*) OVER (PARTITION BY st.school_code, st.period, st.data_type, st.target,
                                       st.due_date, st.days_late) AS n_same,
           len(sch.levels) AS n_levels
    FROM submission_status st
    LEFT JOIN (SELECT school_code, any_value(levels) AS levels FROM schools
               WHERE snapshot_id = $snapshot_id GROUP BY school_code) sch
           ON sch.school_code = st.school_code
    WHERE st.snapshot_id = $snapshot_id AND st.status = 'late'
)
SELECT DISTINCT
       s.school_code AS record_key, s.school_code,
       CASE WHEN s.n_same = s.n_levels THEN NULL ELSE s.level END AS level,
       s.data_type AS field,
       strftime(s.due_date, '%d/%m/%Y') AS value,
       coalesce(ld.label, s.data_type) || ' ('
           || coalesce(lp.label, 'Tháng ' || try_cast(substr(s.period, 7) AS INTEGER), s.period)
           || ', ' || coalesce(lt.label, s.target) || ') trễ ' || s.days_late || ' ngày' AS detail,
       s.period
FROM s
LEFT JOIN submission_labels ld ON ld.kind = 'data_type' AND ld.code = s.data_type
LEFT JOIN submission_labels lp ON lp.kind = 'period' AND lp.code = s.period
LEFT JOIN submission_labels lt ON lt.kind = 'target' AND lt.code = s.target
