/// The fixed 64-byte header at the start of every segment file (docs/format.md §1).
struct SegmentHeader: Equatable, Sendable {
    static let magic: [UInt8] = Array("WICKSEG\0".utf8)
    static let size = 64
    /// The newest version this build reads. Version 2 adds split frames (type 2), version 3 frames
    /// split into streams (type 3) and version 4 streams that may be word-coded (type 4), which only
    /// compacted segments hold; raw and dead-letter segments are still written as version 1, so that
    /// a build that reads only version 1 reads them.
    static let formatVersion: UInt16 = 4
    /// What a segment of `kind` is written as.
    static func version(for kind: SegmentKind) -> UInt16 { kind == .compacted ? 4 : 1 }

    var version: UInt16 = 1
    var kind: SegmentKind
    var segmentID: UInt64
    /// Receive-clock microseconds.
    var createdAt: Int64
    /// Sequence number of the first record this segment holds (or will hold).
    var firstSequence: UInt64
    /// Compacted segments only: one past the last raw sequence number the segment replaces (its
    /// records replace the raw records `firstSequence..<coveredEnd`); 0 for other kinds.
    var coveredEnd: UInt64 = 0

    func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.reserveCapacity(Self.size)
        bytes.appendLE(version)
        bytes.append(kind.rawValue)
        bytes.append(0)
        bytes.appendLE(UInt32(Self.size))
        bytes.appendLE(segmentID)
        bytes.appendLE(createdAt)
        bytes.appendLE(firstSequence)
        bytes.appendLE(coveredEnd)
        bytes.append(contentsOf: [UInt8](repeating: 0, count: 12))
        bytes.appendLE(CRC32C.checksum(bytes))
        assert(bytes.count == Self.size)
        return bytes
    }

    enum DecodeError: Error, Equatable {
        case short, badMagic, badChecksum, unsupportedVersion(UInt16)
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<SegmentHeader, DecodeError> {
        guard bytes.count >= size else { return .failure(.short) }
        guard bytes.prefix(8).elementsEqual(magic) else { return .failure(.badMagic) }
        let stored = bytes.loadLE(UInt32.self, at: 60)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<60])) == stored else {
            return .failure(.badChecksum)
        }
        let version = bytes.loadLE(UInt16.self, at: 8)
        guard version <= formatVersion else { return .failure(.unsupportedVersion(version)) }
        return .success(SegmentHeader(
            version: version,
            kind: SegmentKind(rawValue: bytes[10]),
            segmentID: bytes.loadLE(UInt64.self, at: 16),
            createdAt: bytes.loadLE(Int64.self, at: 24),
            firstSequence: bytes.loadLE(UInt64.self, at: 32),
            coveredEnd: bytes.loadLE(UInt64.self, at: 40)
        ))
    }
}
