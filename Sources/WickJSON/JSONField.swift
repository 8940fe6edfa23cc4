/// The kind of a JSON value, as the scanner saw it.
public enum JSONKind: UInt8, Sendable, Hashable, CaseIterable {
    /// `{…}`
    case object
    /// `[…]`
    case array
    /// `"…"`
    case string
    /// A number, such as `-1.5e3`.
    case number
    /// The literal `true`.
    case `true`
    /// The literal `false`.
    case `false`
    /// The literal `null`.
    case null
}

/// Where one value sits in the scanned input: its kind and byte range, without a copy of the bytes.
///
/// For strings, ``range`` is the content *between* the quotes, still escaped as written; ``hasEscapes``
/// tells whether it contains any backslash, so callers can take the zero-copy path when it does not.
/// For every other kind, ``range`` covers the value exactly as written (`{…}`, `[…]`, `-1.5e3`, `null`).
///
/// The helpers take the buffer that was scanned; passing another buffer is a programming error
/// (checked with a precondition on the range, not on the content).
public struct JSONField: Sendable, Hashable {
    // Offsets are stored as UInt32 so that an envelope (eleven optional fields) stays small enough to return
    // and copy cheaply on every line; inputs are limited to 4 GiB (see ``JSONScanner/scan(_:)``).
    @usableFromInline let start: UInt32
    @usableFromInline let end: UInt32

    /// The kind of the value.
    public let kind: JSONKind
    /// For strings: whether the content contains at least one backslash escape. Always false otherwise.
    public let hasEscapes: Bool

    /// Byte offsets into the scanned input (for strings: the content inside the quotes).
    @inlinable
    public var range: Range<Int> { Int(start)..<Int(end) }

    /// Makes a field; the scanner is the usual source. Precondition: `range` lies within the first 4 GiB.
    @inlinable
    public init(kind: JSONKind, range: Range<Int>, hasEscapes: Bool = false) {
        precondition(range.upperBound <= Int(UInt32.max), "JSONField offsets must fit in 32 bits")
        self.kind = kind
        self.start = UInt32(truncatingIfNeeded: range.lowerBound)
        self.end = UInt32(truncatingIfNeeded: range.upperBound)
        self.hasEscapes = hasEscapes
    }

    /// True when the value is the JSON `null` literal.
    @inlinable
    public var isNull: Bool { kind == .null }

    /// The bytes of the value as written (for strings: the escaped content without quotes).
    @inlinable
    public func rawBytes(in buffer: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        precondition(range.upperBound <= buffer.count, "JSONField used with a buffer it does not belong to")
        return UnsafeRawBufferPointer(rebasing: buffer[range])
    }

