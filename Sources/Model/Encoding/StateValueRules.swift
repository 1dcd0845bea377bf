/// Which rules a decoded state's values are held to.
///
/// The value rules have tightened over time (text in Unicode Normalization Form C, 200 code
/// points for the fields that name something): a state stored before a rule existed can break
/// it without being wrong. Such a state must still load — a cache or a database must never
/// become unreadable by an upgrade — while a write made today is held to today's rules.
public enum StateValueRules: Sendable, Hashable {
    /// Today's rules for every value: canonical form, within today's limits. For states that
    /// must be exactly as today's code writes them (round-trip checks, fuzzing).
    case current
    /// The rules for a pushed state: every value in canonical form; the length limits are
    /// checked on the entries the receiver does not hold yet
    /// (``RecordState/lengthViolation(notCoveredBy:)``), so values stored under earlier rules
    /// travel on while no new write exceeds today's limits.
    case pushed
    /// The rules for a state its reader stored itself (a replica's cache, the server's
    /// database, a page the server serves from it): values are brought to canonical form (an
    /// NFD text from an older replica is read in NFC, as every reader does, so replicas agree)
    /// and values longer than today's limits are kept.
    case stored

    /// Whether values longer than today's limits are refused while decoding.
    var limitsLength: Bool { self == .current }
    /// Whether a value not in canonical form is refused (rather than read in canonical form).
    var requiresCanonicalForm: Bool { self != .stored }
}
