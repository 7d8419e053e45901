-- Age (school-year start year - birth year) outside the range of the class's grade.
WITH r AS (
    SELECT *,
           CASE grade WHEN 'NT' THEN 0 WHEN 'MG3' THEN 3 WHEN 'MG4' THEN 4 WHEN 'MG5' THEN 5
                ELSE soat_grade_num(grade) + 5 END AS lo,
           CASE grade WHEN 'NT' THEN 3 WHEN 'MG3' THEN 4 WHEN 'MG4' THEN 5 WHEN 'MG5' THEN 6
                ELSE soat_grade_num(grade) + 8 END AS hi
    FROM p_students
    WHERE birth_date IS NOT NULL
      AND (grade IN ('NT', 'MG3', 'MG4', 'MG5') OR soat_grade_num(grade) BETWEEN 1 AND 12)
)
SELECT record_key, school_code, level, 'birth_date' AS field, soat_dmy(birth_date) AS value,
       age || ' tuổi, khối ' || grade || ' cần từ ' || lo || ' đến ' || hi || ' tuổi' AS detail,
       NULL AS period
FROM r
WHERE age < lo OR age > hi
