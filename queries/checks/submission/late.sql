-- Status 'late': the first successful push came after the due date. A row per level is
-- collapsed into one school-wide row (level NULL) when the same lateness holds for every
-- level of the school (p_submission_collapsed).
SELECT DISTINCT school_code AS record_key, school_code, level, data_type AS field,
       strftime(due_date, '%d/%m/%Y') AS value,
       what || ' trễ ' || days_late || ' ngày' AS detail, period
FROM p_submission_collapsed($snapshot_id, 'late')
