import Foundation
import Testing

/// Issue 11, trap 3: a record the server refuses has a visible way out, named at once offline
/// and by every refusal, on the real `cx` and `cx-server` binaries.
@Suite(.serialized) struct FirstHourServerEndToEndTests {
    @Test func aCustomerInAnotherTerritoryIsWarnedAboutAndHasAWayOut() async throws {
        try await withServer { server in
            let rep = try makeHome(server, user: "rita", role: "rep", territories: ["north"])
            let first = try rep.cx("sync")
            #expect(first.status == 0, "the first sync learns the scope: \(first)")

            // Offline, at once: the territory is not hers.
            let added = try rep.cx("add", "--name", "Stray GmbH", "--territory", "south")
            #expect(added.status == 0, "\(added)")
            let stray = added.trimmed
            let short = String(stray.prefix(8))
            #expect(added.stderr.contains("territory 'south' is not one of yours (yours: north"), "\(added)")
            #expect(added.stderr.contains("cx edit \(short) --territory north"), "\(added)")
            #expect(added.stderr.contains("cx forget \(short) --yes"), "\(added)")

            // The sync refuses it and names the commands that resolve it — not `cx rm`, which
            // the server would refuse as well.
            let refused = try rep.cx("sync")
            #expect(refused.status == 77, "\(refused)")
            #expect(refused.stderr.contains("(territory_not_held)"), "\(refused)")
            #expect(refused.stderr.contains("`cx edit \(short) --territory T`; yours: north"), "\(refused)")
            #expect(refused.stderr.contains("cx forget \(short) --yes"), "\(refused)")
            #expect(!refused.stderr.contains("cx rm"), "\(refused)")

            // Deleting it does not help: `cx rm` says so at once, and the sync still refuses it,
            // now pointing at `cx forget` only.
            let removed = try rep.cx("rm", short)
            #expect(removed.status == 0, "\(removed)")
            #expect(removed.stderr.contains("will refuse this delete as well"), "\(removed)")
            #expect(removed.stderr.contains("cx forget \(short) --yes"), "\(removed)")
            let stillRefused = try rep.cx("sync")
            #expect(stillRefused.status == 77, "\(stillRefused)")
            #expect(stillRefused.stderr.contains("cx forget \(short) --yes"), "\(stillRefused)")
            #expect(!stillRefused.stderr.contains("cx rm") && !stillRefused.stderr.contains("cx edit \(short)"), "\(stillRefused)")

            // The way out works.
            let forgot = try rep.cx("forget", short, "--yes")
            #expect(forgot.status == 0, "\(forgot)")
            let clean = try rep.cx("sync")
            #expect(clean.status == 0, "\(clean)")

            // Moving one of her customers away is warned about offline too.
            let nord = try rep.ok("add", "--name", "Nord AG", "--territory", "north")
            #expect(try rep.cx("add", "--name", "Quiet AG", "--territory", "north").stderr.isEmpty, "her own territory: no warning")
            #expect(try rep.cx("sync").status == 0)
            let moved = try rep.cx("edit", nord, "--territory", "south")
            #expect(moved.status == 0, "\(moved)")
            #expect(moved.stderr.contains("territory 'south' is not one of yours"), "\(moved)")
            #expect(moved.stderr.contains("only a manager or an admin can move it"), "\(moved)")
        }
    }
}
