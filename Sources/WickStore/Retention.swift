/// How much a log may keep. Whole segments only; the active segment is never removed.
public struct RetentionPolicy: Sendable, Equatable {
    /// Total bytes of segment files; 0 means no budget. When exceeded, the oldest segments go even
    /// past a live cursor, and every record lost that way is counted and logged.
    public var maxBytes: Int64 = 0
    /// Receive-time age; 0 means keep forever. Age never removes what a cursor has not passed.
    public var maxAgeMilliseconds: Int64 = 0

    public init(maxBytes: Int64 = 0, maxAgeMilliseconds: Int64 = 0) {
        self.maxBytes = maxBytes
        self.maxAgeMilliseconds = maxAgeMilliseconds
    }
}

/// Which segments retention removes: a pure decision over the catalog, tested on its own.
struct RetentionPlan: Equatable, Sendable {
    struct Victim: Equatable, Sendable {
        var segmentID: UInt64
        var overBudget: Bool
        /// Records no cursor had consumed yet (non-zero only for budget removals).
        var lostRecords: UInt64
    }

    var victims: [Victim] = []
    /// An old segment kept because a cursor has not passed it.
    var blockedByCursor = false

    /// - Parameters:
    ///   - segments: oldest first; the last is the active segment.
    ///   - slowestCursor: the smallest named cursor (next sequence to consume), nil when none exists.
    ///   - now: receive-clock microseconds.
    static func make(segments: [CatalogEntry], slowestCursor: UInt64?, now: Int64, policy: RetentionPolicy) -> RetentionPlan {
        var plan = RetentionPlan()
        var total = segments.reduce(Int64(0)) { $0 + $1.fileBytes }
        for segment in segments.dropLast() {
            let overBudget = policy.maxBytes > 0 && total > policy.maxBytes
            let newest = segment.recordCount > 0 ? segment.maxReceiveTime : segment.createdAt
            let tooOld = policy.maxAgeMilliseconds > 0 && newest < now - policy.maxAgeMilliseconds * 1000
            guard overBudget || tooOld else { break }
            let consumed = slowestCursor.map { segment.nextSequence <= $0 } ?? true
            if !consumed && !overBudget {
                plan.blockedByCursor = true
                break
            }
            var lost: UInt64 = 0
            if !consumed, let cursor = slowestCursor {
                let from = max(cursor, segment.firstSequence)
                // Records below the cursor were consumed; the segment's count bounds the rest (gaps
                // left by damage hold no records).
                lost = min(segment.recordCount, segment.nextSequence - from)
            }
            plan.victims.append(Victim(segmentID: segment.segmentID, overBudget: overBudget, lostRecords: lost))
            total -= segment.fileBytes
        }
        return plan
    }
}
