/// Records encoded back to back, ready for the log. Callers on the hot path build one batch per read
/// and hand it over whole: one allocation per batch, none per record.
///
/// Record layout (docs/format.md §3):
/// `u32 length | u8 kind | u8 keyCount | i64 receiveTime | varint projectLength | project |
///  keyCount × (u8 space | varint length | key) | payload`
/// `length` counts the bytes after itself; the payload is whatever remains.
public struct RecordBatch: Sendable {
    public private(set) var bytes: [UInt8]
    public private(set) var count: Int = 0
    private var openRecord: Int? = nil
    private var openKeyCount: Int = 0

    /// The largest record the format allows (a 1 MiB line plus generous room for keys).
    public static let maxRecordBytes = 16 << 20
    /// Keys per record are counted in one byte.
    public static let maxKeysPerRecord = 255
    public static let maxKeyBytes = 4096
    public static let maxProjectBytes = 255

    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var isEmpty: Bool { count == 0 }
    public var byteCount: Int { bytes.count }

    /// Starts a record; add its keys with `addKey`, then close it with `finishRecord(payload:)`.
    public mutating func startRecord(kind: RecordKind, receiveTime: Int64, project: UnsafeRawBufferPointer) {
        precondition(openRecord == nil, "startRecord while a record is open")
        precondition(project.count <= Self.maxProjectBytes, "project name longer than 255 bytes")
        openRecord = bytes.count
        openKeyCount = 0
        bytes.appendLE(UInt32(0))
        bytes.append(kind.rawValue)
        bytes.append(0)
        bytes.appendLE(receiveTime)
        bytes.appendVarint(project.count)
        bytes.append(contentsOf: project)
    }

    public mutating func addKey(_ space: KeySpace, _ key: UnsafeRawBufferPointer) {
        precondition(openRecord != nil, "addKey without startRecord")
        precondition(openKeyCount < Self.maxKeysPerRecord, "more than 255 keys on one record")
        precondition(key.count <= Self.maxKeyBytes, "index key longer than \(Self.maxKeyBytes) bytes")
        bytes.append(space.rawValue)
        bytes.appendVarint(key.count)
        bytes.append(contentsOf: key)
        openKeyCount += 1
    }

    public mutating func finishRecord(payload: UnsafeRawBufferPointer) {
        guard let start = openRecord else { preconditionFailure("finishRecord without startRecord") }
        bytes.append(contentsOf: payload)
        let length = bytes.count - start - 4
        precondition(length <= Self.maxRecordBytes, "record larger than \(Self.maxRecordBytes) bytes")
        bytes.storeLE(UInt32(length), at: start)
        bytes[start + 5] = UInt8(openKeyCount)
        openRecord = nil
        count += 1
    }

    /// Drops a started record (for a caller that found a problem after `startRecord`).
    public mutating func abandonRecord() {
        guard let start = openRecord else { return }
        bytes.removeSubrange(start...)
        openRecord = nil
    }

    /// Convenience for callers that hold their values as arrays and strings.
    public mutating func append(kind: RecordKind, receiveTime: Int64, project: String, keys: [IndexKey], payload: [UInt8]) {
        var project = project
        project.withUTF8 { startRecord(kind: kind, receiveTime: receiveTime, project: UnsafeRawBufferPointer($0)) }
        for key in keys {
            key.bytes.withUnsafeBytes { addKey(key.space, $0) }
        }
        payload.withUnsafeBytes { finishRecord(payload: $0) }
    }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        precondition(openRecord == nil, "removeAll while a record is open")
        bytes.removeAll(keepingCapacity: keepingCapacity)
        count = 0
    }
}

/// A record decoded in place from frame bytes; valid only while those bytes are.
public struct RecordView {
    public var kind: RecordKind
    public var receiveTime: Int64
    public var project: UnsafeRawBufferPointer
    public var payload: UnsafeRawBufferPointer
    @usableFromInline var keyBytes: UnsafeRawBufferPointer
    public var keyCount: Int

    /// Calls `body` with each key (space, bytes).
    public func forEachKey(_ body: (KeySpace, UnsafeRawBufferPointer) throws -> Void) rethrows {
        var reader = ByteReader(keyBytes)
        for _ in 0..<keyCount {
            // The keys were checked when the record was decoded.
            let space = reader.readByte()!
            let length = reader.readLength()!
            try body(KeySpace(rawValue: space), reader.readSlice(length)!)
        }
    }

    public var projectString: String { String(decoding: project, as: UTF8.self) }

    public func keys() -> [IndexKey] {
        var keys: [IndexKey] = []
        keys.reserveCapacity(keyCount)
        forEachKey { keys.append(IndexKey(space: $0, bytes: Array($1))) }
        return keys
    }

    public func stored(sequence: UInt64) -> StoredRecord {
        StoredRecord(sequence: sequence, kind: kind, receiveTime: receiveTime, project: projectString,
                     keys: keys(), payload: Array(payload))
    }
}

/// Walks encoded records (a batch, or a decompressed frame body).
struct RecordIterator {
    private var reader: ByteReader

    init(_ bytes: UnsafeRawBufferPointer) {
        reader = ByteReader(bytes)
    }

    /// Offset of the next record in the bytes.
    var offset: Int { reader.offset }
    var isAtEnd: Bool { reader.remaining == 0 }

    /// The next record, nil at the end; throws when the bytes do not decode (a damaged frame that
    /// nonetheless passed its checksum cannot happen unless the writer was wrong, so this is corruption).
    mutating func next() throws(StorageError) -> RecordView? {
        if reader.remaining == 0 { return nil }
        guard let length = reader.readLE(UInt32.self), Int(length) <= reader.remaining,
              let record = reader.readSlice(Int(length))
        else { throw StorageError(code: .corruptSegment, message: "record length past the end of its frame") }
        var inner = ByteReader(record)
        guard let kind = inner.readByte(), let keyCount = inner.readByte(),
              let time = inner.readLE(Int64.self),
              let projectLength = inner.readLength(), let project = inner.readSlice(projectLength)
        else { throw StorageError(code: .corruptSegment, message: "record header does not decode") }
        let keysStart = inner.offset
        for _ in 0..<keyCount {
            guard inner.readByte() != nil, let length = inner.readLength(), inner.readSlice(length) != nil else {
                throw StorageError(code: .corruptSegment, message: "record key does not decode")
            }
        }
        let keyBytes = UnsafeRawBufferPointer(rebasing: record[keysStart..<inner.offset])
        let payload = UnsafeRawBufferPointer(rebasing: record[inner.offset...])
        return RecordView(kind: RecordKind(rawValue: kind), receiveTime: time, project: project,
                          payload: payload, keyBytes: keyBytes, keyCount: Int(keyCount))
    }
}

/// Not Sendable: it borrows buffers (or holds file handles) owned by one thread.
@available(*, unavailable)
extension RecordView: Sendable {}
