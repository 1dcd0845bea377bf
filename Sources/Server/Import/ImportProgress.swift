#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The progress bar of `cx-server import` on stderr, drawn only when stderr is a terminal
/// (nothing when it is piped or redirected), at most ten times a second.
final class ImportProgress {
    private let enabled: Bool
    private let clock = ContinuousClock()
    private var lastDrawn: ContinuousClock.Instant?
    private var drawn = false

    init(enabled: Bool = isatty(2) == 1) {
        self.enabled = enabled
    }

    /// Shows `phase` at `fraction` (0…1), with `detail` after the bar.
    func update(_ phase: String, fraction: Double, detail: String = "") {
        guard enabled else { return }
        let now = clock.now
        if let lastDrawn, now - lastDrawn < .milliseconds(100), fraction < 1 { return }
        lastDrawn = now
        let width = 30
        let clamped = min(max(fraction, 0), 1)
        let filled = Int(clamped * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let percent = String(Int(clamped * 100)).leftPadded(to: 3)
        ImportOutput.standardError("\r\u{1B}[2K\(phase.padding(to: 9)) [\(bar)] \(percent)% \(detail)")
        drawn = true
    }

    /// Clears the bar so the next line starts clean.
    func finish() {
        guard enabled, drawn else { return }
        ImportOutput.standardError("\r\u{1B}[2K")
        drawn = false
    }
}

/// Writing to stdout and stderr, unbuffered with respect to each other.
enum ImportOutput {
    static func standardError(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// `x` with `places` decimals (`decimal(84.25, places: 1)` → `84.3`), without Foundation.
    static func decimal(_ x: Double, places: Int) -> String {
        var scale = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = Int((abs(x) * Double(scale)).rounded())
        let whole = String(scaled / scale)
        guard places > 0 else { return (x < 0 ? "-" : "") + whole }
        let fraction = String(scaled % scale)
        return (x < 0 ? "-" : "") + whole + "." + String(repeating: "0", count: places - fraction.count) + fraction
    }

    /// `1234567` → `1,234,567`.
    static func grouped(_ number: Int) -> String {
        let digits = String(number.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return (number < 0 ? "-" : "") + result
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }

    fileprivate func padding(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
