import Foundation
import Testing
import WickDaemon
import WickModel
import WickPipeline
import WickReplay
import WickStore
import WickTestSupport

@Suite struct ConfigurationTests {
    private var shippedFile: String { packageRoot + "/config/wick.yaml" }

    @Test func everyKeyIsDocumentedInTheShippedFile() throws {
        let text = try String(contentsOfFile: shippedFile, encoding: .utf8)
        // Rebuild dotted keys from the YAML's indentation.
        var documented = Set<String>()
        var path: [(indent: Int, key: String)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var body = Substring(line)
            var commentedOut = false
            if body.trimmingCharacters(in: .whitespaces).hasPrefix("# ") {
                // `# data-dir: ./wick-data` documents a key left unset on purpose.
                let inner = body.drop { $0 == " " }.dropFirst(2)
                guard inner.contains(": ") || inner.hasSuffix(":") else { continue }
                body = inner
                commentedOut = true
            }
            let indent = commentedOut ? 0 : body.prefix { $0 == " " }.count
            let trimmed = body.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let colon = trimmed.firstIndex(of: ":") else { continue }
            let key = String(trimmed[..<colon])
            // Keys are lower-case kebab-case; comment prose ("# Empty: …") is not.
            guard key.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else { continue }
            while let last = path.last, last.indent >= indent { path.removeLast() }
            path.append((indent, key))
            documented.insert(path.map(\.key).joined(separator: "."))
        }
        for key in WickConfiguration.keys {
            #expect(documented.contains(key), "config/wick.yaml does not document \(key)")
        }
        // A sink's keys are documented under an example sink.
        for key in WickConfiguration.sinkKeys {
            #expect(documented.contains { $0.hasPrefix("sinks.") && $0.hasSuffix("." + key) && $0.split(separator: ".").count == 3 },
                    "config/wick.yaml does not document sinks.<name>.\(key)")
        }
    }

    @Test func theShippedFileHoldsTheEmbeddedDefaults() async throws {
        let fromFile = try await WickConfiguration.load(file: shippedFile, flags: [:], environment: [:])
        #expect(fromFile == WickConfiguration())
    }

    @Test func flagsBeatEnvironmentBeatsFileBeatsDefaults() async throws {
        let temp = TemporaryDirectory("wcf")
        let file = temp.file("wick.yaml")
        try "storage:\n  fsync: never\n  fsync-interval-ms: 7\ningest:\n  max-depth: 10\ncompaction:\n  word-codes: false\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let configuration = try await WickConfiguration.load(
            file: file,
            flags: ["storage.fsync": "always"],
            environment: ["WICK_STORAGE_FSYNC": "interval", "WICK_STORAGE_FSYNC_INTERVAL_MS": "9", "WICK_DATA_DIR": temp.path])
        #expect(configuration.fsync == .always)            // flag
        #expect(configuration.fsyncIntervalMilliseconds == 9)  // environment over file
        #expect(configuration.maxDepth == 10)               // file over default
        #expect(configuration.compactor.wordCodes == false)  // file over default
        #expect(configuration.segmentMaxBytes == 128 << 20) // default
        #expect(configuration.dataDirectory == temp.path)
    }

    @Test func priceFilesAreACommaSeparatedListAndAMissingFileIsAnError() async throws {
        let configuration = try await WickConfiguration.load(
            file: nil, flags: ["prices.files": " a.json, my prices.json,,", "prices.defaults": "false"], environment: [:])
        #expect(configuration.priceFiles == ["a.json", "my prices.json"])
        #expect(!configuration.priceDefaults)
        #expect(throws: ConfigurationError.self) { try configuration.loadPrices() }
        #expect(try WickConfiguration().loadPrices().entries.count == PriceBook.defaults.entries.count)
    }

    @Test func scoreConfigsReplayAndAPIKeysAreCheckedWhenRead() async throws {
        let temp = TemporaryDirectory()
        try #"[{"id":"c1","name":"accuracy","dataType":"NUMERIC","maxValue":1}]"#.write(toFile: temp.file("scores.json"),
                                                                                       atomically: true, encoding: .utf8)
        try #"[{"id":"c1","name":"tone","dataType":"CATEGORICAL"}]"#.write(toFile: temp.file("bad.json"), atomically: true, encoding: .utf8)
        var configuration = try await WickConfiguration.load(file: nil, flags: ["scores.configs-file": temp.file("scores.json")],
                                                             environment: [:])
        #expect(try configuration.loadScoreConfigs().byID["c1"]?.maxValue == 1)
        configuration.scoreConfigsFile = temp.file("bad.json")
        #expect(throws: ConfigurationError.self) { try configuration.loadScoreConfigs() }
        configuration.scoreConfigsFile = temp.file("missing.json")
        #expect(throws: ConfigurationError.self) { try configuration.loadScoreConfigs() }
        #expect(try WickConfiguration().loadScoreConfigs().isEmpty)
        await #expect(throws: ConfigurationError.self) {
            _ = try await WickConfiguration.load(file: nil, flags: ["replay.url": "central:3000"], environment: [:])
        }
        await #expect(throws: ConfigurationError.self) {
            _ = try await WickConfiguration.load(file: nil, flags: ["http.api-keys": "shop:pk-lf-1:not-a-hash"], environment: [:])
        }
        let sinks = try await WickConfiguration.load(file: nil, flags: ["replay.url": "http://central:3000/lf", "replay.concurrency": "2"],
                                                     environment: [:]).sinks
        guard sinks.count == 1, case .langfuse(let langfuse) = sinks[0].kind else {
            Issue.record("replay.url makes one langfuse sink: \(sinks)")
            return
        }
        #expect(Endpoint(url: langfuse.url)?.address == "central:3000" && Endpoint(url: langfuse.url)?.prefix == "/lf" && sinks[0].concurrency == 2)
        #expect(sinks[0].name == "central" && sinks[0].cursor == "replay.central" && langfuse.compression == .gzip)
    }

    @Test func stateDirectoryIsTheDefaultDataDirectoryUnderSystemd() async throws {
        let configuration = try await WickConfiguration.load(file: nil, flags: [:], environment: ["STATE_DIRECTORY": "/var/lib/wick"])
        #expect(configuration.dataDirectory == "/var/lib/wick")
        let overridden = try await WickConfiguration.load(file: nil, flags: [:],
                                                          environment: ["STATE_DIRECTORY": "/var/lib/wick", "WICK_DATA_DIR": "/srv/wick"])
        #expect(overridden.dataDirectory == "/srv/wick")
    }

    @Test(arguments: [
        ("storage.fsync", "sometimes"),
        ("storage.fsync-interval-ms", "ten"),
        ("storage.fsync-interval-ms", "0"),
        ("ingest.max-depth", "5000"),
        ("ingest.udp.address", "localhost"),
        ("ingest.unix.mode", "rw-rw----"),
        ("log.level", "loud"),
    ])
    func badValuesAreRefusedNamingTheirKey(_ key: String, _ value: String) async throws {
        do {
            _ = try await WickConfiguration.load(file: nil, flags: [key: value], environment: [:])
            Issue.record("\(key)=\(value) was accepted")
        } catch let error as ConfigurationError {
            #expect(error.key == key)
            #expect(error.description.contains(key))
        }
    }

    @Test func serveRefusesABadConfigurationWithExitCode2() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: builtExecutable("wick"))
        process.arguments = ["serve", "--fsync", "sometimes"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 2)
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("storage.fsync"))
    }
}
