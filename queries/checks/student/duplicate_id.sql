-- The same citizen ID on more than one active student (any school): all of them.
SELECT record_key, school_code, level, 'citizen_id' AS field, citizen_id AS value,
       n AS detail, NULL AS period
FROM (SELECT *, count(*) OVER (PARTITION BY citizen_id) AS n
      FROM p_students WHERE NOT soat_empty(citizen_id))
WHERE n > 1
