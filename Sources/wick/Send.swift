import ArgumentParser
import WickDaemon
import WickIngest
import WickJSON
import WickStore

#if canImport(Glibc)
import Glibc
#endif

struct Send: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send NDJSON events (from files, or stdin) to a running daemon.",
        discussion: """
            Without a target it uses the Unix socket of the daemon on --data-dir (from its runtime.json). \
            --ack waits until every line is durable or rejected and fails when any was rejected. \
            A summary goes to stderr as one JSON line.
            """
    )

    @Option(help: "The Unix stream socket.") var socket: String?
    @Option(help: "A UDP address, HOST:PORT (one line per datagram, sent with sendmmsg).") var udp: String?
    @Option(name: .customLong("unix-datagram"), help: "A Unix datagram socket (one line per datagram).") var unixDatagram: String?
    @Flag(help: "Ask for acks and wait until every line is durable or rejected (Unix stream only).") var ack = false
    @Option(help: "Lines per second (default: as fast as possible).") var rate: Double?
    @OptionGroup var data: DataDirectoryOption
    @Argument(help: "NDJSON files (default: stdin).") var files: [String] = []

    func run() throws {
        let target: SendTarget
        if let udp {
            guard let address = HostPort(udp) else { throw ValidationError("--udp takes HOST:PORT") }
            target = .udp(host: address.host, port: address.port)
        } else if let unixDatagram {
            target = .unixDatagram(path: unixDatagram)
        } else if let socket {
            target = .unixStream(path: socket)
        } else {
            let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
            guard let path = RuntimeInfo.unixSocket(of: directory) else {
                throw ValidationError("no --socket given and no daemon found on \(directory.root) (start `wick serve`)")
            }
            target = .unixStream(path: path)
        }
        if ack, case .unixStream = target {} else if ack {
            throw ValidationError("--ack works on the Unix stream socket only (datagrams are best effort)")
        }
        var input: [UInt8] = []
        if files.isEmpty {
            input = readAll(fileDescriptor: 0)
        } else {
            for file in files {
                let fd = open(file, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw ValidationError("cannot open \(file)") }
                var bytes = readAll(fileDescriptor: fd)
                close(fd)
                if let last = bytes.last, last != 0x0A { bytes.append(0x0A) }
                input.append(contentsOf: bytes)
            }
        }
        let summary: SendSummary
        do {
            summary = try Sender.send(input, options: SendOptions(target: target, acknowledged: ack, rate: rate))
        } catch {
            printError("wick send: \(error)")
            throw ExitCode(1)
        }
        printError(String(decoding: summary.json.serialized(), as: UTF8.self))
        if let error = summary.error {
            printError("wick send: \(error)")
            throw ExitCode(1)
        }
        if ack {
            if (summary.acknowledged ?? 0) < summary.lines {
                printError("wick send: only \(summary.acknowledged ?? 0) of \(summary.lines) lines were acknowledged")
                throw ExitCode(1)
            }
            if (summary.rejected ?? 0) > 0 {
                printError("wick send: \(summary.rejected ?? 0) lines were rejected (see `wick rejects`)")
                throw ExitCode(3)
            }
        }
    }

    private func readAll(fileDescriptor fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = read(fd, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }
}
