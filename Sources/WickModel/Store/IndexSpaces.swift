/// The key spaces Wick gives the store's index. `WickStore` numbers spaces and knows nothing of
/// what they mean; this is where the meaning is fixed (docs/format.md §5). Values never change.
public enum IndexSpaces: Sendable {
    /// Trace id: every event of a trace, found by `wick trace` and the read API.
    public static let traceID: UInt8 = 1
    /// Event id (the envelope id): reserved for deduplication.
    public static let eventID: UInt8 = 2
    /// Observation id: reserved for observation lookups.
    public static let observationID: UInt8 = 3
}

/// The keys of a dead-letter record (a rejected input). Its payload is the input's bytes, cut to
/// `RejectLimits.maxStoredBytes`.
public enum DeadLetterKeys: Sendable {
    public static let reason: UInt8 = 1
    public static let source: UInt8 = 2
    public static let detail: UInt8 = 3
    /// The input's full length in bytes, as decimal digits (the payload may be cut).
    public static let originalLength: UInt8 = 4
}

public enum RejectLimits: Sendable {
    /// How much of a rejected input is kept in the dead-letter log.
    public static let maxStoredBytes = 64 * 1024
}
