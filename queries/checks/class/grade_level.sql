-- The grade belongs to none of the school's levels (an unknown grade belongs to none).
SELECT record_key, school_code, NULL AS level, 'grade' AS field, grade AS value,
       array_to_string(school_levels, ', ') AS detail, NULL AS period
FROM p_classes
WHERE NOT soat_empty(grade) AND school_found AND len(coalesce(school_levels, [])) > 0
  AND (level IS NULL OR NOT list_contains(school_levels, level))
