-- G = sex and century (0/1 1900s, 2/3 2000s, 4/5 2100s, even male, odd female),
-- YY = last two digits of the birth year. Compare what the record has.
WITH x AS (
    SELECT record_key, school_code, level AS level, citizen_id, gender, birth_year,
           CAST(substr(citizen_id, 4, 1) AS INTEGER) AS g,
           substr(citizen_id, 5, 2) AS yy
    FROM p_students
    WHERE regexp_full_match(citizen_id, '[0-9]{12}')
      AND left(citizen_id, 3) IN (SELECT value FROM p_vocab WHERE name = 'province_code')
), y AS (
    SELECT *,
           gender IN ('Nam', 'Nữ')
               AND g % 2 <> (CASE WHEN gender = 'Nữ' THEN 1 ELSE 0 END) AS sex_bad,
           g > 5 OR (birth_year IS NOT NULL AND g // 2 <> birth_year // 100 - 19) AS century_bad,
           birth_year IS NOT NULL
               AND yy <> lpad(CAST(birth_year % 100 AS VARCHAR), 2, '0') AS yy_bad
    FROM x
)
SELECT record_key, school_code, level, 'citizen_id' AS field, citizen_id AS value,
       concat_ws('; ',
           CASE WHEN sex_bad THEN 'chữ số thứ 4 là ' || g || ' nhưng giới tính là ' || gender END,
           CASE WHEN century_bad AND birth_year IS NULL
                THEN 'chữ số thứ 4 là ' || g || ', chỉ được từ 0 đến 5' END,
           CASE WHEN century_bad AND birth_year IS NOT NULL
                THEN 'chữ số thứ 4 là ' || g || ' không ứng với thế kỷ của năm sinh ' || birth_year END,
           CASE WHEN yy_bad THEN 'chữ số thứ 5–6 là ' || yy || ' nhưng năm sinh là ' || birth_year END
       ) AS detail,
       NULL AS period
FROM y
WHERE sex_bad OR century_bad OR yy_bad
