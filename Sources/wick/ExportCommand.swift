import ArgumentParser
import WickDaemon
import WickJSON
import WickModel
import WickStore

#if canImport(Glibc)
import Glibc
#endif

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every stored event as NDJSON to standard output, each event id once.",
        discussion: """
            Compacted traces come out as one create event per entity (ids derived from their content), \
            then the raw events not compacted yet, as they came. An event id seen before (a client or a \
            replaying edge sent it twice) is written once. Works beside a running daemon. A summary goes \
            to standard error as one JSON line.
            """)

    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        var output = Output()
        var seen = Set<UInt64>()
        var written = 0
        var duplicates = 0
        var damaged = 0
        func emit(_ line: UnsafeRawBufferPointer) {
            // Each event id once: its 64-bit hash stands for it (a collision is a few in 10^19).
            var id: UInt64 = 0xCBF2_9CE4_8422_2325
            if case .event(let fields)? = try? JSONScanner().scan(line), let field = fields.id {
                for byte in field.rawBytes(in: line) { id = (id ^ UInt64(byte)) &* 0x100_0000_01B3 }
                guard seen.insert(id).inserted else {
                    duplicates += 1
                    return
                }
            }
            output.write(line)
            written += 1
        }
        do {
            let reader = try StoreReader(directory)
            let compacted = try reader.compactedSegments()
            var compactedBelow: UInt64 = 0
            var tracesDone = Set<[UInt8]>()
            // Newest first: a trace's newest document replaces its older ones.
            for segment in compacted.reversed() {
                compactedBelow = max(compactedBelow, segment.covered.upperBound)
                try reader.readRecords(of: segment) { _, record in
                    guard record.kind == .compactedDocument else {
                        emit(record.payload)
                        return
                    }
                    var key = Array(record.project)
                    record.forEachKey { _, bytes in key.append(0); key.append(contentsOf: bytes) }
                    guard tracesDone.insert(key).inserted else { return }
                    switch CompactedTrace.createEvents(record.payload) {
                    case .success(let lines): for line in lines { line.withUnsafeBytes { emit($0) } }
                    case .failure: damaged += 1
                    }
                }
            }
            try reader.eventReader().read(from: compactedBelow) { _, record in
                if record.kind == .rawEvent { emit(record.payload) }
            }
        } catch {
            output.flush()
            printError("wick export: \(error)")
            throw ExitCode(1)
        }
        output.flush()
        printError(#"{"events":\#(written),"duplicates":\#(duplicates),"damaged_documents":\#(damaged)}"#)
    }
}

/// Standard output in 1 MiB writes.
private struct Output {
    private var buffer: [UInt8] = []

    mutating func write(_ line: UnsafeRawBufferPointer) {
        JSONWriter.appendLine(line, to: &buffer)
        if buffer.count >= 1 << 20 { flush() }
    }

    mutating func flush() {
        var offset = 0
        while offset < buffer.count {
            let count = buffer[offset...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            offset += count
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
