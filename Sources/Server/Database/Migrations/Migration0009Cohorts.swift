/// `cx.cohorts(step, from_date, to_date)`: customers grouped by the calendar period (`'month'`,
/// `'quarter'` or `'year'`) of their first purchase, and for each cohort and each period from its
/// own on: its size, how many were in the customer base on the period's last day, that share in
/// percent (one decimal) and the cohort's revenue in the period. Cohorts are the calendar
/// periods that start in [from_date, to_date), the first being the one containing from_date;
/// periods are whole calendar periods. The laptop computes the same (`CohortTable`).
enum Migration0009Cohorts {
    static let migration = Migration(version: 9, name: "cohorts", sql: #"""
        CREATE FUNCTION cx.cohorts(step text, from_date date, to_date date)
        RETURNS TABLE (
            cohort_start date, period_start date, period_end date,
            customers bigint, active bigint, retention numeric, revenue numeric)
        LANGUAGE plpgsql STABLE AS $fn$
        #variable_conflict use_column
        DECLARE
            months integer := CASE step WHEN 'month' THEN 1 WHEN 'quarter' THEN 3 WHEN 'year' THEN 12 END;
            first_start date;
        BEGIN
            IF months IS NULL THEN
                RAISE EXCEPTION 'unknown step %', coalesce(quote_literal(step), 'NULL')
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'use month, quarter or year';
            END IF;
            first_start := make_date(extract(year FROM from_date)::integer,
                                     ((extract(month FROM from_date)::integer - 1) / months) * months + 1, 1);
            RETURN QUERY
            WITH s AS (SELECT * FROM cx.classification_settings()),
            periods AS (
                SELECT p::date AS p_start, (p + make_interval(months => months))::date AS p_end
                FROM generate_series(first_start, to_date - 1, make_interval(months => months)) AS p
            ),
            members AS (
                SELECT f.customer_id, p.p_start AS cohort
                FROM (SELECT pu.customer_id, min(pu."on") AS first_on
                      FROM cx.purchases pu JOIN cx.customers c ON c.id = pu.customer_id AND NOT c.deleted
                      GROUP BY pu.customer_id) f
                JOIN periods p ON f.first_on >= p.p_start AND f.first_on < p.p_end
            ),
            sizes AS (SELECT cohort, count(*) AS customers FROM members GROUP BY cohort),
            cells AS (
                SELECT sz.cohort, p.p_start, p.p_end, sz.customers,
                       (SELECT count(*) FROM members m
                        WHERE m.cohort = sz.cohort AND EXISTS (
                            SELECT 1 FROM cx.purchases pu
                            WHERE pu.customer_id = m.customer_id AND pu."on" > (p.p_end - 1) - s.w AND pu."on" <= p.p_end - 1)) AS active,
                       (SELECT coalesce(sum(pu.amount), 0) FROM members m JOIN cx.purchases pu ON pu.customer_id = m.customer_id
                        WHERE m.cohort = sz.cohort AND pu."on" >= p.p_start AND pu."on" < p.p_end) AS revenue
                FROM sizes sz JOIN periods p ON p.p_start >= sz.cohort CROSS JOIN s
            )
            SELECT c.cohort, c.p_start, c.p_end, c.customers, c.active,
                   round(100.0 * c.active / c.customers, 1), round(c.revenue, 2)
            FROM cells c
            ORDER BY c.cohort, c.p_start;
        END
        $fn$;

        GRANT EXECUTE ON FUNCTION cx.cohorts(text, date, date) TO cx_analyst;
        """#)
}
