-- The same citizen ID on payroll (Biên chế) at more than one school: all of them.
WITH b AS (
    SELECT * FROM p_staff WHERE contract = 'Biên chế' AND NOT soat_empty(citizen_id)
), d AS (
    SELECT citizen_id, count(DISTINCT school_code) AS schools FROM b GROUP BY citizen_id
)
SELECT b.record_key, b.school_code, NULL AS level, 'citizen_id' AS field,
       b.citizen_id AS value, d.schools AS detail, NULL AS period
FROM b JOIN d USING (citizen_id)
WHERE d.schools > 1
