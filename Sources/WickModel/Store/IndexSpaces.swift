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

