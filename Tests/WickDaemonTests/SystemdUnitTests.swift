import Foundation
import Testing
import WickDaemon

#if canImport(Glibc)
import Glibc
import WickTestSupport
#endif

/// The units in systemd/: systemd's own checks on them, and the agreements between them and the
/// daemon that nothing else would notice breaking.
@Suite struct SystemdUnitTests {
    static let systemdAnalyze = toolOnPath("systemd-analyze")
    static let systemdSysusers = toolOnPath("systemd-sysusers")
    static let directory = packageRoot + "/systemd"

    /// Where the unit says the binary is installed; tests point it at the one just built, because
    /// systemd-analyze insists that ExecStart= names an existing executable.
    static let installedBinary = "/usr/local/bin/wick"

    @Test(.enabled(if: systemdAnalyze != nil, "systemd-analyze is not installed"))
    func unitsPassVerify() throws {
        let units = try InstalledCopy()
        let result = try run(Self.systemdAnalyze!, ["verify", units.service, units.socket], environment: Self.toolEnvironment)
        #expect(result.termination == .exited(0), "\(result.output)\(result.errors)")
        // Complaints about other units on the host are not ours; any naming our units is.
        let ours = (result.output + result.errors).split(separator: "\n").filter { $0.contains("wick.") }
        #expect(ours.isEmpty, "\(ours.joined(separator: "\n"))")
    }

