/// One of the four keys of a Langfuse ingestion event envelope.
public enum EnvelopeKey: UInt8, Sendable, Hashable, CaseIterable {
    /// `id`: the event id.
    case id
    /// `type`: the event type, such as `trace-create`.
    case type
    /// `timestamp`: when the client produced the event.
    case timestamp
    /// `body`: the entity the event creates or updates.
    case body
}

/// The fields of an event's `body` that the ingest path needs, as found by the scanner.
///
/// Duplicate keys inside `body` are legal and the last occurrence wins, as with JavaScript's `JSON.parse`
/// (which is what the Langfuse server runs), so each field describes the last value written for its key.
public struct BodyFields: Sendable, Hashable {
    /// `body.id`: the entity id (trace, observation or score id).
    public internal(set) var id: JSONField?
    /// `body.traceId`.
    public internal(set) var traceId: JSONField?
    /// `body.observationId` (scores).
    public internal(set) var observationId: JSONField?
    /// `body.sessionId`.
    public internal(set) var sessionId: JSONField?
    /// `body.name`.
    public internal(set) var name: JSONField?
    /// `body.value` (scores: number, string or boolean).
    public internal(set) var value: JSONField?
    /// `body.dataType` (scores).
    public internal(set) var dataType: JSONField?

    /// No fields.
    @inlinable
    public init() {}

    @usableFromInline
    mutating func set(_ index: UInt8, _ field: JSONField) {
        switch index {
        case 0: id = field
        case 1: traceId = field
        case 2: observationId = field
        case 3: sessionId = field
        case 4: name = field
        case 5: value = field
        default:
            precondition(index == 6, "body field index out of range")
            dataType = field
        }
    }
}

/// One Langfuse ingestion event (`{"id":…, "type":…, "timestamp":…, "body":{…}, "metadata":…}`) as found by
/// the scanner: where it is, and where its envelope fields are. Nothing is copied or decoded.
///
/// A missing key leaves its field `nil`; checking that the required ones are present and well-typed is the
/// caller's job (``JSONField/kind``). Every range is an offset into the scanned buffer.
public struct EnvelopeFields: Sendable, Hashable {
    // Stored as UInt32 like JSONField's offsets, to keep the struct small.
    var start: UInt32
    var end: UInt32
    /// The bytes of the whole event object, `{` to `}`: store these verbatim.
    public internal(set) var range: Range<Int> {
        get { Int(start)..<Int(end) }
        set {
            precondition(newValue.upperBound <= Int(UInt32.max), "event offsets must fit in 32 bits")
            start = UInt32(truncatingIfNeeded: newValue.lowerBound)
            end = UInt32(truncatingIfNeeded: newValue.upperBound)
        }
    }
    /// The envelope `id` (event id).
    public internal(set) var id: JSONField?
    /// The envelope `type` (`trace-create`, `span-update`, …).
    public internal(set) var type: JSONField?
    /// The envelope `timestamp`.
    public internal(set) var timestamp: JSONField?
    /// The envelope `body`, of whatever kind it is.
    public internal(set) var body: JSONField?
    /// The fields found inside `body`; all `nil` unless `body` is an object.
    public internal(set) var bodyFields: BodyFields
    /// The first envelope key that occurred twice in this event object, if any. Such an event must be
    /// rejected: which of the two values a receiver would use is not something to guess.
    public internal(set) var duplicateKey: EnvelopeKey?

    /// An event with no fields at `range`.
    public init(range: Range<Int>) {
        precondition(range.upperBound <= Int(UInt32.max), "event offsets must fit in 32 bits")
        self.start = UInt32(truncatingIfNeeded: range.lowerBound)
        self.end = UInt32(truncatingIfNeeded: range.upperBound)
        self.bodyFields = BodyFields()
    }

    /// Records the value of the envelope key with raw value `index`; a second value for the same key is
    /// remembered as a duplicate (the later value is kept, so the ranges still point at real values).
    mutating func set(_ index: UInt8, _ value: JSONField) {
        var previous: JSONField?
        switch index {
        case 0:
            previous = id
            id = value
        case 1:
            previous = type
            type = value
        case 2:
            previous = timestamp
            timestamp = value
        default:
            precondition(index == 3, "envelope key index out of range")
            previous = body
            body = value
        }
        if previous != nil && duplicateKey == nil { duplicateKey = EnvelopeKey(rawValue: index) }
    }
}

/// One element of a batch line's `batch` array.
public enum BatchElement: Sendable, Hashable {
    /// An object, scanned as an event.
    case event(EnvelopeFields)
    /// Anything else: the caller rejects just this element. The field gives its kind and range (for a string,
    /// the content inside the quotes).
    case notAnObject(JSONField)
}

/// What one scanned line holds.
public enum ScannedLine: Sendable, Hashable {
    /// The line is one event.
    case event(EnvelopeFields)
    /// The line is a batch (`{"batch":[…]}` with no `type` key); its elements in order.
    case batch([BatchElement])
}
