import ArgumentParser
import Logging
import WickDaemon
import WickIngest
import WickJSON
import WickStore

#if canImport(Glibc)
import Glibc
#endif

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Merge the events of a data directory copied from another host into this one.",
        discussion: """
            Verifies DIR first (damaged frames are reported, counted and skipped), then stores its \
            events (what `wick export` of DIR writes) as if they had just arrived: the same checks, \
            then assembly and compaction like any. With a daemon running on the data directory it \
            sends them to the daemon (POST /wick/import on its HTTP address, with the token in \
            <data-dir>/admin-token); without one it opens the data directory itself. Each event id \
            is stored at most once per project, however often an import runs or is interrupted: \
            the store keeps a ledger of the ids imported, and skips ids already in it or already \
            stored. A progress bar on a terminal; a one-line summary (or --json).
            """)

    @Argument(help: "The data directory to import (copied from another host).") var source: String
    @Flag(help: "Print the summary as JSON.") var json = false
    @Option(name: .customLong("batch-events"), help: "Events per batch.") var batchEvents = 5000
    @OptionGroup var data: DataDirectoryOption

    /// Bytes of events per batch at most (a daemon takes 64 MiB per request).
    static let batchBytes = 4 << 20

    func run() async throws {
        let destination = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        let from = DataDirectory(source)
        guard from.exists else {
            printError("wick import: no data directory at \(source)")
            throw ExitCode(1)
        }
        if let a = realpath(from.root, nil), let b = realpath(destination.root, nil) {
            defer { free(a); free(b) }
            if strcmp(a, b) == 0 { throw ValidationError("\(source) is the data directory itself") }
        }
        guard batchEvents > 0 else { throw ValidationError("--batch-events takes a number above 0") }
        let started = ReceiveClock.system.microseconds()
        let reader: StoreReader
        let damagedFrames: Int
        let total: Int
        do {
            reader = try StoreReader(from)
            let report = try Verification.make(reader)
            damagedFrames = report.segments.filter { $0.log != "dead-letter" }.flatMap(\.damage).reduce(0) { $0 + $1.frames }
            let compactedRecords = report.segments.filter { $0.log == "compacted" }.reduce(0) { $0 + Int($1.records) }
            total = try StoredEvents.recordCount(reader, compactedRecords: compactedRecords)
        } catch {
            printError("wick import: \(error)")
            throw ExitCode(1)
        }
        if damagedFrames > 0 {
            printError("wick import: \(damagedFrames) damaged frames in \(source) are skipped, their records lost (see `wick verify`)")
        }

        let sink: Sink
        var store: DataStore?
        do {
            if let running = RuntimeInfo.announcement(of: destination) {
                sink = try .daemon(running, destination)
            } else {
                // A data directory that is not there yet is made, as the daemon makes it.
                let opened = try DataStore.open(destination, logger: Logger(label: "wick.import", factory: { _ in SwiftLogNoOpLogHandler() }))
                store = opened
                let importer = Importer(store: opened, counters: IngestCounters())
                try importer.recoverInterrupted()
                sink = .store(importer)
            }
        } catch let error as StorageError where error.code == .locked {
            printError("wick import: \(error.message)")
            throw ExitCode(2)
        } catch {
            printError("wick import: \(error)")
            throw ExitCode(1)
        }
        defer { store?.close() }

        let bar = isatty(2) != 0 && !json ? ProgressBar() : nil
        var outcome = Importer.Outcome()
        var batch = Batch()
        var batches = 0
        let killAfter = Self.testKillAfter()
        func flush() throws {
            guard !batch.isEmpty else { return }
            batches += 1
            let kill = killAfter == batches
            outcome.add(try sink.send(batch, afterDurable: { if kill { Glibc.kill(getpid(), SIGKILL) } }))
            batch = Batch()
        }
        func draw(_ done: Int) {
            bar?.show(fraction: total > 0 ? Double(done) / Double(total) : 1,
                      "\(done)/\(total) records, \(outcome.imported) events imported, \(outcome.duplicates) duplicates")
        }
        let counts: StoredEvents.Counts
        do {
            counts = try StoredEvents.read(reader, progress: { done in
                if done % 1000 == 0 { draw(done) }
            }) { project, event in
                if !batch.isEmpty && (batch.count >= batchEvents || batch.bytes.count + event.count > Self.batchBytes
                                      || !batch.project.elementsEqual(project)) {
                    try flush()
                }
                batch.add(event, project: project)
            }
            try flush()
            draw(counts.records)
        } catch {
            bar?.finish()
            printError("wick import: \(error) (what was imported stays; run the import again to go on)")
            throw ExitCode(1)
        }
        bar?.finish()
        let seconds = Double(ReceiveClock.system.microseconds() - started) / 1e6
        let via = sink.isDaemon ? "daemon" : "directory"
        if json {
            var summary = outcome.json
            if case .object(var object) = summary {
                object["damagedFrames"] = .number(JSONNumber(damagedFrames))
                object["damagedDocuments"] = .number(JSONNumber(counts.damagedDocuments))
                object["records"] = .number(JSONNumber(counts.records))
                object["via"] = .string(via)
                object["seconds"] = .number(JSONNumber(seconds) ?? 0)
                summary = .object(object)
            }
            print(String(decoding: summary.serialized(), as: UTF8.self))
        } else {
            print("imported \(outcome.imported) events from \(source) into \(destination.root)\(sink.isDaemon ? " through the running daemon" : ""): "
                  + "\(outcome.duplicates) duplicates skipped, \(outcome.rejected) rejected (in the dead-letter log), "
                  + "\(damagedFrames) damaged frames and \(counts.damagedDocuments) damaged documents skipped")
        }
    }

    /// Debug builds only: the crash test names a batch after whose durable write the process kills
    /// itself (before the ledger has it).
    static func testKillAfter() -> Int? {
        #if DEBUG
        return ProcessEnvironment.current["WICK_TEST_IMPORT_KILL_AFTER"].flatMap { Int($0) }
        #else
        return nil
        #endif
    }
}

