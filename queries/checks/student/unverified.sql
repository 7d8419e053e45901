-- Identity not verified against the national population database.
SELECT record_key, school_code, level AS level,
       'id_verified' AS field, id_verified AS value, NULL AS detail, NULL AS period
FROM p_students
WHERE NOT verified
