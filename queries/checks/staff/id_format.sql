-- A citizen ID that is filled but is not exactly 12 digits.
SELECT record_key, school_code, NULL AS level,
       'citizen_id' AS field, citizen_id AS value,
       length(citizen_id) AS detail, NULL AS period
FROM p_staff
WHERE NOT soat_empty(citizen_id)
  AND NOT regexp_full_match(citizen_id, '[0-9]{12}')
