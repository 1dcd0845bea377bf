/// One versioned schema change. Migrations are applied in version order, each in its own
/// transaction, and recorded in `cx.schema_migrations`; a recorded version is never applied
/// again, and a migration is never edited once released — a change gets a new version.
struct Migration: Sendable {
    /// Strictly increasing version number.
    let version: Int
    /// A short name, recorded beside the version.
    let name: String
    /// Trusted SQL (part of the program, never user input), possibly several statements.
    let sql: String

    /// Every migration, in order.
    static let all: [Migration] = [
        Migration0001Initial.migration,
        Migration0002CustomerInsight.migration,
        Migration0003ScopeAndAudit.migration,
        Migration0004ReplicaRegistry.migration,
        Migration0005NormalizeNames.migration,
        Migration0006ActivityExits.migration,
        Migration0007ServerEpoch.migration,
        Migration0008MetricsBreakdownsAndSeries.migration,
        Migration0009Cohorts.migration,
        Migration0010CustomerValue.migration,
        Migration0011StateFunctions.migration,
        Migration0012SQLWrites.migration,
        Migration0013ImportKeys.migration,
        Migration0014CreditNotes.migration,
        Migration0015DuplicateCustomers.migration,
        Migration0016SpendModelFallback.migration,
        Migration0017MergeKeepsClears.migration,
        Migration0018CompactStates.migration,
        Migration0019LeanAuditRows.migration,
        Migration0020OneTerritoryIndex.migration,
        Migration0021AccessVersion.migration,
    ]
}
