import WickIngest
public import WickPipeline
public import WickReplay
public import WickStore

/// Everything `wick serve` can be told, with the embedded defaults it runs on when told nothing.
/// Every key is documented, with its unit, in config/wick.yaml; `load` reads flags, then `WICK_*`
/// environment variables, then the config file, then these defaults.
public struct WickConfiguration: Sendable, Equatable {
    public var dataDirectory: String = "./wick-data"
    public var logLevel: String = "info"

    // Ingest
    public var project: String = "default"
    /// Per-listener projects; empty means `project`.
    public var unixProject: String = ""
    public var udpProject: String = ""
    public var unixDatagramProject: String = ""
    /// Empty: `$RUNTIME_DIRECTORY/wick.sock` under systemd, else `<data-dir>/wick.sock`.
    public var unixSocketPath: String = ""
    public var unixSocketMode: UInt32 = 0o660
    public var unixSocketGroup: String = ""
    /// `host:port`, or `off`.
    public var udpAddress: String = "127.0.0.1:9977"
    public var udpReceiveBufferBytes: Int = 8 << 20
    /// Empty: `wick.dgram` beside the stream socket; `off` disables it.
    public var unixDatagramPath: String = ""
    public var maxLineBytes: Int = 1 << 20
    public var maxDepth: Int = 64
    public var ingestThreads: Int = 1
    public var drainTimeoutMilliseconds: Int64 = 10_000

    /// `host:port`, or `off`.
    public var metricsAddress: String = "127.0.0.1:9464"
    /// The Langfuse-compatible API (Langfuse's own port, so `LANGFUSE_HOST=http://127.0.0.1:3000` works).
    public var httpAddress: String = "127.0.0.1:3000"
    public var httpMaxBodyBytes: Int = 16 << 20
    /// Key pairs by hash, `PROJECT:PUBLIC_KEY:SECRET_SHA256`, besides those `wick keys create` made.
    public var httpAPIKeys: [String] = []

    // Storage
    public var fsync: SegmentLog.Configuration.FsyncMode = .interval
    public var fsyncIntervalMilliseconds: Int64 = 100
    public var segmentMaxBytes: Int64 = 128 << 20
    public var segmentMaxAgeMilliseconds: Int64 = 3_600_000
    public var frameBytes: Int = 256 << 10
    public var compressionLevel: Int32 = 1
    public var maxPendingBytes: Int = 64 << 20
    public var minFreeBytes: Int64 = 256 << 20
    public var diskFullRetryMilliseconds: Int64 = 250
    public var indexInitialMapBytes: Int = 256 << 20

    // Assembler
    public var settleMilliseconds: Int64 = 5000
    public var assemblerMaxOpenBytes: Int = 256 << 20
    public var assemblerCommitMilliseconds: Int64 = 100

    public var assembler: Assembler.Configuration {
        var assembler = Assembler.Configuration()
        assembler.settleMilliseconds = settleMilliseconds
        assembler.maxOpenBytes = assemblerMaxOpenBytes
        assembler.commitMilliseconds = assemblerCommitMilliseconds
        return assembler
    }

    // Prices
    /// The user's price tables (Langfuse's JSON format), in order of precedence, before Wick's own.
    public var priceFiles: [String] = []
    /// Whether Wick's embedded table (config/model-prices.json) follows the user's.
    public var priceDefaults = true

    // Scores
    /// A JSON file of score configs (Langfuse's ScoreConfig objects); empty means none.
    public var scoreConfigsFile = ""

    // Compaction
    public var compactionEnabled = true
    public var compactionIntervalMilliseconds: Int64 = 60_000
    public var compactionMaxInputBytes: Int = 64 << 20
    public var compactionCompressionLevel: Int32 = 1
    public var compactionWordCodes = true

    public var compactor: Compactor.Configuration {
        var compactor = Compactor.Configuration()
        compactor.intervalMilliseconds = compactionIntervalMilliseconds
        compactor.maxInputBytes = UInt64(compactionMaxInputBytes)
        compactor.wordCodes = compactionWordCodes
        return compactor
    }

    // Replay
    /// Where the log is replayed to: each sink with its name, kind, settings and cursor of its own.
    /// The sinks `replay.sinks` names (each described by `sinks.<name>.*`), after the one the flat
    /// `replay.url` keys describe, if set. Empty: no replay.
    public var sinks: [Replayer.Sink] = []

    // Retention
    public var retentionMaxBytes: Int64 = 0
    public var retentionMaxAgeMilliseconds: Int64 = 0
    public var deadLetterMaxBytes: Int64 = 256 << 20
    public var maintenanceIntervalMilliseconds: Int64 = 60_000

    public init() {}

    /// The store configuration these settings make.
    public var store: DataStore.Configuration {
        var store = DataStore.Configuration()
        store.log.fsync = fsync
        store.log.commitIntervalMilliseconds = fsyncIntervalMilliseconds
        store.log.maxSegmentBytes = segmentMaxBytes
        store.log.maxSegmentAgeMilliseconds = segmentMaxAgeMilliseconds
        store.log.frameBytes = frameBytes
        store.log.compressionLevel = compressionLevel
        store.log.maxPendingBytes = maxPendingBytes
        store.log.minFreeBytes = minFreeBytes
        store.log.diskFullRetryMilliseconds = diskFullRetryMilliseconds
        store.deadLetter.fsync = fsync
        store.deadLetter.commitIntervalMilliseconds = fsyncIntervalMilliseconds
        store.deadLetter.minFreeBytes = minFreeBytes
        store.deadLetter.diskFullRetryMilliseconds = diskFullRetryMilliseconds
        store.deadLetter.compressionLevel = compressionLevel
        store.retention = retention
        store.deadLetterRetention = deadLetterRetention
        store.maintenanceIntervalMilliseconds = maintenanceIntervalMilliseconds
        store.indexInitialMapBytes = indexInitialMapBytes
        store.compactionCompressionLevel = compactionCompressionLevel
        return store
    }

    public var retention: RetentionPolicy {
        RetentionPolicy(maxBytes: retentionMaxBytes, maxAgeMilliseconds: retentionMaxAgeMilliseconds)
    }

    public var deadLetterRetention: RetentionPolicy {
        RetentionPolicy(maxBytes: deadLetterMaxBytes, maxAgeMilliseconds: retentionMaxAgeMilliseconds)
    }

    public var resolvedUnixProject: String { unixProject.isEmpty ? project : unixProject }
    public var resolvedUDPProject: String { udpProject.isEmpty ? project : udpProject }
    public var resolvedUnixDatagramProject: String { unixDatagramProject.isEmpty ? project : unixDatagramProject }

    /// Where the stream socket goes when no path is configured.
    public func resolvedUnixSocketPath(environment: [String: String]) -> String {
        if !unixSocketPath.isEmpty { return unixSocketPath }
        if let runtime = environment["RUNTIME_DIRECTORY"], !runtime.isEmpty {
            return String(runtime.split(separator: ":").first ?? Substring(runtime)) + "/wick.sock"
        }
        return DataDirectory(dataDirectory).root + "/wick.sock"
    }

    public func resolvedUnixDatagramPath(environment: [String: String]) -> String? {
        if unixDatagramPath == "off" { return nil }
        if !unixDatagramPath.isEmpty { return unixDatagramPath }
        let stream = resolvedUnixSocketPath(environment: environment)
        let directory = stream.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return (directory.isEmpty ? "." : directory) + "/wick.dgram"
    }
}
