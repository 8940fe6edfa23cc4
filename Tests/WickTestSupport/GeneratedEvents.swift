import Foundation

/// Thrown when the shared corpus generator is missing or fails, so that no test runs on an empty
/// corpus and passes for want of input.
public struct CorpusUnavailable: Error, CustomStringConvertible {
    public let description: String
}

/// NDJSON events from the shared corpus generator (`gen-events.py TRACES SEED` in `shared/tools/`
/// beside the repository), the one the benchmarks use: realistic and the same for the same seed.
public func generatedEvents(traces: Int, seed: Int) throws -> [UInt8] {
    // This file is Tests/WickTestSupport/GeneratedEvents.swift: four levels up is where the
    // repository and `shared/` sit side by side.
    let beside = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    let script = beside.appendingPathComponent("shared/tools/gen-events.py").path
    guard FileManager.default.fileExists(atPath: script) else {
        throw CorpusUnavailable(description: "the corpus generator is not at \(script)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script, String(traces), String(seed)]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0, !data.isEmpty else {
        throw CorpusUnavailable(description: "gen-events.py \(traces) \(seed) exited with \(process.terminationStatus), \(data.count) bytes")
    }
    return Array(data)
}
