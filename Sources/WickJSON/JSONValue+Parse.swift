// Parsing into JSONValue is two passes on purpose: the first is the scanner's `validate`, so the value parser
// accepts and rejects exactly what the ingest path does (same grammar, same error, same offset), and the
// second builds values from input known to be valid. Off the hot path, the extra pass is cheap.

extension JSONValue {
    /// Parses one JSON text of any kind. Fails exactly when ``JSONScanner/validate(_:)`` fails, with the same
    /// error.
    public static func parse(_ input: UnsafeRawBufferPointer, limits: JSONLimits = JSONLimits())
        throws(JSONScanError) -> JSONValue
    {
        try JSONScanner(limits: limits).validate(input)
        // !: validate rejects empty input, so there is a base address.
        var builder = ValueBuilder(base: input.baseAddress!, end: input.baseAddress! + input.count)
        return builder.value()
    }

    /// Parses one JSON text, leaving every string, array or object nested `fromDepth` or deeper whose
    /// text is longer than `deferringAbove` bytes as ``raw(_:)`` text, parsed only when read. The
    /// whole input is validated as by ``parse(_:limits:)``. Decoding an event this way skips building
    /// its prompts and completions, which are most of its bytes and which a fold rarely reads.
    public static func parse(_ input: UnsafeRawBufferPointer, limits: JSONLimits = JSONLimits(), deferringAbove threshold: Int,
                             fromDepth depth: Int) throws(JSONScanError) -> JSONValue {
        try JSONScanner(limits: limits).validate(input)
        var builder = ValueBuilder(base: input.baseAddress!, end: input.baseAddress! + input.count)
        builder.deferDepth = depth
        builder.deferBytes = threshold
        return builder.value()
    }

    /// Parses one JSON text of any kind from bytes.
    public static func parse(_ bytes: [UInt8], limits: JSONLimits = JSONLimits()) throws(JSONScanError) -> JSONValue {
        // withUnsafeBytes only rethrows untyped errors, so the typed one travels out in a Result.
        let result = bytes.withUnsafeBytes { input in
            Result { () throws(JSONScanError) -> JSONValue in try parse(input, limits: limits) }
        }
        return try result.get()
    }

    /// Parses one JSON text of any kind from a string.
    public static func parse(_ text: String, limits: JSONLimits = JSONLimits()) throws(JSONScanError) -> JSONValue {
        try parse(Array(text.utf8), limits: limits)
    }
}

/// Builds values from input that ``JSONScanner/validate(_:)`` accepted. Recursion is bounded by the validated
/// depth (at most ``JSONLimits/maxDepthCeiling``).
struct ValueBuilder {
    let base: UnsafeRawPointer
    let end: UnsafeRawPointer
    var p: UnsafeRawPointer
    /// Containers entered so far.
    var depth = 0
    /// Values at this depth or deeper, longer than `deferBytes`, stay raw text.
    var deferDepth = Int.max
    var deferBytes = Int.max

    init(base: UnsafeRawPointer, end: UnsafeRawPointer) {
        self.base = base
        self.end = end
        self.p = base
    }

    var byte: UInt8 { p.load(as: UInt8.self) }

    mutating func value() -> JSONValue {
        JSONScanner.skipWhitespace(&p, end: end)
        if depth >= deferDepth, byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
            let start = p
            skipValue()
            if p - start > deferBytes {
                return .raw(RawJSON(validated: Array(UnsafeRawBufferPointer(start: start, count: p - start))))
            }
            p = start
        }
        depth += 1
        defer { depth -= 1 }
        switch byte {
        case UInt8(ascii: "{"):
            p += 1
            var object = JSONObject()
            JSONScanner.skipWhitespace(&p, end: end)
            if byte == UInt8(ascii: "}") {
                p += 1
                return .object(object)
            }
            while true {
                JSONScanner.skipWhitespace(&p, end: end)
                let key = string()
                JSONScanner.skipWhitespace(&p, end: end)
                precondition(byte == UInt8(ascii: ":"), "validated input has a colon after each key")
                p += 1
                object[key] = value()
                JSONScanner.skipWhitespace(&p, end: end)
                let separator = byte
                p += 1
                if separator == UInt8(ascii: "}") { return .object(object) }
            }
        case UInt8(ascii: "["):
            p += 1
            var array: [JSONValue] = []
            JSONScanner.skipWhitespace(&p, end: end)
            if byte == UInt8(ascii: "]") {
                p += 1
                return .array(array)
            }
            while true {
                array.append(value())
                JSONScanner.skipWhitespace(&p, end: end)
                let separator = byte
                p += 1
                if separator == UInt8(ascii: "]") { return .array(array) }
            }
        case UInt8(ascii: "\""):
            return .string(string())
        case UInt8(ascii: "t"):
            p += 4
            return .bool(true)
        case UInt8(ascii: "f"):
            p += 5
            return .bool(false)
        case UInt8(ascii: "n"):
            p += 4
            return .null
        default:
            let start = p
            while p < end, Self.isNumberByte(byte) { p += 1 }
            return .number(JSONNumber(validatedText: String(decoding: UnsafeRawBufferPointer(start: start, count: p - start), as: UTF8.self)))
        }
    }

    /// Moves past the string, array or object under `p` (validated input: no checks).
    mutating func skipValue() {
        var level = 0
        repeat {
            switch byte {
            case UInt8(ascii: "\""):
                skipString()
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                level += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                level -= 1
            default:
                break
            }
            p += 1
        } while level > 0
    }

    /// Moves past the string whose opening quote is under `p`, eight bytes at a time; returns whether
    /// it holds an escape.
    @discardableResult
    mutating func skipString() -> Bool {
        var escaped = false
        p += 1
        let lanes: UInt64 = 0x0101_0101_0101_0101
        while true {
            while end - p >= 8 {
                let word = UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
                let quote = word ^ (lanes &* 0x22)
                let backslash = word ^ (lanes &* 0x5C)
                let hits = (((quote &- lanes) & ~quote) | ((backslash &- lanes) & ~backslash)) & (lanes &* 0x80)
                if hits == 0 {
                    p += 8
                    continue
                }
                p += hits.trailingZeroBitCount &>> 3
                break
            }
            switch byte {
            case UInt8(ascii: "\""):
                p += 1
                return escaped
            case UInt8(ascii: "\\"):
                escaped = true
                p += 2
            default:
                p += 1
            }
        }
    }

    static func isNumberByte(_ byte: UInt8) -> Bool {
        JSONScanner.isDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: ".") || byte | 0x20 == UInt8(ascii: "e")
    }

    /// Decodes the string starting at the opening quote under `p`.
    mutating func string() -> String {
        precondition(byte == UInt8(ascii: "\""), "validated input has a string here")
        p += 1
        let start = p
        let hasEscapes: Bool
        do {
            hasEscapes = try JSONScanner.scanString(&p, end: end, base: base)
        } catch {
            preconditionFailure("validated input failed to rescan: \(error)")
        }
        let field = JSONField(kind: .string, range: (start - base)..<(p - 1 - base), hasEscapes: hasEscapes)
        return field.string(in: UnsafeRawBufferPointer(start: base, count: end - base))
    }
}
