import Testing

@testable import WickIngest

@Suite struct AckTrackerTests {
    @Test func acksAreCumulativeAndInOrder() {
        var tracker = AckTracker()
        let (first, none) = tracker.add(lines: 10, rejected: 1, waitsForCommit: true)
        #expect(none == nil)
        let (second, _) = tracker.add(lines: 5, rejected: 0, waitsForCommit: true)
        // A chunk of only rejects is done at once, but waits behind the two before it.
        let (_, early) = tracker.add(lines: 3, rejected: 3, waitsForCommit: false)
        #expect(early == nil)
        // The second commits first: nothing may be acknowledged yet.
        #expect(tracker.complete(second) == nil)
        #expect(tracker.complete(first) == AckTracker.Ack(lines: 18, rejected: 4))
        #expect(tracker.outstanding == 0)
        // Completing twice changes nothing.
        #expect(tracker.complete(first) == nil)
    }

    @Test func rejectOnlyChunkAcksAtOnceWhenNothingIsPending() {
        var tracker = AckTracker()
        #expect(tracker.add(lines: 2, rejected: 2, waitsForCommit: false).1 == AckTracker.Ack(lines: 2, rejected: 2))
    }

    @Test func manyChunksCompactWithoutLosingCount() {
        var tracker = AckTracker()
        var ids: [UInt64] = []
        for _ in 0..<2000 { ids.append(tracker.add(lines: 1, rejected: 0, waitsForCommit: true).0) }
        var last: AckTracker.Ack?
        for id in ids { if let ack = tracker.complete(id) { last = ack } }
        #expect(last == AckTracker.Ack(lines: 2000, rejected: 0))
    }
}
