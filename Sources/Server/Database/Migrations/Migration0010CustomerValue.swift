/// `cx.customer_value`: every customer's recency, frequency, spend and expected value over a
/// horizon, from the BG/NBD and Gamma-Gamma models fitted on the whole book — the figures of
/// `cx value`, written by `cx-server value refresh` (the fit runs in Swift, with the same Model
/// code as the laptop, so both give the same numbers). One row per customer with a purchase;
/// every row of a refresh carries the refresh's date, horizon and fitted parameters. Readable by
/// `cx_analyst`.
enum Migration0010CustomerValue {
    static let migration = Migration(version: 10, name: "customer value", sql: #"""
        CREATE TABLE cx.customer_value (
            customer_id        uuid PRIMARY KEY,
            name               text NOT NULL,
            frequency          integer NOT NULL,
            recency            integer NOT NULL,
            t                  integer NOT NULL,
            monetary           numeric(16, 2) NOT NULL,
            p_alive            numeric(6, 4) NOT NULL,
            expected_purchases numeric(14, 4) NOT NULL,
            expected_spend     numeric(16, 2) NOT NULL,
            expected_value     numeric(18, 2) NOT NULL,
            as_of              date NOT NULL,
            horizon            text NOT NULL,
            horizon_days       integer NOT NULL,
            monthly_discount   numeric(6, 4) NOT NULL,
            r                  numeric(24, 6) NOT NULL,
            alpha              numeric(24, 6) NOT NULL,
            a                  numeric(24, 6) NOT NULL,
            b                  numeric(24, 6) NOT NULL,
            p                  numeric(24, 6) NOT NULL,
            q                  numeric(24, 6) NOT NULL,
            v                  numeric(24, 6) NOT NULL,
            fitted_at          timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX customer_value_expected_value ON cx.customer_value (expected_value DESC);
        COMMENT ON TABLE cx.customer_value IS
            'Customer value (BG/NBD + Gamma-Gamma fitted on the book) as of as_of over horizon; refreshed by cx-server value refresh';
        GRANT SELECT ON cx.customer_value TO cx_analyst;
        """#)
}
