-- Peer outlier (p_peer_outliers): mean class size of an active school at a level (non-empty
-- classes) vs every school at that level.
WITH obs AS (
    SELECT c.school_code, c.level AS peer, c.level, avg(c.students) AS v
    FROM p_classes c JOIN p_schools s ON s.school_code = c.school_code AND s.active
    WHERE c.level IS NOT NULL AND c.students > 0
    GROUP BY c.school_code, c.level
)
SELECT * FROM p_peer_outliers('obs')
