import Foundation
import Synchronization
import Logging
import WickIngest
import WickJSON
import WickModel
import WickStore

@testable import WickPipeline
import WickTestSupport

/// A real store in a temp directory, lines appended through the ingest hot path, and an assembler
/// tailing it with millisecond timers.
final class PipelineFixture {
    let temp: TemporaryDirectory
    private(set) var store: DataStore
    private(set) var assembler: Assembler
    let counters = IngestCounters()
    var assemblerConfiguration: Assembler.Configuration

    /// Segments older than this are sealed (with a record in them): compaction takes sealed ones.
    let segmentAgeMilliseconds: Int64
    let compactionFrameBytes: Int

    init(temp: TemporaryDirectory = TemporaryDirectory(), settleMilliseconds: Int64 = 60, maxOpenBytes: Int = 64 << 20,
         commitMilliseconds: Int64 = 5, segmentAgeMilliseconds: Int64 = 3_600_000, compactionFrameBytes: Int = 1 << 20,
         start: Bool = true) throws {
        self.temp = temp
        self.segmentAgeMilliseconds = segmentAgeMilliseconds
        self.compactionFrameBytes = compactionFrameBytes
        var configuration = Assembler.Configuration()
        configuration.settleMilliseconds = settleMilliseconds
        configuration.maxOpenBytes = maxOpenBytes
        configuration.pollMilliseconds = 2
        configuration.commitMilliseconds = commitMilliseconds
        assemblerConfiguration = configuration
        store = try Self.openStore(temp, segmentAgeMilliseconds: segmentAgeMilliseconds, compactionFrameBytes: compactionFrameBytes)
        assembler = Assembler(store: store, configuration: configuration, prices: .defaults, logger: quietLogger)
        if start { assembler.start() }
    }

    static func openStore(_ temp: TemporaryDirectory, segmentAgeMilliseconds: Int64 = 3_600_000,
                          compactionFrameBytes: Int = 1 << 20) throws -> DataStore {
        var configuration = DataStore.Configuration()
        configuration.compactionFrameBytes = compactionFrameBytes
        configuration.log.maxSegmentAgeMilliseconds = segmentAgeMilliseconds
        configuration.log.heartbeatMilliseconds = 10
        configuration.log.commitIntervalMilliseconds = 2
        configuration.log.frameBytes = 8192
        configuration.log.maxSegmentBytes = 256 << 10
        configuration.log.minFreeBytes = 0
        configuration.deadLetter.commitIntervalMilliseconds = 2
        configuration.deadLetter.minFreeBytes = 0
        return try DataStore.open(DataDirectory(temp.path + "/data"), configuration: configuration, logger: quietLogger)
    }

    /// Appends lines as the listeners would (validated, keyed by trace), and waits until durable.
    func append(_ lines: [String], project: String = "default") async throws {
        var events = RecordBatch()
        var rejects = RecordBatch()
        var outcome = LineProcessor.Outcome()
        let processor = LineProcessor()
        let now = ReceiveClock.system.microseconds()
        for line in lines {
            var line = line
            var project = project
            line.withUTF8 { bytes in
                project.withUTF8 { name in
                    processor.process(UnsafeRawBufferPointer(bytes), receiveTime: now, project: UnsafeRawBufferPointer(name),
                                      source: .unix, events: &events, rejects: &rejects, counters: counters, outcome: &outcome)
                }
            }
        }
        if !rejects.isEmpty { _ = try await store.deadLetters.append(rejects) }
        if !events.isEmpty { _ = try await store.events.append(events) }
    }

    /// Stops the assembler and closes the store, as a shutdown does.
    func stop() {
        assembler.stop()
        store.close()
    }

    /// Opens the store again and starts a new assembler on it, as a restart does.
    func restart() throws {
        store = try Self.openStore(temp, segmentAgeMilliseconds: segmentAgeMilliseconds, compactionFrameBytes: compactionFrameBytes)
        assembler = Assembler(store: store, configuration: assemblerConfiguration, prices: .defaults, logger: quietLogger)
        assembler.start()
    }

