import ArgumentParser
import WickDaemon
import WickIngest
import WickJSON
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
        var damaged = 0
        do {
            damaged = try StoredEvents.read(try StoreReader(directory)) { _, event in emit(event) }.damagedDocuments
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
