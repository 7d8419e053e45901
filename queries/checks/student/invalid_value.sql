-- A filled vocabulary field whose value is not one of the canonical values. The prelude
-- keeps such a value in bad_<field> (soat_bad_value), NULL otherwise.
SELECT record_key, school_code, level, f.field, f.value, NULL AS detail, NULL AS period
FROM (
    SELECT record_key, school_code, level, unnest([
        CASE WHEN bad_gender IS NOT NULL
             THEN struct_pack(field := 'gender', value := bad_gender) END,
        CASE WHEN bad_ethnicity IS NOT NULL
             THEN struct_pack(field := 'ethnicity', value := bad_ethnicity) END,
        CASE WHEN bad_status IS NOT NULL
             THEN struct_pack(field := 'status', value := bad_status) END,
        CASE WHEN bad_id_verified IS NOT NULL
             THEN struct_pack(field := 'id_verified', value := bad_id_verified) END
    ]) AS f
    FROM p_students
    WHERE bad_gender IS NOT NULL OR bad_ethnicity IS NOT NULL OR bad_status IS NOT NULL
       OR bad_id_verified IS NOT NULL
)
WHERE f IS NOT NULL
