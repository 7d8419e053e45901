-- Unparseable, in the future, or an age outside 0..30 (age = school-year start year - birth
-- year). The rule is the table macro p_dob_invalid (queries/prelude/20_check_macros.sql).
SELECT * FROM p_dob_invalid('p_students', $as_of, 0, 30)
