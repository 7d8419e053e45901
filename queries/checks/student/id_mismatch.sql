-- 12 digits, valid province code, but G (sex, century) or YY (birth year) disagrees with
-- the record. The rule is the table macro p_id_mismatch (queries/prelude/20_check_macros.sql).
SELECT * FROM p_id_mismatch('p_students')
