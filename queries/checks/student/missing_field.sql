-- One finding per empty required field (field = canonical column name, value NULL).
-- The empty_<field> flags are computed once in the prelude (soat_empty; the birth date
-- is empty when neither a date nor its text is there); only rows with one are unnested.
SELECT record_key, school_code, level, field, NULL AS value, NULL AS detail, NULL AS period
FROM (
    SELECT record_key, school_code, level, unnest([
        CASE WHEN empty_class_code THEN 'class_code' END,
        CASE WHEN empty_full_name THEN 'full_name' END,
        CASE WHEN empty_birth_date THEN 'birth_date' END,
        CASE WHEN empty_gender THEN 'gender' END,
        CASE WHEN empty_ethnicity THEN 'ethnicity' END,
        CASE WHEN empty_citizen_id THEN 'citizen_id' END,
        CASE WHEN empty_permanent_address THEN 'permanent_address' END
    ]) AS field
    FROM p_students
    WHERE empty_class_code OR empty_full_name OR empty_birth_date OR empty_gender
       OR empty_ethnicity OR empty_citizen_id OR empty_permanent_address
)
WHERE field IS NOT NULL
