-- Peer outlier: mean class size of a school at a level vs every school at that level.
WITH x AS (
    SELECT c.school_code, c.level, avg(c.students) AS v
    FROM p_classes c JOIN p_schools s ON s.school_code = c.school_code AND s.active
    WHERE c.level IS NOT NULL AND c.students > 0
    GROUP BY c.school_code, c.level
), m AS (
    SELECT level, median(v) AS med FROM x GROUP BY level
), d AS (
    SELECT x.level, any_value(m.med) AS med, median(abs(x.v - m.med)) AS mad
    FROM x JOIN m USING (level) GROUP BY x.level
)
SELECT x.school_code AS record_key, x.school_code, x.level, NULL AS field,
       CAST(round(x.v, 1) AS VARCHAR) AS value, CAST(round(d.med, 1) AS VARCHAR) AS detail,
       NULL AS period
FROM x JOIN d USING (level)
WHERE d.mad > 0 AND 0.6745 * abs(x.v - d.med) / d.mad > 3.5
