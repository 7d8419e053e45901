-- Age (school-year start year - birth year) outside the range of the class's grade.
-- The range is worked out once per distinct grade (a dozen), then joined to the students.
WITH g AS (
    SELECT grade,
           CASE grade WHEN 'NT' THEN 0 WHEN 'MG3' THEN 3 WHEN 'MG4' THEN 4 WHEN 'MG5' THEN 5
                ELSE soat_grade_num(grade) + 5 END AS lo,
           CASE grade WHEN 'NT' THEN 3 WHEN 'MG3' THEN 4 WHEN 'MG4' THEN 5 WHEN 'MG5' THEN 6
                ELSE soat_grade_num(grade) + 8 END AS hi
    FROM (SELECT DISTINCT grade FROM p_class_key)
    WHERE grade IN ('NT', 'MG3', 'MG4', 'MG5') OR soat_grade_num(grade) BETWEEN 1 AND 12
)
SELECT s.record_key, s.school_code, s.level, 'birth_date' AS field,
       soat_dmy(s.birth_date) AS value,
       s.age || ' tuổi, khối ' || s.grade || ' cần từ ' || g.lo || ' đến ' || g.hi || ' tuổi'
           AS detail,
       NULL AS period
FROM p_students s JOIN g ON g.grade = s.grade
WHERE s.birth_date IS NOT NULL AND (s.age < g.lo OR s.age > g.hi)
