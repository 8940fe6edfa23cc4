/// One OTLP trace export (`ExportTraceServiceRequest`), decoded from protobuf or OTLP/JSON into
/// the few things the span mapping reads. Ids are lowercase hex (reference §2.2), times nanoseconds.
public struct OTLPExport: Sendable, Equatable {
    public var resourceSpans: [ResourceSpans]

    public init(resourceSpans: [ResourceSpans] = []) {
        self.resourceSpans = resourceSpans
    }

    public struct ResourceSpans: Sendable, Equatable {
        public var resource: [OTLPAttribute]
        public var scopeSpans: [ScopeSpans]

        public init(resource: [OTLPAttribute] = [], scopeSpans: [ScopeSpans] = []) {
            self.resource = resource
            self.scopeSpans = scopeSpans
        }
    }

    public struct ScopeSpans: Sendable, Equatable {
        public var scope: OTLPScope
        public var spans: [OTLPSpan]

        public init(scope: OTLPScope = OTLPScope(), spans: [OTLPSpan] = []) {
            self.scope = scope
            self.spans = spans
        }
    }

    public var spanCount: Int {
        resourceSpans.reduce(0) { $0 + $1.scopeSpans.reduce(0) { $0 + $1.spans.count } }
    }
}

public struct OTLPScope: Sendable, Equatable {
    public var name: String
    public var version: String
    public var attributes: [OTLPAttribute]

    public init(name: String = "", version: String = "", attributes: [OTLPAttribute] = []) {
        self.name = name
        self.version = version
        self.attributes = attributes
    }
}

public struct OTLPSpan: Sendable, Equatable {
    /// 32 lowercase hex digits.
    public var traceID: String
    /// 16 lowercase hex digits.
    public var spanID: String
    /// Nil for a root span.
    public var parentSpanID: String?
    public var name: String
    public var kind: Int
    public var startTimeUnixNano: UInt64?
    public var endTimeUnixNano: UInt64?
    public var attributes: [OTLPAttribute]
    public var events: [OTLPSpanEvent]
    /// 0 unset, 1 ok, 2 error.
    public var statusCode: Int
    public var statusMessage: String

    public init(traceID: String, spanID: String, parentSpanID: String? = nil, name: String = "", kind: Int = 0,
                startTimeUnixNano: UInt64? = nil, endTimeUnixNano: UInt64? = nil, attributes: [OTLPAttribute] = [],
                events: [OTLPSpanEvent] = [], statusCode: Int = 0, statusMessage: String = "") {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.kind = kind
        self.startTimeUnixNano = startTimeUnixNano
        self.endTimeUnixNano = endTimeUnixNano
        self.attributes = attributes
        self.events = events
        self.statusCode = statusCode
        self.statusMessage = statusMessage
    }
}

public struct OTLPSpanEvent: Sendable, Equatable {
    public var name: String
    public var timeUnixNano: UInt64?
    public var attributes: [OTLPAttribute]

    public init(name: String, timeUnixNano: UInt64? = nil, attributes: [OTLPAttribute] = []) {
        self.name = name
        self.timeUnixNano = timeUnixNano
        self.attributes = attributes
    }
}

public struct OTLPAttribute: Sendable, Equatable {
    public var key: String
    public var value: OTLPValue

    public init(_ key: String, _ value: OTLPValue) {
        self.key = key
        self.value = value
    }
}

/// OTLP's `AnyValue`.
public indirect enum OTLPValue: Sendable, Equatable {
    case string(String)
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case array([OTLPValue])
    case keyValues([OTLPAttribute])
    case bytes([UInt8])
    case empty
}

/// Why an export was refused as a whole (HTTP 400).
public struct OTLPDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of `count * 2` hex digits, either case; nil for anything else.
    static func decode(_ text: String, count: Int) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count == count * 2 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(count)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
