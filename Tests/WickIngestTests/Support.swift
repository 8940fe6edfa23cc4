import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing
import WickStore

@testable import WickIngest
import WickTestSupport

/// A data store and every listener, in this process, on real sockets in a temp directory.
final class IngestFixture {
    let temp = TemporaryDirectory()
    let store: DataStore
    let counters = IngestCounters()
    let server: IngestServer
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var bound: [BoundListener] = []

    init(maxLineBytes: Int = 1 << 20, configure: (inout DataStore.Configuration) -> Void = { _ in }) async throws {
        var configuration = DataStore.Configuration()
        configuration.log.commitIntervalMilliseconds = 5
        configuration.log.minFreeBytes = 0
        configuration.deadLetter.commitIntervalMilliseconds = 5
        configuration.deadLetter.minFreeBytes = 0
        configure(&configuration)
        store = try DataStore.open(DataDirectory(temp.path + "/data"), configuration: configuration, logger: quietLogger)
        var serverConfiguration = IngestServer.Configuration()
        serverConfiguration.maxLineBytes = maxLineBytes
        serverConfiguration.drainTimeoutMilliseconds = 5000
        serverConfiguration.listeners = [
            ListenerConfiguration(endpoint: .unixStream(path: temp.path + "/s", mode: 0o600, group: nil)),
            ListenerConfiguration(endpoint: .udp(host: "127.0.0.1", port: 0), receiveBufferBytes: 4 << 20),
            ListenerConfiguration(endpoint: .unixDatagram(path: temp.path + "/d", mode: 0o600, group: nil)),
        ]
        server = IngestServer(configuration: serverConfiguration, store: store, counters: counters, group: group, logger: quietLogger)
        bound = try await server.start()
    }

    var unixPath: String { temp.path + "/s" }
    var datagramPath: String { temp.path + "/d" }
    var udp: (String, Int) {
        let address = bound.first { $0.kind == .udp }!.address
        let colon = address.lastIndex(of: ":")!
        return (String(address[..<colon]), Int(address[address.index(after: colon)...])!)
    }

    func shutdown() async {
        await server.stop()
        store.close()
        try? await group.shutdownGracefully()
    }

    /// Every event record now in the log.
    func events() throws -> [StoredRecord] {
        var records: [StoredRecord] = []
        try store.events.reader().read(from: 0, until: store.events.durableSequence) { records.append($1.stored(sequence: $0)) }
        return records
    }

    func deadLetters() throws -> [DeadLetter] {
        var letters: [DeadLetter] = []
        try store.deadLetters.reader().read(from: 0, until: store.deadLetters.durableSequence) {
            letters.append(DeadLetter($1.stored(sequence: $0)))
        }
        return letters
    }

    /// Waits (bounded) until `condition` holds.
    func waitUntil(_ seconds: Double = 10, _ condition: () throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return try condition()
    }
}

/// A small realistic corpus, fixed seed: the generator the benchmarks use.
func corpus(traces: Int = 200, seed: Int = 7) throws -> [UInt8] {
    try generatedEvents(traces: traces, seed: seed)
}

func lines(_ bytes: [UInt8]) -> [[UInt8]] {
    bytes.split(separator: 0x0A, omittingEmptySubsequences: true).map(Array.init)
}

/// A raw Unix stream connection, for what `Sender` would not do (missing newlines, odd writes).
final class RawConnection {
    let fd: Int32

    init(_ path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { return }
            offset += written
        }
    }

    func close() {
        Glibc.close(fd)
    }
}
