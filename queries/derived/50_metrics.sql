-- Metrics per active school x level (metrics_school_level) and rolled up per province,
-- unit (every school below it, through unit_closure), level and unit x level
-- (metrics_rollup). Runs after the checks and after 2*_timeliness.sql. Re-runnable: the
-- snapshot's rows are deleted first. Decisions (docs/checks.md, "Metrics"):
--   * records = active students and classes of the year, active staff and the active school
--     itself (its profile). A student or class counts at its level (through the class's
--     grade) when the school has that level, else at the school's first level.
--   * staff, the school profile and school-wide findings (level NULL) have no level: they
--     count in every level row of their school. Roll-ups count each record once, so a
--     province or unit total is not the sum of its school x level rows for staff.
--   * timeliness: school x level rows of timeliness_school_level, summed (a TH&THCS school
--     reports once per level). median_days_late of a roll-up: median over the late rows
--     of submission_status in it.
--   * ratios: 1.0 when the denominator is 0 (nothing wrong with nothing).
-- No semicolons inside comments or strings: the runner splits this file on them.

CREATE TEMP TABLE IF NOT EXISTS timeliness_school_level (
    school_code VARCHAR, level VARCHAR, expected BIGINT, submitted BIGINT, on_time BIGINT,
    late BIGINT, missing BIGINT, reporting_rate DOUBLE, on_time_rate DOUBLE,
    median_days_late DOUBLE
);

CREATE OR REPLACE TEMP MACRO soat_ratio(n, d) AS
    (CASE WHEN coalesce(d, 0) = 0 THEN 1.0 ELSE CAST(n AS DOUBLE) / d END);

DELETE FROM metrics_school_level WHERE snapshot_id = $snapshot_id;

DELETE FROM metrics_rollup WHERE snapshot_id = $snapshot_id;

CREATE OR REPLACE TEMP TABLE m_schools AS
SELECT school_code, school_name, unit_code,
       list_distinct(list_filter(coalesce(levels, []::VARCHAR[]), lambda x: x IS NOT NULL)) AS levels
FROM p_schools
WHERE active;

-- one row per school x level (a school without any level: one row with level NULL)
CREATE OR REPLACE TEMP TABLE m_school_levels AS
SELECT school_code, school_name, unit_code, levels,
       unnest(CASE WHEN len(levels) = 0 THEN [NULL::VARCHAR] ELSE levels END) AS level
FROM m_schools;

CREATE OR REPLACE TEMP TABLE m_errkeys AS
SELECT DISTINCT entity, school_code, record_key
FROM findings
WHERE snapshot_id = $snapshot_id AND severity = 'error';

