-- A push arrived after the period's lock date (pushed_at date > lock_date). One finding per
-- school, period, data type and target (school-wide: the push log has no level).
SELECT DISTINCT
       s.school_code AS record_key, s.school_code,
       NULL AS level,
       s.data_type AS field,
       strftime(s.lock_date, '%d/%m/%Y') AS value,
       coalesce(ld.label, s.data_type) || ' ('
           || coalesce(lp.label, 'Tháng ' || try_cast(substr(s.period, 7) AS INTEGER), s.period)
           || ', ' || coalesce(lt.label, s.target) || ') có ' || s.pushes_after_lock || ' lần nộp' AS detail,
       s.period
FROM submission_status s
LEFT JOIN submission_labels ld ON ld.kind = 'data_type' AND ld.code = s.data_type
LEFT JOIN submission_labels lp ON lp.kind = 'period' AND lp.code = s.period
LEFT JOIN submission_labels lt ON lt.kind = 'target' AND lt.code = s.target
WHERE s.snapshot_id = $snapshot_id
  AND s.pushes_after_lock > 0
