/// Activities leave a scope like customers do:
/// - `cx.activity_exits`: when an activity's `customer_id` changes, the territory of the
///   customer it left, so the next sync of that territory's users drops it from their caches
///   (delivered in `removed`) unless they still see it through its new customer.
enum Migration0006ActivityExits {
    static let migration = Migration(version: 6, name: "activity exits", sql: #"""
        CREATE TABLE cx.activity_exits (
            activity_id uuid NOT NULL,
            territory   text NOT NULL,
            seq         bigint NOT NULL,
            exited_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (activity_id, territory)
        );
        CREATE INDEX activity_exits_territory_seq ON cx.activity_exits (territory, seq);

        GRANT SELECT ON cx.activity_exits TO cx_analyst;
        """#)
}
