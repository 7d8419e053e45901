-- One finding per empty required field; the NN1 fields only from grade 3.
SELECT record_key, school_code, level, f.field, f.value, NULL AS detail, NULL AS period
FROM (
    SELECT record_key, school_code, level, unnest([
        CASE WHEN soat_empty(class_name)
             THEN struct_pack(field := 'class_name', value := NULL::VARCHAR) END,
        CASE WHEN soat_empty(grade)
             THEN struct_pack(field := 'grade', value := NULL::VARCHAR) END,
        CASE WHEN soat_empty(homeroom_code)
             THEN struct_pack(field := 'homeroom_code', value := NULL::VARCHAR) END,
        CASE WHEN declared_size IS NULL
             THEN struct_pack(field := 'declared_size', value := nullif(trim(declared_size_raw), '')) END,
        CASE WHEN soat_grade_num(grade) >= 3 AND soat_empty(language_programme)
             THEN struct_pack(field := 'language_programme', value := NULL::VARCHAR) END,
        CASE WHEN soat_grade_num(grade) >= 3 AND language_periods IS NULL
             THEN struct_pack(field := 'language_periods', value := nullif(trim(language_periods_raw), '')) END
    ]) AS f
    FROM p_classes
)
WHERE f IS NOT NULL
