import Foundation
import Synchronization
import Testing

@testable import WickStore
import WickTestSupport

@Suite struct RetentionTests {
    private func entry(_ id: UInt64, first: UInt64, count: UInt64, bytes: Int64, maxTime: Int64) -> CatalogEntry {
        CatalogEntry(segmentID: id, kind: .raw, sealed: true, firstSequence: first, nextSequence: first + count,
                     recordCount: count, frameCount: 1, fileBytes: bytes, uncompressedBytes: UInt64(bytes) * 5,
                     createdAt: maxTime - 10, minReceiveTime: maxTime - 10, maxReceiveTime: maxTime)
    }

    private var catalog: [CatalogEntry] {
        (0..<5).map { (i: Int) -> CatalogEntry in
            let id = UInt64(i + 1)
            let first = UInt64(i * 100 + 1)
            return entry(id, first: first, count: 100, bytes: 1000, maxTime: Int64(i) * 1_000_000)
        }
    }

    @Test func ageNeverPassesACursor() {
        let policy = RetentionPolicy(maxAgeMilliseconds: 1)
        // Everything is old; the cursor has consumed segments 1 and 2 (sequences below 201).
        let plan = RetentionPlan.make(segments: catalog, slowestCursor: 201, now: 100_000_000, policy: policy)
        #expect(plan.victims.map(\.segmentID) == [1, 2])
        #expect(plan.victims.allSatisfy { $0.lostRecords == 0 })
        #expect(plan.blockedByCursor)
    }

    @Test func ageWithoutCursorsKeepsTheActiveSegment() {
        let plan = RetentionPlan.make(segments: catalog, slowestCursor: nil, now: 100_000_000, policy: RetentionPolicy(maxAgeMilliseconds: 1))
        #expect(plan.victims.map(\.segmentID) == [1, 2, 3, 4])
    }

    @Test func ageKeepsYoungSegments() {
        // now = 4 s; keep 2.5 s: segments whose newest record is older than 1.5 s go.
        let plan = RetentionPlan.make(segments: catalog, slowestCursor: nil, now: 4_000_000, policy: RetentionPolicy(maxAgeMilliseconds: 2500))
        #expect(plan.victims.map(\.segmentID) == [1, 2])
    }

    @Test func budgetPassesACursorAndCountsEveryLostRecord() {
        // 5000 bytes on disk, budget 2500: three segments must go; the cursor sits in segment 2.
        let plan = RetentionPlan.make(segments: catalog, slowestCursor: 150, now: 0, policy: RetentionPolicy(maxBytes: 2500))
        #expect(plan.victims.map(\.segmentID) == [1, 2, 3])
        #expect(plan.victims.map(\.lostRecords) == [0, 51, 100])
        #expect(plan.victims.allSatisfy { $0.overBudget })
    }

    @Test func budgetUnderLimitDeletesNothing() {
        let plan = RetentionPlan.make(segments: catalog, slowestCursor: nil, now: 0, policy: RetentionPolicy(maxBytes: 5000))
        #expect(plan.victims.isEmpty)
    }