    /// Whether this is a string whose decoded content equals `literal` byte for byte (escape-aware:
    /// `"trace\u002dcreate"` equals `"trace-create"`). Non-strings never equal anything.
    @inlinable
    public func equals(_ literal: StaticString, in buffer: UnsafeRawBufferPointer) -> Bool {
        precondition(literal.hasPointerRepresentation, "literal must be a UTF-8 string literal")
        return equals(utf8: UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount), in: buffer)
    }

    /// Whether this is a string whose decoded content equals `string` (escape-aware).
    public func equals(_ string: String, in buffer: UnsafeRawBufferPointer) -> Bool {
        var copy = string
        return copy.withUTF8 { equals(utf8: UnsafeRawBufferPointer($0), in: buffer) }
    }

    /// Whether this is a string whose decoded content equals the UTF-8 bytes `other` (escape-aware).
    @inlinable
    public func equals(utf8 other: UnsafeRawBufferPointer, in buffer: UnsafeRawBufferPointer) -> Bool {
        guard kind == .string else { return false }
        let raw = rawBytes(in: buffer)
        if !hasEscapes {
            guard raw.count == other.count else { return false }
            return Self.sameBytes(raw, other)
        }
        // An escaped string decodes to fewer bytes than it has, never more.
        guard other.count <= raw.count else { return false }
        var decoded = DecodedBytes(raw)
        var index = 0
        while let byte = decoded.next() {
            guard index < other.count, other[index] == byte else { return false }
            index += 1
        }
        return index == other.count
    }

    /// Byte equality of two runs of the same length, eight bytes at a time (keys and type names are
    /// short: a call to memcmp would cost more than the comparison).
    @inlinable
    static func sameBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        let count = a.count
        while count - offset >= 8 {
            if a.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != b.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
                return false
            }
            offset += 8
        }
        while offset < count {
            if a[offset] != b[offset] { return false }
            offset += 1
        }
        return true
    }

    /// The decoded content of a string field. Precondition: ``kind`` is `.string`.
    public func string(in buffer: UnsafeRawBufferPointer) -> String {
        precondition(kind == .string, "string(in:) needs a string field")
        let raw = rawBytes(in: buffer)
        if !hasEscapes {
            // The scanner validated the UTF-8, so this never repairs anything.
            return String(decoding: raw, as: UTF8.self)
        }
        return String(unsafeUninitializedCapacity: raw.count) { out in
            var decoded = DecodedBytes(raw)
            var count = 0
            while let byte = decoded.next() {
                out[count] = byte
                count += 1
            }
            return count
        }
    }

    /// Appends the decoded UTF-8 bytes of a string field to `bytes`. Precondition: ``kind`` is `.string`.
    public func appendDecodedBytes(in buffer: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        precondition(kind == .string, "appendDecodedBytes(in:to:) needs a string field")
        let raw = rawBytes(in: buffer)
        if !hasEscapes {
            bytes.append(contentsOf: raw)
            return
        }
        bytes.reserveCapacity(bytes.count + raw.count)
        var decoded = DecodedBytes(raw)
        while let byte = decoded.next() { bytes.append(byte) }
    }

    /// The decoded UTF-8 bytes of a string field. Precondition: ``kind`` is `.string`.
    public func decodedBytes(in buffer: UnsafeRawBufferPointer) -> [UInt8] {
        var bytes: [UInt8] = []
        appendDecodedBytes(in: buffer, to: &bytes)
        return bytes
    }

    /// The number of Unicode scalars in a decoded string field (escape-aware: `\u00e9` and a surrogate pair
    /// count one each). Precondition: ``kind`` is `.string`.
    @inlinable
    public func unicodeScalarCount(in buffer: UnsafeRawBufferPointer) -> Int {
        precondition(kind == .string, "unicodeScalarCount(in:) needs a string field")
        return countDecodedLeadBytes(in: buffer, astralWeight: 1)
    }

    /// The number of UTF-16 code units in a decoded string field, which is what JavaScript's
    /// `String.length` (and so zod's `.min()`/`.max()` on strings) counts: scalars above U+FFFF count two.
    /// Precondition: ``kind`` is `.string`.
    @inlinable
    public func utf16Count(in buffer: UnsafeRawBufferPointer) -> Int {
        precondition(kind == .string, "utf16Count(in:) needs a string field")
        return countDecodedLeadBytes(in: buffer, astralWeight: 2)
    }

    /// Whether a string field's decoded content contains a carriage return (U+000D). A raw CR cannot occur in
    /// valid JSON strings, so only the escapes `\r` and `\u000d`/`\u000D` can produce one.
    /// Precondition: ``kind`` is `.string`.
    @inlinable
    public func containsCarriageReturn(in buffer: UnsafeRawBufferPointer) -> Bool {
        precondition(kind == .string, "containsCarriageReturn(in:) needs a string field")
        guard hasEscapes else { return false }
        var decoded = DecodedBytes(rawBytes(in: buffer))
        while let byte = decoded.next() {
            if byte == 0x0D { return true }
        }
        return false
    }

    @inlinable
    func countDecodedLeadBytes(in buffer: UnsafeRawBufferPointer, astralWeight: Int) -> Int {
        let raw = rawBytes(in: buffer)
        var count = 0
        if !hasEscapes {
            for byte in raw where byte & 0xC0 != 0x80 {
                count += byte >= 0xF0 ? astralWeight : 1
            }
            return count
        }
        var decoded = DecodedBytes(raw)
        while let byte = decoded.next() {
            if byte & 0xC0 != 0x80 { count += byte >= 0xF0 ? astralWeight : 1 }
        }
        return count
    }
}
