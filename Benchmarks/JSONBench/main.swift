// JSONBench: throughput of the WickJSON scanner and value parser over an NDJSON file.
//
//     swift build -c release --product JSONBench
//     .build/release/JSONBench corpus.ndjson [repetitions] [scan|validate|parse]
//
// Reports the median of several repetitions, in MB/s (10^6 bytes of line content, newlines excluded) and
// lines/s, for: the scanner with envelope extraction (the ingest hot path), the scanner validating only, and
// JSONValue.parse. A wall-clock benchmark: use it to compare builds on one machine, never as a CI gate.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WickJSON

func readFile(_ path: String) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
        print("JSONBench: cannot open \(path)")
        exit(2)
    }
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

/// Line ranges, without their newlines; empty lines are skipped.
func lineRanges(_ bytes: [UInt8]) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    var start = 0
    for (index, byte) in bytes.enumerated() where byte == 0x0A {
        if index > start { ranges.append(start..<index) }
        start = index + 1
    }
    if start < bytes.count { ranges.append(start..<bytes.count) }
    return ranges
}

struct Measurement {
    var seconds: [Double] = []
    var median: Double { seconds.sorted()[seconds.count / 2] }
}

func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) / 1e18
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: JSONBench FILE.ndjson [repetitions]")
    exit(2)
}
let repetitions = arguments.count >= 3 ? Int(arguments[2]) ?? 7 : 7
/// Runs only the named measurement when given (for profiling one of them).
let only = arguments.count >= 4 ? arguments[3] : nil
let bytes = readFile(arguments[1])
let lines = lineRanges(bytes)
let contentBytes = lines.reduce(0) { $0 + $1.count }
print("file: \(arguments[1]): \(lines.count) lines, \(contentBytes) bytes of content, \(repetitions) repetitions")

let scanner = JSONScanner()
let clock = ContinuousClock()

/// Runs `body` over every line `repetitions` times; `body` returns a number folded into a checksum so the
/// work cannot be optimised away.
func measure(_ name: String, key: String, repetitions: Int, _ body: (UnsafeRawBufferPointer) -> Int) {
    if let only, only != key { return }
    var measurement = Measurement()
    var checksum = 0
    bytes.withUnsafeBytes { all in
        for _ in 0..<repetitions {
            let start = clock.now
            for range in lines {
                checksum &+= body(UnsafeRawBufferPointer(rebasing: all[range]))
            }
            measurement.seconds.append(seconds(clock.now - start))
        }
    }
    let median = measurement.median
    let megabytes = Double(contentBytes) / 1e6 / median
    let linesPerSecond = Double(lines.count) / median
    let formattedMB = (megabytes * 10).rounded() / 10
    let formattedLines = (linesPerSecond / 1000).rounded()
    print("\(name): median \(formattedMB) MB/s, \(formattedLines)k lines/s (checksum \(checksum))")
}

measure("scan+envelope  ", key: "scan", repetitions: repetitions) { line in
    do {
        switch try scanner.scan(line) {
        case .event(let event):
            return (event.id?.range.count ?? 0) &+ (event.bodyFields.traceId?.range.lowerBound ?? 0)
        case .batch(let elements):
            return elements.count
        }
    } catch {
        return -1
    }
}

measure("validate only  ", key: "validate", repetitions: repetitions) { line in
    do {
        try scanner.validate(line)
        return 1
    } catch {
        return -1
    }
}

measure("JSONValue.parse", key: "parse", repetitions: max(1, repetitions / 2)) { line in
    do {
        let value = try JSONValue.parse(line)
        return value["body"]?["id"]?.stringValue?.utf8.count ?? 0
    } catch {
        return -1
    }
}
