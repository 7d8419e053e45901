-- Shared facts for the check catalogue and the metrics: one scan of each data table.
-- Temp tables (re-created on every run, so a re-run sees the current snapshot only):
--   p_schools    one row per school code (first row wins), with `active`
--   p_class_key  one row per (school, class code) of the snapshot's year, with grade/level
--   p_students   active students of the year (narrow), with age, grade, level, class/school
--                found, id_state, verified, bad_<field> values and empty_<field> flags
--   p_school_counts  active students, staff, teachers per school code
--   p_class_students  active students per class (class_idx)
--   p_classes    every class row of the year, with level and counted active students
--   p_staff      active staff, with age, id_state, bad_<field> values, teacher flag and
--                training-standard flags
-- "Active": the status is the active value, empty, or outside the vocabulary (an unknown
-- status is flagged by *.invalid_value and the record is still checked, not dropped).
-- "Of the year": school_year is the snapshot's year, or empty.

-- Empty = NULL or only spaces (trim() strips ' ' only). Written as a CASE so that trim(),
-- which copies the string, runs only on values that start with a space: on 2 M names and
-- addresses this halves the cost of the empty flags. Same result as
-- (x IS NULL OR trim(x) = '').
CREATE OR REPLACE TEMP MACRO soat_empty(x) AS (
    CASE WHEN x IS NULL THEN true
         WHEN CAST(x AS VARCHAR) = '' THEN true
         WHEN NOT starts_with(CAST(x AS VARCHAR), ' ') THEN false
         ELSE trim(CAST(x AS VARCHAR)) = '' END);

CREATE OR REPLACE TEMP MACRO soat_grade_num(g) AS
    (CASE WHEN regexp_full_match(g, '[0-9]{1,2}') THEN CAST(g AS INTEGER) END);

-- The level a grade belongs to by itself (NT/MG* -> MN, 1-5 TH, 6-9 THCS, 10-12 THPT).
CREATE OR REPLACE TEMP MACRO soat_grade_nat_level(g) AS (
    CASE
        WHEN g IN ('NT', 'MG3', 'MG4', 'MG5') THEN 'MN'
        WHEN soat_grade_num(g) BETWEEN 1 AND 5 THEN 'TH'
        WHEN soat_grade_num(g) BETWEEN 6 AND 9 THEN 'THCS'
        WHEN soat_grade_num(g) BETWEEN 10 AND 12 THEN 'THPT'
    END);

-- The level of a grade in a school: its natural level when the school has it, else GDTX
-- for grades 6-12 of a school that has GDTX, else the natural level.
CREATE OR REPLACE TEMP MACRO soat_grade_level(g, lv) AS (
    CASE
        WHEN soat_grade_nat_level(g) IS NULL THEN NULL
        WHEN list_contains(coalesce(lv, []::VARCHAR[]), soat_grade_nat_level(g))
            THEN soat_grade_nat_level(g)
        WHEN list_contains(coalesce(lv, []::VARCHAR[]), 'GDTX')
             AND soat_grade_num(g) BETWEEN 6 AND 12 THEN 'GDTX'
        ELSE soat_grade_nat_level(g)
    END);

CREATE OR REPLACE TEMP MACRO soat_in_year(y, sy) AS (sy IS NULL OR y IS NULL OR y = sy);

CREATE OR REPLACE TEMP MACRO soat_dmy(d) AS (strftime(d, '%d/%m/%Y'));

-- A citizen ID's state, computed once per record: NULL = empty, 'format' = not exactly 12
-- digits (*.id_format), 'province' = 12 digits but PPP is not a province code
-- (*.id_province), 'ok' = 12 digits with a valid PPP (*.id_mismatch compares G and YY).
CREATE OR REPLACE TEMP MACRO soat_id_state(x) AS (
    CASE
        WHEN soat_empty(x) THEN NULL
        WHEN NOT regexp_full_match(x, '[0-9]{12}') THEN 'format'
        WHEN left(x, 3) NOT IN (SELECT value FROM p_vocab WHERE name = 'province_code')
            THEN 'province'
        ELSE 'ok'
    END);

-- The value when it is filled and not in the vocabulary `vocab` of p_vocab, else NULL.
CREATE OR REPLACE TEMP MACRO soat_bad_value(x, vocab) AS (
    CASE WHEN NOT soat_empty(x)
              AND x NOT IN (SELECT value FROM p_vocab WHERE name = vocab) THEN x END);

