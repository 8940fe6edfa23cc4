// The instant type Wick uses for event times. Parsing and formatting live in ISO8601.swift, with the grammar
// Langfuse accepts written out at its top.

/// An instant with microsecond precision, as microseconds since 1970-01-01T00:00:00Z (proleptic Gregorian).
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since the Unix epoch; negative before 1970.
    public let microsecondsSinceEpoch: Int64

    /// 0000-01-01T00:00:00Z, the earliest instant with a four-digit year.
    public static let minimum = Timestamp(unchecked: -62_167_219_200_000_000)
    /// 9999-12-31T23:59:59.999999Z, the latest instant with a four-digit year.
    public static let maximum = Timestamp(unchecked: 253_402_300_799_999_999)

    init(unchecked microseconds: Int64) {
        self.microsecondsSinceEpoch = microseconds
    }

    /// The instant `microseconds` after the epoch, or nil outside ``minimum`` ... ``maximum``.
    public init?(microsecondsSinceEpoch microseconds: Int64) {
        guard microseconds >= Self.minimum.microsecondsSinceEpoch && microseconds <= Self.maximum.microsecondsSinceEpoch
        else { return nil }
        self.microsecondsSinceEpoch = microseconds
    }

    /// Parses an ISO-8601 timestamp in the grammar Langfuse accepts (documented in ISO8601.swift); nil if it
    /// does not match or names an impossible date or time.
    public init?(iso8601 text: UnsafeRawBufferPointer) {
        guard let microseconds = ISO8601.parse(text) else { return nil }
        self.microsecondsSinceEpoch = microseconds
    }

    /// Parses an ISO-8601 timestamp from a string.
    public init?(iso8601 text: String) {
        var copy = text
        guard let microseconds = copy.withUTF8({ ISO8601.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        self.microsecondsSinceEpoch = microseconds
    }

    /// Parses the string `field` of a scanned line. Timestamps never need escapes, but one written with them
    /// is decoded first, as JSON says it means the same.
    public init?(_ field: JSONField, in buffer: UnsafeRawBufferPointer) {
        guard field.kind == .string else { return nil }
        if !field.hasEscapes {
            self.init(iso8601: field.rawBytes(in: buffer))
        } else {
            let decoded = field.decodedBytes(in: buffer)
            guard let microseconds = decoded.withUnsafeBytes({ ISO8601.parse($0) }) else { return nil }
            self.init(unchecked: microseconds)
        }
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    /// The instant as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (always UTC, always six fraction digits).
    public var iso8601: String {
        String(unsafeUninitializedCapacity: ISO8601.formattedLength) { buffer in
            ISO8601.format(microsecondsSinceEpoch, into: UnsafeMutableRawBufferPointer(buffer))
            return ISO8601.formattedLength
        }
    }

    /// Appends ``iso8601`` to `bytes` as UTF-8.
    public func writeISO8601(to bytes: inout [UInt8]) {
        // Formatted on the stack and appended once (compaction writes millions).
        var text: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &text) { out in
            ISO8601.format(microsecondsSinceEpoch, into: out)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: out[..<ISO8601.formattedLength]))
        }
    }

    public var description: String { iso8601 }
}