    @Test func storeRetentionRespectsCursorsAndRemovesIndexEntries() async throws {
        let temp = TemporaryDirectory()
        var configuration = testConfiguration(segmentBytes: 8 << 10)
        configuration.retention = RetentionPolicy(maxAgeMilliseconds: 1)
        configuration.maintenanceIntervalMilliseconds = 20
        let store = try DataStore.open(temp.dataDirectory, configuration: configuration, logger: quietLogger)
        defer { store.close() }
        try store.setCursor("replay", to: 1)
        for chunk in 0..<16 {
            _ = try await store.events.append(batch(chunk * 30..<(chunk + 1) * 30))
        }
        let segmentsBefore = store.events.segments.count
        #expect(segmentsBefore > 4)
        try await Task.sleep(for: .milliseconds(150))
        // The cursor is at the very start: age may remove nothing.
        #expect(store.events.segments.count == segmentsBefore)
        #expect(store.indexStatistics.retentionBlocked > 0)

        // Readers a thread keeps open for its lookups, on the three segments about to go.
        let cut = store.events.segments[3].firstSequence
        let open = OpenSegments()
        for segment in store.events.segments.prefix(3) {
            _ = try store.records(for: IndexKey(space: eventSpace, "event-\(segment.firstSequence - 1)"), through: open)
        }
        #expect(open.count >= 3)

        // Move the cursor into the middle: segments wholly before it go, the rest stay.
        try store.setCursor("replay", to: cut)
        store.requestRetention()
        for _ in 0..<100 where store.events.segments.first?.firstSequence ?? 0 < cut {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(store.events.segments.first?.firstSequence == cut)
        #expect(store.indexStatistics.retentionLostRecords == 0)
        let remaining = segmentFiles(temp.dataDirectory.logDirectory)
        #expect(remaining.count == store.events.segments.count)
        // Index entries into removed segments are gone; records past the cursor are all there.
        #expect(try store.records(for: traceKey(0)).isEmpty)
        let firstKept = Int(cut - 1)
        #expect(try store.records(for: IndexKey(space: eventSpace, "event-\(firstKept)")).compactMap(\.n) == [firstKept])
        // Closing retired readers (the assembler asks once a second) leaves no descriptor keeping a
        // deleted file's space; lookups through the kept readers still find what is there.
        store.closeRetired(open)
        #expect(try store.records(for: IndexKey(space: eventSpace, "event-\(firstKept)"), through: open).compactMap(\.n) == [firstKept])
        let logDirectory = URL(fileURLWithPath: temp.dataDirectory.logDirectory).resolvingSymlinksInPath().path
        let deletedOpen = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter { fd in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
            return target.hasPrefix(logDirectory) && target.hasSuffix("(deleted)")
        }
        #expect(deletedOpen.isEmpty, "descriptors of deleted segments: \(deletedOpen)")
        let reader = try StoreReader(temp.dataDirectory)
        let entries = try #require(reader.index).allEntries()
        let live = Set(store.events.segments.map(\.id))
        #expect(entries.allSatisfy { live.contains($0.1.segment) })
    }

    @Test func diskBudgetDropsPastCursorsAndCountsTheLoss() async throws {
        let temp = TemporaryDirectory()
        var configuration = testConfiguration(segmentBytes: 8 << 10)
        configuration.retention = RetentionPolicy(maxBytes: 24 << 10)
        configuration.maintenanceIntervalMilliseconds = 20
        let store = try DataStore.open(temp.dataDirectory, configuration: configuration, logger: quietLogger)
        try store.setCursor("slow-consumer", to: 1)
        for chunk in 0..<20 {
            _ = try await store.events.append(batch(chunk * 30..<(chunk + 1) * 30))
        }
        await store.events.flush()
        for _ in 0..<200 where totalBytes(temp) > (24 << 10) + (8 << 10) + 4096 {
            try await Task.sleep(for: .milliseconds(10))
        }
        // Disk use stays within the budget plus one segment.
        #expect(totalBytes(temp) <= (24 << 10) + (8 << 10) + 4096)
        // Retention may still be running: compare what stays once the store is closed.
        let counted = store.indexStatistics
        store.close()
        let reader = try StoreReader(temp.dataDirectory)
        let first = try #require(try reader.segments().first?.firstSequence)
        // Every record before the first kept segment was unconsumed: all counted as lost.
        #expect(UInt64(counted.retentionLostRecords) <= first - 1)
        #expect(reader.indexMeta()["retention.lost-records"] == first - 1)
    }

    private func totalBytes(_ temp: TemporaryDirectory) -> Int {
        segmentFiles(temp.dataDirectory.logDirectory).reduce(0) { $0 + (FileManager.default.fileSize($1) ?? 0) }
    }
}
