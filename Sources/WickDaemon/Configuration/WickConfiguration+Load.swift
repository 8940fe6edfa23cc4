import Configuration
import WickHTTP
import SystemPackage
import WickReplay
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
        "compaction.enabled", "compaction.interval-ms", "compaction.max-input-bytes", "compaction.compression-level", "compaction.word-codes",
        "replay.sinks",
        "replay.url", "replay.name", "replay.public-key", "replay.secret-key", "replay.ca-file", "replay.batch-events", "replay.batch-bytes",
        "replay.gzip", "replay.concurrency", "replay.backoff-initial-ms", "replay.backoff-max-ms",
        "retention.max-bytes", "retention.max-age-ms", "retention.dead-letter-max-bytes", "retention.check-interval-ms",
    ]

    /// The keys of each sink named in `replay.sinks`, under `sinks.<name>.`: what every kind shares,
    /// then the `langfuse` kind's (which the `otlp` kind shares), the `otlp` kind's own, the `file` kind's.
    public static let sinkKeys: [String] = [
        "kind", "batch-events", "batch-bytes", "concurrency", "backoff-initial-ms", "backoff-max-ms", "compression",
        "url", "public-key", "secret-key", "timeout-ms", "ca-file",
        "traces-path", "scores-path",
        "path", "rotate-bytes",
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
        // A list may be a YAML sequence as well as a comma-separated string.
        func read(_ key: String) {
            let secret = key.hasSuffix("secret-key")
            if let value = reader.string(forKey: ConfigKey(key), isSecret: secret)
                ?? reader.stringArray(forKey: ConfigKey(key), isSecret: secret)?.joined(separator: ",") {
                values[key] = value
            }
        }
        for key in keys { read(key) }
        // Each sink's keys, for the names listed (a name that is no name is refused below).
        for name in ValueReader(values: values).list("replay.sinks", []) where ValueReader.isSinkName(name) {
            for key in sinkKeys { read("sinks.\(name).\(key)") }
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
        compactionWordCodes = try reader.choice("compaction.word-codes", compactionWordCodes ? "true" : "false", ["true", "false"]) == "true"
        sinks = try reader.sinks()
        retentionMaxBytes = try reader.int64("retention.max-bytes", retentionMaxBytes, 0...(1 << 60))
        retentionMaxAgeMilliseconds = try reader.int64("retention.max-age-ms", retentionMaxAgeMilliseconds, 0...(100 * 365 * 86_400_000))
        deadLetterMaxBytes = try reader.int64("retention.dead-letter-max-bytes", deadLetterMaxBytes, 0...(1 << 60))
        maintenanceIntervalMilliseconds = try reader.int64("retention.check-interval-ms", maintenanceIntervalMilliseconds, 1...86_400_000)
    }
}

/// Parses string values with the key in every error.
private struct ValueReader {
    let values: [String: String]

    /// A sink's name: 1 to 64 lower-case letters, digits and dashes, starting with a letter or a
    /// digit (so that it makes a key, a cursor name, a metrics label, a file name and an
    /// environment variable: sinks.my-archive.path is WICK_SINKS_MY_ARCHIVE_PATH).
    static func isSinkName(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 64, first != UInt8(ascii: "-") else { return false }
        return name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") }
    }

    /// The sinks: the one the flat `replay.*` keys describe (when `replay.url` is set), then those
    /// `replay.sinks` names.
    func sinks() throws -> [Replayer.Sink] {
        var sinks: [Replayer.Sink] = []
        if let url = values["replay.url"], !url.isEmpty {
            let name = try string("replay.name", "central")
            guard Self.isSinkName(name) else {
                throw ConfigurationError(key: "replay.name", message: "\"\(name)\" is not a sink name: 1 to 64 lower-case letters, digits and dashes")
            }
            var langfuse = LangfuseSink.Configuration(url: url, publicKey: try string("replay.public-key", ""),
                                                      secretKey: try string("replay.secret-key", ""))
            guard Endpoint(url: url) != nil else {
                throw ConfigurationError(key: "replay.url", message: "\(url) is not \(Endpoint.expectedForm)")
            }
            langfuse.caFile = try caFile("replay.ca-file")
            langfuse.compression = try choice("replay.gzip", "true", ["true", "false"]) == "true" ? .gzip : .none
            var sink = Replayer.Sink(name: name, kind: .langfuse(langfuse))
            try shared(&sink, prefix: "replay.")
            sinks.append(sink)
        }
        for name in list("replay.sinks", []) {
            guard Self.isSinkName(name) else {
                throw ConfigurationError(key: "replay.sinks", message: "\"\(name)\" is not a sink name: 1 to 64 lower-case letters, digits and dashes")
            }
            if let index = sinks.firstIndex(where: { $0.name == name }) {
                let why = index == 0 && values["replay.url"].map({ !$0.isEmpty }) == true
                    ? "it is also replay.name, the sink replay.url describes" : "it is named twice"
                throw ConfigurationError(key: "replay.sinks", message: "\(name): \(why)")
            }
            let sink = try sink(name)
            if case .file(let file) = sink.kind,
               let other = sinks.first(where: { if case .file(let theirs) = $0.kind { theirs.path == file.path } else { false } }) {
                throw ConfigurationError(key: "sinks.\(name).path", message: "\(file.path) is sink \(other.name)'s file too")
            }
            sinks.append(sink)
        }
        return sinks
    }

