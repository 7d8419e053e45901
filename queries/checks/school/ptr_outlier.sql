-- Peer outlier (p_peer_outliers): pupil-teacher ratio vs schools with the same set of levels.
WITH obs AS (
    SELECT s.school_code, array_to_string(list_sort(s.levels), '&') AS peer,
           CASE WHEN len(s.levels) = 1 THEN s.levels[1] END AS level,
           n.students / n.teachers AS v
    FROM p_schools s JOIN p_school_counts n USING (school_code)
    WHERE s.active AND n.students > 0 AND n.teachers > 0 AND len(coalesce(s.levels, [])) > 0
)
SELECT * FROM p_peer_outliers('obs')
