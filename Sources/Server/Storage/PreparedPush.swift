import CXModel

extension RecordStore {
    /// A push's states made ready for storage without touching it: several states of one record
    /// joined (the merge is a join), and the records refused before anything is read (one id sent
    /// both as a customer and as an activity). Built before the push waits for the sequence
    /// lock, so that work stays out of the serial section.
    struct PreparedPush: Sendable {
        /// Pushed customers, one state per id, in request order.
        var customers: [RecordState] = []
        /// Pushed activities, one state per id, in request order.
        var activities: [RecordState] = []
        /// Records refused while joining.
        var rejectedEarly: [Rejection] = []
        /// Records sent more than once in the request: their joined state is none of those sent,
        /// so the server's copy is never an echo of what the client holds.
        var joined: Set<String> = []
        /// Records whose every value is within today's limits, whatever the server holds: the
        /// merge need not check them again (``RecordState/lengthViolation(notCoveredBy:)``
        /// only exempts values, so none can appear).
        var withinLimits: Set<String> = []
        /// Records whose state passes, alone, every check the merge makes of a record new to the
        /// server (``CausalIntegrity/check(_:)`` and ``RecordStore/mergedRefusal(_:)``; a new
        /// record's merge is its state): decided here, beside other requests, rather than while
        /// the push holds the sequence lock.
        var soundAlone: Set<String> = []
        /// The rows each record is written with if it is new to the server, encoded ahead for
        /// ``RecordWriteSet`` (only for pushes built with a writer).
        var encodedInserts: [String: NewRecordWrites.Encoded] = [:]

        /// How many records the push writes at most.
        var count: Int { customers.count + activities.count }

        /// Joins `states`; with `writer`, also encodes each record's rows as a new record's.
        init(_ states: [RecordState], encodingInsertsBy writer: Writer? = nil) {
            var byID: [String: RecordState] = [:]
            var order: [String] = []
            for state in states {
                if let existing = byID[state.id] {
                    guard existing.kind == state.kind else {
                        rejectedEarly.append(
                            Rejection(id: state.id, code: .kindMismatch, message: "the request holds this id both as a customer and as an activity"))
                        continue
                    }
                    byID[state.id] = existing.merging(state)
                    joined.insert(state.id)
                } else {
                    byID[state.id] = state
                    order.append(state.id)
                }
            }
            let refusedIDs = Set(rejectedEarly.map(\.id))
            var kept: [RecordState] = []
            for id in order where !refusedIDs.contains(id) {
                guard let state = byID[id] else { continue }
                if state.kind == .customer { customers.append(state) } else { activities.append(state) }
                kept.append(state)
            }
            // Only lengths are left to check (the decoder checked the rest), and what a new
            // record's merge checks: cheap enough to do here. Encoding the rows ahead (small
            // pushes, grouped) goes on both cores from 64.
            for state in kept {
                if state.isWithinLengthLimits { withinLimits.insert(state.id) }
                if CausalIntegrity.check(state) == nil && RecordStore.mergedRefusal(state) == nil { soundAlone.insert(state.id) }
            }
            if let writer {
                let encoded = ParallelMap.map(kept, workers: kept.count >= 64 ? 2 : 1) { NewRecordWrites.encode($0, by: writer) }
                for (state, rows) in zip(kept, encoded) { encodedInserts[state.id] = rows }
            }
        }
    }
}
