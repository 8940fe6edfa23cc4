import Configuration
import WickHTTP
import SystemPackage
import WickStore

/// A setting that could not be used, named by its key.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var key: String
    public var message: String
    public var description: String { "configuration \(key): \(message)" }
}

extension WickConfiguration {
    /// Every key `load` reads, for the documentation check in the tests (config/wick.yaml must
    /// describe each of them).
    public static let keys: [String] = [
        "data-dir", "log.level",
        "ingest.project", "ingest.unix.path", "ingest.unix.mode", "ingest.unix.group", "ingest.unix.project",
        "ingest.udp.address", "ingest.udp.receive-buffer-bytes", "ingest.udp.project",
        "ingest.unix-datagram.path", "ingest.unix-datagram.project",
        "ingest.max-line-bytes", "ingest.max-depth", "ingest.threads", "ingest.drain-timeout-ms",
        "metrics.address", "http.address", "http.max-body-bytes", "http.api-keys",
        "storage.fsync", "storage.fsync-interval-ms", "storage.segment-max-bytes", "storage.segment-max-age-ms",
        "storage.frame-bytes", "storage.compression-level", "storage.max-pending-bytes", "storage.min-free-bytes",
        "storage.disk-full-retry-ms", "storage.index-initial-map-bytes",
        "assembler.settle-ms", "assembler.max-open-bytes", "assembler.commit-ms",
        "prices.files", "prices.defaults", "scores.configs-file",
        "compaction.enabled", "compaction.interval-ms", "compaction.max-input-bytes", "compaction.compression-level",
        "replay.url", "replay.name", "replay.public-key", "replay.secret-key", "replay.batch-events", "replay.batch-bytes",
        "replay.gzip", "replay.concurrency", "replay.backoff-initial-ms", "replay.backoff-max-ms",
        "retention.max-bytes", "retention.max-age-ms", "retention.dead-letter-max-bytes", "retention.check-interval-ms",
    ]

