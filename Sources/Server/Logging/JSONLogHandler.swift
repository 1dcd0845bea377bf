import CXModel
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes each log event to stderr as one JSON object on one line (`--log-format json`), for
/// log collectors:
///
/// ```
/// {"time":"2026-11-30T01:02:03.456Z","level":"info","logger":"cx.server","message":"sync","request_id":"…","user":"alice","replica":"…","status":200,"duration_ms":12.5,…}
/// ```
///
/// Metadata becomes top-level keys (Hummingbird's `hb.request.id` is renamed `request_id`);
/// integers, floating-point numbers and booleans logged as such stay JSON numbers and booleans,
/// everything else is a string; nested metadata becomes nested objects and arrays.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    /// Keys renamed in the output.
    static let renamedKeys = ["hb.request.id": "request_id"]
    /// Keys the handler writes itself; metadata with these names is prefixed with `meta_`.
    static let reservedKeys: Set<String> = ["time", "level", "logger", "message", "source"]

    init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let extra = event.metadata { all.merge(extra) { $1 } }
        var line = Self.line(
            time: Self.now(), level: event.level, label: label, message: event.message.description, metadata: all)
        line.append(0x0A)
        line.withUnsafeBytes { buffer in
            // One write(2) per line: lines from concurrent requests never interleave mid-line.
            _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count)
        }
    }

    /// The JSON text of one event (without the newline).
    static func line(time: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.raw("{\"time\":")
        w.string(time)
        w.raw(",\"level\":")
        w.string(level.rawValue)
        w.raw(",\"logger\":")
        w.string(label)
        w.raw(",\"message\":")
        w.string(message)
        for key in metadata.keys.sorted() {
            var name = renamedKeys[key] ?? key
            if reservedKeys.contains(name) { name = "meta_" + name }
            w.raw(",")
            w.string(name)
            w.raw(":")
            value(metadata[key]!, into: &w)
        }
        w.raw("}")
        return w.bytes
    }

    private static func value(_ value: Logger.Metadata.Value, into w: inout JSONWriter) {
        switch value {
        case .string(let text):
            w.string(text)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as Int: w.rawJSON(Array(String(number).utf8))
            case let number as Int64: w.rawJSON(Array(String(number).utf8))
            case let number as UInt64: w.number(number)
            case let number as Double where number.isFinite: w.rawJSON(Array(String(number).utf8))
            case let flag as Bool: w.bool(flag)
            default: w.string(convertible.description)
            }
        case .array(let values):
            w.raw("[")
            for (index, element) in values.enumerated() {
                if index > 0 { w.raw(",") }
                Self.value(element, into: &w)
            }
            w.raw("]")
        case .dictionary(let dictionary):
            w.raw("{")
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { w.raw(",") }
                w.string(key)
                w.raw(":")
                Self.value(dictionary[key]!, into: &w)
            }
            w.raw("}")
        }
    }

    /// The current time in UTC, ISO 8601 with milliseconds: `2026-11-30T01:02:03.456Z`.
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(spec.tv_nsec / 1_000_000), 3))Z"
    }
}
