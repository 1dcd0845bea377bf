/// Customer insight in SQL, with exactly the definitions of the Model's
/// `CustomerClassifier`, `CustomerBaseMetrics` and `NetPromoterScore` (the test suite checks
/// both give identical numbers on identical data):
/// - `cx.settings`: `window_days`, `target_margin`, `grace_days` (the same keys as `cx` config);
/// - `cx.purchases`: live purchases of every record, with `due_on` defaulting to `on` + 30;
/// - `cx.customer_status_at(as_of, …)` and the view `cx.customer_status` (as of today);
/// - `cx.customer_metrics(from_date, to_date)`: one row of customer-base metrics for
///   [from_date, to_date);
/// - `cx.nps(from_date, to_date)`: NPS overall (territory NULL) and per territory.
enum Migration0002CustomerInsight {
    static let migration = Migration(version: 2, name: "customer insight", sql: #"""
        CREATE TABLE cx.settings (
            key   text PRIMARY KEY CHECK (key IN ('window_days', 'target_margin', 'grace_days')),
            value text NOT NULL
        );
        INSERT INTO cx.settings (key, value) VALUES ('window_days', '365'), ('target_margin', '0.10'), ('grace_days', '0');

        CREATE VIEW cx.purchases AS
            SELECT a.id, a.customer_id, a."on", a.amount, a.margin, coalesce(a.due_on, a."on" + 30) AS due_on, a.paid_on
            FROM cx.activities a
            WHERE NOT a.deleted AND a.type = 'purchase'
              AND a.customer_id IS NOT NULL AND a."on" IS NOT NULL AND a.amount IS NOT NULL;

        CREATE FUNCTION cx.classification_settings(
            window_days integer DEFAULT NULL, target_margin numeric DEFAULT NULL, grace_days integer DEFAULT NULL)
        RETURNS TABLE (w integer, target numeric, grace integer)
        LANGUAGE sql STABLE AS $$
            SELECT coalesce(window_days, (SELECT value::integer FROM cx.settings WHERE key = 'window_days'), 365),
                   coalesce(target_margin, (SELECT value::numeric FROM cx.settings WHERE key = 'target_margin'), 0.10),
                   coalesce(grace_days, (SELECT value::integer FROM cx.settings WHERE key = 'grace_days'), 0)
        $$;

        CREATE FUNCTION cx.customer_status_at(
            as_of date, window_days integer DEFAULT NULL, target_margin numeric DEFAULT NULL, grace_days integer DEFAULT NULL)
        RETURNS TABLE (
            customer_id uuid, name text, territory text, owner text, status text,
            purchases_in_window bigint, revenue_in_window numeric, weighted_margin numeric,
            late_purchases bigint, overdue_amount numeric, referrals_in_window bigint)
        LANGUAGE sql STABLE AS $$
            WITH s AS (SELECT * FROM cx.classification_settings(window_days, target_margin, grace_days)),
            p AS (
                SELECT c.id AS customer_id,
                       count(pu.id) FILTER (WHERE pu."on" <= as_of) AS ever,
                       count(pu.id) FILTER (WHERE pu."on" > as_of - s.w AND pu."on" <= as_of) AS in_window,
                       coalesce(sum(pu.amount) FILTER (WHERE pu."on" > as_of - s.w AND pu."on" <= as_of), 0) AS revenue,
                       sum(pu.amount) FILTER (WHERE pu."on" > as_of - s.w AND pu."on" <= as_of AND pu.margin IS NOT NULL) AS margin_revenue,
                       sum(pu.amount * pu.margin) FILTER (WHERE pu."on" > as_of - s.w AND pu."on" <= as_of AND pu.margin IS NOT NULL) AS margin_weighted,
                       count(pu.id) FILTER (WHERE pu."on" > as_of - s.w AND pu."on" <= as_of AND (
                           (pu.paid_on IS NOT NULL AND pu.paid_on <= as_of AND pu.due_on + s.grace < pu.paid_on)
                           OR ((pu.paid_on IS NULL OR pu.paid_on > as_of) AND pu.due_on + s.grace < as_of))) AS late,
                       coalesce(sum(pu.amount) FILTER (WHERE pu."on" > as_of - s.w AND pu."on" <= as_of
                           AND (pu.paid_on IS NULL OR pu.paid_on > as_of) AND pu.due_on + s.grace < as_of), 0) AS overdue
                FROM cx.customers c CROSS JOIN s
                LEFT JOIN cx.purchases pu ON pu.customer_id = c.id
                WHERE NOT c.deleted
                GROUP BY c.id
            ),
            r AS (
                SELECT a.customer_id, count(*) AS referrals
                FROM cx.activities a CROSS JOIN s
                WHERE NOT a.deleted AND a.type = 'referral' AND a."on" > as_of - s.w AND a."on" <= as_of
                GROUP BY a.customer_id
            )
            SELECT c.id, c.name, c.territory, c.owner,
                   CASE WHEN p.ever = 0 THEN 'lead'
                        WHEN p.late > 0 THEN 'bad_debt'
                        WHEN p.in_window < 2 THEN 'passer_by'
                        WHEN p.margin_revenue > 0 AND p.margin_weighted < s.target * p.margin_revenue THEN 'prospect'
                        WHEN coalesce(r.referrals, 0) > 0 THEN 'advocate'
                        ELSE 'customer' END,
                   p.in_window, p.revenue,
                   CASE WHEN p.margin_revenue > 0 THEN round(p.margin_weighted / p.margin_revenue, 4) END,
                   p.late, p.overdue, coalesce(r.referrals, 0)
            FROM cx.customers c
            JOIN p ON p.customer_id = c.id
            CROSS JOIN s
            LEFT JOIN r ON r.customer_id = c.id
        $$;

        CREATE VIEW cx.customer_status AS
            SELECT customer_id, name, territory, owner, status FROM cx.customer_status_at(current_date);

        CREATE FUNCTION cx.customer_metrics(from_date date, to_date date)
        RETURNS TABLE (
            period_start date, period_end date,
            gross_new bigint, active bigint, existing bigint, base_start bigint, base_end bigint,
            retained bigint, lost bigint, net_new bigint,
            revenue_new numeric, revenue_existing numeric, revenue_per_new numeric, revenue_per_existing numeric,
            lead bigint, bad_debt bigint, passer_by bigint, prospect bigint, advocate bigint, customer bigint)
        LANGUAGE sql STABLE AS $$
            WITH s AS (SELECT * FROM cx.classification_settings()),
            per_customer AS (
                SELECT pu.customer_id,
                       min(pu."on") AS first_on,
                       coalesce(sum(pu.amount) FILTER (WHERE pu."on" >= from_date AND pu."on" < to_date), 0) AS revenue,
                       bool_or(pu."on" >= from_date AND pu."on" < to_date) AS is_active,
                       bool_or(pu."on" > (from_date - 1) - s.w AND pu."on" <= from_date - 1) AS in_base_start,
                       bool_or(pu."on" > (to_date - 1) - s.w AND pu."on" <= to_date - 1) AS in_base_end
                FROM cx.purchases pu
                JOIN cx.customers c ON c.id = pu.customer_id AND NOT c.deleted
                CROSS JOIN s
                GROUP BY pu.customer_id
            ),
            totals AS (
                SELECT count(*) FILTER (WHERE first_on >= from_date AND first_on < to_date) AS gross_new,
                       count(*) FILTER (WHERE is_active) AS active,
                       count(*) FILTER (WHERE is_active AND first_on < from_date) AS existing,
                       count(*) FILTER (WHERE in_base_start) AS base_start,
                       count(*) FILTER (WHERE in_base_end) AS base_end,
                       count(*) FILTER (WHERE in_base_start AND in_base_end) AS retained,
                       coalesce(sum(revenue) FILTER (WHERE first_on >= from_date AND first_on < to_date), 0) AS revenue_new,
                       coalesce(sum(revenue) FILTER (WHERE is_active AND first_on < from_date), 0) AS revenue_existing
                FROM per_customer
            ),
            statuses AS (
                SELECT count(*) FILTER (WHERE status = 'lead') AS lead,
                       count(*) FILTER (WHERE status = 'bad_debt') AS bad_debt,
                       count(*) FILTER (WHERE status = 'passer_by') AS passer_by,
                       count(*) FILTER (WHERE status = 'prospect') AS prospect,
                       count(*) FILTER (WHERE status = 'advocate') AS advocate,
                       count(*) FILTER (WHERE status = 'customer') AS customer
                FROM cx.customer_status_at(to_date - 1)
            )
            SELECT from_date, to_date,
                   t.gross_new, t.active, t.existing, t.base_start, t.base_end, t.retained,
                   t.base_start - t.retained, t.base_end - t.base_start,
                   round(t.revenue_new, 2), round(t.revenue_existing, 2),
                   CASE WHEN t.gross_new = 0 THEN 0.00 ELSE round(t.revenue_new / t.gross_new, 2) END,
                   CASE WHEN t.existing = 0 THEN 0.00 ELSE round(t.revenue_existing / t.existing, 2) END,
                   st.lead, st.bad_debt, st.passer_by, st.prospect, st.advocate, st.customer
            FROM totals t CROSS JOIN statuses st
        $$;

        CREATE FUNCTION cx.nps(from_date date, to_date date)
        RETURNS TABLE (territory text, responses bigint, promoters bigint, detractors bigint, nps numeric)
        LANGUAGE sql STABLE AS $$
            SELECT CASE WHEN grouping(coalesce(c.territory, '')) = 1 THEN NULL ELSE coalesce(c.territory, '') END,
                   count(*), count(*) FILTER (WHERE a.nps >= 9), count(*) FILTER (WHERE a.nps <= 6),
                   round(100.0 * (count(*) FILTER (WHERE a.nps >= 9) - count(*) FILTER (WHERE a.nps <= 6)) / nullif(count(*), 0), 1)
            FROM cx.activities a
            JOIN cx.customers c ON c.id = a.customer_id AND NOT c.deleted
            WHERE NOT a.deleted AND a.type = 'touchpoint' AND a.nps IS NOT NULL AND a."on" IS NOT NULL
              AND a."on" >= from_date AND a."on" < to_date
            GROUP BY GROUPING SETS ((coalesce(c.territory, '')), ())
            -- The grand total of an empty period is a row with no responses: leave it out.
            HAVING count(*) > 0
        $$;

        GRANT SELECT ON cx.settings, cx.purchases, cx.customer_status TO cx_analyst;
        GRANT EXECUTE ON FUNCTION cx.classification_settings(integer, numeric, integer),
            cx.customer_status_at(date, integer, numeric, integer), cx.customer_metrics(date, date), cx.nps(date, date)
            TO cx_analyst;
        """#)
}
