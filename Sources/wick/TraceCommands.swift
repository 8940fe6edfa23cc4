import ArgumentParser
import WickDaemon
import WickJSON
import WickModel
import WickPipeline
import WickStore

#if canImport(Glibc)
import Glibc
#endif

struct TraceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Show one trace: its observations as a tree with timings, models, tokens, scores.",
        discussion: "Reads the events straight from the log and folds them, so it shows a trace seconds after its events arrive, daemon or not.")

    @Argument(help: "The trace id.") var id: String
    @Option(help: "The project (default: the project of the trace's first event).") var project: String?
    @Flag(help: "Print Langfuse's GET /api/public/traces/{id} shape.") var json = false
    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var prices: PriceOptions

    func run() async throws {
        let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        let loaded: LoadedTrace?
        do {
            let configuration = try await prices.configuration()
            loaded = try TraceLoader.load(id, project: project, from: StoreReader(directory), prices: try configuration.loadPrices(),
                                          scoreConfigs: try configuration.loadScoreConfigs())
        } catch {
            printError("wick trace: \(error)")
            throw ExitCode(1)
        }
        guard let loaded else {
            printError("wick trace: no events of trace \(id) in \(directory.root)")
            throw ExitCode(1)
        }
        if json {
            print(String(decoding: loaded.langfuseJSON.serialized(), as: UTF8.self))
        } else {
            print(TraceText(colour: isatty(1) != 0).render(loaded), terminator: "")
        }
    }
}

/// The filters `traces` and `tail --traces` share.
struct TraceFilterOptions: ParsableArguments {
    @Option(help: "Only this project.") var project: String?
    @Option(help: "Only this user.") var user: String?
    @Option(help: "Only this session.") var session: String?
    @Option(help: "Only traces of this name.") var name: String?
    @Option(help: "Only traces with this tag (repeat: all of them).") var tag: [String] = []
    @Option(help: "Only this environment.") var environment: String?
    @Option(help: "Traces from this time on (ISO 8601).") var from: String?
    @Option(help: "Traces before this time (ISO 8601).") var to: String?
    @Option(name: .customLong("min-latency"), help: "At least this many seconds long.") var minLatency: Double?
    @Option(name: .customLong("min-cost"), help: "At least this many USD.") var minCost: Double?
    @Flag(help: "Only traces with an ERROR observation.") var errors = false

    func query() throws -> TraceQuery {
        var query = TraceQuery()
        query.project = project
        query.userId = user
        query.sessionId = session
        query.name = name
        query.tags = tag
        query.environment = environment
        if let from {
            guard let time = Timestamp(iso8601: from) else { throw ValidationError("--from takes an ISO 8601 time with an offset") }
            query.from = time
        }
        if let to {
            guard let time = Timestamp(iso8601: to) else { throw ValidationError("--to takes an ISO 8601 time with an offset") }
            query.to = time
        }
        query.minimumLatency = minLatency
        query.minimumCost = minCost
        query.withErrors = errors
        return query
    }
}

struct TracesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traces",
        abstract: "List settled traces (the assembler's summaries), filtered and ordered.")

    @OptionGroup var filters: TraceFilterOptions
    @Option(help: "start, latency, cost or events.") var order: String = "start"
    @Flag(help: "Oldest, shortest or cheapest first.") var ascending = false
    @Option(help: "At most this many.") var limit: Int = 50
    @Flag(help: "Print JSON, one summary per line.") var json = false
    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        var query = try filters.query()
        guard let order = TraceQuery.Order(rawValue: order) else {
            throw ValidationError("--order takes \(TraceQuery.Order.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        query.order = order
        query.ascending = ascending
        query.limit = max(1, limit)
        let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        let summaries: [TraceSummary]
        do {
            let reader = try StoreReader(directory)
            summaries = try query.run { descending, body throws(StorageError) in
                try reader.walkDocuments(namespace: TraceDocuments.summaries, descending: descending, body)
            }
        } catch {
            printError("wick traces: \(error)")
            throw ExitCode(1)
        }
        if json {
            for summary in summaries { print(String(decoding: summary.json.serialized(), as: UTF8.self)) }
        } else {
            print(TraceSummaryText.table(summaries), terminator: "")
        }
    }
}