-- Records (with their required fields filled and whether they have an error finding),
-- counted per school x level at once (a few rows per school): the join to the groups
-- below then multiplies thousands of rows, not every record. Students (2 M at a province)
-- are first counted per school x their own level (four sums instead of a row each through
-- the generic aggregation), then mapped to the school's levels and added to the others.
CREATE OR REPLACE TEMP TABLE m_rec_school AS
WITH st AS (
    SELECT s.school_code, s.level,
           count(*) AS n,
           sum(7 - (s.empty_class_code::INTEGER + s.empty_full_name::INTEGER
                    + s.empty_birth_date::INTEGER + s.empty_gender::INTEGER
                    + s.empty_ethnicity::INTEGER + s.empty_citizen_id::INTEGER
                    + s.empty_permanent_address::INTEGER)) AS filled,
           count(*) FILTER (WHERE s.verified) AS verified,
           count(*) FILTER (WHERE e.record_key IS NULL) AS valid
    FROM p_students s
    LEFT JOIN (SELECT DISTINCT school_code, record_key FROM m_errkeys
               WHERE entity = 'student') e
           ON e.school_code = s.school_code AND e.record_key = s.record_key
    GROUP BY s.school_code, s.level
), st_level AS (
    SELECT st.school_code,
           CASE WHEN list_contains(m.levels, st.level) THEN st.level ELSE m.levels[1] END AS level,
           st.n, st.filled, st.verified, st.valid
    FROM st JOIN m_schools m ON m.school_code = st.school_code
), rec AS (
    SELECT 'staff' AS entity, t.school_code, t.record_key, NULL::VARCHAR AS level,
           (NOT soat_empty(t.full_name))::INTEGER
           + (t.birth_date IS NOT NULL OR NOT soat_empty(t.birth_date_raw))::INTEGER
           + (NOT soat_empty(t.gender))::INTEGER + (NOT soat_empty(t.ethnicity))::INTEGER
           + (NOT soat_empty(t.citizen_id))::INTEGER
           + (NOT soat_empty(t.permanent_address))::INTEGER
           + (NOT soat_empty(t.position))::INTEGER + (NOT soat_empty(t.contract))::INTEGER
           + (NOT soat_empty(t.qualification))::INTEGER
           + CASE WHEN t.position = 'Giáo viên' THEN (NOT soat_empty(t.subject))::INTEGER
                  ELSE 0 END AS filled,
           9 + CASE WHEN t.position = 'Giáo viên' THEN 1 ELSE 0 END AS total,
           coalesce(t.id_verified = 'Đã xác thực', false) AS verified,
           coalesce(t.is_teacher, false) AS is_teacher, t.std_mn, t.std_other
    FROM p_staff t JOIN m_schools m ON m.school_code = t.school_code
    UNION ALL
    SELECT 'class', c.school_code, c.record_key,
           CASE WHEN list_contains(m.levels, c.level) THEN c.level ELSE m.levels[1] END,
           (NOT soat_empty(c.class_name))::INTEGER + (NOT soat_empty(c.grade))::INTEGER
           + (NOT soat_empty(c.homeroom_code))::INTEGER + (c.declared_size IS NOT NULL)::INTEGER
           + CASE WHEN soat_grade_num(c.grade) >= 3
                  THEN (NOT soat_empty(c.language_programme))::INTEGER
                       + (c.language_periods IS NOT NULL)::INTEGER
                  ELSE 0 END,
           4 + CASE WHEN soat_grade_num(c.grade) >= 3 THEN 2 ELSE 0 END,
           false, false, false, false
    FROM p_classes c JOIN m_schools m ON m.school_code = c.school_code
    UNION ALL
    SELECT 'school', s.school_code, s.school_code, NULL,
           (NOT soat_empty(s.school_name))::INTEGER + (NOT soat_empty(s.unit_code))::INTEGER
           + (len(coalesce(s.levels, [])) > 0)::INTEGER + (NOT soat_empty(s.software))::INTEGER
           + (NOT soat_empty(s.principal))::INTEGER
           + (NOT soat_empty(s.national_standard))::INTEGER
           + (NOT soat_empty(s.accreditation))::INTEGER + (NOT soat_empty(s.internet))::INTEGER,
           8, false, false, false, false
    FROM p_schools s
    WHERE s.active
), m_records AS (
SELECT rec.*, e.record_key IS NULL AS valid
FROM rec
LEFT JOIN m_errkeys e
       ON e.entity = rec.entity AND e.school_code = rec.school_code
      AND e.record_key = rec.record_key
), other AS (
SELECT school_code, level,
       0 AS students,
       count(*) FILTER (WHERE entity = 'staff') AS staff,
       count(*) FILTER (WHERE entity = 'staff' AND is_teacher) AS teachers,
       count(*) FILTER (WHERE entity = 'class') AS classes,
       sum(filled) AS required_filled,
       sum(total) AS required_total,
       sum(filled) FILTER (WHERE entity = 'school') AS filled_schools,
       sum(total) FILTER (WHERE entity = 'school') AS total_schools,
       sum(filled) FILTER (WHERE entity = 'class') AS filled_classes,
       sum(total) FILTER (WHERE entity = 'class') AS total_classes,
       NULL::HUGEINT AS filled_students,
       NULL::HUGEINT AS total_students,
       sum(filled) FILTER (WHERE entity = 'staff') AS filled_staff,
       sum(total) FILTER (WHERE entity = 'staff') AS total_staff,
       count(*) AS records,
       count(*) FILTER (WHERE valid) AS valid_records,
       0 AS students_verified,
       count(*) FILTER (WHERE entity = 'staff' AND verified) AS staff_verified,
       count(*) FILTER (WHERE entity = 'staff' AND is_teacher AND std_mn) AS teachers_std_mn,
       count(*) FILTER (WHERE entity = 'staff' AND is_teacher AND std_other) AS teachers_std_other
FROM m_records
GROUP BY school_code, level
UNION ALL
SELECT school_code, level,
       n, 0, 0, 0, filled, 7 * n, NULL, NULL, NULL, NULL, filled, 7 * n, NULL, NULL,
       n, valid, verified, 0, 0, 0
FROM st_level
)
SELECT school_code, level,
       sum(students) AS students, sum(staff) AS staff, sum(teachers) AS teachers,
       sum(classes) AS classes,
       sum(required_filled) AS required_filled, sum(required_total) AS required_total,
       sum(filled_schools) AS filled_schools, sum(total_schools) AS total_schools,
       sum(filled_classes) AS filled_classes, sum(total_classes) AS total_classes,
       sum(filled_students) AS filled_students, sum(total_students) AS total_students,
       sum(filled_staff) AS filled_staff, sum(total_staff) AS total_staff,
       sum(records) AS records, sum(valid_records) AS valid_records,
       sum(students_verified) AS students_verified, sum(staff_verified) AS staff_verified,
       sum(teachers_std_mn) AS teachers_std_mn, sum(teachers_std_other) AS teachers_std_other
