-- 12 digits, but PPP (first three digits) is not one of the 63 province codes (id_state,
-- computed once in the prelude by soat_id_state).
SELECT record_key, school_code, level, 'citizen_id' AS field, citizen_id AS value,
       left(citizen_id, 3) AS detail, NULL AS period
FROM p_students
WHERE id_state = 'province'
