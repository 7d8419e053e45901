-- The latest push of a data type (for that period and target) failed, even if an earlier one
-- succeeded. One finding per school, period, data type and target (not per level: the push
-- log has no level), school-wide.
SELECT DISTINCT
       s.school_code AS record_key, s.school_code,
       NULL AS level,
       s.data_type AS field,
       coalesce(s.last_error, 'không rõ lỗi') AS value,
       coalesce(ld.label, s.data_type) || ' ('
           || coalesce(lp.label, 'Tháng ' || try_cast(substr(s.period, 7) AS INTEGER), s.period)
           || ', ' || coalesce(lt.label, s.target) || ') lúc '
           || strftime(s.last_push_at, '%d/%m/%Y %H:%M') AS detail,
       s.period
FROM submission_status s
LEFT JOIN submission_labels ld ON ld.kind = 'data_type' AND ld.code = s.data_type
LEFT JOIN submission_labels lp ON lp.kind = 'period' AND lp.code = s.period
LEFT JOIN submission_labels lt ON lt.kind = 'target' AND lt.code = s.target
WHERE s.snapshot_id = $snapshot_id
  AND s.last_result = 'Thất bại'
