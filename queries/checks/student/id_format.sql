-- A citizen ID that is filled but is not exactly 12 digits (id_state, computed once in
-- the prelude by soat_id_state).
SELECT record_key, school_code, level, 'citizen_id' AS field, citizen_id AS value,
       length(citizen_id) AS detail, NULL AS period
FROM p_students
WHERE id_state = 'format'