    func summary(_ traceID: String, project: String = "default") throws -> TraceSummary? {
        guard let raw = try store.document(namespace: TraceDocuments.summaries, key: TraceDocuments.key(project: project, traceID: traceID))
        else { return nil }
        return TraceSummary(json: try JSONValue.parse(raw))
    }

    /// Every stored summary, by trace id.
    func summaries() throws -> [String: TraceSummary] {
        var result: [String: TraceSummary] = [:]
        try store.walkDocuments(namespace: TraceDocuments.summaries, descending: false) { _, key, value in
            if let parsed = try? JSONValue.parse(value), let summary = TraceSummary(json: parsed) {
                result[TraceDocuments.split(key)!.traceID] = summary
            }
            return true
        }
        return result
    }

    /// The ground truth: each trace folded from every event the store holds for it.
    func foldedFromStore(_ traceID: String, project: String = "default") throws -> TraceSummary? {
        try TraceLoader.load(traceID, project: project, from: store, prices: .defaults)?.summary
    }

    func deadLetters() throws -> [DeadLetter] {
        var result: [DeadLetter] = []
        try store.deadLetters.reader().read(from: 0, until: store.deadLetters.durableSequence) {
            result.append(DeadLetter($1.stored(sequence: $0)))
        }
        return result
    }

    /// Polls until `condition` holds (or 10 s pass).
    func waitUntil(_ condition: () throws -> Bool) async -> Bool {
        for _ in 0..<2000 {
            if (try? condition()) == true { return true }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return false
    }

    var settled: Int { assembler.statistics.tracesSettled.load(ordering: .relaxed) }

    /// This process's descriptors of files under the data directory that were deleted: each keeps
    /// its file's space from the disk.
    func deletedFilesHeldOpen() throws -> [String] {
        let data = URL(fileURLWithPath: temp.path + "/data").resolvingSymlinksInPath().path
        return try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap { fd in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
            return target.hasPrefix(data) && target.hasSuffix("(deleted)") ? target : nil
        }
    }
}

/// Event lines, Langfuse's envelope, times in milliseconds after 2026-01-01T00:00:00Z.
enum Lines {
    static func iso(_ milliseconds: Int64) -> String {
        Timestamp(microsecondsSinceEpoch: 1_767_225_600_000_000 + milliseconds * 1000)!.iso8601
    }

    static func line(_ id: String, _ type: String, at milliseconds: Int64, _ body: String) -> String {
        #"{"id":"\#(id)","type":"\#(type)","timestamp":"\#(iso(milliseconds))","body":\#(body)}"#
    }

    /// A small LLM call: trace, span, generation (create and update with usage), score.
    static func trace(_ n: Int, at start: Int64 = 0, user: String = "u1") -> [String] {
        let t = "t\(n)"
        return [
            line("\(t)-e1", "trace-create", at: start, #"{"id":"\#(t)","name":"chat","userId":"\#(user)","tags":["prod"],"input":"hi"}"#),
            line("\(t)-e2", "span-create", at: start + 1, #"{"id":"\#(t)-s","traceId":"\#(t)","name":"pipeline","startTime":"\#(iso(start + 1))"}"#),
            line("\(t)-e3", "generation-create", at: start + 2,
                 #"{"id":"\#(t)-g","traceId":"\#(t)","parentObservationId":"\#(t)-s","model":"gpt-4o-mini","startTime":"\#(iso(start + 2))"}"#),
            line("\(t)-e4", "generation-update", at: start + 900,
                 #"{"id":"\#(t)-g","traceId":"\#(t)","endTime":"\#(iso(start + 900))","usageDetails":{"input":\#(10 + n),"output":5}}"#),
            line("\(t)-e5", "span-update", at: start + 950, #"{"id":"\#(t)-s","traceId":"\#(t)","endTime":"\#(iso(start + 950))"}"#),
            line("\(t)-e6", "score-create", at: start + 960, #"{"id":"\#(t)-sc","traceId":"\#(t)","name":"helpful","value":1}"#),
        ]
    }
}
