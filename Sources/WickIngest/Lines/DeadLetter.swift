import WickModel
public import WickStore

/// A rejected input as the dead-letter log keeps it: the bytes (cut to a limit) in the payload, and
/// reason, source, detail and original length as keys of the record.
public struct DeadLetter: Sendable, Hashable {
    public var sequence: UInt64
    public var receiveTime: Int64
    public var project: String
    public var reason: String
    public var source: String
    public var detail: String
    public var originalLength: Int
    public var bytes: [UInt8]

    public var isCut: Bool { bytes.count < originalLength }

    static func append(
        _ input: UnsafeRawBufferPointer, reason: RejectReason, detail: String, source: IngestSource, receiveTime: Int64,
        project: UnsafeRawBufferPointer, originalLength: Int, into batch: inout RecordBatch
    ) {
        batch.startRecord(kind: .reject, receiveTime: receiveTime, project: project)
        add(reason.rawValue, space: DeadLetterKeys.reason, to: &batch)
        add(source.rawValue, space: DeadLetterKeys.source, to: &batch)
        add(String(decoding: detail.utf8.prefix(1000), as: UTF8.self), space: DeadLetterKeys.detail, to: &batch)
        add(String(originalLength), space: DeadLetterKeys.originalLength, to: &batch)
        batch.finishRecord(payload: UnsafeRawBufferPointer(rebasing: input.prefix(RejectLimits.maxStoredBytes)))
    }

    private static func add(_ value: String, space: UInt8, to batch: inout RecordBatch) {
        var value = value
        value.withUTF8 { batch.addKey(KeySpace(rawValue: space), UnsafeRawBufferPointer($0)) }
    }

    /// Reads a dead letter back from a stored record.
    public init(_ record: StoredRecord) {
        func key(_ space: UInt8) -> String {
            record.keys.first { $0.space.rawValue == space }.map { String(decoding: $0.bytes, as: UTF8.self) } ?? ""
        }
        sequence = record.sequence
        receiveTime = record.receiveTime
        project = record.project
        reason = key(DeadLetterKeys.reason)
        source = key(DeadLetterKeys.source)
        detail = key(DeadLetterKeys.detail)
        originalLength = Int(key(DeadLetterKeys.originalLength)) ?? record.payload.count
        bytes = record.payload
    }
}
