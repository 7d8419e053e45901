-- Table macros shared by checks that apply the same rule to different tables (one
-- definition each, the check file is one SELECT over the macro). `people` is the name of a
-- prelude table (p_students, p_staff) read with query_table(): it must have record_key,
-- school_code, level, citizen_id, id_state, gender, birth_date, birth_date_raw, birth_year,
-- age.
-- A macro's tables must exist when it is created (query_table(name) is resolved per call):
-- the submission.* macros are in 60_submission_macros.sql, after 50_submission_status.sql.
-- (No semicolons inside comments or strings: the runner splits this file on them.)

-- id_mismatch: a 12-digit citizen ID with a valid province code (PPP) whose G digit
-- (sex and century: 0/1 1900s, 2/3 2000s, 4/5 2100s, even male, odd female) or YY (last
-- two digits of the birth year) disagrees with the record. detail names every part.
CREATE OR REPLACE TEMP MACRO p_id_mismatch(people) AS TABLE
WITH x AS (
    SELECT record_key, school_code, level, citizen_id, gender, birth_year,
           CAST(substr(citizen_id, 4, 1) AS INTEGER) AS g,
           substr(citizen_id, 5, 2) AS yy
    FROM query_table(people)
    WHERE id_state = 'ok'                -- 12 digits, valid PPP (soat_id_state)
      -- fast path: skip the records whose G and YY are exactly what gender and birth year
      -- say (nearly all of them), one integer comparison instead of the three tests below
      AND NOT coalesce(gender IN ('Nam', 'Nữ') AND birth_year BETWEEN 1900 AND 2199
                       AND CAST(substr(citizen_id, 4, 3) AS INTEGER)
                           = ((birth_year // 100 - 19) * 2
                              + CASE WHEN gender = 'Nữ' THEN 1 ELSE 0 END) * 100
                             + birth_year % 100, false)
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
       concat_ws(chr(59) || ' ',
           CASE WHEN sex_bad THEN 'chữ số thứ 4 là ' || g || ' nhưng giới tính là ' || gender END,
           CASE WHEN century_bad AND birth_year IS NULL
                THEN 'chữ số thứ 4 là ' || g || ', chỉ được từ 0 đến 5' END,
           CASE WHEN century_bad AND birth_year IS NOT NULL
                THEN 'chữ số thứ 4 là ' || g || ' không ứng với thế kỷ của năm sinh ' || birth_year END,
           CASE WHEN yy_bad THEN 'chữ số thứ 5–6 là ' || yy || ' nhưng năm sinh là ' || birth_year END
       ) AS detail,
       NULL AS period
FROM y
WHERE sex_bad OR century_bad OR yy_bad;

-- dob_invalid: unreadable, after the snapshot date, or an age outside lo..hi
-- (age = school-year start year - birth year). One finding per record, first reason.
CREATE OR REPLACE TEMP MACRO p_dob_invalid(people, as_of, lo, hi) AS TABLE
SELECT record_key, school_code, level, 'birth_date' AS field,
       coalesce(soat_dmy(birth_date), birth_date_raw) AS value,
       CASE
           WHEN birth_date IS NULL THEN 'không đọc được là ngày (cần dạng ngày/tháng/năm)'
           WHEN birth_date > as_of THEN 'sau ngày chốt số liệu ' || soat_dmy(as_of)
           ELSE 'tuổi ' || age || ', phải từ ' || lo || ' đến ' || hi
       END AS detail,
       NULL AS period
FROM query_table(people)
WHERE (birth_date IS NULL AND NOT soat_empty(birth_date_raw))
   OR birth_date > as_of
   OR age < lo OR age > hi;

-- Peer outliers (modified Z-score): `obs` has school_code, peer, level, v (one row per
-- school x peer group). An outlier has 0.6745 * |v - median| / MAD > 3.5 within its peer
-- group (MAD = 0: none). value = v, detail = the group's median, both rounded to 0.1.
CREATE OR REPLACE TEMP MACRO p_peer_outliers(obs) AS TABLE
WITH x AS (
    SELECT school_code, peer, level, v FROM query_table(obs)
), m AS (
    SELECT peer, median(v) AS med FROM x GROUP BY peer
), d AS (
    SELECT x.peer, any_value(m.med) AS med, median(abs(x.v - m.med)) AS mad
    FROM x JOIN m USING (peer) GROUP BY x.peer
)
SELECT x.school_code AS record_key, x.school_code, x.level, NULL AS field,
       CAST(round(x.v, 1) AS VARCHAR) AS value, CAST(round(d.med, 1) AS VARCHAR) AS detail,
       NULL AS period
FROM x JOIN d USING (peer)
WHERE d.mad > 0 AND 0.6745 * abs(x.v - d.med) / d.mad > 3.5;
