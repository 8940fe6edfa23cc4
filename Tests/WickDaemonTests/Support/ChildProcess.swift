import Foundation

#if canImport(Glibc)
import Glibc
import WickTestSupport
#endif

/// A process started with posix_spawn, so that the test decides exactly which descriptors it gets
/// (systemd's LISTEN_FDS sockets at 3, 4, 5…), with stdout on a pipe the test reads (or in a file)
/// and stderr in a file. Whoever starts one calls `kill()` in a `defer`, so that a failing test leaves nothing
/// running.
final class ChildProcess {
    enum Termination: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        var description: String {
            switch self {
            case .exited(let code): "exited with \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        }
    }

    let pid: pid_t
    let stderrPath: String
    private var stdoutFD: Int32
    private var stdoutBuffer: [UInt8] = []
    private(set) var termination: Termination?

    /// Starts `executable` with `arguments`; `descriptors[i]` becomes the child's descriptor 3 + i.
    init(_ executable: String, _ arguments: [String], environment: [String: String], descriptors: [Int32] = [],
         stdoutPath: String? = nil, stderrPath: String) throws {
        self.stderrPath = stderrPath
        // Copies far above 3 + count, so that placing one never overwrites another still to be placed.
        var sources: [Int32] = []
        defer { for fd in sources { close(fd) } }
        for fd in descriptors {
            let copy = fcntl(fd, F_DUPFD_CLOEXEC, 100)
            guard copy >= 0 else { throw SetupError.system("fcntl(F_DUPFD_CLOEXEC)") }
            sources.append(copy)
        }
        // A socket pair rather than a pipe: it is made close-on-exec atomically, so no process that
        // another test spawns meanwhile can hold the write end open.
        var pipeFDs: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, TestSocket.streamType, 0, &pipeFDs) == 0 else { throw SetupError.system("socketpair") }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let stdoutPath {
            posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        }
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        for (index, source) in sources.enumerated() {
            // dup2 clears close-on-exec on the copy the child gets.
            posix_spawn_file_actions_adddup2(&actions, source, 3 + Int32(index))
        }

        // The test runner's signal mask and handlers are no business of the child's.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        close(pipeFDs[1])
        guard result == 0 else {
            close(pipeFDs[0])
            throw SetupError("posix_spawn \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
        stdoutFD = pipeFDs[0]
    }

    deinit {
        kill()
        if stdoutFD >= 0 { close(stdoutFD) }
    }

    /// The next line the child writes to stdout, or nil when none comes within `timeout` (or stdout
    /// closes first).
    func readLine(timeout: Duration) -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let newline = stdoutBuffer.firstIndex(of: 0x0A) {
                let line = String(decoding: stdoutBuffer[..<newline], as: UTF8.self)
                stdoutBuffer.removeSubrange(...newline)
                return line
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero, stdoutFD >= 0 else { return nil }
            var poller = pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, pollMilliseconds(left)) >= 0 || errno == EINTR else { return nil }
            guard poller.revents != 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = read(stdoutFD, &chunk, chunk.count)
            if count > 0 {
                stdoutBuffer.append(contentsOf: chunk[0..<count])
            } else if count == 0 || errno != EINTR {
                close(stdoutFD)
                stdoutFD = -1
            }
        }
    }

    func signal(_ signal: Int32) {
        guard termination == nil else { return }
        _ = Glibc.kill(pid, signal)
    }

    /// Waits up to `timeout` for the child to end; nil when it is still running.
    @discardableResult
    func wait(timeout: Duration) -> Termination? {
        _ = waitUntil(timeout, every: .milliseconds(10)) { reap(blocking: false) }
        return termination
    }

    /// SIGKILL unless it already ended, and reap it. Safe to call more than once.
    func kill() {
        guard termination == nil else { return }
        _ = Glibc.kill(pid, SIGKILL)
        // SIGKILL cannot be caught: the wait that follows is short.
        _ = reap(blocking: true)
    }

    /// The daemon's log so far, for failure messages.
    var log: String { fileText(stderrPath) }

    private func reap(blocking: Bool) -> Bool {
        if termination != nil { return true }
        var status: Int32 = 0
        let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
        if result == pid {
            termination = status & 0x7F == 0 ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)
            return true
        }
        if result < 0 && errno == EINTR { return false }
        return result < 0
    }
}

/// Runs a command to completion (bounded by `timeout`, then killed), with stdout and stderr in files.
func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
         timeout: Duration = .seconds(60)) throws -> (termination: ChildProcess.Termination?, output: String, errors: String) {
    let directory = TemporaryDirectory("wrun")
    let child = try ChildProcess(executable, arguments, environment: environment ?? ProcessInfo.processInfo.environment,
                                 stdoutPath: directory.file("out"), stderrPath: directory.file("err"))
    defer { child.kill() }
    let termination = child.wait(timeout: timeout)
    return (termination, fileText(directory.file("out")), fileText(directory.file("err")))
}

/// A poll(2) timeout: what is left of a wait, at least 1 ms and at most 1 s at a time.
func pollMilliseconds(_ left: Duration) -> Int32 {
    let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
    return Int32(max(1, min(milliseconds, 1000)))
}
