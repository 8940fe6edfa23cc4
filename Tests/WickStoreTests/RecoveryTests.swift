import Foundation
import Logging
import Testing

@testable import WickStore
import WickTestSupport

@Suite struct RecoveryTests {
    /// Writes `count` records in commits of `perCommit` into a log directory with small frames, and
    /// closes it (the last segment stays unsealed, as after a crash).
    private func writeLog(at directory: DataDirectory, count: Int, perCommit: Int, segmentBytes: Int64 = 1 << 30) async throws {
        let store = try DataStore.open(directory, configuration: testConfiguration(frameBytes: 3000, segmentBytes: segmentBytes),
                                       logger: quietLogger)
        var n = 0
        while n < count {
            let end = min(count, n + perCommit)
            _ = try await store.events.append(batch(n..<end))
            n = end
        }
        store.close()
    }

    @Test func truncationAtEveryByteOfTheLastTwoFramesRecovers() async throws {
        let temp = TemporaryDirectory()
        try await writeLog(at: temp.dataDirectory, count: 120, perCommit: 7)
        let path = try #require(segmentFiles(temp.dataDirectory.logDirectory).last)
        let original = try #require(FileManager.default.contents(atPath: path).map(Array.init))
        let reader = try SegmentReader(path: path, segmentID: 1)
        let frames = try reader.scan().frames
        #expect(frames.count >= 4)
        let records = try allRecords(temp.dataDirectory)
        #expect(records.count == 120)

        let start = Int(frames[frames.count - 2].offset)
        let work = TemporaryDirectory("wick-cut")
        let logDirectory = work.path + "/log"
        try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        let cutPath = logDirectory + "/" + (path as NSString).lastPathComponent
        for cut in start...original.count {
            _ = FileManager.default.createFile(atPath: cutPath, contents: Data(original[..<cut]))
            let recovered = try LogRecovery.recover(directory: logDirectory, kind: .raw, retiredBelow: 0, clock: .system,
                                                    faults: nil, logger: quietLogger)
            // Everything in frames wholly before the cut survives; nothing after.
            let kept = frames.filter { $0.offset + $0.frameLength <= Int64(cut) }
            let keptRecords = kept.reduce(0) { $0 + Int($1.recordCount) }
            let validEnd = kept.last.map { $0.offset + $0.frameLength } ?? Int64(SegmentHeader.size)
            #expect(recovered.active.nextSequence == UInt64(keptRecords + 1), "cut at \(cut)")
            #expect(recovered.active.size == validEnd, "cut at \(cut)")
            #expect(recovered.report.truncatedBytes == Int64(cut) - validEnd, "cut at \(cut)")
            #expect(recovered.report.droppedFrames == (Int64(cut) > validEnd ? 1 : 0), "cut at \(cut)")
            #expect(FileManager.default.fileSize(cutPath) == Int(validEnd))
            let back = try allRecords(DataDirectory(work.path))
            #expect(back == Array(records.prefix(keptRecords)), "cut at \(cut)")
        }
    }

