-- One finding per empty required field (field = canonical column name, value NULL).
SELECT record_key, school_code, level, field, NULL AS value, NULL AS detail, NULL AS period
FROM (
    SELECT record_key, school_code, level, unnest([
        CASE WHEN soat_empty(class_code) THEN 'class_code' END,
        CASE WHEN soat_empty(full_name) THEN 'full_name' END,
        CASE WHEN birth_date IS NULL AND soat_empty(birth_date_raw) THEN 'birth_date' END,
        CASE WHEN soat_empty(gender) THEN 'gender' END,
        CASE WHEN soat_empty(ethnicity) THEN 'ethnicity' END,
        CASE WHEN soat_empty(citizen_id) THEN 'citizen_id' END,
        CASE WHEN soat_empty(permanent_address) THEN 'permanent_address' END
    ]) AS field
    FROM p_students
)
WHERE field IS NOT NULL
