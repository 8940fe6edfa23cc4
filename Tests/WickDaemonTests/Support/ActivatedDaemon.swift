import Foundation
import WickDaemon
import WickJSON
import WickStore

#if canImport(Glibc)
import Glibc
#endif

/// Starts `wick serve` the way systemd starts a socket-activated Type=notify service: the sockets
/// at descriptors 3, 4, 5…, LISTEN_FDS and LISTEN_FDNAMES, NOTIFY_SOCKET, WATCHDOG_USEC.
enum ActivatedDaemon {
    static func start(sockets: [Int32], names: [String]?, notifySocket: String?, watchdogMicroseconds: Int?,
                      dataDirectory: String, arguments: [String] = [], environment extra: [String: String] = [:],
                      logPath: String) throws -> ChildProcess {
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        if !sockets.isEmpty { environment["LISTEN_FDS"] = String(sockets.count) }
        if let names { environment["LISTEN_FDNAMES"] = names.joined(separator: ":") }
        if let notifySocket { environment["NOTIFY_SOCKET"] = notifySocket }
        if let watchdogMicroseconds { environment["WATCHDOG_USEC"] = String(watchdogMicroseconds) }
        environment.merge(extra) { $1 }
        // LISTEN_PID and WATCHDOG_PID must name the daemon itself, which has no pid before it runs:
        // the shell exports its own, and exec keeps it.
        let script = "export LISTEN_PID=$$ WATCHDOG_PID=$$; exec \"$0\" \"$@\""
        return try ChildProcess("/bin/sh", ["-c", script, builtExecutable("wick"), "serve", "--data-dir", dataDirectory,
                                                   "--http", "127.0.0.1:0"] + arguments,
                                environment: environment, descriptors: sockets, stderrPath: logPath)
    }

    /// One Langfuse ingestion event, as an NDJSON line without its newline.
    static func event(_ id: String) -> String {
        "{\"id\":\"\(id)\",\"type\":\"trace-create\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"body\":{\"id\":\"trace-\(id)\"}}"
    }

    /// The daemon's count of accepted events, from its metrics page (nil while it cannot be read).
    static func acceptedEvents(metrics address: String) -> Int? {
        guard let page = try? MetricsClient.fetch(address) else { return nil }
        return MetricsClient.parse(page).first { $0.name == "wick_ingest_events_accepted_total" && $0.labels.isEmpty }
            .map { Int($0.value) }
    }

    /// The ids of the events stored in a data directory, and how many records went to the
    /// dead-letter log.
    static func stored(_ path: String) throws -> (eventIDs: [String], deadLetters: Int) {
        let reader = try StoreReader(DataDirectory(path))
        var ids: [String] = []
        try reader.eventReader().read(from: 0) { _, record in
            let value = try JSONValue.parse(Array(record.payload))
            ids.append(value["id"]?.stringValue ?? "?")
        }
        var deadLetters = 0
        try reader.deadLetterReader().read(from: 0) { _, _ in deadLetters += 1 }
        return (ids, deadLetters)
    }
}