    @Test(.enabled(if: systemdAnalyze != nil, "systemd-analyze is not installed"))
    func serviceExposureIsAtMostTwo() throws {
        let units = try InstalledCopy()
        let result = try run(Self.systemdAnalyze!, ["security", "--offline=true", units.service], environment: Self.toolEnvironment)
        #expect(result.termination == .exited(0), "\(result.errors)")
        // "→ Overall exposure level for wick.service: 1.3 OK :-)"
        let last = try #require(result.output.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty },
                                "no output; stderr: \(result.errors)")
        let label = "Overall exposure level for wick.service: "
        let figure = last.range(of: label).flatMap { last[$0.upperBound...].split(separator: " ").first }.flatMap { Double($0) }
        let exposure = try #require(figure, "cannot read the exposure from: \(last)")
        #expect(exposure <= 2.0, "\(result.output)")
    }

    @Test(.enabled(if: systemdSysusers != nil, "systemd-sysusers is not installed"))
    func sysusersEntryIsValid() throws {
        let root = TemporaryDirectory()
        mkdir(root.file("etc"), 0o755)
        let result = try run(Self.systemdSysusers!, ["--root=\(root.path)", "--dry-run", Self.directory + "/wick.sysusers"],
                             environment: Self.toolEnvironment)
        #expect(result.termination == .exited(0), "\(result.output)\(result.errors)")
        #expect((result.output + result.errors).contains("'wick'"), "\(result.output)\(result.errors)")
    }

    /// Agents reach the sockets through SocketGroup=, which must exist before PID 1 binds them; and
    /// systemd refuses (EILSEQ) a dynamic user whose name a static group already has.
    @Test func socketGroupExistsAndIsNotTheDynamicUsersName() throws {
        let socket = try UnitFile(Self.directory + "/wick.socket")
        let service = try UnitFile(Self.directory + "/wick.service")
        let groups = try UnitFile.sysusersGroups(Self.directory + "/wick.sysusers")
        let socketGroup = try #require(socket.value("Socket", "SocketGroup"))
        #expect(groups.contains(socketGroup))
        #expect(service.value("Service", "DynamicUser") == "yes")
        let dynamicUser = service.value("Service", "User") ?? "wick"
        #expect(!groups.contains(dynamicUser), "the dynamic user \(dynamicUser) collides with a static group")
    }

    /// With DynamicUser=, a RuntimeDirectory= holding the socket files would take them away from
    /// the agents: removed when the daemon stops, or moved under /run/private when preserved.
    @Test func socketFilesAreNotInTheServicesRuntimeDirectory() throws {
        let socket = try UnitFile(Self.directory + "/wick.socket")
        let service = try UnitFile(Self.directory + "/wick.service")
        let paths = (socket.values("Socket", "ListenStream") + socket.values("Socket", "ListenDatagram")).filter { $0.hasPrefix("/") }
        #expect(paths.count == 2)
        for directory in service.values("Service", "RuntimeDirectory").flatMap({ $0.split(separator: " ") }) {
            for path in paths {
                #expect(!path.hasPrefix("/run/\(directory)/"), "\(path) is inside RuntimeDirectory=\(directory)")
            }
        }
    }

    /// The socket unit stands in for the daemon's own defaults, so the two must not drift apart.
    @Test func socketUnitMatchesTheDaemonsDefaults() throws {
        let socket = try UnitFile(Self.directory + "/wick.socket")
        let defaults = WickConfiguration()
        #expect(socket.values("Socket", "ListenDatagram").contains(defaults.udpAddress))
        let stream = try #require(socket.values("Socket", "ListenStream").first)
        #expect(stream.hasSuffix("/wick.sock"))
        let directory = String(stream.dropLast("wick.sock".count))
        #expect(socket.values("Socket", "ListenDatagram").contains(directory + "wick.dgram"))
        let receiveBuffer = try #require(socket.value("Socket", "ReceiveBuffer").flatMap(UnitFile.bytes))
        #expect(receiveBuffer == defaults.udpReceiveBufferBytes)
        // One name covers every socket of a unit, so names cannot tell ours apart.
        #expect(socket.values("Socket", "FileDescriptorName").isEmpty)
    }

    @Test func serviceNotifiesAndStaysOnTheHostNetwork() throws {
        let service = try UnitFile(Self.directory + "/wick.service")
        #expect(service.value("Service", "Type") == "notify")
        #expect(service.value("Service", "NotifyAccess") == "main")
        #expect(service.value("Service", "ExecStart") == "\(Self.installedBinary) serve")
        #expect(service.value("Service", "WatchdogSec") != nil)
        // The daemon serves metrics on loopback and reads the host's UDP socket table.
        #expect(service.value("Service", "PrivateNetwork").map { $0 == "no" || $0 == "false" } ?? true)
    }

    // MARK: - Support

    static var toolEnvironment: [String: String] {
        var environment = ["SYSTEMD_COLORS": "0", "SYSTEMD_PAGER": "cat", "SYSTEMD_LOG_COLOR": "0"]
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return environment
    }

    /// Copies of both units in a temporary directory, ExecStart= pointing at the built binary.
    struct InstalledCopy {
        let directory: TemporaryDirectory
        var service: String { directory.file("wick.service") }
        var socket: String { directory.file("wick.socket") }

        init() throws {
            directory = TemporaryDirectory("wunit")
            let binary = builtExecutable("wick")
            guard access(binary, X_OK) == 0 else { throw SetupError("no built wick at \(binary)") }
            let service = try String(contentsOfFile: SystemdUnitTests.directory + "/wick.service", encoding: .utf8)
            try service.replacingOccurrences(of: SystemdUnitTests.installedBinary, with: binary)
                .write(toFile: self.service, atomically: true, encoding: .utf8)
            try String(contentsOfFile: SystemdUnitTests.directory + "/wick.socket", encoding: .utf8)
                .write(toFile: socket, atomically: true, encoding: .utf8)
        }
    }
}

/// A unit file's settings, by section and key, in order (a key may repeat).
struct UnitFile {
    private var entries: [(section: String, key: String, value: String)] = []

    init(_ path: String) throws {
        var section = ""
        for raw in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast())
            } else if let equals = line.firstIndex(of: "=") {
                entries.append((section, String(line[..<equals]).trimmingCharacters(in: .whitespaces),
                                String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces)))
            }
        }
    }

    func values(_ section: String, _ key: String) -> [String] {
        entries.filter { $0.section == section && $0.key == key }.map(\.value)
    }

    /// The value in effect: the last one.
    func value(_ section: String, _ key: String) -> String? {
        values(section, key).last
    }

    /// The groups a sysusers.d file creates.
    static func sysusersGroups(_ path: String) throws -> Set<String> {
        var groups: Set<String> = []
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, fields[0] == "g" { groups.insert(String(fields[1])) }
        }
        return groups
    }

    /// A systemd size ("8M"): K, M and G are powers of 1024.
    static func bytes(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = text.last, let unit = units[last] {
            return Int(text.dropLast()).map { $0 * unit }
        }
        return Int(text)
    }
}
