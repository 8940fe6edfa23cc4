public import WickStore

/// What a running daemon left in its data directory about itself.
public enum RuntimeInfo: Sendable {
    /// The running daemon's announcement, nil when no daemon holds the directory.
    public static func announcement(of directory: DataDirectory) -> ListeningAnnouncement? {
        guard directory.isLocked else { return nil }
        return RuntimeFile.read(directory.runtimePath)
    }

    /// The Unix stream socket of the daemon running on `directory`.
    public static func unixSocket(of directory: DataDirectory) -> String? {
        announcement(of: directory)?.unix
    }
}
