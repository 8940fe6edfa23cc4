/// A JSON number, kept exactly as written.
///
/// The text is never converted on parse, so numbers of any magnitude or precision survive a round trip
/// through ``JSONValue`` byte for byte. Two numbers are equal when their texts are (`1.0` and `1` differ);
/// compare ``doubleValue`` or ``int64Value`` for numeric equality.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The number as written, always matching the RFC 8259 number grammar.
    public let text: String

    /// Wraps text the scanner already validated.
    init(validatedText text: String) {
        self.text = text
    }

    /// A number from its JSON text, or nil if `text` is not exactly one RFC 8259 number (no whitespace,
    /// no `+`, no leading zeros, no NaN or Infinity).
    public init?(_ text: String) {
        var copy = text
        let valid = copy.withUTF8 { bytes -> Bool in
            // The validator allows whitespace around a value; a number's text has none.
            guard let first = bytes.first, let last = bytes.last,
                first == UInt8(ascii: "-") || JSONScanner.isDigit(first), JSONScanner.isDigit(last)
            else { return false }
            do {
                try JSONScanner().validate(UnsafeRawBufferPointer(bytes))
                return true
            } catch {
                return false
            }
        }
        guard valid else { return nil }
        self.text = text
    }

    /// An integer.
    public init(_ value: Int64) {
        self.text = String(value)
    }

    /// An integer.
    public init(_ value: Int) {
        self.text = String(value)
    }

    /// An integer literal.
    public init(integerLiteral value: Int64) {
        self.init(value)
    }

    /// A finite double, written in Swift's shortest round-tripping form (which is valid JSON); nil for NaN
    /// and infinities, which JSON cannot express.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        self.text = "\(value)"
    }

    /// Whether the text has neither a fraction nor an exponent.
    public var isInteger: Bool {
        !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }

    /// The value as an `Int64`, if the text is an integer (no fraction, no exponent) that fits.
    public var int64Value: Int64? {
        isInteger ? Int64(text) : nil
    }

    /// The nearest `Double`. Magnitudes beyond `Double`'s range give ±infinity (or ±0 when too small), as
    /// JavaScript's `Number()` does.
    public var doubleValue: Double {
        // The text matches the JSON grammar, a subset of what Double's parser accepts, so this never fails.
        Double(text) ?? .nan
    }

    public var description: String { text }
}
