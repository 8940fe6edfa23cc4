// TraceBench: trace assembly, measured in-process on one thread.
//
//     TraceBench fold CORPUS.ndjson [repetitions]
//         Events/s of decode + fold + tree + summary, every trace of the corpus, beside JSONValue.parse
//         of the same lines alone (the floor a full decode stands on).
//     TraceBench lookup DATA-DIR [lookups] [seed]
//         Latency of `wick trace`'s work (index lookup, frame reads, decode, fold) for trace ids drawn
//         at random from the store's summaries, through one long-lived reader: p50, p99, max.
//
// Prints a JSON line last. A wall-clock benchmark for release builds; never a CI gate.

#if canImport(Glibc)
import Glibc
#endif
import WickJSON
import WickModel
import WickPipeline
import WickStore

func fail(_ message: String) -> Never {
    print("TraceBench: \(message)")
    exit(2)
}

func readFile(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { fail("cannot open \(path)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return bytes
}

func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

/// The corpus as the assembler sees it: each trace's records (payload, sequence), grouped.
func tracesOf(_ bytes: [UInt8]) -> [(String, [StoredRecord])] {
    var order: [String] = []
    var groups: [String: [StoredRecord]] = [:]
    var sequence: UInt64 = 0
    for line in bytes.split(separator: 0x0A) {
        sequence += 1
        let payload = Array(line)
        guard case .success(let event) = IngestionEvent.decode(payload, sequence: sequence, receiveTime: 0, project: "p"),
              let trace = event.traceID
        else { continue }
        if groups[trace] == nil { order.append(trace) }
        groups[trace, default: []].append(StoredRecord(sequence: sequence, kind: .rawEvent, receiveTime: Int64(sequence),
                                                       project: "p", keys: [], payload: payload))
    }
    return order.map { ($0, groups[$0]!) }
}

func fold(_ path: String, repetitions: Int) {
    let bytes = readFile(path)
    let traces = tracesOf(bytes)
    let events = traces.reduce(0) { $0 + $1.1.count }
    let eventBytes = traces.reduce(0) { $0 + $1.1.reduce(0) { $0 + $1.payload.count } }
    var foldSeconds: [Double] = []
    var decodeSeconds: [Double] = []
    var parseSeconds: [Double] = []
    var validateSeconds: [Double] = []
    var deferredSeconds: [Double] = []
    var foldOnlySeconds: [Double] = []
    var settleSeconds: [Double] = []
    let decoded: [(String, [IngestionEvent])] = traces.map { id, records in
        (id, records.compactMap { try? IngestionEvent.decode($0.payload, sequence: $0.sequence, receiveTime: 0, project: "p").get() })
    }
    var check = 0
    let scanner = JSONScanner()
    for _ in 0..<repetitions {
        var start = now()
        for (id, records) in traces {
            let loaded = TraceLoader.assemble(id, project: "p", records: records, prices: .defaults)
            check &+= loaded.summary.events
        }
        foldSeconds.append(now() - start)
        start = now()
        for (id, records) in traces {
            let loaded = TraceLoader.assemble(id, project: "p", records: records, scope: .summary(metadata: PriceBook.defaults.readsMetadata), prices: .defaults)
            check &+= loaded.summary.serializedJSON().count
        }
        settleSeconds.append(now() - start)
        start = now()
        for (_, records) in traces {
            for record in records {
                if case .success(let event) = IngestionEvent.decode(record.payload, sequence: 0, receiveTime: 0, project: "p") {
                    check &+= event.body.id?.utf8.count ?? 0
                }
            }
        }
        decodeSeconds.append(now() - start)
        start = now()
        for (id, events) in decoded {
            let folded = TraceFold.fold(traceID: id, events, prices: .defaults)
            let tree = TraceTree(folded.observations)
            check &+= TraceSummary(folded, project: "p", lastReceived: 0, tree: tree).events
        }
        foldOnlySeconds.append(now() - start)
        start = now()
        for (_, records) in traces {
            for record in records {
                if let value = try? JSONValue.parse(record.payload), value["id"] != nil { check &+= 1 }
            }
        }
        parseSeconds.append(now() - start)
        start = now()
        for (_, records) in traces {
            for record in records {
                record.payload.withUnsafeBytes {
                    if let value = try? JSONValue.parse($0, deferringAbove: 96, fromDepth: 2), value["id"] != nil { check &+= 1 }
                }
            }
        }
        deferredSeconds.append(now() - start)
        start = now()
        for (_, records) in traces {
            for record in records {
                record.payload.withUnsafeBytes { if (try? scanner.validate($0)) != nil { check &+= 1 } }
            }
        }
        validateSeconds.append(now() - start)
    }
    func rate(_ seconds: [Double]) -> String {
        "\(Int(Double(events) / median(seconds))) events/s  \(Int(Double(eventBytes) / median(seconds) / 1e6)) MB/s"
    }
    print("fold: \(traces.count) traces, \(events) events, \(eventBytes / 1_000_000) MB, \(repetitions) runs (median), one thread")
    print("  decode + fold + tree + summary     \(rate(foldSeconds))")
    print("  the same, summary scope, + JSON    \(rate(settleSeconds))  (the assembler's settle)")
    print("  IngestionEvent.decode alone        \(rate(decodeSeconds))")
    print("  fold + tree + summary alone        \(rate(foldOnlySeconds))")
    print("  JSONValue.parse (full) alone       \(rate(parseSeconds))")
 print("  JSONValue.parse (deferring) alone  \(rate(deferredSeconds))")
    print("  JSONScanner.validate alone         \(rate(validateSeconds))")
    let foldRate = Int(Double(events) / median(foldSeconds))
    let settleRate = Int(Double(events) / median(settleSeconds))
    let foldOnlyRate = Int(Double(events) / median(foldOnlySeconds))
    let decodeRate = Int(Double(events) / median(decodeSeconds))
    let parseRate = Int(Double(events) / median(parseSeconds))
    print("{\"traces\":\(traces.count),\"events\":\(events),\"bytes\":\(eventBytes),\"fold_events_per_s\":\(foldRate),"
        + "\"settle_events_per_s\":\(settleRate),\"fold_only_events_per_s\":\(foldOnlyRate),\"decode_events_per_s\":\(decodeRate),"
        + "\"parse_events_per_s\":\(parseRate),\"check\":\(check)}")
}

func lookup(_ directory: String, lookups: Int, seed: UInt64) {
    let reader: StoreReader
    do {
        reader = try StoreReader(DataDirectory(directory))
    } catch {
        fail("cannot open \(directory): \(error)")
    }
    // Reservoir-sample trace ids from the summaries.
    var state = seed
    func random() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    var sample: [(String, String)] = []
    var seen = 0
    do {
        try reader.walkDocuments(namespace: TraceDocuments.summaries, descending: false) { _, key, _ in
            seen += 1
            guard let (project, trace) = TraceDocuments.split(key) else { return true }
            if sample.count < lookups {
                sample.append((project, trace))
            } else {
                let slot = Int(random() % UInt64(seen))
                if slot < lookups { sample[slot] = (project, trace) }
            }
            return true
        }
    } catch {
        fail("cannot read summaries: \(error)")
    }
    guard !sample.isEmpty else { fail("no trace summaries in \(directory): let the assembler settle first") }
    // The price table is parsed (its patterns compiled) once, as a long-lived server does at start.
    let prices = PriceBook.defaults
    _ = prices.entries.count
    var latencies: [Double] = []
    var events = 0
    var missing = 0
    let start = now()
    for (project, trace) in sample {
        let t0 = now()
        let loaded = try? TraceLoader.load(trace, project: project, from: reader, prices: prices)
        latencies.append((now() - t0) * 1000)
        if let loaded { events += loaded.summary.events } else { missing += 1 }
    }
    let total = now() - start
    let sorted = latencies.sorted()
    print("lookup: \(sample.count) random traces of \(seen), \(events) events read, \(missing) missing, one long-lived reader")
    let p50 = percentile(sorted, 0.5)
    let p99 = percentile(sorted, 0.99)
    let worst = sorted[sorted.count - 1]
    let mean = total * 1000 / Double(sorted.count)
    print("  p50 \(milliseconds(p50))  p99 \(milliseconds(p99))  max \(milliseconds(worst))  mean \(milliseconds(mean))")
    let json = "{\"traces_in_store\":\(seen),\"lookups\":\(sample.count),\"missing\":\(missing),"
        + "\"p50_ms\":\(p50),\"p99_ms\":\(p99),\"max_ms\":\(worst)}"
    print(json)
}

func milliseconds(_ value: Double) -> String {
    "\(Double(Int(value * 1000)) / 1000) ms"
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { fail("usage: TraceBench fold CORPUS [repetitions] | lookup DATA-DIR [lookups] [seed]") }
switch arguments[1] {
case "fold":
    fold(arguments[2], repetitions: arguments.count > 3 ? Int(arguments[3]) ?? 5 : 5)
case "fold-only":
    // For profiling: folding decoded events only, repeated.
    let traces = tracesOf(readFile(arguments[2])).map { id, records in
        (id, records.compactMap { try? IngestionEvent.decode($0.payload, sequence: $0.sequence, receiveTime: 0, project: "p").get() })
    }
    var check = 0
    for _ in 0..<(arguments.count > 3 ? Int(arguments[3]) ?? 5 : 5) {
        for (id, events) in traces {
            let folded = TraceFold.fold(traceID: id, events, prices: .defaults)
            check &+= TraceSummary(folded, project: "p", lastReceived: 0, tree: TraceTree(folded.observations)).events
        }
    }
    print(check)
case "decode":
    // For profiling: decoding only, repeated.
    let traces = tracesOf(readFile(arguments[2]))
    var check = 0
    for _ in 0..<(arguments.count > 3 ? Int(arguments[3]) ?? 5 : 5) {
        for (_, records) in traces {
            for record in records {
                if case .success(let event) = IngestionEvent.decode(record.payload, sequence: 0, receiveTime: 0, project: "p") {
                    check &+= event.body.id?.utf8.count ?? 0
                }
            }
        }
    }
    print(check)
case "lookup":
    lookup(arguments[2], lookups: arguments.count > 3 ? Int(arguments[3]) ?? 10_000 : 10_000,
           seed: arguments.count > 4 ? UInt64(arguments[4]) ?? 1 : 1)
default:
    fail("unknown mode \(arguments[1])")
}
