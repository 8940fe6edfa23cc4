#if canImport(Glibc)
import Glibc
#endif

/// Where a data directory keeps what (docs/format.md §0):
///
///     <root>/LOCK             held by the daemon (flock) while it runs
///     <root>/log/             the event log: segment files <id>.wseg
///     <root>/dead-letter/     rejected inputs with their reasons: segment files
///     <root>/compacted/       compacted segments: one document per trace (tmp/ holds unpublished ones)
///     <root>/index.lmdb       the LMDB index (derived: rebuilt from log/ when missing or behind)
///     <root>/runtime.json     where the running daemon listens (written at start, for `wick stats`)
///     <root>/sinks/           replay sinks' own state (a file sink's: <name>.state), kept by WickReplay
///     <root>/admin-token      the running daemon's token for `POST /wick/import` and `/wick/compact` (mode 0600)
public struct DataDirectory: Sendable, Hashable {
    public var root: String

    public init(_ root: String) {
        var trimmed = root
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.root = trimmed
    }

    public var lockPath: String { root + "/LOCK" }
    public var logDirectory: String { root + "/log" }
    public var deadLetterDirectory: String { root + "/dead-letter" }
    public var compactedDirectory: String { root + "/compacted" }
    /// Where a compacted segment is written before it is published by a rename.
    var compactedStagingDirectory: String { root + "/compacted/tmp" }
    public var indexPath: String { root + "/index.lmdb" }
    public var runtimePath: String { root + "/runtime.json" }
    /// The running daemon's token for its admin endpoints that write (`POST /wick/import`), mode
    /// 0600: whoever may write the data directory may import into it, and no one else.
    public var adminTokenPath: String { root + "/admin-token" }
    /// API key pairs (public key, SHA-256 of the secret, project), one JSON object per line.
    public var apiKeysPath: String { root + "/api-keys.jsonl" }

    /// The default data directory: `$STATE_DIRECTORY` when systemd sets it, else `$WICK_DATA_DIR`,
    /// else `./wick-data`. An explicit `--data-dir` overrides all of them (the caller passes it).
    public static func resolve(explicit: String?, environment: [String: String]) -> DataDirectory {
        if let explicit, !explicit.isEmpty { return DataDirectory(explicit) }
        if let wick = environment["WICK_DATA_DIR"], !wick.isEmpty { return DataDirectory(wick) }
        if let state = environment["STATE_DIRECTORY"], !state.isEmpty {
            // systemd may pass several, colon-separated; the first is ours.
            return DataDirectory(String(state.split(separator: ":").first ?? Substring(state)))
        }
        return DataDirectory("./wick-data")
    }

    /// True when a daemon holds this directory.
    public var isLocked: Bool {
        DirectoryLock.isHeld(lockPath)
    }

    public var exists: Bool {
        FileSystem.isDirectory(root)
    }
}
