-- The same citizen ID on more than one active student (any school): all of them. IDs seen
-- twice are found by a grouping, then joined.
WITH d AS (
    SELECT citizen_id, count(*) AS n FROM p_students WHERE NOT empty_citizen_id
    GROUP BY citizen_id HAVING count(*) > 1
)
SELECT s.record_key, s.school_code, s.level, 'citizen_id' AS field, s.citizen_id AS value,
       d.n AS detail, NULL AS period
FROM p_students s JOIN d ON d.citizen_id = s.citizen_id
