import ArgumentParser
import WickDaemon
import WickJSON
import WickModel
import WickPipeline
import WickStore

struct CostsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "costs",
        abstract: "What the traces cost: by model, user, day or trace name.",
        discussion: """
            Adds up the assembler's trace summaries (every settled trace, compacted or not; late events \
            included once their trace settles again). Costs are USD, from the prices in force when each \
            trace last settled.
            """)

    @Option(help: "Group by model, user, day or name.") var by: String = "model"
    @Option(help: "Only traces from this time on: ISO 8601 (2026-11-01T00:00:00Z), or an age such as 7d, 24h, 30m.")
    var since: String?
    @Option(help: "Only this project.") var project: String?
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var data: DataDirectoryOption

    func run() async throws {
        guard let dimension = CostBreakdown.Dimension(rawValue: by) else {
            throw ValidationError("--by takes model, user, day or name")
        }
        var from: Timestamp?
        if let since {
            guard let time = Self.parseSince(since, now: ReceiveClock.system.microseconds()) else {
                throw ValidationError("--since takes an ISO 8601 time with an offset, or an age such as 7d, 24h, 30m")
            }
            from = time
        }
        let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        var breakdown = CostBreakdown(by: dimension)
        do {
            let reader = try StoreReader(directory)
            try reader.walkDocuments(namespace: TraceDocuments.summaries, descending: true) { _, _, value in
                guard let parsed = try? JSONValue.parse(value), let summary = TraceSummary(json: parsed) else { return true }
                // Newest first: the first trace before `since` ends the walk.
                if let from, summary.start < from { return false }
                if let project, summary.project != project { return true }
                breakdown.add(summary)
                return true
            }
        } catch {
            printError("wick costs: \(error)")
            throw ExitCode(1)
        }
        if json {
            print(String(decoding: breakdown.json.serialized(), as: UTF8.self))
        } else {
            print(CostTable(breakdown).render(), terminator: "")
        }
    }

    static func parseSince(_ text: String, now: Int64) -> Timestamp? {
        if let time = Timestamp(iso8601: text) { return time }
        guard let unit = text.last, let count = Int64(text.dropLast()), count >= 0 else { return nil }
        let seconds: Int64
        switch unit {
        case "d": seconds = 86_400
        case "h": seconds = 3_600
        case "m": seconds = 60
        case "s": seconds = 1
        default: return nil
        }
        return Timestamp(microsecondsSinceEpoch: now - count * seconds * 1_000_000)
    }
}