    /// Reads the configuration: `flags` (already keyed, e.g. `["ingest.udp.address": "127.0.0.1:0"]`)
    /// win over `WICK_*` environment variables (`WICK_STORAGE_FSYNC=always`), which win over the
    /// YAML file, which wins over the embedded defaults.
    public static func load(file: String?, flags: [String: String], environment: [String: String]) async throws -> WickConfiguration {
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: Dictionary(uniqueKeysWithValues: flags.map {
                (AbsoluteConfigKey(ConfigKey($0.key)), ConfigValue(.string($0.value), isSecret: false))
            })),
            EnvironmentVariablesProvider(environmentVariables: environment).prefixKeys(with: "wick"),
        ]
        if let file {
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: FilePath(file)))
            } catch {
                throw ConfigurationError(key: file, message: "cannot read the config file: \(error)")
            }
        }
        let reader = ConfigReader(providers: providers)
        var values: [String: String] = [:]
        for key in keys {
            if let value = reader.string(forKey: ConfigKey(key)) { values[key] = value }
        }
        var configuration = try WickConfiguration(values: values)
        if values["data-dir"] == nil {
            configuration.dataDirectory = DataDirectory.resolve(explicit: nil, environment: environment).root
        }
        return configuration
    }

    /// Builds a configuration from string values by key (missing keys keep their defaults).
    public init(values: [String: String]) throws {
        self.init()
        let reader = ValueReader(values: values)
        dataDirectory = try reader.string("data-dir", dataDirectory)
        logLevel = try reader.choice("log.level", logLevel, ["trace", "debug", "info", "notice", "warning", "error", "critical"])
        project = try reader.project("ingest.project", project)
        unixProject = try reader.project("ingest.unix.project", unixProject, allowEmpty: true)
        udpProject = try reader.project("ingest.udp.project", udpProject, allowEmpty: true)
        unixDatagramProject = try reader.project("ingest.unix-datagram.project", unixDatagramProject, allowEmpty: true)
        unixSocketPath = try reader.string("ingest.unix.path", unixSocketPath)
        unixSocketMode = try reader.octal("ingest.unix.mode", unixSocketMode)
        unixSocketGroup = try reader.string("ingest.unix.group", unixSocketGroup)
        udpAddress = try reader.address("ingest.udp.address", udpAddress)
        udpReceiveBufferBytes = try reader.int("ingest.udp.receive-buffer-bytes", udpReceiveBufferBytes, 0...(1 << 30))
        unixDatagramPath = try reader.string("ingest.unix-datagram.path", unixDatagramPath)
        maxLineBytes = try reader.int("ingest.max-line-bytes", maxLineBytes, 64...(16 << 20) - 4096)
        maxDepth = try reader.int("ingest.max-depth", maxDepth, 1...1024)
        ingestThreads = try reader.int("ingest.threads", ingestThreads, 1...64)
        drainTimeoutMilliseconds = try reader.int64("ingest.drain-timeout-ms", drainTimeoutMilliseconds, 0...3_600_000)
        metricsAddress = try reader.address("metrics.address", metricsAddress)
        httpAddress = try reader.address("http.address", httpAddress)
        httpMaxBodyBytes = try reader.int("http.max-body-bytes", httpMaxBodyBytes, (1 << 20)...(1 << 30))
        httpAPIKeys = reader.list("http.api-keys", httpAPIKeys)
        for key in httpAPIKeys where APIKey(setting: key) == nil {
            throw ConfigurationError(key: "http.api-keys", message: "\"\(key.prefix(80))\" is not PROJECT:PUBLIC_KEY:SECRET_SHA256 (64 hex digits)")
        }
        let fsyncName = try reader.choice("storage.fsync", fsync.rawValue, SegmentLog.Configuration.FsyncMode.allCases.map(\.rawValue))
        fsync = SegmentLog.Configuration.FsyncMode(rawValue: fsyncName) ?? .interval
        fsyncIntervalMilliseconds = try reader.int64("storage.fsync-interval-ms", fsyncIntervalMilliseconds, 1...60_000)
        segmentMaxBytes = try reader.int64("storage.segment-max-bytes", segmentMaxBytes, (64 << 10)...(1 << 40))
        segmentMaxAgeMilliseconds = try reader.int64("storage.segment-max-age-ms", segmentMaxAgeMilliseconds, 1...(365 * 86_400_000))
        frameBytes = try reader.int("storage.frame-bytes", frameBytes, 4096...(4 << 20))
        compressionLevel = Int32(try reader.int("storage.compression-level", Int(compressionLevel), -7...19))
        maxPendingBytes = try reader.int("storage.max-pending-bytes", maxPendingBytes, (1 << 20)...(16 << 30))
        minFreeBytes = try reader.int64("storage.min-free-bytes", minFreeBytes, 0...(1 << 50))
        diskFullRetryMilliseconds = try reader.int64("storage.disk-full-retry-ms", diskFullRetryMilliseconds, 1...60_000)
        indexInitialMapBytes = try reader.int("storage.index-initial-map-bytes", indexInitialMapBytes, (1 << 20)...(1 << 44))
        settleMilliseconds = try reader.int64("assembler.settle-ms", settleMilliseconds, 1...86_400_000)
        assemblerMaxOpenBytes = try reader.int("assembler.max-open-bytes", assemblerMaxOpenBytes, (1 << 20)...(64 << 30))
        assemblerCommitMilliseconds = try reader.int64("assembler.commit-ms", assemblerCommitMilliseconds, 1...60_000)
        priceFiles = reader.list("prices.files", priceFiles)
        priceDefaults = try reader.choice("prices.defaults", priceDefaults ? "true" : "false", ["true", "false"]) == "true"
        scoreConfigsFile = try reader.string("scores.configs-file", scoreConfigsFile)
        compactionEnabled = try reader.choice("compaction.enabled", compactionEnabled ? "true" : "false", ["true", "false"]) == "true"
        compactionIntervalMilliseconds = try reader.int64("compaction.interval-ms", compactionIntervalMilliseconds, 1...86_400_000)
        compactionMaxInputBytes = try reader.int("compaction.max-input-bytes", compactionMaxInputBytes, (1 << 20)...(4 << 30))
        compactionCompressionLevel = Int32(try reader.int("compaction.compression-level", Int(compactionCompressionLevel), -7...19))
        replayURL = try reader.string("replay.url", replayURL)
        if !replayURL.isEmpty && !replayURL.hasPrefix("http://") {
            throw ConfigurationError(key: "replay.url", message: "\(replayURL) is not http://HOST:PORT (https is not supported yet)")
        }
        replayName = try reader.string("replay.name", replayName)
        replayPublicKey = try reader.string("replay.public-key", replayPublicKey)
        replaySecretKey = try reader.string("replay.secret-key", replaySecretKey)
        replayBatchEvents = try reader.int("replay.batch-events", replayBatchEvents, 1...100_000)
        replayBatchBytes = try reader.int("replay.batch-bytes", replayBatchBytes, 4096...(16 << 20))
        replayGzip = try reader.choice("replay.gzip", replayGzip ? "true" : "false", ["true", "false"]) == "true"
        replayConcurrency = try reader.int("replay.concurrency", replayConcurrency, 1...64)
        replayBackoffInitialMilliseconds = try reader.int64("replay.backoff-initial-ms", replayBackoffInitialMilliseconds, 1...3_600_000)
        replayBackoffMaxMilliseconds = try reader.int64("replay.backoff-max-ms", replayBackoffMaxMilliseconds, 1...3_600_000)
        retentionMaxBytes = try reader.int64("retention.max-bytes", retentionMaxBytes, 0...(1 << 60))
        retentionMaxAgeMilliseconds = try reader.int64("retention.max-age-ms", retentionMaxAgeMilliseconds, 0...(100 * 365 * 86_400_000))
        deadLetterMaxBytes = try reader.int64("retention.dead-letter-max-bytes", deadLetterMaxBytes, 0...(1 << 60))
        maintenanceIntervalMilliseconds = try reader.int64("retention.check-interval-ms", maintenanceIntervalMilliseconds, 1...86_400_000)
    }
}

