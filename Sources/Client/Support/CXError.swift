import CXModel

/// An error a `cx` command reports to the user: what happened, what to do, and the exit code.
///
/// Library code throws these (or lower-level errors that ``CXError/from(_:)`` maps); the
/// command layer prints ``message`` and ``hint`` on stderr and exits with ``code``.
public struct CXError: Error, CustomStringConvertible, Sendable {
    /// Exit statuses of the CLI contract (see docs/cli.md).
    public enum Code: Int32, Sendable, CaseIterable {
        /// Something failed (I/O, not found, refused operation).
        case failure = 1
        /// `cx sync` finished, but unresolved conflicts remain.
        case conflicts = 3
        /// The command line was wrong (unknown option, ambiguous id prefix, …).
        case usage = 64
        /// Input data was invalid (validation errors, bad CSV).
        case dataError = 65
        /// The server could not be reached; local changes are kept.
        case unavailable = 69
        /// Another `cx sync` (or `cx forget`) holds this home's sync lock; try again later
        /// (`EX_TEMPFAIL`). Nothing was changed.
        case busy = 75
        /// The server refused the credentials or the operation (401/403).
        case permission = 77
    }

    /// The exit code.
    public var code: Code
    /// What happened, in one sentence.
    public var message: String
    /// What to do about it, when there is something to do.
    public var hint: String?

    /// Creates an error.
    public init(_ code: Code, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String {
        if let hint { return "\(message)\n\(hint)" }
        return message
    }

    /// Maps any error thrown by the client library to a ``CXError``.
    public static func from(_ error: any Error) -> CXError {
        switch error {
        case let error as CXError:
            return error
        case let error as IOError:
            return CXError(.failure, error.description)
        case let error as RecordValidationError:
            return CXError(.dataError, error.description)
        case let error as StateDecodingError:
            return CXError(.dataError, error.description)
        default:
            return CXError(.failure, String(describing: error))
        }
    }
}

/// A failed system call on a file, with the path and the system's reason.
public struct IOError: Error, CustomStringConvertible, Sendable {
    /// The file or directory concerned.
    public let path: String
    /// What was attempted (`open`, `write`, `fsync`, …).
    public let operation: String
    /// The `errno` value.
    public let errno: Int32

    public var description: String {
        "could not \(operation) \(path): \(POSIX.message(errno))"
    }
}
