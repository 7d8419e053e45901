-- Filed totals vs the records in the database, per report (school x period).
WITH r AS (
    SELECT school_code, period, indicator, sum(value) AS filed
    FROM reports
    WHERE snapshot_id = $snapshot_id AND soat_in_year(school_year, $school_year)
      AND indicator IN ('hs_tong', 'lop_tong', 'gv_tong') AND value IS NOT NULL
    GROUP BY school_code, period, indicator
), db AS (
    SELECT school_code, 'hs_tong' AS indicator, students AS n FROM p_school_counts
    UNION ALL
    SELECT school_code, 'lop_tong', count(DISTINCT record_key) FROM p_classes GROUP BY 1
    UNION ALL
    SELECT school_code, 'gv_tong', teachers FROM p_school_counts
), present AS (
    SELECT CASE table_name WHEN 'students' THEN 'hs_tong' WHEN 'classes' THEN 'lop_tong'
                           WHEN 'staff' THEN 'gv_tong' END AS indicator
    FROM snapshot_tables WHERE snapshot_id = $snapshot_id
)
SELECT r.school_code AS record_key, r.school_code, NULL AS level, r.indicator AS field,
       soat_num(r.filed) AS value,
       coalesce(db.n, 0) || CASE r.indicator WHEN 'hs_tong' THEN ' học sinh đang học'
                                           WHEN 'lop_tong' THEN ' lớp'
                                           ELSE ' giáo viên đang làm việc' END AS detail,
       r.period
FROM r
LEFT JOIN db ON db.school_code = r.school_code AND db.indicator = r.indicator
WHERE r.indicator IN (SELECT indicator FROM present)
  AND r.filed <> coalesce(db.n, 0)
