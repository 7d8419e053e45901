-- The record's school code is not a school of the snapshot.
SELECT record_key, school_code, NULL AS level,
       'school_code' AS field, school_code AS value, NULL AS detail, NULL AS period
FROM p_students
WHERE NOT school_found
