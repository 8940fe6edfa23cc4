/// What the index knows of a segment without opening it: the segment catalog (docs/format.md §5).
public struct CatalogEntry: Sendable, Hashable {
    public var segmentID: UInt64
    public var kind: SegmentKind
    public var sealed: Bool
    public var firstSequence: UInt64
    /// One past the last record's sequence number (records lost to damage leave gaps, so this is not
    /// always `firstSequence + recordCount`).
    public var nextSequence: UInt64
    public var recordCount: UInt64
    public var frameCount: UInt32
    public var fileBytes: Int64
    public var uncompressedBytes: UInt64
    public var createdAt: Int64
    /// Receive-time range of its records (0 when it has none).
    public var minReceiveTime: Int64
    public var maxReceiveTime: Int64

    func encoded() -> [UInt8] {
        var bytes: [UInt8] = [1, kind.rawValue, sealed ? 1 : 0, 0]
        bytes.appendLE(segmentID)
        bytes.appendLE(firstSequence)
        bytes.appendLE(nextSequence)
        bytes.appendLE(recordCount)
        bytes.appendLE(frameCount)
        bytes.appendLE(fileBytes)
        bytes.appendLE(uncompressedBytes)
        bytes.appendLE(createdAt)
        bytes.appendLE(minReceiveTime)
        bytes.appendLE(maxReceiveTime)
        return bytes
    }

    static func decode(_ raw: UnsafeRawBufferPointer) -> CatalogEntry? {
        var reader = ByteReader(raw)
        guard reader.readByte() == 1, let kind = reader.readByte(), let sealed = reader.readByte(),
              reader.readByte() != nil, let id = reader.readLE(UInt64.self), let first = reader.readLE(UInt64.self),
              let next = reader.readLE(UInt64.self), let count = reader.readLE(UInt64.self), let frames = reader.readLE(UInt32.self),
              let fileBytes = reader.readLE(Int64.self), let uncompressed = reader.readLE(UInt64.self),
              let created = reader.readLE(Int64.self), let minTime = reader.readLE(Int64.self),
              let maxTime = reader.readLE(Int64.self)
        else { return nil }
        return CatalogEntry(segmentID: id, kind: SegmentKind(rawValue: kind), sealed: sealed == 1, firstSequence: first,
                            nextSequence: next, recordCount: count, frameCount: frames, fileBytes: fileBytes,
                            uncompressedBytes: uncompressed, createdAt: created, minReceiveTime: minTime,
                            maxReceiveTime: maxTime)
    }
}
