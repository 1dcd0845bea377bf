import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The faults, each chosen by the run's generator among those enabled with `--faults`.
extension FaultRun {
    func injectFault() throws {
        guard let fault = random.pick(config.faults.sorted()), let replica = random.pick(replicas) else { return }
        count(fault.rawValue)
        switch fault {
        case .killServer: try killServerMidSync(replica)
        case .killCx: killCx(replica)
        case .pgStop: try stopDatabase()
        case .proxy: misbehaveProxy()
        case .clock: shiftedClock(replica)
        case .restore: try restoreOrSnapshot(replica)
        case .copy: try copyHome(replica)
        case .concurrent: concurrentSyncs(replica)
        }
    }

    /// Runs `body` on another thread after `seconds`.
    private func after(_ seconds: Double, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            usleep(UInt32(seconds * 1_000_000))
            body()
        }
        thread.start()
    }

    /// `kill -9` of the server while `cx sync` runs, then a restart on the same data directory.
    private func killServerMidSync(_ replica: ReplicaDriver) throws {
        if !server.isRunning { try server.start() }
        guard let pid = server.process?.pid else { return }
        let delay = Double(random.int(5...250)) / 1000
        log("fault: kill -9 cx-server after \(delay)s of \(replica.name)'s sync")
        after(delay) { kill(pid, SIGKILL) }
        sync(replica)
        usleep(UInt32(max(0, delay) * 1_000_000) + 20_000)
        server.kill9()
        try server.start()
    }

    /// `kill -9` of `cx` mid-write or mid-sync; the cache must load afterwards.
    private func killCx(_ replica: ReplicaDriver) {
        if random.chance(0.5) {
            let delay = Double(random.int(2...120)) / 1000
            log("fault: kill -9 cx mid-write after \(delay)s on \(replica.name)")
            performWrite(on: replica, killAfter: delay, circumstances: ["cx killed mid-write"])
            checkCache(replica, after: "kill -9 mid-write")
        } else {
            let delay = Double(random.int(10...400)) / 1000
            log("fault: kill -9 cx mid-sync after \(delay)s on \(replica.name)")
            sync(replica, killAfter: delay)
            checkCache(replica, after: "kill -9 mid-sync")
        }
    }

    /// PostgreSQL fast-stopped under the server: a few operations (the server should answer
    /// 503 meanwhile), then the cluster is started again.
    private func stopDatabase() throws {
        if !server.isRunning { try server.start() }
        log("fault: pg_ctl stop -m fast")
        proxy.setDatabaseDown(true)
        let stopped = server.stopDatabase()
        if !stopped.succeeded { result.notes.append("pg_ctl stop failed at step \(step): \(stopped.summary)") }
        log("PostgreSQL stopped")
        // One sync (it should get 503s and exit 69 with its changes kept) and a local write.
        // A sync may hang on a server waiting for its database; it is killed after 10 s (the
        // proxy reports the slow answer) so that the run stays bounded.
        if let replica = random.pick(replicas) { sync(replica, killAfter: 10) }
        if let replica = random.pick(replicas) { performWrite(on: replica, circumstances: ["database down"]) }
        let started = server.startDatabase()
        if !started.succeeded {
            throw HarnessError("pg_ctl start failed at step \(step): \(started.summary)")
        }
        if !server.waitReady(seconds: 60) {
            result.other.append("server not ready 60 s after PostgreSQL restarted (step \(step), seed \(config.seed))")
            server.kill9()
            try server.start()
        }
        proxy.setDatabaseDown(false)
        log("PostgreSQL started, server ready")
    }

    /// The proxy duplicates requests and drops answers for the next few steps.
    private func misbehaveProxy() {
        let duration = random.int(3...8)
        log("fault: proxy duplicates and drops for \(duration) steps")
        proxy.set(.init(duplicateProbability: 0.3, dropProbability: 0.25))
        proxyFaultUntil = step + duration
    }

    /// A write and a sync made with the laptop's clock hours off.
    private func shiftedClock(_ replica: ReplicaDriver) {
        guard Shell.which("faketime") != nil else {
            if !result.notes.contains(where: { $0.hasPrefix("faketime") }) {
                result.notes.append("faketime is not installed: the clock fault was skipped (apt-get install -y faketime)")
            }
            return
        }
        let offset = random.pick(["+5h", "-5h", "+26h", "-3h", "+72h"]) ?? "+5h"
        log("fault: clock \(offset) on \(replica.name)")
        performWrite(on: replica, clockOffset: offset, circumstances: ["clock \(offset)"])
        if random.chance(0.5) { sync(replica, clockOffset: offset) }
    }

    /// First time: `cp -a` of a home. Later: that copy restored over the live home (a backup
    /// restore), after which the laptop keeps editing.
    private func restoreOrSnapshot(_ replica: ReplicaDriver) throws {
        // Sorted: dictionary order differs between processes, and the seed must decide.
        if let name = snapshots.keys.sorted().first, let snapshot = snapshots[name], random.chance(0.7),
            let index = replicas.firstIndex(where: { $0.name == name })
        {
            let live = replicas[index]
            log("fault: restore \(name) from its earlier copy")
            try? FileManager.default.removeItem(atPath: live.home)
            let copied = shell.run("/bin/cp", ["-a", snapshot.path, live.home])
            if !copied.succeeded { throw HarnessError("restore failed: \(copied.summary)") }
            snapshots[name] = nil
            ledger.restored(name, snapshotMark: snapshot.mark)
            // Write again to the records this laptop wrote after the copy was taken (their
            // write ids are the ones a restored counter would mint again), then random writes.
            let since = ledger.writes.filter { $0.replica == name && $0.id > snapshot.mark }.map(\.record)
            var targets: [String] = []
            for record in since where !targets.contains(record) { targets.append(record) }
            for record in targets.prefix(3) {
                performEdit(of: record, on: live, circumstances: ["after restore of an earlier copy"])
            }
            for _ in 0..<random.int(1...2) {
                performWrite(on: live, circumstances: ["after restore of an earlier copy"])
            }
            if random.chance(0.5) { sync(live) }
        } else if snapshots[replica.name] == nil {
            let snapshot = "\(runDirectory)/snapshot-\(replica.name)-\(step)"
            log("fault: snapshot of \(replica.name)")
            let copied = shell.run("/bin/cp", ["-a", replica.home, snapshot])
            if !copied.succeeded { throw HarnessError("snapshot failed: \(copied.summary)") }
            snapshots[replica.name] = (snapshot, ledger.mark)
        }
    }

    /// A home copied to a second laptop; both are edited from now on.
    private func copyHome(_ replica: ReplicaDriver) throws {
        guard copies < 2 else { return }
        copies += 1
        var copy = replica
        copy.name = "\(replica.name)+copy\(copies)"
        copy.home = "\(runDirectory)/home-\(copy.name)"
        log("fault: cp -a \(replica.name) → \(copy.name)")
        let copied = shell.run("/bin/cp", ["-a", replica.home, copy.home])
        if !copied.succeeded { throw HarnessError("copy failed: \(copied.summary)") }
        ledger.copied(from: replica.name, to: copy.name)
        replicas.append(copy)
        // Both laptops edit the same customer (same replica id, same next counter), then sync.
        if let customer = random.pick(replica.customers() ?? []), let id = customer["id"] as? String {
            performEdit(of: id, on: replica, circumstances: ["original of a copied home"])
            performEdit(of: id, on: copy, circumstances: ["on a copied home"])
            sync(copy)
            sync(replica)
        } else {
            performWrite(on: copy, circumstances: ["on a copied home"])
        }
    }

    /// Two `cx sync` at once on one home, and an edit while they run.
    private func concurrentSyncs(_ replica: ReplicaDriver) {
        log("fault: two concurrent syncs and an edit on \(replica.name)")
        ledger.synced(replica.name)
        let done = DispatchGroup()
        let outcomes = Locked<[CommandResult]>([])
        for _ in 0..<2 {
            done.enter()
            let thread = Thread {
                let outcome = replica.cx("sync", ["--json"])
                outcomes.withLock { $0.append(outcome) }
                done.leave()
            }
            thread.start()
        }
        performWrite(on: replica, circumstances: ["during two concurrent syncs"])
        done.wait()
        ledger.synced(replica.name)
        for outcome in outcomes.withLock({ $0 }) where ![0, 3, 69, 75, 77].contains(outcome.exitCode ?? -1) {
            result.other.append(
                "concurrent sync on \(replica.name) at step \(step): \(outcome.summary) (seed \(config.seed))")
        }
        checkCache(replica, after: "concurrent syncs")
    }
}