    /// The sink `sinks.<name>.*` describes.
    private func sink(_ name: String) throws -> Replayer.Sink {
        let prefix = "sinks.\(name)."
        guard values[prefix + "kind"] != nil else {
            throw ConfigurationError(key: prefix + "kind", message: "sink \(name) needs a kind: langfuse, otlp or file")
        }
        let kindName = try choice(prefix + "kind", "", ["langfuse", "otlp", "file"])
        let http = ["url", "public-key", "secret-key", "timeout-ms", "ca-file"]
        let own: [String: [String]] = ["langfuse": http, "otlp": http + ["traces-path", "scores-path"], "file": ["path", "rotate-bytes"]]
        for (other, keys) in own where other != kindName {
            for key in keys where values[prefix + key] != nil && !(own[kindName] ?? []).contains(key) {
                throw ConfigurationError(key: prefix + key, message: "not a setting of a \(kindName) sink (it is one of a \(other) sink)")
            }
        }
        var sink: Replayer.Sink
        switch kindName {
        case "langfuse":
            guard let url = values[prefix + "url"], !url.isEmpty else {
                throw ConfigurationError(key: prefix + "url", message: "a langfuse sink needs the server's URL, http(s)://HOST[:PORT]")
            }
            var langfuse = LangfuseSink.Configuration(url: url, publicKey: try string(prefix + "public-key", ""),
                                                      secretKey: try string(prefix + "secret-key", ""))
            guard Endpoint(url: url) != nil else {
                throw ConfigurationError(key: prefix + "url", message: "\(url) is not \(Endpoint.expectedForm)")
            }
            langfuse.caFile = try caFile(prefix + "ca-file")
            for key in ["public-key", "secret-key"] where (values[prefix + key] ?? "").isEmpty {
                throw ConfigurationError(key: prefix + key, message: "a langfuse sink needs the server's key pair")
            }
            let compression = try choice(prefix + "compression", "gzip", Compression.allCases.map(\.rawValue))
            langfuse.compression = Compression(rawValue: compression) ?? .gzip
            langfuse.timeoutMilliseconds = try int(prefix + "timeout-ms", langfuse.timeoutMilliseconds, 100...3_600_000)
            sink = Replayer.Sink(name: name, kind: .langfuse(langfuse))
        case "otlp":
            guard let url = values[prefix + "url"], !url.isEmpty else {
                throw ConfigurationError(key: prefix + "url", message: "an otlp sink needs the receiver's URL, http(s)://HOST[:PORT]")
            }
            var otlp = OTLPSink.Configuration(url: url, publicKey: try string(prefix + "public-key", ""),
                                              secretKey: try string(prefix + "secret-key", ""))
            guard Endpoint(url: url) != nil else {
                throw ConfigurationError(key: prefix + "url", message: "\(url) is not \(Endpoint.expectedForm)")
            }
            otlp.caFile = try caFile(prefix + "ca-file")
            // OTLP/HTTP knows gzip only.
            let compression = try choice(prefix + "compression", "gzip", ["none", "gzip"])
            otlp.compression = Compression(rawValue: compression) ?? .gzip
            otlp.timeoutMilliseconds = try int(prefix + "timeout-ms", otlp.timeoutMilliseconds, 100...3_600_000)
            for (key, fallback) in [("traces-path", otlp.tracesPath), ("scores-path", otlp.scoresPath)] {
                let path = try string(prefix + key, fallback)
                guard path.isEmpty ? key == "scores-path" : path.hasPrefix("/") else {
                    throw ConfigurationError(key: prefix + key, message: "\(path.isEmpty ? "empty" : path) is not a path starting with /"
                                             + (key == "scores-path" ? " (or empty: send no scores)" : ""))
                }
                if key == "traces-path" { otlp.tracesPath = path } else { otlp.scoresPath = path }
            }
            sink = Replayer.Sink(name: name, kind: .otlp(otlp))
        default:
            guard let path = values[prefix + "path"], !path.isEmpty else {
                throw ConfigurationError(key: prefix + "path", message: "a file sink needs the path of the file it appends to")
            }
            guard !path.hasSuffix("/") else {
                throw ConfigurationError(key: prefix + "path", message: "\(path) names a directory; give a file in it")
            }
            _ = try choice(prefix + "compression", "none", ["none"])
            let rotateBytes = try int64(prefix + "rotate-bytes", 0, 0...(1 << 50))
            if rotateBytes != 0 && rotateBytes < 4096 {
                throw ConfigurationError(key: prefix + "rotate-bytes", message: "\(rotateBytes) is not 0 (never rotate) or at least 4096")
            }
            sink = Replayer.Sink(name: name, kind: .file(FileSink.Configuration(path: path, rotateBytes: rotateBytes)))
        }
        try shared(&sink, prefix: prefix)
        if case .file = sink.kind, sink.concurrency != 1 {
            throw ConfigurationError(key: prefix + "concurrency", message: "a file sink appends in log order, one batch at a time: 1")
        }
        return sink
    }

    /// The settings every kind shares, under `prefix`.
    private func shared(_ sink: inout Replayer.Sink, prefix: String) throws {
        sink.batchEvents = try int(prefix + "batch-events", sink.batchEvents, 1...100_000)
        sink.batchBytes = try int(prefix + "batch-bytes", sink.batchBytes, 4096...(64 << 20))
        sink.concurrency = try int(prefix + "concurrency", sink.concurrency, 1...64)
        sink.backoffInitialMilliseconds = try int64(prefix + "backoff-initial-ms", sink.backoffInitialMilliseconds, 1...3_600_000)
        sink.backoffMaxMilliseconds = try int64(prefix + "backoff-max-ms", sink.backoffMaxMilliseconds, 1...3_600_000)
    }

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

    /// A CA file for https: absent or empty means the system's trust store; otherwise PEM
    /// certificates that must load now, not at the first batch.
    func caFile(_ key: String) throws -> String? {
        guard let path = values[key], !path.isEmpty else { return nil }
        do {
            _ = try TLSClient(caFile: path)
        } catch {
            throw ConfigurationError(key: key, message: error.description)
        }
        return path
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
