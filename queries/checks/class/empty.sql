-- No active student in the class.
SELECT record_key, school_code, level, 'class_code' AS field, class_code AS value,
       NULL AS detail, NULL AS period
FROM p_classes
WHERE students = 0
