import Foundation
import Synchronization
import Testing
import WickJSON
import WickModel
import WickStore
@testable import WickPipeline
import WickTestSupport

/// Compaction against a real store: settled raw segments become compacted ones, every trace reads
/// the same before and after, raw segments go once every cursor passed them, and late events merge.
@Suite(.serialized) struct CompactionTests {
    static let traces = 60

    /// Appends `count` traces from `first` in rounds, so that they span several segments, and
    /// waits until all have settled and the last segment sealed.
    static func fill(_ fixture: PipelineFixture, first: Int = 0, count: Int = traces) async throws {
        for round in stride(from: first, to: first + count, by: 20) {
            try await fixture.append((round..<min(round + 20, first + count)).flatMap { Lines.trace($0, at: Int64($0) * 10) })
            try await Task.sleep(nanoseconds: UInt64(fixture.segmentAgeMilliseconds + 40) * 1_000_000)
        }
        let settled = fixture.settled + 0
        #expect(await fixture.waitUntil { fixture.settled >= first + count || fixture.settled >= settled + count })
        // Every event in a sealed segment: the open one holds none yet (a busy machine may rotate
        // later than the sleep above).
        #expect(await fixture.waitUntil {
            let durable = fixture.store.events.durableSequence
            return try fixture.store.cursor(TraceDocuments.cursor) == durable
                && fixture.store.events.segments.last.map { !$0.sealed && $0.firstSequence >= durable } == true
                && (try fixture.store.compactionBacklog(below: durable)).segments == fixture.store.events.segments.count - 1
        })
    }

    static func loadAll(_ fixture: PipelineFixture, _ ids: Range<Int>) throws -> [String: LoadedTrace] {
        var result: [String: LoadedTrace] = [:]
        for n in ids {
            result["t\(n)"] = try TraceLoader.load("t\(n)", project: "default", from: fixture.store, prices: .defaults)
        }
        return result
    }

    static func expectSame(_ a: [String: LoadedTrace], _ b: [String: LoadedTrace]) {
        #expect(a.count == b.count)
        for (id, before) in a {
            let after = b[id]
            #expect(after?.folded == before.folded, "trace \(id)")
            #expect(after?.summary == before.summary, "trace \(id)")
        }
    }

    @Test func settledSegmentsAreReplacedAndEveryTraceReadsTheSame() async throws {
        let fixture = try PipelineFixture(settleMilliseconds: 40, segmentAgeMilliseconds: 120)
        defer { fixture.stop() }
        try await Self.fill(fixture)
        let before = try Self.loadAll(fixture, 0..<Self.traces)
        let rawSegments = fixture.store.events.segments.count - 1
        #expect(rawSegments >= 3)

        let compactor = Compactor(store: fixture.store, prices: .defaults, logger: quietLogger)
        var steps: [CompactionStep] = []
        let report = try compactor.compactReady(step: { steps.append($0) })
        #expect(report.segments == rawSegments)
        #expect(report.documents == Self.traces)
        #expect(report.rawRecords == UInt64(Self.traces * 6))
        #expect(report.carried == 0)
        #expect(steps.count == CompactionStep.allCases.count * report.compactedSegments)
        #expect(fixture.store.compactedBelow == fixture.store.events.durableSequence)
        Self.expectSame(before, try Self.loadAll(fixture, 0..<Self.traces))
        // Frames of documents keep their text in a stream that may be word-coded (type 4,
        // docs/format.md §3): the frame type is byte 4 of the first frame's header, after the
        // segment's 64-byte header.
        let compacted = try FileManager.default.contentsOfDirectory(atPath: fixture.temp.path + "/data/compacted")
            .filter { $0.hasSuffix(".wseg") }
        #expect(compacted.count == report.compactedSegments)
        for name in compacted {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture.temp.path + "/data/compacted/" + name)))
            #expect(bytes.count > 64 + 56 && bytes[64 + 4] == 4, "\(name)")
        }

        // Released once every cursor has passed them (the assembler's has).
        fixture.store.requestRetention()
        #expect(await fixture.waitUntil { fixture.store.events.segments.count == 1 })
        Self.expectSame(before, try Self.loadAll(fixture, 0..<Self.traces))
        for n in 0..<Self.traces {
            let records = try fixture.store.records(for: TraceDocuments.traceIndexKey("t\(n)"))
            #expect(records.map(\.kind) == [.compactedDocument])
        }
        // Nothing more to do: a second run compacts nothing.
        #expect(try compactor.compactReady().segments == 0)
    }

    /// With word coding off, frames of documents are type 3 (no stream word-coded) and read the same.
    @Test func wordCodesCanBeTurnedOff() async throws {
        let fixture = try PipelineFixture(settleMilliseconds: 40, segmentAgeMilliseconds: 120)
        defer { fixture.stop() }
        try await Self.fill(fixture)
        let before = try Self.loadAll(fixture, 0..<Self.traces)
        var configuration = Compactor.Configuration()
        configuration.wordCodes = false
        let report = try Compactor(store: fixture.store, configuration: configuration, prices: .defaults, logger: quietLogger)
            .compactReady()
        #expect(report.documents == Self.traces)
        Self.expectSame(before, try Self.loadAll(fixture, 0..<Self.traces))
        let directory = fixture.temp.path + "/data/compacted/"
        let compacted = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".wseg") }
        #expect(compacted.count == report.compactedSegments)
        for name in compacted {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + name)))
            #expect(bytes.count > 64 + 56 && bytes[64 + 4] == 3, "\(name)")
        }
    }

    /// Inputs are bounded by frames, not segments: one frame at a time, traces that span frames are
    /// merged from one compacted segment into the next, and a raw segment goes once all of it is done.
    @Test func inputsOfOneFrameEachStillReadTheSame() async throws {
        let fixture = try PipelineFixture(settleMilliseconds: 40, segmentAgeMilliseconds: 120)
        defer { fixture.stop() }
        try await Self.fill(fixture)
        let before = try Self.loadAll(fixture, 0..<Self.traces)
        var configuration = Compactor.Configuration()
        configuration.maxInputBytes = 1
        let compactor = Compactor(store: fixture.store, configuration: configuration, prices: .defaults, logger: quietLogger)
        let report = try compactor.compactReady()
        #expect(report.compactedSegments > report.segments / 2 && report.compactedSegments >= 4)
        #expect(report.merged > 0 && report.superseded == report.merged)
        #expect(report.rawRecords == UInt64(Self.traces * 6))
        Self.expectSame(before, try Self.loadAll(fixture, 0..<Self.traces))
        fixture.store.requestRetention()
        #expect(await fixture.waitUntil { fixture.store.events.segments.count == 1 })
        Self.expectSame(before, try Self.loadAll(fixture, 0..<Self.traces))
        for n in 0..<Self.traces {
            let records = try fixture.store.records(for: TraceDocuments.traceIndexKey("t\(n)"))
            #expect(records.map(\.kind) == [.compactedDocument])
        }
    }

    @Test func aCursorBehindKeepsRawSegmentsUntilItPasses() async throws {
        let fixture = try PipelineFixture(settleMilliseconds: 40, segmentAgeMilliseconds: 120)
        defer { fixture.stop() }
        try fixture.store.setCursor("replay-central", to: 0)
        try await Self.fill(fixture, count: 20)
        let compactor = Compactor(store: fixture.store, prices: .defaults, logger: quietLogger)
        #expect(try compactor.compactReady().documents == 20)
        fixture.store.requestRetention()
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(fixture.store.events.segments.count > 1)
        try fixture.store.setCursor("replay-central", to: fixture.store.events.durableSequence)
        fixture.store.requestRetention()
        #expect(await fixture.waitUntil { fixture.store.events.segments.count == 1 })
    }

    @Test func lateEventsAndScoresMergeInTheNextCompaction() async throws {
        let fixture = try PipelineFixture(settleMilliseconds: 40, segmentAgeMilliseconds: 120)
        defer { fixture.stop() }
        try await Self.fill(fixture, count: 20)
        let compactor = Compactor(store: fixture.store, prices: .defaults, logger: quietLogger)
        #expect(try compactor.compactReady().documents == 20)

        let late = [
            Lines.line("t3-e7", "score-create", at: 5000, #"{"id":"t3-late","traceId":"t3","name":"accuracy","value":0.5}"#),
            Lines.line("t4-e7", "generation-update", at: 5000, #"{"id":"t4-g","traceId":"t4","output":"done","usageDetails":{"input":100,"output":50}}"#),
        ]
        try await fixture.append(late)
        // Queries show the merged view before the next compaction: the document and the late events.
        #expect(await fixture.waitUntil { try fixture.summary("t3")?.scores.map(\.name) == ["accuracy", "helpful"] })
        let merged = try #require(try TraceLoader.load("t4", from: fixture.store, prices: .defaults))
        #expect(merged.folded.observations.first { $0.id == "t4-g" }?.usageDetails["input"] == 100)
        #expect(merged.folded.events == 7)

        // What the store should show: every event ever sent, folded from scratch.
        let all = (3...4).flatMap { Lines.trace($0, at: Int64($0) * 10) } + late
        let records = all.enumerated().map { position, line in
            StoredRecord(sequence: UInt64(position + 1), kind: .rawEvent, receiveTime: 0, project: "default", keys: [],
                         payload: Array(line.utf8))
        }
        try await Task.sleep(nanoseconds: UInt64(fixture.segmentAgeMilliseconds + 60) * 1_000_000)
        #expect(await fixture.waitUntil {
            try fixture.store.compactionBacklog(below: fixture.store.cursor(TraceDocuments.cursor) ?? 0).segments == 1
        })
        let report = try compactor.compactReady()
        #expect(report.merged == 2)
        #expect(report.superseded == 2)
        for id in ["t3", "t4"] {
            let expected = TraceLoader.assemble(id, project: "default", records: records, prices: .defaults)
            let loaded = try #require(try TraceLoader.load(id, from: fixture.store, prices: .defaults))
            #expect(loaded.folded == expected.folded)
            let stored = try fixture.store.records(for: TraceDocuments.traceIndexKey(id))
            #expect(stored.map(\.kind) == [.compactedDocument])
        }
    }

    /// Late scores for every compacted trace, in an order unrelated to their documents': the
    /// assembler reopens each trace, and it and the compaction that merges the scores read each
    /// frame of the earlier segments about once, not once per trace.
    @Test func lateScoresForManyTracesReadEachEarlierFrameOnce() async throws {
        let count = 40
        let fixture = try PipelineFixture(settleMilliseconds: 40, segmentAgeMilliseconds: 120, compactionFrameBytes: 4096)
        defer { fixture.stop() }
        try await Self.fill(fixture, count: count)
        let compactor = Compactor(store: fixture.store, prices: .defaults, logger: quietLogger)
        #expect(try compactor.compactReady().documents == count)
        let keys = (0..<count).map { TraceDocuments.traceIndexKey("t\($0)") }
        let frames = Set(try fixture.store.compactedLocations(keys).flatMap { $0 })
        #expect(frames.count >= 4, "documents in several frames")

        // 17 is prime to 40: every trace once, neighbours far apart.
        let order = (0..<count).map { $0 * 17 % count }
        try await fixture.append(order.map { n in
            Lines.line("t\(n)-e7", "score-create", at: 6000, #"{"id":"t\#(n)-judge","traceId":"t\#(n)","name":"judge","value":0.5}"#)
        })
        #expect(await fixture.waitUntil {
            try (0..<count).allSatisfy { try fixture.summary("t\($0)")?.scores.map(\.name).sorted() == ["helpful", "judge"] }
        })
        // The assembler reopened them in one batch, in the order of their documents (the raw
        // segment of the scores may have sealed meanwhile: a frame or two of it).
        #expect(fixture.assembler.statistics.tracesReopened.load(ordering: .relaxed) == count)
        #expect(fixture.assembler.statistics.reopenFramesRead.load(ordering: .relaxed) <= frames.count + 2)
        try await Task.sleep(nanoseconds: UInt64(fixture.segmentAgeMilliseconds + 60) * 1_000_000)
        #expect(await fixture.waitUntil {
            try fixture.store.compactionBacklog(below: fixture.store.cursor(TraceDocuments.cursor) ?? 0).segments == 1
        })
        let report = try compactor.compactReady()
        #expect(report.merged == count)
        #expect(report.mergeFramesRead == frames.count)
        for n in 0..<count {
            let loaded = try #require(try TraceLoader.load("t\(n)", from: fixture.store, prices: .defaults))
            #expect(loaded.folded.scores.map(\.name).sorted() == ["helpful", "judge"], "trace t\(n)")
            #expect(loaded.folded.observations.count == 2)
            #expect(try fixture.store.records(for: keys[n]).map(\.kind) == [.compactedDocument])
        }
        // The raw segment of the scores went when they were compacted: no reader the assembler
        // keeps (its stream's, its reopens') holds it open, and its space, for long.
        #expect(await fixture.waitUntil { try fixture.deletedFilesHeldOpen().isEmpty }, "\((try? fixture.deletedFilesHeldOpen()) ?? [])")
    }

    @Test func aLostIndexIsRebuiltFromCompactedSegments() async throws {
        let fixture = try PipelineFixture(settleMilliseconds: 40, segmentAgeMilliseconds: 120)
        try await Self.fill(fixture, count: 40)
        let compactor = Compactor(store: fixture.store, prices: .defaults, logger: quietLogger)
        #expect(try compactor.compactReady().documents == 40)
        let before = try Self.loadAll(fixture, 0..<40)
        fixture.stop()
        try FileManager.default.removeItem(atPath: fixture.temp.path + "/data/index.lmdb")
        try fixture.restart()
        defer { fixture.stop() }
        #expect(fixture.store.indexRecovery.compactedRolledForward >= 1)
        Self.expectSame(before, try Self.loadAll(fixture, 0..<40))
    }
}
