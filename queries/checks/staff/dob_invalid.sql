-- Unparseable, in the future, or an age outside 18..75 (age = school-year start year - birth year).
SELECT record_key, school_code, NULL AS level, 'birth_date' AS field,
       coalesce(soat_dmy(birth_date), birth_date_raw) AS value,
       CASE
           WHEN birth_date IS NULL THEN 'không đọc được là ngày (cần dạng ngày/tháng/năm)'
           WHEN birth_date > $as_of THEN 'sau ngày chốt số liệu ' || soat_dmy($as_of)
           ELSE 'tuổi ' || age || ', phải từ 18 đến 75'
       END AS detail,
       NULL AS period
FROM p_staff
WHERE (birth_date IS NULL AND NOT soat_empty(birth_date_raw))
   OR birth_date > $as_of
   OR age < 18 OR age > 75
