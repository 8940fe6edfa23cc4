import WickTestSupport

/// A grammar-based generator of JSON texts, mostly valid, with occasional deliberate faults (lone surrogates,
/// raw control bytes, bad numbers, trailing commas, huge numbers) so both verdicts get exercised.
struct RandomJSON {
    var rng: SplitMix
    /// How often (out of 1000) a generated token is deliberately broken.
    var faultPerMille = 4

    init(seed: UInt64) {
        rng = SplitMix(seed: seed)
    }

    mutating func chance(_ perMille: Int) -> Bool {
        Int.random(in: 0..<1000, using: &rng) < perMille
    }

    mutating func pick<T>(_ options: [T]) -> T {
        options[Int.random(in: 0..<options.count, using: &rng)]
    }

    mutating func whitespace(into out: inout [UInt8]) {
        guard chance(150) else { return }
        for _ in 0..<Int.random(in: 1...3, using: &rng) { out.append(pick([0x20, 0x09, 0x0A, 0x0D])) }
    }

    /// A whole text: usually an object, sometimes shaped like a Langfuse event or batch.
    mutating func text() -> [UInt8] {
        var out: [UInt8] = []
        whitespace(into: &out)
        switch Int.random(in: 0..<10, using: &rng) {
        case 0..<3: envelope(into: &out)
        case 3: batch(into: &out)
        default: value(into: &out, depth: 0)
        }
        whitespace(into: &out)
        return out
    }

