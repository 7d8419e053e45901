-- The latest push of a data type (for that period and target) failed, even if an earlier one
-- succeeded. One finding per school, period, data type and target (not per level: the push
-- log has no level), school-wide.
SELECT DISTINCT school_code AS record_key, school_code, NULL AS level, data_type AS field,
       coalesce(last_error, 'không rõ lỗi') AS value,
       what || ' lúc ' || strftime(last_push_at, '%d/%m/%Y %H:%M') AS detail, period
FROM p_submission_rows($snapshot_id)
WHERE last_result = 'Thất bại'
