-- Peer outlier (p_peer_outliers): pupil-teacher ratio vs schools with the same set of levels.
WITH st AS (SELECT school_code, count(*) AS n FROM p_students GROUP BY school_code),
te AS (SELECT school_code, count(*) AS n FROM p_staff WHERE is_teacher GROUP BY school_code),
obs AS (
    SELECT s.school_code, array_to_string(list_sort(s.levels), '&') AS peer,
           CASE WHEN len(s.levels) = 1 THEN s.levels[1] END AS level,
           st.n / te.n AS v
    FROM p_schools s JOIN st USING (school_code) JOIN te USING (school_code)
    WHERE s.active AND len(coalesce(s.levels, [])) > 0
)
SELECT * FROM p_peer_outliers('obs')
