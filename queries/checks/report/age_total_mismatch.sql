-- Sum of students by age vs the total, in one report (school x period of the year).
WITH r AS (
    SELECT school_code, period,
           sum(value) FILTER (WHERE indicator = 'hs_tong') AS total,
           count(value) FILTER (WHERE indicator = 'hs_tong') AS n_total,
           sum(value) FILTER (WHERE regexp_full_match(indicator, 'hs_tuoi_[0-9]+')) AS by_age,
           count(value) FILTER (WHERE regexp_full_match(indicator, 'hs_tuoi_[0-9]+')) AS n_age
    FROM reports
    WHERE snapshot_id = $snapshot_id AND soat_in_year(school_year, $school_year)
    GROUP BY school_code, period
)
SELECT school_code AS record_key, school_code, NULL AS level, 'hs_tong' AS field,
       soat_num(total) AS value, soat_num(by_age) AS detail, period
FROM r
WHERE n_total > 0 AND n_age > 0 AND total <> by_age
