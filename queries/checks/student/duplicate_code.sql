-- The same code on more than one active record: every record is flagged (record_key is
-- the code when there is one). Codes seen twice are found by a grouping, then joined.
WITH d AS (
    SELECT record_key, count(*) AS n FROM p_students WHERE has_code
    GROUP BY record_key HAVING count(*) > 1
)
SELECT s.record_key, s.school_code, s.level, 'student_code' AS field, s.record_key AS value,
       d.n AS detail, NULL AS period
FROM p_students s JOIN d ON d.record_key = s.record_key
WHERE s.has_code
