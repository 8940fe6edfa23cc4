import Foundation
import Synchronization
import Testing

@testable import WickStore
import WickTestSupport

@Suite struct StoreRoundTripTests {
    @Test func appendCloseReopenReadBack() async throws {
        let temp = TemporaryDirectory()
        let directory = temp.dataDirectory
        let store = try DataStore.open(directory, configuration: testConfiguration(segmentBytes: 16 << 10), logger: quietLogger)
        var expected: [Range<UInt64>] = []
        for chunk in 0..<20 {
            expected.append(try await store.events.append(batch(chunk * 50..<(chunk + 1) * 50)))
        }
        #expect(expected.first?.lowerBound == 1)
        #expect(expected.last?.upperBound == 1001)
        // Several segments: 1000 records of ~260 bytes in 64 KiB segments.
        #expect(store.events.segments.count > 3)
        store.close()

        let records = try allRecords(directory)
        #expect(records.count == 1000)
        for (index, record) in records.enumerated() {
            #expect(record.sequence == UInt64(index + 1))
            #expect(record.payload == payload(index))
            #expect(record.keys == [traceKey(index), IndexKey(space: eventSpace, "event-\(index)")])
            #expect(record.project == "default")
            #expect(record.receiveTime == 1_000_000 + Int64(index))
        }

        // Reopened, appends continue the sequence.
        let again = try DataStore.open(directory, configuration: testConfiguration(), logger: quietLogger)
        let more = try await again.events.append(batch(1000..<1010))
        #expect(more == 1001..<1011)
        again.close()
        #expect(try allRecords(directory).count == 1010)
    }

