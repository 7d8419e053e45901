-- Status 'missing': no successful push and the due date has passed. Collapsed to one
-- school-wide row (level NULL) when every level of the school is missing with the same due
-- date (p_submission_collapsed: days late follow from the due date).
SELECT DISTINCT school_code AS record_key, school_code, level, data_type AS field,
       strftime(due_date, '%d/%m/%Y') AS value,
       what || ', đã quá hạn ' || days_late || ' ngày' AS detail, period
FROM p_submission_collapsed($snapshot_id, 'missing')