CREATE OR REPLACE TEMP TABLE p_schools AS
SELECT school_code, school_name, unit_code, levels, levels_raw, software, principal,
       national_standard, accreditation, internet, status, _row,
       (status IS NULL OR status = 'Hoạt động'
        OR status NOT IN (SELECT value FROM p_vocab WHERE name = 'school_status')) AS active
FROM schools
WHERE snapshot_id = $snapshot_id AND school_code IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY school_code ORDER BY _row) = 1;

CREATE OR REPLACE TEMP TABLE p_class_key AS
SELECT c.school_code, c.class_code, any_value(c.grade) AS grade,
       soat_grade_level(any_value(c.grade), any_value(s.levels)) AS level,
       row_number() OVER () AS class_idx      -- an integer key, for counting students
FROM classes c
LEFT JOIN p_schools s ON s.school_code = c.school_code
WHERE c.snapshot_id = $snapshot_id AND soat_in_year(c.school_year, $school_year)
  AND c.class_code IS NOT NULL
GROUP BY c.school_code, c.class_code;

-- Staff before the students: on a 2-core machine p_staff (one thread, ~0.1 s at a
-- province) then runs beside the submission lane, not alone after p_students.
CREATE OR REPLACE TEMP TABLE p_staff AS
SELECT t._row,
       coalesce(t.staff_code, 'dòng ' || t._row) AS record_key,
       t.staff_code, t.school_code, t.full_name, t.birth_date, t.birth_date_raw, t.gender,
       t.ethnicity, t.citizen_id, t.id_verified, t.permanent_address, t.position,
       t.contract, t.qualification, t.subject, t.status,
       NULL::VARCHAR AS level,                      -- staff have no level of their own
       soat_id_state(t.citizen_id) AS id_state,
       year(t.birth_date) AS birth_year,
       $year_start - year(t.birth_date) AS age,
       t.position = 'Giáo viên' AS is_teacher,
       coalesce(q.rank >= 1, false) AS std_mn,      -- Cao đẳng or higher
       coalesce(q.rank >= 2, false) AS std_other,   -- Đại học or higher
       sc.school_code IS NOT NULL AS school_found,
       soat_bad_value(t.gender, 'gender') AS bad_gender,
       soat_bad_value(t.ethnicity, 'ethnicity') AS bad_ethnicity,
       soat_bad_value(t.position, 'position') AS bad_position,
       soat_bad_value(t.contract, 'contract') AS bad_contract,
       soat_bad_value(t.qualification, 'qualification') AS bad_qualification,
       soat_bad_value(t.status, 'staff_status') AS bad_status,
       soat_bad_value(t.id_verified, 'id_verified') AS bad_id_verified
FROM staff t
LEFT JOIN p_qual_rank q ON q.qualification = t.qualification
LEFT JOIN p_schools sc ON sc.school_code = t.school_code
WHERE t.snapshot_id = $snapshot_id
  AND (t.status IS NULL OR t.status = 'Đang làm việc'
       OR t.status NOT IN (SELECT value FROM p_vocab WHERE name = 'staff_status'));

-- Narrow on purpose (2 M rows at a province): only what the checks and metrics read, and
-- the flags several of them need computed once. Names and addresses are only ever tested
-- for emptiness, status and ethnicity only against their vocabulary, so the flags replace
-- them. birth_date_raw is kept only where the date could not be read.
CREATE OR REPLACE TEMP TABLE p_students AS
SELECT coalesce(s.student_code, 'dòng ' || s._row) AS record_key,
       s.student_code IS NOT NULL AS has_code,
       s.school_code,
       -- the class code only where it is not a class of the school (student.class_unknown
       -- shows it), empty_class_code says whether it was filled
       CASE WHEN k.class_code IS NULL THEN s.class_code END AS class_code,
       s.birth_date,
       CASE WHEN s.birth_date IS NULL THEN s.birth_date_raw END AS birth_date_raw,
       s.gender, s.citizen_id,
       -- the identity check's answer, and its text only where it is not "verified" (the
       -- value student.unverified shows): a 2 M-row copy of a 14-byte text saved
       s.id_verified IS NOT DISTINCT FROM 'Đã xác thực' AS verified,
       CASE WHEN s.id_verified IS DISTINCT FROM 'Đã xác thực' THEN s.id_verified END
           AS id_verified,
       year(s.birth_date) AS birth_year,
       $year_start - year(s.birth_date) AS age,
       k.grade,
       k.level,
       k.class_idx,
       k.class_code IS NOT NULL AS class_found,
       sc.school_code IS NOT NULL AS school_found,
       soat_id_state(s.citizen_id) AS id_state,
       -- a filled value outside its vocabulary (else NULL), for student.invalid_value
       soat_bad_value(s.gender, 'gender') AS bad_gender,
       soat_bad_value(s.ethnicity, 'ethnicity') AS bad_ethnicity,
       soat_bad_value(s.status, 'student_status') AS bad_status,
       soat_bad_value(s.id_verified, 'id_verified') AS bad_id_verified,
       -- required fields left empty, computed once for student.missing_field and the metrics
       soat_empty(s.class_code) AS empty_class_code,
       soat_empty(s.full_name) AS empty_full_name,
       s.birth_date IS NULL AND soat_empty(s.birth_date_raw) AS empty_birth_date,
       soat_empty(s.gender) AS empty_gender,
       soat_empty(s.ethnicity) AS empty_ethnicity,
       soat_empty(s.citizen_id) AS empty_citizen_id,
       soat_empty(s.permanent_address) AS empty_permanent_address
