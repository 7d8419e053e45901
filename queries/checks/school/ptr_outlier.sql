-- Peer outlier: pupil-teacher ratio vs schools with the same set of levels.
WITH st AS (SELECT school_code, count(*) AS n FROM p_students GROUP BY school_code),
te AS (SELECT school_code, count(*) AS n FROM p_staff WHERE is_teacher GROUP BY school_code),
x AS (
    SELECT s.school_code, array_to_string(list_sort(s.levels), '&') AS peer,
           CASE WHEN len(s.levels) = 1 THEN s.levels[1] END AS level,
           st.n / te.n AS v
    FROM p_schools s JOIN st USING (school_code) JOIN te USING (school_code)
    WHERE s.active AND len(coalesce(s.levels, [])) > 0
), m AS (
    SELECT peer, median(v) AS med FROM x GROUP BY peer
), d AS (
    SELECT x.peer, any_value(m.med) AS med, median(abs(x.v - m.med)) AS mad
    FROM x JOIN m USING (peer) GROUP BY x.peer
)
SELECT x.school_code AS record_key, x.school_code, x.level, NULL AS field,
       CAST(round(x.v, 1) AS VARCHAR) AS value, CAST(round(d.med, 1) AS VARCHAR) AS detail,
       NULL AS period
FROM x JOIN d USING (peer)
WHERE d.mad > 0 AND 0.6745 * abs(x.v - d.med) / d.mad > 3.5
