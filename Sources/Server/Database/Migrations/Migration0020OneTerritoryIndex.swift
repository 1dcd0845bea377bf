/// One index by territory on `cx.customers` instead of two (issue 12): `customers_territory
/// (territory) WHERE NOT deleted` (migration 1) answers nothing `customers_territory_seq
/// (territory, seq)` (migration 3, which every scoped pull reads) does not, and every pushed
/// customer paid for both while its group held the sequence lock — under many clients that
/// lock's section is what bounds requests per second (docs/benchmarks.md, session 21). A
/// lookup by territory, with or without `NOT deleted`, uses `customers_territory_seq`.
enum Migration0020OneTerritoryIndex {
    static let migration = Migration(version: 20, name: "one territory index", sql: #"""
        DROP INDEX cx.customers_territory;
        """#)
}
