-- Decree 135/2020: men 60y3m in 2021, +3 months a year, 62 from 2028; women 55y4m in
-- 2021, +4 months a year, 60 from 2035. The age that applies is the one of the year in
-- which it is reached: the retirement date is birth + A(Y) months for the Y where that
-- date falls in year Y (before 2021: 60 / 55, the Labour Code 2012 ages).
WITH s AS (
    SELECT * FROM p_staff
    WHERE contract IN ('Biên chế', 'Hợp đồng lao động')
      AND birth_date IS NOT NULL AND gender IN ('Nam', 'Nữ')
      -- no retirement age is below 55 years (660 months) and month addition is monotonic:
      -- only people who reached 55 by the snapshot date can fire (a few in a hundred)
      AND CAST(birth_date + to_months(660) AS DATE) <= $as_of
), c AS (
    SELECT s._row, s.record_key, s.school_code, s.contract, s.gender, y.y,
           CASE WHEN s.gender = 'Nam' THEN 2028 ELSE 2035 END AS cap,
           CASE WHEN s.gender = 'Nam'
                THEN CASE WHEN y.y <= 2020 THEN 720 WHEN y.y >= 2028 THEN 744
                          ELSE 720 + 3 * (y.y - 2020) END
                ELSE CASE WHEN y.y <= 2020 THEN 660 WHEN y.y >= 2035 THEN 720
                          ELSE 660 + 4 * (y.y - 2020) END
           END AS months,
           s.birth_date
    FROM s CROSS JOIN range(2020, 2036) AS y(y)
), d AS (
    SELECT *, CAST(birth_date + to_months(months) AS DATE) AS reach FROM c
), r AS (
    SELECT _row, record_key, school_code, contract,
           min(reach) AS retire_on, arg_min(months, reach) AS months
    FROM d
    WHERE (y = 2020 AND year(reach) <= 2020)
       OR (y > 2020 AND y < cap AND year(reach) = y)
       OR (y = cap AND year(reach) >= cap)
    GROUP BY _row, record_key, school_code, contract
)
SELECT record_key, school_code, NULL AS level, 'contract' AS field, contract AS value,
       soat_age_text(months) || ', từ tháng ' || strftime(retire_on, '%m/%Y') AS detail,
       NULL AS period
FROM r
WHERE retire_on <= $as_of
