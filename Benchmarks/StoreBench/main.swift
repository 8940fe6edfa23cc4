// The storage engine's benchmark (BENCHMARKS.md): appends an NDJSON corpus to a fresh data
// directory with the daemon's defaults (fsync every 100 ms, 256 KiB frames, zstd level 1), one
// record per line indexed by trace id, and reads it all back sequentially. Prints one JSON line.
//
// Usage: StoreBench CORPUS.ndjson [DATA_DIR_PARENT]
//
// Records are prepared before the clock starts (the ingest path's scanning is measured by the
// daemon benchmark); the clock covers appending until the last append is durable.

import Glibc
import Logging
import Synchronization
import WickIngest
import WickJSON
import WickModel
import WickStore

func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func readFile(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    precondition(fd >= 0, "cannot open \(path)")
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let count = read(fd, &chunk, chunk.count)
        if count <= 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return bytes
}

final class Gate: @unchecked Sendable {
    // @unchecked: the semaphore is the synchronisation.
    var semaphore = sem_t()
    init() { sem_init(&semaphore, 0, 0) }
    func signal() { sem_post(&semaphore) }
    func wait() { sem_wait(&semaphore) }
}

func benchmark() throws {
    let arguments = CommandLine.arguments
    guard arguments.count >= 2 else {
        print("usage: StoreBench CORPUS.ndjson [DATA_DIR_PARENT]")
        exit(2)
    }
    let corpus = readFile(arguments[1])
    let parent = arguments.count > 2 ? arguments[2] : "/tmp"

    // Batches as the ingest path builds them: one per read of about 64 KiB of lines.
    var batches: [RecordBatch] = []
    var ndjsonBytes = 0
    var lineCount = 0
    let processor = LineProcessor()
    let counters = IngestCounters()
    var rejects = RecordBatch()
    corpus.withUnsafeBytes { raw in
        var batch = RecordBatch(reservingCapacity: 80 * 1024)
        var outcome = LineProcessor.Outcome()
        var start = 0
        Array("default".utf8).withUnsafeBytes { project in
            while start < raw.count {
                let rest = UnsafeRawBufferPointer(rebasing: raw[start...])
                let end = LineFramer.indexOfNewline(rest) ?? rest.count
                let line = UnsafeRawBufferPointer(rebasing: rest[..<end])
                processor.process(line, receiveTime: 1_800_000_000_000_000 + Int64(lineCount), project: project, source: .unix,
                                  events: &batch, rejects: &rejects, counters: counters, outcome: &outcome)
                ndjsonBytes += end + 1
                lineCount += 1
                if batch.byteCount >= 64 * 1024 {
                    batches.append(batch)
                    batch = RecordBatch(reservingCapacity: 80 * 1024)
                }
                start += end + 1
            }
        }
        if !batch.isEmpty { batches.append(batch) }
    }
    precondition(rejects.isEmpty, "the corpus has rejected lines")

    var template = Array("\(parent)/wick-bench-XXXXXX".utf8CString)
    precondition(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) } != nil, "mkdtemp")
    let root = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let directory = DataDirectory(root)
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    let store = try DataStore.open(directory, configuration: DataStore.Configuration(), logger: logger)

    let start = now()
    let done = Gate()
    for (index, batch) in batches.enumerated() {
        let last = index == batches.count - 1
        var completion: SegmentLog.Completion? = nil
        if last {
            completion = { (_: Result<Range<UInt64>, StorageError>) in done.signal() }
        }
        let result = store.events.append(batch, completion: completion)
        if result.overloaded && !last {
            let drained = Gate()
            store.events.whenDrained { drained.signal() }
            drained.wait()
        }
    }
    done.wait()
    let appendSeconds = now() - start
    let durable = store.events.durableSequence
    let indexedAtEnd = store.indexHighWaterMark
    let commits = store.events.statistics.commits.load(ordering: .relaxed)
    store.close()
    let indexedAfterClose = try StoreReader(directory).indexHighWaterMark ?? 0

    var segmentBytes: Int64 = 0
    for segment in try StoreReader(directory).segments() {
        var info = stat()
        stat(segment.path, &info)
        segmentBytes += Int64(info.st_size)
    }

    // Sequential read-back from disk (page cache warm, as right after writing).
    let reader = LogReader(directory: directory.logDirectory)
    var payloadBytes = 0
    var readRecords = 0
    let readStart = now()
    try reader.read(from: 0) { _, record in
        payloadBytes += record.payload.count
        readRecords += 1
    }
    let readSeconds = now() - readStart
    precondition(readRecords == lineCount, "read back \(readRecords) of \(lineCount)")

    _ = Glibc.system("rm -rf '\(root)'")
    let mb = 1_000_000.0
    print("""
    {"records":\(lineCount),"ndjson_bytes":\(ndjsonBytes),"append_seconds":\(appendSeconds),\
    "append_mb_per_s":\(Double(ndjsonBytes) / appendSeconds / mb),"append_records_per_s":\(Double(lineCount) / appendSeconds),\
    "commits":\(commits),"durable_sequence":\(durable),"index_high_water_mark_at_end":\(indexedAtEnd),\
    "index_high_water_mark_after_close":\(indexedAfterClose),"segment_bytes":\(segmentBytes),\
    "compression_ratio":\(Double(ndjsonBytes) / Double(segmentBytes)),"read_seconds":\(readSeconds),\
    "read_mb_per_s":\(Double(payloadBytes) / readSeconds / mb)}
    """)

}

try benchmark()
