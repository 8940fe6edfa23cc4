/// Walks the content of a string the scanner already validated and yields its decoded UTF-8 bytes,
/// one at a time and without allocating: raw bytes pass through, escapes become the bytes they stand for.
///
/// It never reads outside the buffer it was given. If the content was not validated (a caller passed the
/// wrong buffer), malformed escapes come out as U+FFFD instead of trapping.
@usableFromInline
struct DecodedBytes {
    @usableFromInline
    let raw: UnsafeRawBufferPointer
    @usableFromInline
    var index: Int = 0
    /// Bytes of a multi-byte escape still to be yielded, lowest byte first.
    @usableFromInline
    var pending: UInt32 = 0
    @usableFromInline
    var pendingCount: Int = 0

    @inlinable
    init(_ raw: UnsafeRawBufferPointer) {
        self.raw = raw
    }

    @inlinable
    mutating func next() -> UInt8? {
        if pendingCount > 0 {
            let byte = UInt8(truncatingIfNeeded: pending)
            pending >>= 8
            pendingCount -= 1
            return byte
        }
        guard index < raw.count else { return nil }
        let byte = raw[index]
        index += 1
        guard byte == UInt8(ascii: "\\") else { return byte }
        return decodeEscape()
    }

    /// Called with `index` just past a backslash.
    @usableFromInline
    mutating func decodeEscape() -> UInt8 {
        guard index < raw.count else { return 0x5C }
        let kind = raw[index]
        index += 1
        switch kind {
        case UInt8(ascii: "\""): return 0x22
        case UInt8(ascii: "\\"): return 0x5C
        case UInt8(ascii: "/"): return 0x2F
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "u"): break
        default: return replacement()
        }
        guard let unit = hex4(at: index) else { return replacement() }
        index += 4
        var scalar = unit
        if unit >= 0xD800 && unit < 0xDC00 {
            guard index + 6 <= raw.count, raw[index] == UInt8(ascii: "\\"), raw[index + 1] == UInt8(ascii: "u"),
                let low = hex4(at: index + 2), low >= 0xDC00 && low < 0xE000
            else { return replacement() }
            index += 6
            scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        } else if unit >= 0xDC00 && unit < 0xE000 {
            return replacement()
        }
        return emit(scalar)
    }

    @inlinable
    func hex4(at offset: Int) -> UInt32? {
        guard offset + 4 <= raw.count else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 {
            let digit = hexDigitValue(raw[offset + i])
            guard digit < 16 else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    @usableFromInline
    mutating func replacement() -> UInt8 {
        emit(0xFFFD)
    }

    /// Returns the first UTF-8 byte of `scalar` and queues the rest.
    @usableFromInline
    mutating func emit(_ scalar: UInt32) -> UInt8 {
        switch scalar {
        case 0..<0x80:
            return UInt8(scalar)
        case 0x80..<0x800:
            pending = 0x80 | (scalar & 0x3F)
            pendingCount = 1
            return UInt8(0xC0 | (scalar >> 6))
        case 0x800..<0x10000:
            pending = (0x80 | ((scalar >> 6) & 0x3F)) | (0x80 | (scalar & 0x3F)) << 8
            pendingCount = 2
            return UInt8(0xE0 | (scalar >> 12))
        default:
            pending = (0x80 | ((scalar >> 12) & 0x3F)) | (0x80 | ((scalar >> 6) & 0x3F)) << 8
                | (0x80 | (scalar & 0x3F)) << 16
            pendingCount = 3
            return UInt8(0xF0 | (scalar >> 18))
        }
    }
}

// It points into a caller's buffer, so it must not outlive the scope that lent it: keep it out of tasks.
@available(*, unavailable)
extension DecodedBytes: Sendable {}

/// The value of an ASCII hex digit, or 16 and above for any other byte.
@inlinable
func hexDigitValue(_ byte: UInt8) -> UInt8 {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte &- UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte &- UInt8(ascii: "a") &+ 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte &- UInt8(ascii: "A") &+ 10
    default: 0xFF
    }
}
