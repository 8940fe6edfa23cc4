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

    public mutating func reserveCapacity(_ bytes: Int) {
        self.bytes.reserveCapacity(bytes)
    }
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

/// One record of a `RecordBatch`, parsed in place: what the writer needs to frame and index it.
struct BatchRecord {
    var kind: UInt8
    var keyCount: Int
    var receiveTime: Int64
    /// The project and key fields, already in the frame encoding (varint-prefixed project, then keys).
    var metadata: UnsafeRawBufferPointer
    /// Just the keys, within `metadata`.
    var keys: UnsafeRawBufferPointer
    var payload: UnsafeRawBufferPointer
    /// Bytes the record took in the batch.
    var encodedLength: Int

    /// Each key (RecordBatch wrote them; they decode).
    func forEachKey(_ body: (KeySpace, UnsafeRawBufferPointer) -> Void) {
        var reader = ByteReader(keys)
        for _ in 0..<keyCount {
            let space = KeySpace(rawValue: reader.readByte()!)
            body(space, reader.readSlice(reader.readLength()!)!)
        }
    }
}

/// Walks the records of a `RecordBatch` (whose layout the batch wrote, so a failure is a bug).
struct BatchRecordIterator {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func next() -> BatchRecord? {
        guard offset < bytes.count else { return nil }
        let length = Int(bytes.loadLE(UInt32.self, at: offset))
        let record = UnsafeRawBufferPointer(rebasing: bytes[offset + 4..<offset + 4 + length])
        var reader = ByteReader(record, offset: 10)
        // RecordBatch wrote these fields itself; they cannot be short.
        let projectLength = reader.readLength()!
        _ = reader.readSlice(projectLength)!
        let keysStart = reader.offset
        let keyCount = Int(record[1])
        for _ in 0..<keyCount {
            _ = reader.readByte()!
            let keyLength = reader.readLength()!
            _ = reader.readSlice(keyLength)!
        }
        let parsed = BatchRecord(
            kind: record[0], keyCount: keyCount, receiveTime: record.loadLE(Int64.self, at: 2),
            metadata: UnsafeRawBufferPointer(rebasing: record[10..<reader.offset]),
            keys: UnsafeRawBufferPointer(rebasing: record[keysStart..<reader.offset]),
            payload: UnsafeRawBufferPointer(rebasing: record[reader.offset...]),
            encodedLength: 4 + length)
        offset += 4 + length
        return parsed
    }
}

/// Walks the records of a decompressed frame body (docs/format.md §3): a header table, then the
/// payloads back to back. Every length is checked: a body that passed its checksum but does not
/// decode can only come from a writer bug, and is reported as corruption, never trusted.
struct RecordIterator {
    private var headers: ByteReader
    private let payloads: UnsafeRawBufferPointer
    private var payloadOffset = 0
    private var previousTime: Int64 = 0

    init(_ body: UnsafeRawBufferPointer) throws(StorageError) {
        guard body.count >= 4 else { throw StorageError(code: .corruptSegment, message: "frame body shorter than its header table length") }
        let headerLength = Int(body.loadLE(UInt32.self, at: 0))
        guard headerLength <= body.count - 4 else {
            throw StorageError(code: .corruptSegment, message: "frame header table longer than the frame")
        }
        headers = ByteReader(UnsafeRawBufferPointer(rebasing: body[4..<4 + headerLength]))
        payloads = UnsafeRawBufferPointer(rebasing: body[(4 + headerLength)...])
    }

    var isAtEnd: Bool { headers.remaining == 0 && payloadOffset == payloads.count }

    /// The next record, nil at the end of the header table.
    mutating func next() throws(StorageError) -> RecordView? {
        if headers.remaining == 0 {
            guard payloadOffset == payloads.count else {
                throw StorageError(code: .corruptSegment, message: "frame payloads longer than its records")
            }
            return nil
        }
        guard let payloadLength = headers.readVarint(), payloadLength <= UInt64(payloads.count - payloadOffset),
              let kind = headers.readByte(), let keyCount = headers.readByte(),
              let delta = headers.readVarint(),
              let projectLength = headers.readLength(), let project = headers.readSlice(projectLength)
        else { throw StorageError(code: .corruptSegment, message: "record header does not decode") }
        let keysStart = headers.offset
        for _ in 0..<keyCount {
            guard headers.readByte() != nil, let length = headers.readLength(), headers.readSlice(length) != nil else {
                throw StorageError(code: .corruptSegment, message: "record key does not decode")
            }
        }
        let keyBytes = UnsafeRawBufferPointer(rebasing: headers.bytes[keysStart..<headers.offset])
        // Zigzag: small negative and positive time steps both stay one byte.
        previousTime = previousTime &+ (Int64(bitPattern: delta >> 1) ^ -Int64(bitPattern: delta & 1))
        let payload = UnsafeRawBufferPointer(rebasing: payloads[payloadOffset..<payloadOffset + Int(payloadLength)])
        payloadOffset += Int(payloadLength)
        return RecordView(kind: RecordKind(rawValue: kind), receiveTime: previousTime, project: project,
                          payload: payload, keyBytes: keyBytes, keyCount: Int(keyCount))
    }
}

/// Not Sendable: it borrows the frame buffer of the thread that decoded it.
@available(*, unavailable)
extension RecordView: Sendable {}
