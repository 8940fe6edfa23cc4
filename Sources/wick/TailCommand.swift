import ArgumentParser
import WickDaemon
import WickJSON
import WickModel
import WickPipeline
import WickStore

#if canImport(Glibc)
import Glibc
#endif

struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow new events (or, with --traces, settled traces) as they arrive.")

    @Flag(help: "Follow settled traces instead of events.") var traces = false
    @OptionGroup var filters: TraceFilterOptions
    @Flag(help: "Print JSON, one per line.") var json = false
    @Option(help: "Stop after this many (default: follow until interrupted).") var count: Int?
    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        let query = try filters.query()
        var printed = 0
        let reader: StoreReader
        do {
            reader = try StoreReader(directory)
        } catch {
            printError("wick tail: \(error)")
            throw ExitCode(1)
        }
        if traces {
            try followTraces(reader, query: query, printed: &printed)
        } else {
            try followEvents(reader, query: query, printed: &printed)
        }
    }

    private func done(_ printed: Int) -> Bool { count.map { printed >= $0 } ?? false }

    /// Settled traces, from the assembler's feed: starts after the newest entry now in it.
    private func followTraces(_ reader: StoreReader, query: TraceQuery, printed: inout Int) throws {
        var after: [UInt8]? = nil
        try reader.walkDocuments(namespace: TraceDocuments.settled, descending: true) { position, _, _ in
            after = position
            return false
        }
        while !done(printed) {
            var newest = after
            try reader.walkDocuments(namespace: TraceDocuments.settled, descending: false, after: after) { position, _, key in
                newest = position
                guard let raw = try? reader.document(namespace: TraceDocuments.summaries, key: key),
                      let value = try? JSONValue.parse(raw), let summary = TraceSummary(json: value), query.matches(summary)
                else { return true }
                printNow(json ? String(decoding: summary.json.serialized(), as: UTF8.self) : TraceSummaryText.line(summary))
                printed += 1
                return !done(printed)
            }
            after = newest
            usleep(200_000)
        }
    }

    /// Events, from the end of the log on, filtered by the fields an event itself carries.
    private func followEvents(_ reader: StoreReader, query: TraceQuery, printed: inout Int) throws {
        let log = reader.eventReader()
        var position = try reader.logEnd()
        while !done(printed) {
            position = try log.read(from: position) { sequence, record in
                guard !done(printed), let value = try? JSONValue.parse(record.payload), let body = value["body"] else { return }
                if let project = query.project, record.projectString != project { return }
                if let user = query.userId, body["userId"]?.stringValue != user { return }
                if let session = query.sessionId, body["sessionId"]?.stringValue != session { return }
                if let name = query.name, body["name"]?.stringValue != name { return }
                if !query.tags.isEmpty {
                    let tags = body["tags"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    if !query.tags.allSatisfy(tags.contains) { return }
                }
                if let environment = query.environment,
                   MergeRules.normaliseEnvironment(body["environment"]?.stringValue) != environment { return }
                if query.withErrors && body["level"]?.stringValue != "ERROR" { return }
                if json {
                    printNow(String(decoding: record.payload, as: UTF8.self))
                } else {
                    let type = value["type"]?.stringValue ?? "?"
                    let trace = body["traceId"]?.stringValue ?? (type == "trace-create" ? body["id"]?.stringValue : nil) ?? "-"
                    printNow("\(sequence) \(type) trace \(trace) \(body["name"]?.stringValue ?? "")")
                }
                printed += 1
            }
            usleep(100_000)
        }
    }
}
