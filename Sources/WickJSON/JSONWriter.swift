// Compact serialisation. Strings escape only what JSON requires — `"`, `\` and the bytes below 0x20 (with the
// short forms where they exist) — and write everything else, non-ASCII included, as raw UTF-8. Swift strings
// hold only valid Unicode, so the output is always valid UTF-8 and re-parses to the same value. Raw values (what
// a deferring parse left as text) are written as they came.

extension JSONValue {
    /// The value as compact JSON text in UTF-8.
    public func serialized() -> [UInt8] {
        var bytes: [UInt8] = []
        write(to: &bytes)
        return bytes
    }

    /// Appends the value as compact JSON text to `bytes`. Recursion depth is the value's nesting depth.
    public func write(to bytes: inout [UInt8]) {
        switch self {
        case .null:
            bytes.append(contentsOf: "null".utf8)
        case .bool(let value):
            bytes.append(contentsOf: value ? "true".utf8 : "false".utf8)
        case .number(let number):
            bytes.append(contentsOf: number.text.utf8)
        case .string(let string):
            JSONWriter.writeString(string, to: &bytes)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                element.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            for (position, entry) in object.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: ",")) }
                JSONWriter.writeString(entry.key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                entry.value.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        case .raw(let raw):
            // As the client wrote it (valid JSON; any whitespace it had between tokens stays).
            bytes.append(contentsOf: raw.bytes)
        }
    }
}

/// Low-level JSON writing helpers, shared by ``JSONValue`` and by code that writes JSON without building values.
public enum JSONWriter: Sendable {
    /// Appends `string` as a quoted, escaped JSON string.
    public static func writeString(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var copy = string
        copy.withUTF8 { utf8 in
            // Most strings written (ids, keys, names) need no escape: checked eight bytes at a time.
            if !needsEscape(UnsafeRawBufferPointer(utf8)) {
                bytes.append(contentsOf: utf8)
                return
            }
            var runStart = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                appendEscape(for: byte, to: &bytes)
                runStart = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Whether any byte is a quote, a backslash or a control byte.
    @inline(__always)
    static func needsEscape(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var offset = 0
        while offset + 8 <= bytes.count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            // The scanner's lanes, less bytes above 0x7F (text outside ASCII is written as it is): a
            // lane is only flagged by a borrow above a byte that needs an escape itself.
            if JSONScanner.specialLanes(word) & ~word != 0 { return true }
            offset += 8
        }
        while offset < bytes.count {
            let byte = base.load(fromByteOffset: offset, as: UInt8.self)
            if byte < 0x20 || byte == 0x22 || byte == 0x5C { return true }
            offset += 1
        }
        return false
    }

    static func appendEscape(for byte: UInt8, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case 0x22: bytes.append(UInt8(ascii: "\""))
        case 0x5C: bytes.append(UInt8(ascii: "\\"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            bytes.append(UInt8(ascii: "u"))
            bytes.append(UInt8(ascii: "0"))
            bytes.append(UInt8(ascii: "0"))
            bytes.append(hex.utf8Start[Int(byte >> 4)])
            bytes.append(hex.utf8Start[Int(byte & 0xF)])
        }
    }
}

extension JSONWriter {
    /// Appends one JSON text as an NDJSON line: its bytes, with any CR or LF turned into a space,
    /// then a newline. In valid JSON those bytes can only be whitespace between tokens (a string
    /// holds them escaped), so the line means what the text meant: an event stored from a
    /// pretty-printed HTTP batch is still one line (`wick export`, the file sink).
    public static func appendLine(_ json: some Collection<UInt8>, to bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: json)
        if bytes[start...].contains(where: { $0 == 0x0A || $0 == 0x0D }) {
            for index in start..<bytes.count where bytes[index] == 0x0A || bytes[index] == 0x0D { bytes[index] = 0x20 }
        }
        bytes.append(0x0A)
    }
}
