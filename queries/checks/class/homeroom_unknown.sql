-- The homeroom teacher is not an active staff member of the same school.
SELECT c.record_key, c.school_code, c.level, 'homeroom_code' AS field,
       c.homeroom_code AS value, NULL AS detail, NULL AS period
FROM p_classes c
WHERE NOT soat_empty(c.homeroom_code)
  AND NOT EXISTS (SELECT 1 FROM p_staff t
                  WHERE t.school_code = c.school_code AND t.staff_code = c.homeroom_code)
