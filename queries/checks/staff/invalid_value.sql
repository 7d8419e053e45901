-- A filled vocabulary field whose value is not one of the canonical values. The prelude
-- keeps such a value in bad_<field> (soat_bad_value), NULL otherwise.
SELECT record_key, school_code, level, f.field, f.value, NULL AS detail, NULL AS period
FROM (
    SELECT record_key, school_code, level, unnest([
        struct_pack(field := 'gender', value := bad_gender),
        struct_pack(field := 'ethnicity', value := bad_ethnicity),
        struct_pack(field := 'position', value := bad_position),
        struct_pack(field := 'contract', value := bad_contract),
        struct_pack(field := 'qualification', value := bad_qualification),
        struct_pack(field := 'status', value := bad_status),
        struct_pack(field := 'id_verified', value := bad_id_verified)
    ]) AS f
    FROM p_staff
    WHERE coalesce(bad_gender, bad_ethnicity, bad_position, bad_contract, bad_qualification,
                   bad_status, bad_id_verified) IS NOT NULL
)
WHERE f.value IS NOT NULL
