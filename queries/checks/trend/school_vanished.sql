-- An active school of the trend baseline that is absent from this snapshot's schools (in
-- any status) and that no school of this snapshot lists among its previous codes. A school
-- marked Giải thể or Sáp nhập is present, so it is not flagged. The finding keeps the
-- school's unit of the baseline (soat/history.py), so its unit's officers see it, and is
-- made once per level the school had there: a school-wide finding passes a level scope
-- through the school's levels in this snapshot, which a vanished school no longer has, so
-- a THCS officer would not see a TH-THCS school vanish. A school without levels: one
-- finding without a level.
SELECT p.school_code AS record_key, p.school_code, lv.level, 'school_code' AS field,
       p.school_code AS value,
       coalesce(p.school_name, p.school_code) AS detail,
       NULL AS period
FROM prev_schools p,
     unnest(CASE WHEN len(list_distinct(coalesce(p.levels, []))) = 0  -- NULLs left out
                 THEN [NULL::VARCHAR]
                 ELSE list_sort(list_distinct(p.levels)) END) AS lv(level)
WHERE p.active
  AND p.school_code NOT IN (SELECT school_code FROM schools
                            WHERE snapshot_id = $snapshot_id AND school_code IS NOT NULL)
  AND p.school_code NOT IN (SELECT trim(unnest(previous_codes)) FROM schools
                            WHERE snapshot_id = $snapshot_id AND previous_codes IS NOT NULL)
