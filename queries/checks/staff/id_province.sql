-- 12 digits, but PPP (first three digits) is not one of the 63 province codes.
SELECT record_key, school_code, NULL AS level,
       'citizen_id' AS field, citizen_id AS value,
       left(citizen_id, 3) AS detail, NULL AS period
FROM p_staff
WHERE regexp_full_match(citizen_id, '[0-9]{12}')
  AND left(citizen_id, 3) NOT IN (SELECT value FROM p_vocab WHERE name = 'province_code')
