import ArgumentParser
import Logging
import WickDaemon
import WickStore

struct CursorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cursors",
        abstract: "List the named cursors of a data directory, or remove one a consumer left behind.",
        discussion: """
            Raw segments are compacted and deleted only behind every cursor, so the cursor of a replay \
            sink that is no longer configured (replay.<name>; the daemon warns of each at start-up) \
            holds them forever. Remove it once the sink is gone for good; a sink of that name \
            configured later starts from the oldest raw event kept.
            """,
        subcommands: [List.self, Remove.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each cursor and the log position it is at.")

        @OptionGroup var data: DataDirectoryOption

        func run() throws {
            let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
            do {
                for (name, position) in try StoreReader(directory).cursors().sorted(by: { $0.key < $1.key }) {
                    print("\(name) \(position)")
                }
            } catch {
                printError("wick cursors: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a cursor (the daemon must be stopped).",
            discussion: "The assembler's own cursor cannot be removed: it is not a sink's.")

        @OptionGroup var data: DataDirectoryOption
        @Argument(help: "The cursor, e.g. replay.central.") var name: String

        func run() throws {
            guard name.hasPrefix("replay.") else { throw ValidationError("only replay cursors (replay.<name>) can be removed") }
            let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
            let logger = Logger(label: "wick.cursors", factory: { _ in SwiftLogNoOpLogHandler() })
            do {
                let store = try DataStore.open(directory, logger: logger)
                defer { store.close() }
                guard try store.cursor(name) != nil else {
                    printError("wick cursors: no cursor \(name)")
                    throw ExitCode(1)
                }
                try store.removeCursor(name)
                print("removed \(name)")
            } catch let error as StorageError {
                printError("wick cursors: \(error)\(error.code == .locked ? " (stop the daemon first)" : "")")
                throw ExitCode(error.code == .locked ? 2 : 1)
            }
        }
    }
}
