// Numbers, literals and whitespace. Numbers are checked against the RFC 8259 grammar only and never
// converted: their text is kept verbatim, so `1e99999` and a 400-digit integer are as valid as `1`.

extension JSONScanner {
    /// Skips the four whitespace bytes RFC 8259 allows between tokens. Compact JSON has none, so the first
    /// test usually ends it.
    @inline(__always)
    static func skipWhitespace(_ p: inout UnsafeRawPointer, end: UnsafeRawPointer) {
        while p < end {
            let byte = p.load(as: UInt8.self)
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
            p += 1
        }
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    /// Scans `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; `p` is at the first byte on entry and just
    /// past the number on return. Whatever follows is the caller's business (`1x` fails there).
    @inline(__always)
    static func scanNumber(
        _ p: inout UnsafeRawPointer,
        end: UnsafeRawPointer,
        base: UnsafeRawPointer
    ) throws(JSONScanError) {
        var q = p
        if q.load(as: UInt8.self) == UInt8(ascii: "-") {
            q += 1
            guard q < end else { throw JSONScanError(.truncated, at: end - base) }
        }
        let first = q.load(as: UInt8.self)
        if first == UInt8(ascii: "0") {
            q += 1
            if q < end && isDigit(q.load(as: UInt8.self)) { throw JSONScanError(.invalidNumber, at: q - base) }
        } else if isDigit(first) {
            q += 1
            while q < end && isDigit(q.load(as: UInt8.self)) { q += 1 }
        } else {
            throw JSONScanError(.invalidNumber, at: q - base)
        }
        if q < end && q.load(as: UInt8.self) == UInt8(ascii: ".") {
            q += 1
            try scanDigits(&q, end: end, base: base)
        }
        if q < end && q.load(as: UInt8.self) | 0x20 == UInt8(ascii: "e") {
            q += 1
            guard q < end else { throw JSONScanError(.truncated, at: end - base) }
            let sign = q.load(as: UInt8.self)
            if sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { q += 1 }
            try scanDigits(&q, end: end, base: base)
        }
        p = q
    }

    /// One or more digits (after `.` or the exponent marker).
    @inline(__always)
    static func scanDigits(
        _ q: inout UnsafeRawPointer,
        end: UnsafeRawPointer,
        base: UnsafeRawPointer
    ) throws(JSONScanError) {
        guard q < end else { throw JSONScanError(.truncated, at: end - base) }
        guard isDigit(q.load(as: UInt8.self)) else { throw JSONScanError(.invalidNumber, at: q - base) }
        q += 1
        while q < end && isDigit(q.load(as: UInt8.self)) { q += 1 }
    }

    /// Scans `true`, `false` or `null`, chosen by the first byte; `p` is just past it on return.
    @inline(__always)
    static func scanLiteral(
        _ p: inout UnsafeRawPointer,
        first: UInt8,
        end: UnsafeRawPointer,
        base: UnsafeRawPointer
    ) throws(JSONScanError) -> JSONKind {
        // Little-endian images of the literals, compared with one load when four bytes are there.
        let kind: JSONKind
        let image: UInt32
        switch first {
        case UInt8(ascii: "t"): kind = .true; image = 0x6575_7274  // "true"
        case UInt8(ascii: "n"): kind = .null; image = 0x6C6C_756E  // "null"
        default: kind = .false; image = 0x736C_6166  // "fals", then "e"
        }
        let length = kind == .false ? 5 : 4
        if end - p >= length && UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)) == image
            && (kind != .false || p.load(fromByteOffset: 4, as: UInt8.self) == UInt8(ascii: "e"))
        {
            p += length
            return kind
        }
        throw literalError(at: p, kind: kind, end: end, base: base)
    }

    /// Tells a cut-off literal (`tru` at the end of input) from a wrong one (`trve`).
    static func literalError(
        at p: UnsafeRawPointer,
        kind: JSONKind,
        end: UnsafeRawPointer,
        base: UnsafeRawPointer
    ) -> JSONScanError {
        let text: StaticString = kind == .true ? "true" : kind == .null ? "null" : "false"
        for i in 0..<text.utf8CodeUnitCount {
            guard p + i < end else { return JSONScanError(.truncated, at: end - base) }
            if p.load(fromByteOffset: i, as: UInt8.self) != text.utf8Start[i] {
                return JSONScanError(.invalidLiteral, at: p - base)
            }
        }
        preconditionFailure("literalError called on a well-formed literal")
    }

    /// The error for a byte that cannot start a value: bare words are reported as bad literals (`NaN`,
    /// `Infinity`), `+` and `.` as bad numbers (`+1`, `.5`), anything else as unexpected.
    static func valueStartError(_ byte: UInt8, at offset: Int) -> JSONScanError {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            JSONScanError(.invalidLiteral, at: offset)
        case UInt8(ascii: "+"), UInt8(ascii: "."):
            JSONScanError(.invalidNumber, at: offset)
        default:
            JSONScanError(.unexpectedByte, at: offset)
        }
    }
}
