-- The school software's count vs the database's, per school and data type.
WITH sc AS (
    SELECT school_code, data_type, record_count
    FROM source_counts
    WHERE snapshot_id = $snapshot_id AND soat_in_year(school_year, $school_year)
      AND record_count IS NOT NULL
      AND data_type IN ('staff', 'students', 'classes', 'rooms', 'budget')
), db AS (
    SELECT school_code, 'students' AS data_type, students AS n FROM p_school_counts
    UNION ALL
    SELECT school_code, 'staff', staff FROM p_school_counts
    UNION ALL
    SELECT school_code, 'classes', count(DISTINCT record_key) FROM p_classes GROUP BY 1
    UNION ALL
    SELECT school_code, 'rooms', sum(count) FROM rooms
    WHERE snapshot_id = $snapshot_id AND soat_in_year(school_year, $school_year) GROUP BY 1
    UNION ALL
    SELECT school_code, 'budget', count(*) FROM budget
    WHERE snapshot_id = $snapshot_id AND soat_in_year(school_year, $school_year) GROUP BY 1
)
SELECT sc.school_code AS record_key, sc.school_code, NULL AS level, sc.data_type AS field,
       CAST(sc.record_count AS VARCHAR) AS value,
       coalesce(db.n, 0) || ' bản ghi ' || CASE sc.data_type
           WHEN 'students' THEN 'học sinh' WHEN 'staff' THEN 'cán bộ'
           WHEN 'classes' THEN 'lớp học' WHEN 'rooms' THEN 'phòng học'
           ELSE 'ngân sách' END AS detail,
       NULL AS period
FROM sc
LEFT JOIN db ON db.school_code = sc.school_code AND db.data_type = sc.data_type
WHERE sc.data_type IN (SELECT table_name FROM snapshot_tables WHERE snapshot_id = $snapshot_id)
  AND sc.record_count <> coalesce(db.n, 0)
