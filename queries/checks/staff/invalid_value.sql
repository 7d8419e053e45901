-- A filled vocabulary field whose value is not one of the canonical values.
SELECT record_key, school_code, level, f.field, f.value, NULL AS detail, NULL AS period
FROM (
    SELECT record_key, school_code, NULL AS level, unnest([
        struct_pack(field := 'gender', value := gender, vocab := 'gender'),
        struct_pack(field := 'ethnicity', value := ethnicity, vocab := 'ethnicity'),
        struct_pack(field := 'position', value := position, vocab := 'position'),
        struct_pack(field := 'contract', value := contract, vocab := 'contract'),
        struct_pack(field := 'qualification', value := qualification, vocab := 'qualification'),
        struct_pack(field := 'status', value := status, vocab := 'staff_status'),
        struct_pack(field := 'id_verified', value := id_verified, vocab := 'id_verified')
    ]) AS f
    FROM p_staff
)
WHERE NOT soat_empty(f.value)
  AND f.value NOT IN (SELECT value FROM p_vocab v WHERE v.name = f.vocab)
