-- The class code is not a class of that school in the snapshot's year.
SELECT record_key, school_code, level, 'class_code' AS field, class_code AS value,
       NULL AS detail, NULL AS period
FROM p_students
WHERE NOT soat_empty(class_code) AND NOT class_found