    @Test func recoveredLogTakesNewAppends() async throws {
        let temp = TemporaryDirectory()
        try await writeLog(at: temp.dataDirectory, count: 60, perCommit: 9)
        let path = try #require(segmentFiles(temp.dataDirectory.logDirectory).last)
        let size = try #require(FileManager.default.fileSize(path))
        // Tear the last frame in half, then keep appending.
        try FileHandle(forWritingTo: URL(fileURLWithPath: path)).truncate(atOffset: UInt64(size - 100))
        let store = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(frameBytes: 3000), logger: quietLogger)
        #expect(store.events.recovery.truncatedBytes > 0)
        #expect(store.events.recovery.droppedFrames == 1)
        let survivors = store.events.nextSequence - 1
        let range = try await store.events.append(batch(1000..<1010))
        #expect(range.lowerBound == survivors + 1)
        store.close()
        let records = try allRecords(temp.dataDirectory)
        #expect(records.count == Int(survivors) + 10)
        #expect(records.suffix(10).compactMap(\.n) == Array(1000..<1010))
        #expect(try !Verification.make(StoreReader(temp.dataDirectory)).isDamaged)
        // The loss was recorded where `wick stats` can read it.
        let meta = try StoreReader(temp.dataDirectory).indexMeta()
        #expect((meta["recovery.truncated-bytes"] ?? 0) > 0)
    }

    @Test func everySingleByteCorruptionOfASealedSegmentIsDetectedWithExactLoss() async throws {
        let temp = TemporaryDirectory()
        try await writeLog(at: temp.dataDirectory, count: 400, perCommit: 13, segmentBytes: 24 << 10)
        let files = segmentFiles(temp.dataDirectory.logDirectory)
        #expect(files.count >= 3)
        let path = files[0]
        let info = try #require(try LogDirectoryListing.segments(in: temp.dataDirectory.logDirectory).first)
        let nextFirst = try LogDirectoryListing.segments(in: temp.dataDirectory.logDirectory)[1].firstSequence
        let original = try #require(FileManager.default.contents(atPath: path).map(Array.init))
        let reader = try SegmentReader(path: path, segmentID: info.id)
        let footer = try #require(reader.footer)
        let footerOffset = try #require(reader.footerOffset)
        let clean = try Verification.verify(info, log: "events", nextFirstSequence: nextFirst, beingWritten: false)
        #expect(!clean.isDamaged)
        #expect(clean.records == footer.recordCount)
        let allBefore = try allRecords(temp.dataDirectory)

        var rng = SplitMix(seed: 42)
        // Every byte of header, trailer and footer, and a random sample of frame bytes.
        var positions = Array(0..<SegmentHeader.size) + Array(Int(footerOffset)..<original.count)
        for _ in 0..<1500 { positions.append(Int(rng.next() % UInt64(original.count))) }
        for position in positions {
            var damaged = original
            damaged[position] ^= UInt8(1 + rng.next() % 255)
            _ = FileManager.default.createFile(atPath: path, contents: Data(damaged))
            let result = try Verification.verify(info, log: "events", nextFirstSequence: nextFirst, beingWritten: false)
            #expect(result.isDamaged, "flip at \(position) not detected")
            let hit = footer.frames.first { Int64(position) >= $0.offset && Int64(position) < $0.offset + $0.frameLength }
            let expectedLoss = UInt64(hit?.recordCount ?? 0)
            #expect(result.lostRecords == expectedLoss, "flip at \(position): lost \(String(describing: result.lostRecords)), expected \(expectedLoss)")
            // Reading skips exactly the damaged frame and returns nothing wrong.
            let after = try allRecords(temp.dataDirectory)
            let lostSequences = hit.map { $0.firstSequence..<($0.firstSequence + UInt64($0.recordCount)) } ?? 0..<0
            #expect(after == allBefore.filter { !lostSequences.contains($0.sequence) }, "flip at \(position)")
        }
        _ = FileManager.default.createFile(atPath: path, contents: Data(original))
    }

    @Test func damageInTheMiddleOfTheActiveSegmentCostsOnlyThatFrame() async throws {
        let temp = TemporaryDirectory()
        try await writeLog(at: temp.dataDirectory, count: 200, perCommit: 10)
        let path = try #require(segmentFiles(temp.dataDirectory.logDirectory).last)
        let reader = try SegmentReader(path: path, segmentID: 1)
        let frames = try reader.scan().frames
        let victim = frames[frames.count / 2]
        var bytes = try #require(FileManager.default.contents(atPath: path).map(Array.init))
        bytes[Int(victim.offset) + FrameHeader.size + 3] ^= 0x55
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))

        let store = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(frameBytes: 3000), logger: quietLogger)
        #expect(store.events.recovery.damagedRanges == 1)
        #expect(store.events.recovery.truncatedBytes == 0)
        #expect(store.events.nextSequence == 201)
        store.close()
        let records = try allRecords(temp.dataDirectory)
        #expect(records.count == 200 - Int(victim.recordCount))
    }

    @Test func missingOrStaleIndexIsRebuiltAndEqualsTheIncrementalOne() async throws {
        let temp = TemporaryDirectory()
        try await writeLog(at: temp.dataDirectory, count: 500, perCommit: 11, segmentBytes: 16 << 10)
        let incremental = try IndexStore(path: temp.dataDirectory.indexPath, readOnly: true, initialMapSize: 0)
        let before = try incremental.allEntries()
        let beforeCatalog = try incremental.segments()
        #expect(before.count > 500)

        let result = try Reindex.run(temp.dataDirectory)
        #expect(result.highWaterMark == 501)
        let rebuilt = try IndexStore(path: temp.dataDirectory.indexPath, readOnly: true, initialMapSize: 0)
        let after = try rebuilt.allEntries()
        #expect(after.count == before.count)
        #expect(after.map { $0.0 } == before.map { $0.0 })
        #expect(after.map { $0.1 } == before.map { $0.1 })
        #expect(try rebuilt.segments().map(\.segmentID) == beforeCatalog.map(\.segmentID))
        #expect(try rebuilt.segments().map(\.nextSequence) == beforeCatalog.map(\.nextSequence))

        // Deleting it outright: the next open rebuilds it.
        try FileManager.default.removeItem(atPath: temp.dataDirectory.indexPath)
        let store = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(), logger: quietLogger)
        #expect(store.indexRecovery.framesIndexed > 0)
        #expect(try store.records(for: traceKey(77)).compactMap(\.n) == Array(72..<80))
        store.close()
        let reopened = try IndexStore(path: temp.dataDirectory.indexPath, readOnly: true, initialMapSize: 0)
        #expect(try reopened.allEntries().map { $0.0 } == before.map { $0.0 })

        // A corrupt index file is thrown away and rebuilt, never a reason to refuse to start.
        _ = FileManager.default.createFile(atPath: temp.dataDirectory.indexPath, contents: Data(repeating: 0xAB, count: 8192))
        try? FileManager.default.removeItem(atPath: temp.dataDirectory.indexPath + "-lock")
        let again = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(), logger: quietLogger)
        #expect(again.indexRecovery.rebuilt)
        #expect(try again.records(for: traceKey(80)).compactMap(\.n) == Array(80..<88))
        again.close()
    }

    @Test func indexAheadOfATruncatedLogIsRebuilt() async throws {
        let temp = TemporaryDirectory()
        try await writeLog(at: temp.dataDirectory, count: 100, perCommit: 10)
        let path = try #require(segmentFiles(temp.dataDirectory.logDirectory).last)
        let size = try #require(FileManager.default.fileSize(path))
        try FileHandle(forWritingTo: URL(fileURLWithPath: path)).truncate(atOffset: UInt64(size / 2))
        let store = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(frameBytes: 3000), logger: quietLogger)
        #expect(store.indexRecovery.rebuilt)
        let survivors = Int(store.events.nextSequence - 1)
        #expect(survivors < 100)
        // No index entry points past the end of the log.
        #expect(try store.records(for: traceKey(99)).isEmpty)
        store.close()
    }
}

extension FileManager {
    func fileSize(_ path: String) -> Int? {
        (try? attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
    }
}
