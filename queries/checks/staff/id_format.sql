-- A citizen ID that is filled but is not exactly 12 digits (id_state, computed once in
-- the prelude by soat_id_state). Nine digits is an old CMND number (identity card before
-- the 12-digit CCCD), named as such.
SELECT record_key, school_code, level, 'citizen_id' AS field, citizen_id AS value,
       CASE WHEN regexp_full_match(citizen_id, '[0-9]{9}')
            THEN 'là số CMND cũ (9 chữ số), cần thay bằng số định danh cá nhân 12 chữ số'
            ELSE 'có ' || length(citizen_id) || ' ký tự, cần đúng 12 chữ số' END AS detail,
       NULL AS period
FROM p_staff
WHERE id_state = 'format'