    mutating func envelope(into out: inout [UInt8]) {
        let keys = ["id", "type", "timestamp", "body", "metadata", "i\\u0064", "batch"]
        out.append(UInt8(ascii: "{"))
        for index in 0..<Int.random(in: 0...6, using: &rng) {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            whitespace(into: &out)
            out.append(contentsOf: Array("\"\(pick(keys))\"".utf8))
            whitespace(into: &out)
            out.append(UInt8(ascii: ":"))
            if chance(500) {
                body(into: &out)
            } else {
                value(into: &out, depth: 1)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    mutating func body(into out: inout [UInt8]) {
        let keys = ["id", "traceId", "observationId", "sessionId", "name", "value", "dataType", "input", "trace\\u0049d"]
        out.append(UInt8(ascii: "{"))
        for index in 0..<Int.random(in: 0...7, using: &rng) {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: Array("\"\(pick(keys))\":".utf8))
            value(into: &out, depth: 2)
        }
        out.append(UInt8(ascii: "}"))
    }

    mutating func batch(into out: inout [UInt8]) {
        out.append(contentsOf: Array("{\"batch\":[".utf8))
        for index in 0..<Int.random(in: 0...4, using: &rng) {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            if chance(700) { envelope(into: &out) } else { value(into: &out, depth: 2) }
        }
        out.append(UInt8(ascii: "]"))
        if chance(200) { out.append(contentsOf: Array(",\"type\":\"x\"".utf8)) }
        out.append(UInt8(ascii: "}"))
    }

    mutating func value(into out: inout [UInt8], depth: Int) {
        whitespace(into: &out)
        let kinds = depth >= 5 ? 5 : 7
        switch Int.random(in: 0..<kinds, using: &rng) {
        case 0: out.append(contentsOf: Array(pick(["null", "true", "false"]).utf8))
        case 1, 2: number(into: &out)
        case 3, 4: string(into: &out)
        case 5:
            out.append(UInt8(ascii: "["))
            let count = Int.random(in: 0...4, using: &rng)
            for index in 0..<count {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                value(into: &out, depth: depth + 1)
            }
            if count > 0 && chance(faultPerMille) { out.append(UInt8(ascii: ",")) }
            whitespace(into: &out)
            out.append(UInt8(ascii: "]"))
        default:
            out.append(UInt8(ascii: "{"))
            let count = Int.random(in: 0...4, using: &rng)
            var keys: [[UInt8]] = []
            for index in 0..<count {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                whitespace(into: &out)
                var key: [UInt8] = []
                // Repeat an earlier key now and then: last one wins.
                if !keys.isEmpty && chance(150) { key = pick(keys) } else { string(into: &key) }
                keys.append(key)
                out.append(contentsOf: key)
                whitespace(into: &out)
                out.append(UInt8(ascii: ":"))
                value(into: &out, depth: depth + 1)
            }
            if count > 0 && chance(faultPerMille) { out.append(UInt8(ascii: ",")) }
            whitespace(into: &out)
            out.append(UInt8(ascii: "}"))
        }
        whitespace(into: &out)
    }

    mutating func digits(_ count: Int, into out: inout [UInt8]) {
        for _ in 0..<count { out.append(UInt8(ascii: "0") + UInt8.random(in: 0...9, using: &rng)) }
    }

    mutating func number(into out: inout [UInt8]) {
        if chance(faultPerMille) {
            out.append(contentsOf: Array(pick(["01", "1.", ".5", "+1", "-", "1e", "NaN", "-Infinity", "0x1"]).utf8))
            return
        }
        if chance(300) { out.append(UInt8(ascii: "-")) }
        if chance(200) {
            out.append(UInt8(ascii: "0"))
        } else {
            out.append(UInt8(ascii: "1") + UInt8.random(in: 0...8, using: &rng))
            digits(Int.random(in: 0...(chance(20) ? 30 : 8), using: &rng), into: &out)
        }
        if chance(400) {
            out.append(UInt8(ascii: "."))
            digits(Int.random(in: 1...12, using: &rng), into: &out)
        }
        if chance(200) {
            out.append(pick([UInt8(ascii: "e"), UInt8(ascii: "E")]))
            if chance(600) { out.append(pick([UInt8(ascii: "+"), UInt8(ascii: "-")])) }
            // Mostly small exponents; a few far beyond Double's range.
            digits(chance(50) ? 4 : Int.random(in: 1...2, using: &rng), into: &out)
        }
    }

    mutating func string(into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for _ in 0..<Int.random(in: 0...(chance(100) ? 40 : 12), using: &rng) {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                var byte = UInt8.random(in: 0x20...0x7E, using: &rng)
                if byte == 0x22 || byte == 0x5C { byte = UInt8(ascii: "a") }
                out.append(byte)
            case 5:
                out.append(contentsOf: Array(pick(["\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"]).utf8))
            case 6:
                var unit = UInt16.random(in: 0...0xFFFF, using: &rng)
                if unit >= 0xD800 && unit < 0xE000 && !chance(faultPerMille * 10) { unit = 0x41 }
                out.append(contentsOf: Array("\\u".utf8) + hex4(unit))
            case 7:
                let scalar = UInt32.random(in: 0x10000...0x10FFFF, using: &rng)
                let high = UInt16(0xD800 + ((scalar - 0x10000) >> 10))
                let low = UInt16(0xDC00 + ((scalar - 0x10000) & 0x3FF))
                out.append(contentsOf: Array("\\u".utf8) + hex4(high) + Array("\\u".utf8) + hex4(low))
            case 8:
                out.append(contentsOf: Array(pick(["é", "中", "😀", "\u{80}", "\u{7FF}", "\u{800}", "\u{FFFF}", "\u{10FFFF}", "\u{7F}"]).utf8))
            default:
                if chance(faultPerMille * 5) {
                    out.append(pick([0x00, 0x0A, 0x1F, 0x80, 0xC0, 0xED, 0xF5, 0xFF]))
                } else {
                    out.append(UInt8(ascii: "z"))
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    mutating func hex4(_ unit: UInt16) -> [UInt8] {
        let digits = Array((chance(500) ? "0123456789abcdef" : "0123456789ABCDEF").utf8)
        return [12, 8, 4, 0].map { digits[Int((unit >> UInt16($0)) & 0xF)] }
    }

    /// One to three random edits: a byte replaced (often by a structural or troublesome byte), removed or
    /// inserted, a cut, or a slice repeated.
    mutating func mutate(_ input: [UInt8]) -> [UInt8] {
        var bytes = input
        let interesting: [UInt8] = Array("\"\\{}[],:0-.eE+ tnfu".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE0, 0xED, 0xF0, 0xF4, 0xFF]
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            guard !bytes.isEmpty else {
                bytes.append(pick(interesting))
                continue
            }
            let position = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: bytes[position] = pick(interesting)
            case 1: bytes[position] = UInt8.random(in: 0...255, using: &rng)
            case 2: bytes.remove(at: position)
            case 3: bytes.insert(chance(500) ? pick(interesting) : UInt8.random(in: 0...255, using: &rng), at: position)
            case 4: bytes.removeSubrange(position...)
            default:
                let end = min(bytes.count, position + Int.random(in: 1...16, using: &rng))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            }
        }
        return bytes
    }
}