    /// Reading back by sequence number through a few cached frames: sealed segments, the live
    /// segment of the writing store, and sequences the log does not have.
    @Test func frameCacheReadsRecordsBackBySequence() async throws {
        let temp = TemporaryDirectory()
        let store = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(segmentBytes: 16 << 10), logger: quietLogger)
        defer { store.close() }
        for chunk in 0..<10 { _ = try await store.events.append(batch(chunk * 100..<(chunk + 1) * 100)) }
        #expect(store.events.segments.count > 3)
        let cache = FrameCache(reader: store.events.reader(), capacity: 2)
        var generator = SplitMix(seed: 5)
        var wanted = Set<UInt64>()
        while wanted.count < 300 { wanted.insert(1 + generator.next() % 1000) }
        let read = try cache.records(Array(wanted) + [0, 5000])
        #expect(read.map(\.sequence) == wanted.sorted(), "absent sequences are left out, the rest in order")
        for record in read {
            #expect(record.payload == payload(Int(record.sequence) - 1))
            #expect(record.keys.isEmpty)
        }
        // In order, neighbours share frames: far fewer frame reads than records.
        let framesBefore = cache.framesRead
        _ = try cache.records(Array(1...1000))
        #expect(cache.framesRead - framesBefore < 200)
    }

    @Test func lookupByKeyFindsEveryRecordIndexedOrNot() async throws {
        let temp = TemporaryDirectory()
        let store = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(), logger: quietLogger)
        defer { store.close() }
        for chunk in 0..<10 {
            _ = try await store.events.append(batch(chunk * 40..<(chunk + 1) * 40))
        }
        // Records of trace 7 are n = 56..<64.
        let found = try store.records(for: IndexKey(space: traceSpace, "trace-7"))
        #expect(found.compactMap(\.n) == Array(56..<64))
        let byEvent = try store.records(for: IndexKey(space: eventSpace, "event-123"))
        #expect(byEvent.compactMap(\.n) == [123])
        #expect(try store.records(for: IndexKey(space: traceSpace, "no-such-trace")).isEmpty)

        // The same from another reader of the directory, beside the open store.
        let reader = try StoreReader(temp.dataDirectory)
        #expect(try reader.records(for: IndexKey(space: traceSpace, "trace-7")).compactMap(\.n) == Array(56..<64))

        // A location reads back its whole frame.
        let location = try #require(try store.locations(for: IndexKey(space: eventSpace, "event-200")).first)
        let frame = try store.records(at: location)
        #expect(frame.compactMap(\.n).contains(200))
        #expect(try reader.records(at: location) == frame)
    }

    /// Readers kept open from lookup to lookup: the active segment's new frames are seen, a
    /// sealed segment's frame read again at once is not decompressed again, and past the capacity
    /// the least recently used reader is closed without a lookup missing anything.
    @Test func lookupsThroughOpenSegmentsSeeEveryRecordAndReuseSealedFrames() async throws {
        let temp = TemporaryDirectory()
        let store = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(segmentBytes: 16 << 10), logger: quietLogger)
        defer { store.close() }
        let open = OpenSegments(capacity: 2)
        // Trace 200 is n = 1600..<1608: its first half now, the rest after the first lookup.
        for chunk in 0..<16 { _ = try await store.events.append(batch(chunk * 100..<(chunk + 1) * 100)) }
        _ = try await store.events.append(batch(1600..<1604))
        let key = IndexKey(space: traceSpace, "trace-200")
        #expect(try store.records(for: key, through: open).compactMap(\.n) == Array(1600..<1604))
        _ = try await store.events.append(batch(1604..<1608))
        #expect(try store.records(for: key, through: open).compactMap(\.n) == Array(1600..<1608))

        // Sealed segments: the records of one frame, asked for one key after another. With the
        // index caught up, no lookup scans the open segment's tail: only located frames are read.
        #expect(store.events.segments.count > 4)
        for _ in 0..<200 where store.indexHighWaterMark < 1609 {
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        #expect(store.indexHighWaterMark == 1609)
        let before = open.sealedFramesDecompressed
        for trace in 0..<4 {
            #expect(try store.records(for: IndexKey(space: traceSpace, "trace-\(trace)"), through: open).compactMap(\.n)
                == Array(trace * 8..<(trace + 1) * 8))
        }
        let frames = Set(try (0..<4).flatMap { try store.locations(for: IndexKey(space: traceSpace, "trace-\($0)")) })
        #expect(open.sealedFramesDecompressed - before == frames.count, "each frame once, however many traces it holds")
        let again = open.sealedFramesDecompressed
        _ = try store.records(for: IndexKey(space: traceSpace, "trace-3"), through: open)
        #expect(open.sealedFramesDecompressed == again, "the sealed frame is not decompressed again")

        // Every segment in turn, through two readers: each lookup still finds everything.
        for trace in stride(from: 0, to: 200, by: 9) {
            #expect(try store.records(for: IndexKey(space: traceSpace, "trace-\(trace)"), through: open).compactMap(\.n)
                == Array(trace * 8..<(trace + 1) * 8))
        }
    }

    @Test func aReaderWithAStaleIndexReadsTheOpenSegmentsTailFromWhereTheIndexEnds() async throws {
        let temp = TemporaryDirectory()
        let directory = temp.dataDirectory
        let configuration = testConfiguration(segmentBytes: 16 << 20)
        var store = try DataStore.open(directory, configuration: configuration, logger: quietLogger)
        _ = try await store.events.append(batch(0..<200))
        store.close()
        // The index as it was at sequence 201, as after a crash between a commit and its indexing.
        let stale = try Data(contentsOf: URL(fileURLWithPath: directory.indexPath))
        store = try DataStore.open(directory, configuration: configuration, logger: quietLogger)
        _ = try await store.events.append(batch(200..<400))
        store.close()
        try stale.write(to: URL(fileURLWithPath: directory.indexPath))

        let reader = try StoreReader(directory)
        #expect(reader.indexHighWaterMark == 201)
        let segments = try reader.segments()
        #expect(segments.count == 1 && !segments[0].sealed)
        // Trace 40 (n = 320..<328) is only in the unindexed tail; trace 7 only in the index.
        #expect(try reader.records(for: IndexKey(space: traceSpace, "trace-40")).compactMap(\.n) == Array(320..<328))
        #expect(try reader.records(for: IndexKey(space: traceSpace, "trace-7")).compactMap(\.n) == Array(56..<64))
        #expect(try reader.records(for: IndexKey(space: eventSpace, "event-399")).compactMap(\.n) == [399])

        // The tail walk starts only at a frame boundary; anywhere else the caller walks it all.
        let segment = try SegmentReader(path: segments[0].path, segmentID: segments[0].id)
        let all = try segment.scan().frames
        #expect(all.count > 4)
        #expect(try segment.frames(from: all[0].offset) == all)
        #expect(try segment.frames(from: all[3].offset) == Array(all[3...]))
        #expect(try segment.frames(from: all[3].offset + 1) == nil)
        #expect(try segment.frames(from: segment.fileSize) == [])
        #expect(try segment.frames(from: segment.fileSize + 1) == nil)
    }

    @Test func aLongLivedReaderSeesNewSegmentsAndForgetsDeletedOnes() async throws {
        let temp = TemporaryDirectory()
        let directory = temp.dataDirectory
        let store = try DataStore.open(directory, configuration: testConfiguration(segmentBytes: 16 << 10), logger: quietLogger)
        _ = try await store.events.append(batch(0..<200))
        let reader = try StoreReader(directory)
        #expect(try reader.records(for: IndexKey(space: traceSpace, "trace-2")).compactMap(\.n) == Array(16..<24))
        let before = try reader.segments()
        #expect(before.count >= 2)
        // More segments are written and sealed while the reader lives.
        _ = try await store.events.append(batch(200..<600))
        store.close()
        #expect(try reader.segments().count > before.count)
        #expect(try reader.records(for: IndexKey(space: traceSpace, "trace-70")).compactMap(\.n) == Array(560..<568))
        #expect(try reader.records(for: IndexKey(space: traceSpace, "trace-2")).compactMap(\.n) == Array(16..<24))
        // The oldest segment goes (as retention deletes it): the reader forgets it, the rest reads on.
        try FileManager.default.removeItem(atPath: before[0].path)
        #expect(try reader.segments().first?.id == before[1].id)
        #expect(try reader.records(for: IndexKey(space: traceSpace, "trace-0")).isEmpty)
        #expect(try reader.records(for: IndexKey(space: traceSpace, "trace-70")).compactMap(\.n) == Array(560..<568))
    }

    @Test func indexHighWaterMarkTrailsByAtMostOneCommit() async throws {
        let temp = TemporaryDirectory()
        let store = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(), logger: quietLogger)
        for chunk in 0..<10 {
            _ = try await store.events.append(batch(chunk * 30..<(chunk + 1) * 30))
        }
        store.close()
        // After a clean close the index has everything.
        let reader = try StoreReader(temp.dataDirectory)
        #expect(reader.indexHighWaterMark == 301)
    }

    @Test func fsyncPoliciesAllCompleteAppends() async throws {
        for mode in SegmentLog.Configuration.FsyncMode.allCases {
            let temp = TemporaryDirectory()
            let store = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(fsync: mode), logger: quietLogger)
            let range = try await store.events.append(batch(0..<100))
            #expect(range == 1..<101)
            #expect(store.events.durableSequence >= 101)
            let fsyncs = store.events.statistics.fsyncs.load(ordering: .relaxed)
            if mode == .never {
                #expect(fsyncs == 0)
            } else {
                #expect(fsyncs > 0)
            }
            store.close()
            #expect(try allRecords(temp.dataDirectory).count == 100)
        }
    }

    @Test func secondWriterIsRefusedAndReindexRefusesWhileOpen() throws {
        let temp = TemporaryDirectory()
        let store = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(), logger: quietLogger)
        defer { store.close() }
        #expect(temp.dataDirectory.isLocked)
        do {
            _ = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(), logger: quietLogger)
            Issue.record("a second writer opened the directory")
        } catch {
            #expect(error.code == .locked)
        }
        do {
            _ = try Reindex.run(temp.dataDirectory)
            Issue.record("reindex ran beside the writer")
        } catch {
            #expect(error.code == .locked)
            #expect(error.message.contains("running wick daemon"))
        }
    }

    @Test func rotationByAgeSealsSegments() async throws {
        let temp = TemporaryDirectory()
        var configuration = testConfiguration(segmentBytes: 1 << 30)
        configuration.log.maxSegmentAgeMilliseconds = 30
        let store = try DataStore.open(temp.dataDirectory, configuration: configuration, logger: quietLogger)
        _ = try await store.events.append(batch(0..<10))
        try await Task.sleep(for: .milliseconds(200))
        _ = try await store.events.append(batch(10..<20))
        store.close()
        let inspection = try Inspection.make(StoreReader(temp.dataDirectory))
        let events = inspection.segments.filter { $0.log == "events" }
        #expect(events.count >= 2)
        #expect(events.first?.sealed == true)
        #expect(events.reduce(0) { $0 + $1.records } == 20)
    }

    @Test func lmdbMapGrowsInsteadOfFailing() async throws {
        let temp = TemporaryDirectory()
        var configuration = testConfiguration(segmentBytes: 1 << 30)
        configuration.indexInitialMapBytes = 64 << 10
        let store = try DataStore.open(temp.dataDirectory, configuration: configuration, logger: quietLogger)
        for chunk in 0..<40 {
            _ = try await store.events.append(batch(chunk * 100..<(chunk + 1) * 100))
        }
        await store.events.flush()
        // Let the indexer apply the last commit.
        for _ in 0..<200 where store.indexHighWaterMark < 4001 {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(store.indexHighWaterMark == 4001)
        #expect(store.indexStatistics.mapBytes > 64 << 10)
        #expect(store.indexStatistics.errors == 0)
        #expect(try store.records(for: IndexKey(space: eventSpace, "event-3999")).compactMap(\.n) == [3999])
        store.close()
    }
}
