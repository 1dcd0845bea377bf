/// Customer-base metrics as a manager uses them (issue 15):
/// - `cx.customer_metrics_by(dimension, from_date, to_date)`: one row per value of `territory`,
///   `segment` or `owner` (customers without one in the group `''`) and a total row (group
///   NULL, equal to `cx.customer_metrics`); every customer is in exactly one group;
/// - `cx.customer_metrics_series(from_date, to_date, step)`: one `cx.customer_metrics` row per
///   period; the i-th period starts at `from_date + i * step` (no drift: 01-31 plus one month
///   is 02-28, plus two months 03-31) and the last ends at `to_date`.
/// The laptop computes the same with `CustomerBaseMetrics.breakdown` and `.series`.
enum Migration0008MetricsBreakdownsAndSeries {
    static let migration = Migration(version: 8, name: "metrics breakdowns and series", sql: #"""
        CREATE FUNCTION cx.customer_metrics_by(dimension text, from_date date, to_date date)
        RETURNS TABLE (
            group_value text, period_start date, period_end date,
            gross_new bigint, active bigint, existing bigint, base_start bigint, base_end bigint,
            retained bigint, lost bigint, net_new bigint,
            revenue_new numeric, revenue_existing numeric, revenue_per_new numeric, revenue_per_existing numeric,
            lead bigint, bad_debt bigint, passer_by bigint, prospect bigint, advocate bigint, customer bigint)
        LANGUAGE plpgsql STABLE AS $fn$
        #variable_conflict use_column
        BEGIN
            IF dimension IS NULL OR dimension NOT IN ('territory', 'segment', 'owner') THEN
                RAISE EXCEPTION 'unknown dimension %', coalesce(quote_literal(dimension), 'NULL')
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'use territory, segment or owner';
            END IF;
            RETURN QUERY
            WITH s AS (SELECT * FROM cx.classification_settings()),
            members AS (
                SELECT c.id,
                       coalesce(CASE dimension WHEN 'territory' THEN c.territory WHEN 'segment' THEN c.segment ELSE c.owner END, '') AS g
                FROM cx.customers c WHERE NOT c.deleted
            ),
            per_customer AS (
                SELECT m.g, pu.customer_id,
                       min(pu."on") AS first_on,
                       coalesce(sum(pu.amount) FILTER (WHERE pu."on" >= from_date AND pu."on" < to_date), 0) AS revenue,
                       bool_or(pu."on" >= from_date AND pu."on" < to_date) AS is_active,
                       bool_or(pu."on" > (from_date - 1) - s.w AND pu."on" <= from_date - 1) AS in_base_start,
                       bool_or(pu."on" > (to_date - 1) - s.w AND pu."on" <= to_date - 1) AS in_base_end
                FROM cx.purchases pu
                JOIN members m ON m.id = pu.customer_id
                CROSS JOIN s
                GROUP BY m.g, pu.customer_id
            ),
            totals AS (
                SELECT pc.g, grouping(pc.g) = 1 AS is_total,
                       count(*) FILTER (WHERE first_on >= from_date AND first_on < to_date) AS gross_new,
                       count(*) FILTER (WHERE is_active) AS active,
                       count(*) FILTER (WHERE is_active AND first_on < from_date) AS existing,
                       count(*) FILTER (WHERE in_base_start) AS base_start,
                       count(*) FILTER (WHERE in_base_end) AS base_end,
                       count(*) FILTER (WHERE in_base_start AND in_base_end) AS retained,
                       coalesce(sum(revenue) FILTER (WHERE first_on >= from_date AND first_on < to_date), 0) AS revenue_new,
                       coalesce(sum(revenue) FILTER (WHERE is_active AND first_on < from_date), 0) AS revenue_existing
                FROM per_customer pc
                GROUP BY GROUPING SETS ((pc.g), ())
            ),
            statuses AS (
                SELECT m.g, grouping(m.g) = 1 AS is_total,
                       count(*) FILTER (WHERE st.status = 'lead') AS lead,
                       count(*) FILTER (WHERE st.status = 'bad_debt') AS bad_debt,
                       count(*) FILTER (WHERE st.status = 'passer_by') AS passer_by,
                       count(*) FILTER (WHERE st.status = 'prospect') AS prospect,
                       count(*) FILTER (WHERE st.status = 'advocate') AS advocate,
                       count(*) FILTER (WHERE st.status = 'customer') AS customer
                FROM cx.customer_status_at(to_date - 1) st
                JOIN members m ON m.id = st.customer_id
                GROUP BY GROUPING SETS ((m.g), ())
            ),
            groups AS (
                SELECT DISTINCT m.g, false AS is_total FROM members m
                UNION ALL SELECT NULL, true
            ),
            joined AS (
                SELECT gr.g, gr.is_total,
                       coalesce(t.gross_new, 0) AS gross_new, coalesce(t.active, 0) AS active,
                       coalesce(t.existing, 0) AS existing, coalesce(t.base_start, 0) AS base_start,
                       coalesce(t.base_end, 0) AS base_end, coalesce(t.retained, 0) AS retained,
                       coalesce(t.revenue_new, 0) AS revenue_new, coalesce(t.revenue_existing, 0) AS revenue_existing,
                       coalesce(st.lead, 0) AS lead, coalesce(st.bad_debt, 0) AS bad_debt,
                       coalesce(st.passer_by, 0) AS passer_by, coalesce(st.prospect, 0) AS prospect,
                       coalesce(st.advocate, 0) AS advocate, coalesce(st.customer, 0) AS customer
                FROM groups gr
                LEFT JOIN totals t ON t.is_total = gr.is_total AND (gr.is_total OR t.g = gr.g)
                LEFT JOIN statuses st ON st.is_total = gr.is_total AND (gr.is_total OR st.g = gr.g)
            )
            SELECT j.g, from_date, to_date,
                   j.gross_new, j.active, j.existing, j.base_start, j.base_end, j.retained,
                   j.base_start - j.retained, j.base_end - j.base_start,
                   round(j.revenue_new, 2), round(j.revenue_existing, 2),
                   CASE WHEN j.gross_new = 0 THEN 0.00 ELSE round(j.revenue_new / j.gross_new, 2) END,
                   CASE WHEN j.existing = 0 THEN 0.00 ELSE round(j.revenue_existing / j.existing, 2) END,
                   j.lead, j.bad_debt, j.passer_by, j.prospect, j.advocate, j.customer
            FROM joined j
            ORDER BY j.is_total, j.g;
        END
        $fn$;

        CREATE FUNCTION cx.customer_metrics_series(from_date date, to_date date, step interval)
        RETURNS TABLE (
            period_start date, period_end date,
            gross_new bigint, active bigint, existing bigint, base_start bigint, base_end bigint,
            retained bigint, lost bigint, net_new bigint,
            revenue_new numeric, revenue_existing numeric, revenue_per_new numeric, revenue_per_existing numeric,
            lead bigint, bad_debt bigint, passer_by bigint, prospect bigint, advocate bigint, customer bigint)
        LANGUAGE plpgsql STABLE AS $fn$
        BEGIN
            IF step IS NULL OR date_trunc('day', step) <> step OR (from_date + step)::date <= from_date THEN
                RAISE EXCEPTION 'step % is not a positive whole number of days, months or years', coalesce(step::text, 'NULL')
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'e.g. interval ''1 month'', ''3 months'' or ''1 year''';
            END IF;
            RETURN QUERY
            WITH RECURSIVE periods(i, starts) AS (
                SELECT 0, from_date WHERE from_date < to_date
                UNION ALL
                SELECT p.i + 1, (from_date + (p.i + 1) * step)::date
                FROM periods p WHERE (from_date + (p.i + 1) * step)::date < to_date
            )
            SELECT m.*
            FROM periods p
            CROSS JOIN LATERAL cx.customer_metrics(p.starts, least((from_date + (p.i + 1) * step)::date, to_date)) m
            ORDER BY p.i;
        END
        $fn$;

        GRANT EXECUTE ON FUNCTION cx.customer_metrics_by(text, date, date), cx.customer_metrics_series(date, date, interval)
            TO cx_analyst;
        """#)
}