FROM other
GROUP BY school_code, level;

-- Groups and the schools in them. g_school is set for the school x level grain only.
CREATE OR REPLACE TEMP TABLE m_groups AS
WITH uc AS (
    SELECT DISTINCT unit_code, ancestor_code FROM unit_closure WHERE snapshot_id = $snapshot_id
)
SELECT 'school_level' AS grain, school_code AS g_school, NULL::VARCHAR AS g_unit,
       level AS g_level, school_code, levels
FROM m_school_levels
UNION ALL
SELECT 'province', NULL, NULL, NULL, school_code, levels FROM m_schools
UNION ALL
SELECT 'unit', NULL, uc.ancestor_code, NULL, m.school_code, m.levels
FROM m_schools m JOIN uc ON uc.unit_code = m.unit_code
UNION ALL
SELECT 'level', NULL, NULL, level, school_code, levels FROM m_school_levels
WHERE level IS NOT NULL
UNION ALL
SELECT 'unit_level', NULL, uc.ancestor_code, sl.level, sl.school_code, sl.levels
FROM m_school_levels sl JOIN uc ON uc.unit_code = sl.unit_code
WHERE sl.level IS NOT NULL;

-- Records per group. A record without a level counts in every level of its school.
CREATE OR REPLACE TEMP TABLE m_rec_agg AS
SELECT g.grain, g.g_school, g.g_unit, g.g_level,
       sum(r.students) AS students,
       sum(r.staff) AS staff,
       sum(r.teachers) AS teachers,
       sum(r.classes) AS classes,
       sum(r.required_filled) AS required_filled,
       sum(r.required_total) AS required_total,
       sum(r.filled_schools) AS filled_schools,
       sum(r.total_schools) AS total_schools,
       sum(r.filled_classes) AS filled_classes,
       sum(r.total_classes) AS total_classes,
       sum(r.filled_students) AS filled_students,
       sum(r.total_students) AS total_students,
       sum(r.filled_staff) AS filled_staff,
       sum(r.total_staff) AS total_staff,
       sum(r.records) AS records,
       sum(r.valid_records) AS valid_records,
       sum(r.students_verified) AS students_verified,
       sum(r.staff_verified) AS staff_verified,
       sum(CASE WHEN g.g_level = 'MN' THEN r.teachers_std_mn
                WHEN g.g_level IS NOT NULL THEN r.teachers_std_other
                WHEN len(g.levels) > 0 AND len(list_filter(g.levels, lambda x: x <> 'MN')) = 0
                    THEN r.teachers_std_mn
                ELSE r.teachers_std_other END) AS teachers_standard
FROM m_groups g
JOIN m_rec_school r
  ON r.school_code = g.school_code
 AND (g.g_level IS NULL OR r.level IS NULL OR r.level = g.g_level)
GROUP BY g.grain, g.g_school, g.g_unit, g.g_level;

-- Findings and submissions per group x school: errors, warnings, missing, compliance.
CREATE OR REPLACE TEMP TABLE m_group_school AS
WITH f AS (
    SELECT g.grain, g.g_school, g.g_unit, g.g_level, g.school_code,
           count(f.check_id) FILTER (WHERE f.severity = 'error') AS errors,
           count(f.check_id) FILTER (WHERE f.severity = 'warning') AS warnings
    FROM m_groups g
    LEFT JOIN findings f
           ON f.snapshot_id = $snapshot_id AND f.school_code = g.school_code
          AND (g.g_level IS NULL OR f.level IS NULL OR f.level = g.g_level)
    GROUP BY g.grain, g.g_school, g.g_unit, g.g_level, g.school_code
), t AS (
    SELECT g.grain, g.g_school, g.g_unit, g.g_level, g.school_code,
           coalesce(sum(t.expected), 0) AS expected,
           coalesce(sum(t.submitted), 0) AS submitted,
           coalesce(sum(t.on_time), 0) AS on_time,
           coalesce(sum(t.late), 0) AS late,
           coalesce(sum(t.missing), 0) AS missing,
           any_value(t.median_days_late) AS median_days_late
    FROM m_groups g
    LEFT JOIN timeliness_school_level t
           ON t.school_code = g.school_code AND (g.g_level IS NULL OR t.level = g.g_level)
    GROUP BY g.grain, g.g_school, g.g_unit, g.g_level, g.school_code
)
SELECT f.*, t.expected, t.submitted, t.on_time, t.late, t.missing, t.median_days_late,
       f.errors = 0 AND t.missing = 0 AS compliant
