import ArgumentParser

/// `wick`: the daemon and the commands around it. Every subcommand is a thin shell over a library.
@main
struct Wick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wick",
        abstract: "A local-first ingestion daemon for LLM observability events (Langfuse's model).",
        version: "0.1.0",
        subcommands: [Serve.self, Send.self, TraceCommand.self, TracesCommand.self, TailCommand.self, Inspect.self, Verify.self,
                      Reindex.self, Rejects.self, Stats.self, PricesCommand.self, CompactCommand.self, CostsCommand.self, KeysCommand.self, ExportCommand.self, ImportCommand.self,
                      ReplayCommand.self, CursorsCommand.self]
    )
}

/// The `--data-dir` every command that reads a data directory takes, with the daemon's default.
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .long, help: "The data directory (default: $WICK_DATA_DIR, then $STATE_DIRECTORY, then ./wick-data).")
    var dataDir: String?
}
