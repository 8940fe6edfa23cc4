import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A test's failure to set something up, with what went wrong.
struct SetupError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }

    /// The failed call and errno's text.
    static func system(_ call: String) -> SetupError {
        SetupError("\(call): \(String(cString: strerror(errno)))")
    }
}

/// The path of an executable built beside the test bundle.
func builtExecutable(_ name: String) -> String {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
}

/// The package's root directory (where Package.swift is).
let packageRoot: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// An executable found on PATH, or nil.
func toolOnPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") where !directory.isEmpty {
        let candidate = "\(directory)/\(name)"
        if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
}

/// Polls `condition` until it holds or `timeout` passes; true when it held.
func waitUntil(_ timeout: Duration, every interval: Duration = .milliseconds(20), _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        sleep(for: interval)
    }
}

/// Blocks the calling thread (the waits here are short and bounded).
func sleep(for duration: Duration) {
    let (seconds, attoseconds) = duration.components
    usleep(UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
}

/// The contents of a file, or "" when it cannot be read (for failure messages).
func fileText(_ path: String) -> String {
    (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
}
