/// `cx.customer_value` without a Gamma-Gamma fit: on a book whose spend is too uniform for that
/// model (the demo book is one), `cx-server value refresh` still writes every customer's
/// purchase-model figures, with expected spend from means instead (`spend_model`
/// `customer-mean`) and Gamma-Gamma's parameters NULL.
enum Migration0016SpendModelFallback {
    static let migration = Migration(version: 16, name: "customer value spend model fallback", sql: #"""
        ALTER TABLE cx.customer_value
            ALTER COLUMN p DROP NOT NULL,
            ALTER COLUMN q DROP NOT NULL,
            ALTER COLUMN v DROP NOT NULL,
            ADD COLUMN spend_model text NOT NULL DEFAULT 'gamma-gamma'
                CHECK (spend_model IN ('gamma-gamma', 'customer-mean'));
        COMMENT ON COLUMN cx.customer_value.spend_model IS
            'gamma-gamma: expected_spend from the fitted Gamma-Gamma model (p, q, v); customer-mean: that fit failed, expected_spend is the customer''s own mean repeat spend (the book''s for one-time buyers) and p, q, v are NULL';
        """#)
}
