// Strings: the scanner spends most of its time here (ids, timestamps, prompts, completions), so plain ASCII
// is skipped eight bytes at a time and only quotes, backslashes, control bytes and non-ASCII bytes take the
// byte-by-byte path.

extension JSONScanner {
    /// A mask with the high bit of every lane of `word` that needs the slow path: `"`, `\`, a byte below 0x20,
    /// or a byte with its high bit set. Only the lowest flagged lane is exact (a borrow can flag lanes above
    /// a real hit), which is all the caller uses.
    @inline(__always)
    static func specialLanes(_ word: UInt64) -> UInt64 {
        let lanes: UInt64 = 0x0101_0101_0101_0101
        let quote = word ^ (lanes &* 0x22)
        let backslash = word ^ (lanes &* 0x5C)
        let hasQuote = (quote &- lanes) & ~quote
        let hasBackslash = (backslash &- lanes) & ~backslash
        let hasControl = (word &- lanes &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl | word) & (lanes &* 0x80)
    }

    /// Scans the rest of a string. On entry `p` is just past the opening quote; on return it is just past
    /// the closing quote. Returns whether the string contains an escape.
    @inline(__always)
    static func scanString(
        _ p: inout UnsafeRawPointer,
        end: UnsafeRawPointer,
        base: UnsafeRawPointer
    ) throws(JSONScanError) -> Bool {
        var hasEscapes = false
        while true {
            while end - p >= 8 {
                let word = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
                let special = specialLanes(word)
                if special == 0 {
                    p += 8
                    continue
                }
                p += special.trailingZeroBitCount &>> 3
                break
            }
            guard p < end else { throw JSONScanError(.truncated, at: end - base) }
            let byte = p.load(as: UInt8.self)
            if byte == UInt8(ascii: "\"") {
                p += 1
                return hasEscapes
            }
            if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                try scanEscape(&p, end: end, base: base)
            } else if byte < 0x20 {
                throw JSONScanError(.controlCharacterInString, at: p - base)
            } else if byte >= 0x80 {
                try scanUTF8Scalar(&p, lead: byte, end: end, base: base)
            } else {
                p += 1
            }
        }
    }

    /// Validates one escape; `p` is at the backslash on entry and just past the escape on return.
    static func scanEscape(
        _ p: inout UnsafeRawPointer,
        end: UnsafeRawPointer,
        base: UnsafeRawPointer
    ) throws(JSONScanError) {
        guard end - p >= 2 else { throw JSONScanError(.truncated, at: end - base) }
        switch p.load(fromByteOffset: 1, as: UInt8.self) {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            p += 2
            return
        case UInt8(ascii: "u"):
            break
        default:
            throw JSONScanError(.invalidEscape, at: p - base)
        }
        let escapeStart = p
        let unit = try hexUnit(at: p + 2, end: end, escapeStart: escapeStart, base: base)
        p += 6
        if unit >= 0xDC00 && unit < 0xE000 {
            throw JSONScanError(.loneSurrogate, at: escapeStart - base)
        }
        guard unit >= 0xD800 && unit < 0xDC00 else { return }
        // A high surrogate must be followed at once by a `\u` escape of a low surrogate.
        guard end - p >= 2 else {
            // Cut short after the high surrogate: a pair may still have followed.
            if p == end || p.load(as: UInt8.self) == UInt8(ascii: "\\") {
                throw JSONScanError(.truncated, at: end - base)
            }
            throw JSONScanError(.loneSurrogate, at: escapeStart - base)
        }
        guard p.load(as: UInt8.self) == UInt8(ascii: "\\"), p.load(fromByteOffset: 1, as: UInt8.self) == UInt8(ascii: "u")
        else { throw JSONScanError(.loneSurrogate, at: escapeStart - base) }
        let low = try hexUnit(at: p + 2, end: end, escapeStart: p, base: base)
        guard low >= 0xDC00 && low < 0xE000 else { throw JSONScanError(.loneSurrogate, at: escapeStart - base) }
        p += 6
    }

    /// Reads the four hex digits of a `\u` escape.
    static func hexUnit(
        at digits: UnsafeRawPointer,
        end: UnsafeRawPointer,
        escapeStart: UnsafeRawPointer,
        base: UnsafeRawPointer
    ) throws(JSONScanError) -> UInt32 {
        var unit: UInt32 = 0
        for i in 0..<4 {
            guard digits + i < end else { throw JSONScanError(.truncated, at: end - base) }
            let value = hexDigitValue(digits.load(fromByteOffset: i, as: UInt8.self))
            guard value < 16 else { throw JSONScanError(.invalidEscape, at: escapeStart - base) }
            unit = unit << 4 | UInt32(value)
        }
        return unit
    }

    /// Validates one multi-byte UTF-8 sequence (RFC 3629 §4, the well-formed byte sequences table): no
    /// overlong forms, no encoded surrogates, nothing above U+10FFFF. `p` is at the lead byte on entry.
    static func scanUTF8Scalar(
        _ p: inout UnsafeRawPointer,
        lead: UInt8,
        end: UnsafeRawPointer,
        base: UnsafeRawPointer
    ) throws(JSONScanError) {
        let length: Int
        // The range the second byte must fall in; later continuation bytes are always 0x80...0xBF.
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw JSONScanError(.invalidUTF8, at: p - base)
        }
        for i in 1..<length {
            guard p + i < end else { throw JSONScanError(.truncated, at: end - base) }
            let byte = p.load(fromByteOffset: i, as: UInt8.self)
            let ok = i == 1 ? (byte >= low && byte <= high) : (byte & 0xC0 == 0x80)
            guard ok else { throw JSONScanError(.invalidUTF8, at: p - base) }
        }
        p += length
    }
}