/// Events of one project, as the body of a batch: `{"batch":[…]}`.
private struct Batch {
    var project: [UInt8] = []
    var bytes: [UInt8] = Array(#"{"batch":["#.utf8)
    var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func add(_ event: UnsafeRawBufferPointer, project: UnsafeRawBufferPointer) {
        if count == 0 { self.project = Array(project) } else { bytes.append(UInt8(ascii: ",")) }
        bytes.append(contentsOf: event)
        count += 1
    }

    var body: [UInt8] { bytes + Array("]}".utf8) }
    var projectName: String { String(decoding: project, as: UTF8.self) }
}

/// Where batches go: the running daemon, or the store opened here.
private enum Sink {
    case daemon(address: String, token: String)
    case store(Importer)

    static func daemon(_ running: ListeningAnnouncement, _ directory: DataDirectory) throws -> Sink {
        guard let address = running.metrics else {
            throw ValidationError("the daemon runs without its HTTP server (metrics.address off): stop it, and import into the directory")
        }
        guard let token = AdminToken.read(directory) else {
            throw ValidationError("cannot read \(directory.adminTokenPath): run as the daemon's user")
        }
        return .daemon(address: address, token: token)
    }

    var isDaemon: Bool {
        if case .daemon = self { return true }
        return false
    }

    func send(_ batch: Batch, afterDurable: () -> Void) throws -> Importer.Outcome {
        switch self {
        case .store(let importer):
            return try batch.body.withUnsafeBytes { try importer.importBatch($0, project: batch.projectName, afterDurable: afterDurable) }
        case .daemon(let address, let token):
            let response = try MetricsClient.request(address, method: "POST", path: "/wick/import?project=" + percentEncoded(batch.projectName),
                                                     headers: [("Authorization", "Bearer " + token), ("Content-Type", "application/json")],
                                                     body: batch.body, timeoutSeconds: 600)
            guard response.status == 200, let value = try? JSONValue.parse(response.body), let outcome = Importer.Outcome(json: value) else {
                throw ValidationError("the daemon answered HTTP \(response.status): \(response.body.prefix(300))")
            }
            return outcome
        }
    }
}

/// A query parameter value: unreserved characters as they are, every other byte %XX.
private func percentEncoded(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.append(Character(UnicodeScalar(byte)))
        default:
            out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        }
    }
    return out
}
