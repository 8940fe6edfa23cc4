import Foundation
import Testing
import WickJSON

#if canImport(Glibc)
import Glibc
import WickTestSupport
#endif

/// The test plays systemd: it makes the sockets a `.socket` unit would, hands them to the built
/// `wick serve` at descriptors 3, 4 and 5, listens on NOTIFY_SOCKET, and stops the daemon with
/// SIGTERM. Real sockets, a real process; every wait is bounded.
@Suite(.serialized) struct SocketActivationTests {
    enum Kind: String, Sendable {
        case unixStream, udp, unixDatagram
    }

    /// WATCHDOG_USEC for the daemon: short, so that a few seconds show its cadence.
    static let watchdogMicroseconds = 400_000

    @Test func inheritedSocketsAreServedAndShutdownKeepsEveryEvent() throws {
        // The order and names systemd 252 gives for wick.socket: Listen* lines in order, and the
        // unit's name for each (one FileDescriptorName= per unit).
        try runActivated(notifyAddress: { $0.file("n") }, order: [.unixStream, .udp, .unixDatagram],
                         names: ["wick.socket", "wick.socket", "wick.socket"], eventsPerSocket: 40, watchdogPings: 8)
    }

    @Test func abstractNotifySocket() throws {
        let name = "@wick-test-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try runActivated(notifyAddress: { _ in name }, order: [.udp, .unixDatagram, .unixStream],
                         names: ["udp", "unix_datagram", "unix"], eventsPerSocket: 5, watchdogPings: 2)
    }

    /// systemd's ReceiveBuffer= is applied with SO_RCVBUFFORCE, beyond what the unprivileged daemon
    /// could ask for; the daemon may raise an inherited socket's buffer but must never lower it.
    @Test(arguments: [(setBytes: 200_000, configuredBytes: 65_536, raised: false),
                      (setBytes: 4_096, configuredBytes: 65_536, raised: true)])
    func inheritedReceiveBufferIsNeverLowered(setBytes: Int, configuredBytes: Int, raised: Bool) throws {
        let temp = TemporaryDirectory()
        let udp = try TestSocket.udpLoopback()
        defer { close(udp.fd) }
        try TestSocket.setReceiveBuffer(udp.fd, setBytes)
        let before = TestSocket.receiveBuffer(udp.fd)
        let daemon = try ActivatedDaemon.start(
            sockets: [udp.fd], names: ["udp"], notifySocket: nil, watchdogMicroseconds: nil, dataDirectory: temp.file("data"),
            arguments: ["--socket", temp.file("s"), "--unix-datagram", "off", "--metrics", "off"],
            environment: ["WICK_INGEST_UDP_RECEIVE_BUFFER_BYTES": String(configuredBytes)], logPath: temp.file("log"))
        defer { daemon.kill() }

        let line = try #require(daemon.readLine(timeout: .seconds(20)), "no listening line; log:\n\(daemon.log)")
        let listening = try JSONValue.parse(line)
        #expect(listening["udp"]?.stringValue == "127.0.0.1:\(udp.port)")
        let granted = listening["udp_receive_buffer_bytes"]?.numberValue?.int64Value.map(Int.init)
        #expect(granted == (raised ? 2 * configuredBytes : before), "SO_RCVBUF was \(before) before the daemon took the socket")
        #expect(TestSocket.receiveBuffer(udp.fd) == granted, "the daemon's report and the socket disagree")

        daemon.signal(SIGTERM)
        let termination = daemon.wait(timeout: .seconds(20))
        #expect(termination == .exited(0), "log:\n\(daemon.log)")
    }

    /// Most senders never bind their Unix datagram socket (`wick send --unix-datagram` does not), so
    /// their datagrams carry no sender address; NIO's datagram channel trapped on those and took the
    /// daemon down with it.
    @Test func unixDatagramFromAnUnboundSenderIsStored() throws {
        let temp = TemporaryDirectory()
        let datagramPath = temp.file("d")
        let datagram = try TestSocket.unixDatagram(datagramPath)
        defer { close(datagram) }
        let daemon = try ActivatedDaemon.start(
            sockets: [datagram], names: ["unix_datagram"], notifySocket: nil, watchdogMicroseconds: nil,
            dataDirectory: temp.file("data"),
            arguments: ["--socket", temp.file("s"), "--udp", "off", "--metrics", "127.0.0.1:0"],
            // Should it trap again, the test fails at once instead of waiting out a backtrace.
            environment: ["SWIFT_BACKTRACE": "enable=no"], logPath: temp.file("log"))
        defer { daemon.kill() }
        let line = try #require(daemon.readLine(timeout: .seconds(20)), "no listening line; log:\n\(daemon.log)")
        let metrics = try #require(try JSONValue.parse(line)["metrics"]?.stringValue)

        try TestSocket.sendDatagram(Array(ActivatedDaemon.event("unbound-1").utf8), toUnix: datagramPath, from: nil)
        _ = waitUntil(.seconds(10)) {
            daemon.wait(timeout: .zero) != nil || ActivatedDaemon.acceptedEvents(metrics: metrics) == 1
        }
        #expect(daemon.termination == nil, "\(daemon.termination.map { "\($0)" } ?? ""); log:\n\(daemon.log)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait(timeout: .seconds(20)) == .exited(0), "log:\n\(daemon.log)")
        #expect(try ActivatedDaemon.stored(temp.file("data")).eventIDs == ["unbound-1"])
    }

    // MARK: - The scenario

    private func runActivated(notifyAddress: (TemporaryDirectory) -> String, order: [Kind], names: [String],
                              eventsPerSocket: Int, watchdogPings: Int) throws {
        let temp = TemporaryDirectory()
        let streamPath = temp.file("s")
        let datagramPath = temp.file("d")
        let dataDirectory = temp.file("data")
        let stream = try TestSocket.unixStreamListener(streamPath)
        defer { close(stream) }
        let datagram = try TestSocket.unixDatagram(datagramPath)
        defer { close(datagram) }
        let udp = try TestSocket.udpLoopback()
        defer { close(udp.fd) }
        let notify = try NotifyReceiver(address: notifyAddress(temp))
        let descriptors = order.map { kind -> Int32 in
            switch kind {
            case .unixStream: stream
            case .udp: udp.fd
            case .unixDatagram: datagram
            }
        }

        let daemon = try ActivatedDaemon.start(
            sockets: descriptors, names: names, notifySocket: notify.address, watchdogMicroseconds: Self.watchdogMicroseconds,
            dataDirectory: dataDirectory, arguments: ["--metrics", "127.0.0.1:0"], logPath: temp.file("log"))
        defer { daemon.kill() }

        // It announces the sockets it inherited, not the ones its configuration would have made.
        let line = try #require(daemon.readLine(timeout: .seconds(20)), "no listening line; log:\n\(daemon.log)")
        let listening = try JSONValue.parse(line)
        #expect(listening["event"]?.stringValue == "listening")
        #expect(listening["pid"]?.numberValue?.int64Value == Int64(daemon.pid))
        #expect(listening["unix"]?.stringValue == streamPath)
        #expect(listening["udp"]?.stringValue == "127.0.0.1:\(udp.port)")
        #expect(listening["unix_datagram"]?.stringValue == datagramPath)
        #expect(!TestSocket.isSocketFile(dataDirectory + "/wick.sock"))
        #expect(!TestSocket.isSocketFile(dataDirectory + "/wick.dgram"))
        let metrics = try #require(listening["metrics"]?.stringValue)

        let ready = try #require(notify.first("READY=1", timeout: .seconds(20)), "no READY=1; log:\n\(daemon.log)")
        #expect(ready.message.fields.contains { $0.hasPrefix("STATUS=") })

        var sent: [String] = []
        var lines = ""
        for n in 1...eventsPerSocket {
            sent.append("stream-\(n)")
            lines += ActivatedDaemon.event("stream-\(n)") + "\n"
        }
        try TestSocket.sendStream(Array(lines.utf8), to: streamPath)
        for n in 1...eventsPerSocket {
            sent.append("udp-\(n)")
            try TestSocket.sendDatagram(Array(ActivatedDaemon.event("udp-\(n)").utf8), toUDPPort: udp.port)
            sent.append("dgram-\(n)")
            try TestSocket.sendDatagram(Array(ActivatedDaemon.event("dgram-\(n)").utf8), toUnix: datagramPath,
                                        from: temp.file("c"))
        }
        let accepted = waitUntil(.seconds(20)) { (ActivatedDaemon.acceptedEvents(metrics: metrics) ?? 0) >= sent.count }
        #expect(accepted, "accepted \(ActivatedDaemon.acceptedEvents(metrics: metrics) ?? -1) of \(sent.count); log:\n\(daemon.log)")

        let firstPing = notify.first("WATCHDOG=1", from: ready.index, timeout: .seconds(3))
        #expect(firstPing != nil, "no WATCHDOG=1 within 3 s of READY=1; log:\n\(daemon.log)")
        _ = waitUntil(.seconds(10)) { notify.all.filter { $0.has("WATCHDOG=1") }.count >= watchdogPings }

        daemon.signal(SIGTERM)
        let stopping = notify.first("STOPPING=1", from: ready.index, timeout: .seconds(10))
        #expect(stopping != nil, "no STOPPING=1 after SIGTERM; log:\n\(daemon.log)")
        let termination = daemon.wait(timeout: .seconds(20))
        #expect(termination == .exited(0), "log:\n\(daemon.log)")

        // systemd kills a service whose pings are further apart than WATCHDOG_USEC.
        let messages = notify.all
        let pings = messages[..<(stopping?.index ?? messages.count)].filter { $0.has("WATCHDOG=1") }.map(\.time)
        #expect(pings.count >= watchdogPings)
        let longestGap = zip(pings, pings.dropFirst()).map { $1 - $0 }.max() ?? .zero
        #expect(longestGap <= .microseconds(Self.watchdogMicroseconds), "watchdog pings \(longestGap) apart")
        // NotifyAccess=main: systemd drops notifications that do not come from the main process.
        #expect(messages.allSatisfy { $0.senderPID == daemon.pid }, "senders: \(Set(messages.map(\.senderPID)))")

        // Everything it took before SIGTERM is on disk.
        let stored = try ActivatedDaemon.stored(dataDirectory)
        #expect(stored.eventIDs.sorted() == sent.sorted())
        #expect(stored.deadLetters == 0)
        // The socket files are PID 1's: the daemon leaves them for the next start.
        #expect(TestSocket.isSocketFile(streamPath))
        #expect(TestSocket.isSocketFile(datagramPath))
    }
}