FROM f
JOIN t ON t.grain = f.grain AND t.school_code = f.school_code
      AND t.g_school IS NOT DISTINCT FROM f.g_school
      AND t.g_unit IS NOT DISTINCT FROM f.g_unit
      AND t.g_level IS NOT DISTINCT FROM f.g_level;

INSERT INTO metrics_school_level BY NAME
SELECT $snapshot_id AS snapshot_id,
       sl.school_code, sl.school_name, sl.unit_code, sl.level,
       a.students, a.staff, a.teachers, a.classes,
       gs.errors, gs.warnings,
       a.required_filled, a.required_total,
       soat_ratio(a.required_filled, a.required_total) AS completeness,
       soat_ratio(a.filled_schools, a.total_schools) AS completeness_schools,
       soat_ratio(a.filled_classes, a.total_classes) AS completeness_classes,
       soat_ratio(a.filled_students, a.total_students) AS completeness_students,
       soat_ratio(a.filled_staff, a.total_staff) AS completeness_staff,
       a.records, a.valid_records,
       soat_ratio(a.valid_records, a.records) AS validity,
       a.students_verified, a.staff_verified,
       soat_ratio(a.students_verified + a.staff_verified, a.students + a.staff)
           AS identity_verified,
       soat_ratio(a.students_verified, a.students) AS students_verified_rate,
       soat_ratio(a.staff_verified, a.staff) AS staff_verified_rate,
       a.teachers_standard,
       soat_ratio(a.teachers_standard, a.teachers) AS teachers_standard_rate,
       gs.expected, gs.submitted, gs.on_time, gs.late, gs.missing,
       soat_ratio(gs.submitted, gs.expected) AS reporting_rate,
       soat_ratio(gs.on_time, gs.expected) AS on_time_rate,
       gs.median_days_late,
       gs.compliant
FROM m_school_levels sl
JOIN m_rec_agg a
  ON a.grain = 'school_level' AND a.g_school = sl.school_code
 AND a.g_level IS NOT DISTINCT FROM sl.level
JOIN m_group_school gs
  ON gs.grain = 'school_level' AND gs.g_school = sl.school_code
 AND gs.g_level IS NOT DISTINCT FROM sl.level;

INSERT INTO metrics_rollup BY NAME
WITH gs AS (
    SELECT grain, g_unit, g_level,
           count(*) AS schools,
           count(*) FILTER (WHERE compliant) AS compliant_schools,
           sum(errors) AS errors, sum(warnings) AS warnings,
           sum(expected) AS expected, sum(submitted) AS submitted, sum(on_time) AS on_time,
           sum(late) AS late, sum(missing) AS missing
    FROM m_group_school
    WHERE grain <> 'school_level'
    GROUP BY grain, g_unit, g_level
), med AS (
    SELECT g.grain, g.g_unit, g.g_level, median(ss.days_late) AS median_days_late
    FROM m_groups g
    JOIN submission_status ss
      ON ss.snapshot_id = $snapshot_id AND ss.school_code = g.school_code
     AND ss.status = 'late' AND (g.g_level IS NULL OR ss.level = g.g_level)
    WHERE g.grain <> 'school_level'
    GROUP BY g.grain, g.g_unit, g.g_level
)
SELECT $snapshot_id AS snapshot_id, gs.grain, gs.g_unit AS unit_code, gs.g_level AS level,
       gs.schools, gs.compliant_schools,
       soat_ratio(gs.compliant_schools, gs.schools) AS compliance,
       a.students, a.staff, a.teachers, a.classes,
       gs.errors, gs.warnings,
       soat_ratio(a.required_filled, a.required_total) AS completeness,
       soat_ratio(a.valid_records, a.records) AS validity,
       soat_ratio(a.students_verified + a.staff_verified, a.students + a.staff)
           AS identity_verified,
       soat_ratio(a.students_verified, a.students) AS students_verified_rate,
       soat_ratio(a.staff_verified, a.staff) AS staff_verified_rate,
       soat_ratio(a.teachers_standard, a.teachers) AS teachers_standard_rate,
       gs.expected, gs.submitted, gs.on_time, gs.late, gs.missing,
       soat_ratio(gs.submitted, gs.expected) AS reporting_rate,
       soat_ratio(gs.on_time, gs.expected) AS on_time_rate,
       CAST(med.median_days_late AS DOUBLE) AS median_days_late
FROM gs
JOIN m_rec_agg a
  ON a.grain = gs.grain AND a.g_unit IS NOT DISTINCT FROM gs.g_unit
 AND a.g_level IS NOT DISTINCT FROM gs.g_level
LEFT JOIN med
  ON med.grain = gs.grain AND med.g_unit IS NOT DISTINCT FROM gs.g_unit
 AND med.g_level IS NOT DISTINCT FROM gs.g_level;
