-- One finding per empty required profile field of an active school.
SELECT school_code AS record_key, school_code, NULL AS level, f.field, f.value,
       NULL AS detail, NULL AS period
FROM (
    SELECT school_code, unnest([
        CASE WHEN soat_empty(school_name) THEN struct_pack(field := 'school_name', value := NULL::VARCHAR) END,
        CASE WHEN soat_empty(unit_code) THEN struct_pack(field := 'unit_code', value := NULL::VARCHAR) END,
        CASE WHEN len(coalesce(levels, [])) = 0 THEN struct_pack(field := 'levels', value := nullif(trim(levels_raw), '')) END,
        CASE WHEN soat_empty(software) THEN struct_pack(field := 'software', value := NULL::VARCHAR) END,
        CASE WHEN soat_empty(principal) THEN struct_pack(field := 'principal', value := NULL::VARCHAR) END,
        CASE WHEN soat_empty(national_standard) THEN struct_pack(field := 'national_standard', value := NULL::VARCHAR) END,
        CASE WHEN soat_empty(accreditation) THEN struct_pack(field := 'accreditation', value := NULL::VARCHAR) END,
        CASE WHEN soat_empty(internet) THEN struct_pack(field := 'internet', value := NULL::VARCHAR) END
    ]) AS f
    FROM p_schools
    WHERE active
)
WHERE f IS NOT NULL
