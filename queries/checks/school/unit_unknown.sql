-- The school's unit code is not a unit of the snapshot.
SELECT school_code AS record_key, school_code, NULL AS level, 'unit_code' AS field,
       unit_code AS value, NULL AS detail, NULL AS period
FROM p_schools s
WHERE active AND NOT soat_empty(unit_code)
  AND unit_code NOT IN (SELECT unit_code FROM units
                        WHERE snapshot_id = $snapshot_id AND unit_code IS NOT NULL)