FROM students s
LEFT JOIN p_class_key k ON k.school_code = s.school_code AND k.class_code = s.class_code
LEFT JOIN p_schools sc ON sc.school_code = s.school_code
WHERE s.snapshot_id = $snapshot_id AND soat_in_year(s.school_year, $school_year)
  AND (s.status IS NULL OR s.status = 'Đang học'
       OR s.status NOT IN (SELECT value FROM p_vocab WHERE name = 'student_status'));

-- Active students of the year per class (class_idx of p_class_key): p_classes' counts, and
-- trend.enrolment_change's (a few thousand rows instead of the students).
CREATE OR REPLACE TEMP TABLE p_class_students AS
SELECT class_idx, count(*) AS students
FROM p_students WHERE class_idx IS NOT NULL GROUP BY class_idx;

CREATE OR REPLACE TEMP TABLE p_classes AS
SELECT c._row,
       coalesce(c.class_code, 'dòng ' || c._row) AS record_key,
       c.class_code, c.school_code, c.school_year, c.class_name, c.grade, c.homeroom_code,
       c.language_programme, c.language_periods, c.language_periods_raw,
       c.declared_size, c.declared_size_raw,
       soat_grade_nat_level(c.grade) AS nat_level,
       soat_grade_level(c.grade, s.levels) AS level,
       s.levels AS school_levels,
       s.school_code IS NOT NULL AS school_found,
       coalesce(n.students, 0) AS students
FROM classes c
LEFT JOIN p_schools s ON s.school_code = c.school_code
LEFT JOIN p_class_key k ON k.school_code = c.school_code AND k.class_code = c.class_code
LEFT JOIN p_class_students n ON n.class_idx = k.class_idx
WHERE c.snapshot_id = $snapshot_id AND soat_in_year(c.school_year, $school_year);

-- Active students, staff and teachers per school code, counted once for the checks that
-- compare counts (no_records, ptr_outlier, records_mismatch, count_mismatch).
CREATE OR REPLACE TEMP TABLE p_school_counts AS
SELECT school_code,
       CAST(sum(students) AS BIGINT) AS students,
       CAST(sum(staff) AS BIGINT) AS staff,
       CAST(sum(teachers) AS BIGINT) AS teachers
FROM (SELECT school_code, count(*) AS students, 0 AS staff, 0 AS teachers
      FROM p_students GROUP BY school_code
      UNION ALL
      SELECT school_code, 0, count(*), count(*) FILTER (WHERE is_teacher)
      FROM p_staff GROUP BY school_code)
WHERE school_code IS NOT NULL
GROUP BY school_code;

-- A number as people write it: 12 (not 12.0), else as stored.
CREATE OR REPLACE TEMP MACRO soat_num(x) AS (
    CASE WHEN x IS NULL THEN NULL
         WHEN x = round(x) THEN CAST(CAST(x AS BIGINT) AS VARCHAR)
         ELSE CAST(x AS VARCHAR) END);

-- "60 tuổi 3 tháng" from a number of months.
CREATE OR REPLACE TEMP MACRO soat_age_text(m) AS (
    CAST(m // 12 AS VARCHAR) || ' tuổi'
    || CASE WHEN m % 12 > 0 THEN ' ' || CAST(m % 12 AS VARCHAR) || ' tháng' ELSE '' END);
