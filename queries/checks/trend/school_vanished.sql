-- An active school of the trend baseline that is absent from this snapshot's schools (in
-- any status) and that no school of this snapshot lists among its previous codes. A school
-- marked Giải thể or Sáp nhập is present, so it is not flagged. The finding keeps the
-- school's unit and levels of the baseline (soat/history.py), so its unit's officers see it.
SELECT p.school_code AS record_key, p.school_code, NULL AS level, 'school_code' AS field,
       p.school_code AS value,
       coalesce(p.school_name, p.school_code) AS detail,
       NULL AS period
FROM prev_schools p
WHERE p.active
  AND p.school_code NOT IN (SELECT school_code FROM schools
                            WHERE snapshot_id = $snapshot_id AND school_code IS NOT NULL)
  AND p.school_code NOT IN (SELECT trim(unnest(previous_codes)) FROM schools
                            WHERE snapshot_id = $snapshot_id AND previous_codes IS NOT NULL)
