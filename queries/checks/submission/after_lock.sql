-- A push arrived after the period's lock date (pushed_at date > lock_date). One finding per
-- school, period, data type and target (school-wide: the push log has no level).
SELECT DISTINCT school_code AS record_key, school_code, NULL AS level, data_type AS field,
       strftime(lock_date, '%d/%m/%Y') AS value,
       what || ' có ' || pushes_after_lock || ' lần nộp' AS detail, period
FROM p_submission_rows($snapshot_id)
WHERE pushes_after_lock > 0
