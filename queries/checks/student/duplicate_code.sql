-- The same code on more than one active record: every record is flagged.
SELECT record_key, school_code, level AS level,
       'student_code' AS field, student_code AS value, n AS detail, NULL AS period
FROM (SELECT *, count(*) OVER (PARTITION BY student_code) AS n
      FROM p_students WHERE student_code IS NOT NULL)
WHERE n > 1
