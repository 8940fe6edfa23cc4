/// A JSON value kept as its text: what a deferring parse leaves unparsed (a prompt, a completion),
/// so that reading an event costs what its small fields cost. The text was validated with the
/// document it came from; ``value`` parses it when somebody asks.
public struct RawJSON: Sendable, Hashable {
    /// The value's JSON text, as it was written.
    public let bytes: [UInt8]

    /// Wraps text known to be one valid JSON value (a precondition: only the parser makes these).
    init(validated bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The parsed value.
    public var value: JSONValue {
        do {
            return try JSONValue.parse(bytes)
        } catch {
            preconditionFailure("raw JSON was validated with its document: \(error)")
        }
    }

    /// The kind, from the first byte (raw values are strings, arrays and objects).
    public var kind: JSONKind {
        switch bytes.first {
        case UInt8(ascii: "{"): .object
        case UInt8(ascii: "["): .array
        case UInt8(ascii: "\""): .string
        default: value.kind
        }
    }
}
