import Foundation

/// The machine's CPU time so far, from `/proc/stat` (Linux): what a benchmark run cost in CPU,
/// all processes together (the server, its PostgreSQL backends, the simulated clients). It
/// tells a run that had the CPUs to itself but did more work per request from one that got
/// fewer cycles (time stolen by the hypervisor is counted apart); on a shared machine the work
/// a request costs in CPU time still swings with the neighbours' use of caches and clocks.
struct MachineCPU: Sendable {
    /// Seconds the CPUs spent running something (user, nice, system, irq, softirq).
    var busy: Double
    /// Seconds taken by the hypervisor for other machines while this one wanted to run.
    var stolen: Double

    /// Now, or `nil` where `/proc/stat` is not available.
    static func now() -> MachineCPU? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 8 else { return nil }
        let perSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        // user nice system idle iowait irq softirq steal
        return MachineCPU(busy: (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) / perSecond, stolen: ticks[7] / perSecond)
    }

    static func - (after: MachineCPU, before: MachineCPU) -> MachineCPU {
        MachineCPU(busy: after.busy - before.busy, stolen: after.stolen - before.stolen)
    }

    /// Seconds of CPU this process has used (user and system), all threads.
    static func ofThisProcess() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
