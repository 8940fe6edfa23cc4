/// Segment files are named by their id, zero-padded so that names sort as ids do.
enum SegmentNaming {
    static let suffix = ".wseg"

    static func fileName(_ id: UInt64) -> String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    static func id(fromFileName name: String) -> UInt64? {
        guard name.hasSuffix(suffix), name.count == 20 + suffix.count else { return nil }
        return UInt64(name.dropLast(suffix.count))
    }

    /// Ids of the segment files in `directory`, ascending.
    static func segmentIDs(in directory: String) throws(StorageError) -> [UInt64] {
        try FileSystem.list(directory).compactMap(id(fromFileName:)).sorted()
    }
}

/// A segment as the log knows it: enough for a reader to find records by sequence number.
public struct SegmentInfo: Sendable, Hashable {
    public var id: UInt64
    public var path: String
    public var firstSequence: UInt64
    public var sealed: Bool

    public init(id: UInt64, path: String, firstSequence: UInt64, sealed: Bool) {
        self.id = id
        self.path = path
        self.firstSequence = firstSequence
        self.sealed = sealed
    }
}
