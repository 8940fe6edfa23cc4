import ArgumentParser
import WickDaemon
import WickIngest
import WickJSON
import WickStore

struct Rejects: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List rejected inputs from the dead-letter log, with their reasons.")

    @OptionGroup var data: DataDirectoryOption
    @Option(help: "Only this reason (e.g. json_truncated, missing_body_id).") var reason: String?
    @Option(help: "At most this many, newest last.") var limit: Int = 100
    @Flag(help: "Print JSON lines.") var json = false

    func run() throws {
        let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        var letters: [DeadLetter] = []
        do {
            try StoreReader(directory).deadLetterReader().read(from: 0) { sequence, record in
                let letter = DeadLetter(record.stored(sequence: sequence))
                if reason == nil || letter.reason == reason {
                    letters.append(letter)
                    if letters.count > limit { letters.removeFirst(letters.count - limit) }
                }
            }
        } catch {
            printError("wick rejects: \(error)")
            throw ExitCode(1)
        }
        for letter in letters {
            print(json ? String(decoding: letter.json.serialized(), as: UTF8.self) : letter.text)
        }
    }
}

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Counters of the running daemon (from its metrics), and what the data directory tells.")

    @OptionGroup var data: DataDirectoryOption
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        do {
            let report = try StatsReport.make(directory)
            print(json ? String(decoding: report.json.serialized(), as: UTF8.self) : report.text, terminator: json ? "\n" : "")
        } catch {
            printError("wick stats: \(error)")
            throw ExitCode(1)
        }
    }
}
