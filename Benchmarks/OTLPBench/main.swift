// OTLPBench: the OTLP endpoint's work on one thread, stage by stage, without HTTP or the store.
//
//     OTLPBench BODIES.pb BODIES.json [repetitions]
//         Spans/s of decoding (protobuf with swift-protobuf's generated code; OTLP/JSON with Wick's
//         parser), of mapping spans to Langfuse events, and of the ingestion checks on the mapped
//         batch, for the length-prefixed export bodies scripts/otlp-corpus writes.
//
// Prints a JSON line last. A wall-clock benchmark for release builds; never a CI gate.

#if canImport(Glibc)
import Glibc
#endif
import WickIngest
import WickJSON
import WickOTLP
import WickStore

func fail(_ message: String) -> Never {
    print("OTLPBench: \(message)")
    exit(2)
}

func bodies(_ path: String) -> [[UInt8]] {
    guard let file = fopen(path, "rb") else { fail("cannot open \(path)") }
    defer { fclose(file) }
    var out: [[UInt8]] = []
    var header = [UInt8](repeating: 0, count: 4)
    while fread(&header, 1, 4, file) == 4 {
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        var body = [UInt8](repeating: 0, count: length)
        guard fread(&body, 1, length, file) == length else { fail("\(path) is cut short") }
        out.append(body)
    }
    return out
}

func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else { fail("usage: OTLPBench BODIES.pb BODIES.json [repetitions]") }
let repetitions = arguments.count > 3 ? Int(arguments[3]) ?? 3 : 3
let encodings = [("protobuf", bodies(arguments[1])), ("json", bodies(arguments[2]))]
let processor = LineProcessor()
let counters = IngestCounters()
var results: [String: Double] = [:]
var spans = 0
for (name, inputs) in encodings {
    var decodeBest = Double.infinity, mapBest = Double.infinity, checkBest = Double.infinity
    for _ in 0..<repetitions {
        var exports: [OTLPExport] = []
        exports.reserveCapacity(inputs.count)
        let t0 = now()
        for body in inputs {
            do {
                exports.append(name == "protobuf" ? try OTLPExport(protobuf: body) : try OTLPExport(json: body))
            } catch {
                fail("\(name): \(error)")
            }
        }
        let t1 = now()
        let batches = exports.map { SpanMapper.batch($0, now: 0) }
        let t2 = now()
        var events = 0
        for batch in batches {
            let request = try batch.withUnsafeBytes { raw in
                try IngestionRequest(body: raw, project: "bench", receiveTime: 0, processor: processor, counters: counters, source: .otlp)
            }
            guard request.rejects.isEmpty else { fail("\(name): the mapped batch has rejects") }
            events += request.results.count
        }
        let t3 = now()
        spans = exports.reduce(0) { $0 + $1.spanCount }
        decodeBest = min(decodeBest, t1 - t0)
        mapBest = min(mapBest, t2 - t1)
        checkBest = min(checkBest, t3 - t2)
        results["\(name).events"] = Double(events)
    }
    let bytes = Double(inputs.reduce(0) { $0 + $1.count })
    results["\(name).decode_spans_per_s"] = Double(spans) / decodeBest
    results["\(name).map_spans_per_s"] = Double(spans) / mapBest
    results["\(name).check_spans_per_s"] = Double(spans) / checkBest
    results["\(name).all_spans_per_s"] = Double(spans) / (decodeBest + mapBest + checkBest)
    results["\(name).decode_mb_per_s"] = bytes / decodeBest / 1e6
    print("\(name): \(spans) spans, \(Int(bytes)) bytes: decode \(Int(Double(spans) / decodeBest)) spans/s "
          + "(\(Int(bytes / decodeBest / 1e6)) MB/s), map \(Int(Double(spans) / mapBest)) spans/s, "
          + "checks \(Int(Double(spans) / checkBest)) spans/s, all \(Int(Double(spans) / (decodeBest + mapBest + checkBest))) spans/s")
}
results["spans"] = Double(spans)
print(JSONValue.object(JSONObject(results.sorted { $0.key < $1.key }.map { ($0.key, JSONNumber($0.value).map(JSONValue.number) ?? .null) })).description)
