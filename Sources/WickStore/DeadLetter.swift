/// A rejected input as the dead-letter log keeps it: the bytes (cut to a limit) in the payload, and
/// reason, source, detail and original length as keys of the record (docs/format.md §3).
public struct DeadLetter: Sendable, Hashable {
    /// Key spaces of a dead-letter record.
    public enum Keys: Sendable {
        public static let reason = KeySpace(rawValue: 1)
        public static let source = KeySpace(rawValue: 2)
        public static let detail = KeySpace(rawValue: 3)
        /// The input's full length in bytes, as decimal digits (the payload may be cut).
        public static let originalLength = KeySpace(rawValue: 4)
    }

    /// How much of a rejected input is kept.
    public static let maxStoredBytes = 64 * 1024

    public var sequence: UInt64
    public var receiveTime: Int64
    public var project: String
    public var reason: String
    public var source: String
    public var detail: String
    public var originalLength: Int
    public var bytes: [UInt8]

    public var isCut: Bool { bytes.count < originalLength }

    /// Appends a dead-letter record for `input` (cut to `maxStoredBytes`) to `batch`.
    public static func append(
        _ input: UnsafeRawBufferPointer, reason: String, detail: String, source: String, receiveTime: Int64,
        project: UnsafeRawBufferPointer, originalLength: Int, into batch: inout RecordBatch
    ) {
        batch.startRecord(kind: .reject, receiveTime: receiveTime, project: project)
        add(reason, space: Keys.reason, to: &batch)
        add(source, space: Keys.source, to: &batch)
        add(String(decoding: detail.utf8.prefix(1000), as: UTF8.self), space: Keys.detail, to: &batch)
        add(String(originalLength), space: Keys.originalLength, to: &batch)
        batch.finishRecord(payload: UnsafeRawBufferPointer(rebasing: input.prefix(maxStoredBytes)))
    }

    private static func add(_ value: String, space: KeySpace, to batch: inout RecordBatch) {
        var value = value
        value.withUTF8 { batch.addKey(space, UnsafeRawBufferPointer($0)) }
    }

    /// Reads a dead letter back from a stored record.
    public init(_ record: StoredRecord) {
        func key(_ space: KeySpace) -> String {
            record.keys.first { $0.space == space }.map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
        }
        sequence = record.sequence
        receiveTime = record.receiveTime
        project = record.project
        reason = key(Keys.reason)
        source = key(Keys.source)
        detail = key(Keys.detail)
        originalLength = Int(key(Keys.originalLength)) ?? record.payload.count
        bytes = record.payload
    }
}
