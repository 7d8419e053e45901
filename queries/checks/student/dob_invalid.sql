-- Unparseable, in the future, or an age outside 0..30 (age = school-year start year - birth year).
SELECT record_key, school_code, level AS level, 'birth_date' AS field,
       coalesce(soat_dmy(birth_date), birth_date_raw) AS value,
       CASE
           WHEN birth_date IS NULL THEN 'không đọc được là ngày (cần dạng ngày/tháng/năm)'
           WHEN birth_date > $as_of THEN 'sau ngày chốt số liệu ' || soat_dmy($as_of)
           ELSE 'tuổi ' || age || ', phải từ 0 đến 30'
       END AS detail,
       NULL AS period
FROM p_students
WHERE (birth_date IS NULL AND NOT soat_empty(birth_date_raw))
   OR birth_date > $as_of
   OR age < 0 OR age > 30
