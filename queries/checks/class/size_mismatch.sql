-- Declared size vs the active students of the class (detail = the count).
SELECT record_key, school_code, level, 'declared_size' AS field,
       CAST(declared_size AS VARCHAR) AS value, students AS detail, NULL AS period
FROM p_classes
WHERE declared_size IS NOT NULL AND declared_size <> students
