-- A filled vocabulary field whose value is not one of the canonical values.
-- The few distinct values of each field are tested first, then the students holding a bad
-- one are found with a join (one cheap scan per field instead of one row per field).
WITH bad AS (
    SELECT field, value
    FROM (SELECT DISTINCT 'gender' AS field, 'gender' AS vocab, gender AS value FROM p_students
          UNION ALL
          SELECT DISTINCT 'ethnicity', 'ethnicity', ethnicity FROM p_students
          UNION ALL
          SELECT DISTINCT 'status', 'student_status', status FROM p_students
          UNION ALL
          SELECT DISTINCT 'id_verified', 'id_verified', id_verified FROM p_students) d
    WHERE NOT soat_empty(d.value)
      AND d.value NOT IN (SELECT value FROM p_vocab v WHERE v.name = d.vocab)
)
SELECT s.record_key, s.school_code, s.level, b.field, b.value, NULL AS detail, NULL AS period
FROM p_students s JOIN bad b ON b.field = 'gender' AND b.value = s.gender
UNION ALL
SELECT s.record_key, s.school_code, s.level, b.field, b.value, NULL, NULL
FROM p_students s JOIN bad b ON b.field = 'ethnicity' AND b.value = s.ethnicity
UNION ALL
SELECT s.record_key, s.school_code, s.level, b.field, b.value, NULL, NULL
FROM p_students s JOIN bad b ON b.field = 'status' AND b.value = s.status
UNION ALL
SELECT s.record_key, s.school_code, s.level, b.field, b.value, NULL, NULL
FROM p_students s JOIN bad b ON b.field = 'id_verified' AND b.value = s.id_verified