/// Parses string values with the key in every error.
private struct ValueReader {
    let values: [String: String]

    func string(_ key: String, _ fallback: String) throws -> String {
        values[key] ?? fallback
    }

    /// A comma-separated list; blanks around the items are dropped, and so are empty items.
    func list(_ key: String, _ fallback: [String]) -> [String] {
        guard let text = values[key] else { return fallback }
        return text.split(separator: ",").compactMap { item in
            let trimmed = item.drop { $0 == " " }.reversed().drop { $0 == " " }
            return trimmed.isEmpty ? nil : String(trimmed.reversed())
        }
    }

    func project(_ key: String, _ fallback: String, allowEmpty: Bool = false) throws -> String {
        let value = values[key] ?? fallback
        guard (allowEmpty || !value.isEmpty) && value.utf8.count <= 255 else {
            throw ConfigurationError(key: key, message: "a project name is 1 to 255 bytes")
        }
        return value
    }

    func choice(_ key: String, _ fallback: String, _ allowed: [String]) throws -> String {
        guard let value = values[key] else { return fallback }
        let lowered = value.lowercased()
        guard allowed.contains(lowered) else {
            throw ConfigurationError(key: key, message: "\"\(value)\" is not one of \(allowed.joined(separator: ", "))")
        }
        return lowered
    }

    func int(_ key: String, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
        Int(try int64(key, Int64(fallback), Int64(range.lowerBound)...Int64(range.upperBound)))
    }

    func int64(_ key: String, _ fallback: Int64, _ range: ClosedRange<Int64>) throws -> Int64 {
        guard let text = values[key] else { return fallback }
        let digits = text.filter { $0 != "_" }
        guard let value = Int64(digits) else {
            throw ConfigurationError(key: key, message: "\"\(text)\" is not a whole number")
        }
        guard range.contains(value) else {
            throw ConfigurationError(key: key, message: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func octal(_ key: String, _ fallback: UInt32) throws -> UInt32 {
        guard let text = values[key] else { return fallback }
        guard let value = UInt32(text, radix: 8), value <= 0o777 else {
            throw ConfigurationError(key: key, message: "\"\(text)\" is not an octal file mode such as 0660")
        }
        return value
    }

    /// `host:port` (port 0 picks a free one) or `off`.
    func address(_ key: String, _ fallback: String) throws -> String {
        guard let text = values[key] else { return fallback }
        if text.lowercased() == "off" { return "off" }
        guard HostPort(text) != nil else {
            throw ConfigurationError(key: key, message: "\"\(text)\" is not host:port or off")
        }
        return text
    }
}

/// `host:port`, with `[v6]:port` for IPv6.
public struct HostPort: Sendable, Hashable {
    public var host: String
    public var port: Int

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        self.host = host
        self.port = port
    }
}
