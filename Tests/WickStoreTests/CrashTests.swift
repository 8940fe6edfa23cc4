import Foundation
import Testing

@testable import WickStore
import WickTestSupport

/// The path of an executable built beside the test bundle.
func builtExecutable(_ name: String) -> String {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
}

@Suite struct CrashTests {
    /// A writer in a child process is SIGKILLed at random moments; every append it reported durable
    /// before the kill must be there after recovery, and nothing else may be wrong.
    @Test func everyAppendReportedDurableSurvivesSigkill() async throws {
        let temp = TemporaryDirectory()
        let directory = temp.dataDirectory
        var rng = SplitMix(seed: 2026)
        let modes = ["interval", "always", "interval", "never", "interval", "always", "interval", "interval"]
        for (round, mode) in modes.enumerated() {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: builtExecutable("wick-test-writer"))
            process.arguments = [directory.root, mode, String(round + 1)]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // The kill comes at a random moment after the writer's first durable append (on a loaded
            // machine, opening the store alone can take longer than the shortest wait).
            var seen = Data()
            while !String(decoding: seen, as: UTF8.self).contains("durable ") {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                seen.append(chunk)
            }
            try await Task.sleep(for: .milliseconds(50 + Int(rng.next() % 400)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal)
            let text = String(decoding: seen + output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let durable = text.split(separator: "\n").compactMap { line -> UInt64? in
                line.hasPrefix("durable ") ? UInt64(line.dropFirst(8)) : nil
            }.max() ?? 0
            #expect(durable > 0, "round \(round): the writer reported nothing durable")

            let store = try DataStore.open(directory, configuration: testConfiguration(), logger: quietLogger)
            let end = store.events.nextSequence - 1
            store.close()
            #expect(end >= durable, "round \(round) (\(mode)): \(durable) reported durable, only \(end) recovered")
            let records = try allRecords(directory)
            #expect(records.count == Int(end))
            for (index, record) in records.enumerated() {
                #expect(record.sequence == UInt64(index + 1))
                #expect(record.n == index, "round \(round): record \(record.sequence) holds n=\(String(describing: record.n))")
            }
            #expect(try !Verification.make(StoreReader(directory)).isDamaged)
        }
    }
}
