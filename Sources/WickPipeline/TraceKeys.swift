import WickModel
public import WickStore

/// Where the assembler keeps what it derives (namespaces of the store's documents), and how traces
/// are named in it.
public enum TraceDocuments: Sendable {
    /// Trace summaries: key = project, 0, trace id; ordered by start time.
    public static let summaries: UInt8 = 1
    /// The settled feed (`wick tail --traces`): key = settle counter (big-endian); value = summary key.
    public static let settled: UInt8 = 2
    /// The assembler's own bookkeeping (the settle counter).
    public static let state: UInt8 = 3
    /// The cursor the assembler keeps in the store.
    public static let cursor = "assembler"

    public static func key(project: String, traceID: String) -> [UInt8] {
        Array(project.utf8) + [0] + Array(traceID.utf8)
    }

    public static func split(_ key: [UInt8]) -> (project: String, traceID: String)? {
        guard let zero = key.firstIndex(of: 0) else { return nil }
        return (String(decoding: key[..<zero], as: UTF8.self), String(decoding: key[(zero + 1)...], as: UTF8.self))
    }

    /// Start time (µs, big-endian, sign flipped so negatives sort first): summaries list newest first.
    static func orderKey(start: Int64) -> [UInt8] {
        withUnsafeBytes(of: (UInt64(bitPattern: start) ^ (1 << 63)).bigEndian) { Array($0) }
    }

    public static func traceIndexKey(_ traceID: String) -> IndexKey {
        IndexKey(space: KeySpace(rawValue: IndexSpaces.traceID), traceID)
    }
}

/// Where stored events come from: the daemon's open store, or a reader beside it.
public protocol EventSource {
    func records(for key: IndexKey) throws(StorageError) -> [StoredRecord]
}

extension DataStore: EventSource {}
extension StoreReader: EventSource {}
