import WickJSON

/// A span's attributes by key (a repeated key: the last wins), with the conversions the mapping
/// needs: the first of several keys, strings, JSON carried in strings, and AnyValue as JSON.
struct SpanAttributes {
    private(set) var values: [String: OTLPValue]
    let ordered: [OTLPAttribute]

    init(_ attributes: [OTLPAttribute]) {
        ordered = attributes
        var values = [String: OTLPValue](minimumCapacity: attributes.count)
        for attribute in attributes { values[attribute.key] = attribute.value }
        self.values = values
    }

    subscript(key: String) -> OTLPValue? {
        guard let value = values[key], value != .empty else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { self[key] != nil }

    /// The first of `keys` that is present.
    func first(_ keys: [String]) -> OTLPValue? {
        for key in keys { if let value = self[key] { return value } }
        return nil
    }

    /// The first of `keys` as a non-empty string.
    func string(_ keys: String...) -> String? {
        for key in keys { if let text = self[key]?.text, !text.isEmpty { return text } }
        return nil
    }

    /// Keys under `prefix.` with the prefix removed, in the order they came.
    func suffixes(of prefix: String) -> [(suffix: String, value: OTLPValue)] {
        let dotted = prefix + "."
        return ordered.compactMap { attribute in
            guard attribute.key.hasPrefix(dotted), attribute.value != .empty else { return nil }
            return (String(attribute.key.dropFirst(dotted.count)), attribute.value)
        }
    }
}

extension OTLPValue {
    /// The value as text: strings as they are, numbers and booleans written out, lists as JSON.
    var text: String? {
        switch self {
        case .string(let string): string
        case .bool(let bool): bool ? "true" : "false"
        case .int(let int): String(int)
        case .double(let double): String(double)
        case .array, .keyValues, .bytes: String(decoding: json.serialized(), as: UTF8.self)
        case .empty: nil
        }
    }

    /// AnyValue as JSON (reference §2.2): NaN and infinities as strings, key-value lists and bytes
    /// as JSON text.
    var json: JSONValue {
        switch self {
        case .string(let string): .string(string)
        case .bool(let bool): .bool(bool)
        case .int(let int): .number(JSONNumber(int))
        case .double(let double): JSONNumber(double).map(JSONValue.number) ?? .string(String(double))
        case .array(let values): .array(values.map(\.json))
        case .keyValues(let pairs):
            .string(String(decoding: JSONValue.object(JSONObject(pairs.map { ($0.key, $0.value.json) })).serialized(), as: UTF8.self))
        case .bytes(let bytes): .string(Hex.encode(bytes))
        case .empty: .null
        }
    }

    /// A string that holds JSON (the SDKs serialise input, output and metadata) as that JSON; any
    /// other value, or a string that is not JSON, as `json`. Strings, arrays and objects stay
    /// validated text (`JSONValue.raw`), so a prompt is copied into the event, not rebuilt.
    var parsed: JSONValue {
        guard case .string(let string) = self, let first = string.utf8.first(where: { $0 != 0x20 && $0 != 0x0A }) else { return json }
        switch first {
        case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            var text = string
            let value = text.withUTF8 { utf8 in
                try? JSONValue.parse(UnsafeRawBufferPointer(utf8), deferringAbove: 0, fromDepth: 0)
            }
            return value ?? .string(string)
        default:
            return .string(string)
        }
    }

    /// A JSON object carried in a string (or a key-value list); nil for anything else.
    var object: JSONObject? {
        if case .keyValues(let pairs) = self { return JSONObject(pairs.map { ($0.key, $0.value.json) }) }
        return parsed.objectValue
    }

    /// A string list as the tag attributes carry it: string[], a JSON array in a string, a
    /// comma-separated string, or one string.
    var strings: [String] {
        switch self {
        case .array(let values): return values.compactMap(\.text)
        case .string(let string):
            if string.hasPrefix("["), let array = (try? JSONValue.parse(string))?.arrayValue {
                return array.compactMap { $0.stringValue ?? $0.numberValue?.text }
            }
            return string.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        default: return text.map { [$0] } ?? []
        }
    }

    var isTrue: Bool {
        switch self {
        case .bool(let bool): bool
        case .string(let string): string.lowercased() == "true"
        default: false
        }
    }

    var integer: Int64? {
        switch self {
        case .int(let int): int
        case .double(let double): double.isFinite && double.rounded() == double ? Int64(exactly: double) : nil
        case .string(let string): Int64(string) ?? Double(string).flatMap { $0.rounded() == $0 ? Int64(exactly: $0) : nil }
        default: nil
        }
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

/// A 64-bit fingerprint of an event body for its id: stable across runs and machines, not a
/// security hash. Eight bytes a step (an FNV-style multiply and a xor-shift), since bodies carry
/// whole prompts.
enum BodyHash {
    static func hash(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(bytes.count)
        bytes.withUnsafeBytes { raw in
            var index = 0
            while index + 8 <= raw.count {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                hash = (hash ^ word) &* 0x0000_0100_0000_01B3
                hash ^= hash >> 29
                index += 8
            }
            while index < raw.count {
                hash = (hash ^ UInt64(raw[index])) &* 0x0000_0100_0000_01B3
                index += 1
            }
        }
        hash ^= hash >> 32
        return hash &* 0x9E37_79B9_7F4A_7C15
    }
}
