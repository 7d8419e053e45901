-- One finding per empty required field; subject is required for teachers only.
SELECT record_key, school_code, NULL AS level, field, NULL AS value, NULL AS detail,
       NULL AS period
FROM (
    SELECT record_key, school_code, unnest([
        CASE WHEN soat_empty(full_name) THEN 'full_name' END,
        CASE WHEN birth_date IS NULL AND soat_empty(birth_date_raw) THEN 'birth_date' END,
        CASE WHEN soat_empty(gender) THEN 'gender' END,
        CASE WHEN soat_empty(ethnicity) THEN 'ethnicity' END,
        CASE WHEN soat_empty(citizen_id) THEN 'citizen_id' END,
        CASE WHEN soat_empty(permanent_address) THEN 'permanent_address' END,
        CASE WHEN soat_empty(position) THEN 'position' END,
        CASE WHEN soat_empty(contract) THEN 'contract' END,
        CASE WHEN soat_empty(qualification) THEN 'qualification' END,
        CASE WHEN position = 'Giáo viên' AND soat_empty(subject) THEN 'subject' END
    ]) AS field
    FROM p_staff
)
WHERE field IS NOT NULL
