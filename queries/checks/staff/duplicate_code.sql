-- The same code on more than one active record: every record is flagged.
SELECT record_key, school_code, NULL AS level,
       'staff_code' AS field, staff_code AS value, n AS detail, NULL AS period
FROM (SELECT *, count(*) OVER (PARTITION BY staff_code) AS n
      FROM p_staff WHERE staff_code IS NOT NULL)
WHERE n > 1
