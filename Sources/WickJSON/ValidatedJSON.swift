/// Walks JSON that was validated already, as fields (kind and byte range) without building values:
/// what a decoder that wants a few typed fields out of a document uses, allocating nothing itself.
/// Every function takes the validated buffer; anything else is a programming error.
public enum ValidatedJSON: Sendable {
    /// The value the text holds at its top level.
    public static func root(_ buffer: UnsafeRawBufferPointer) -> JSONField {
        var builder = ValueBuilder(base: buffer.baseAddress!, end: buffer.baseAddress! + buffer.count)
        JSONScanner.skipWhitespace(&builder.p, end: builder.end)
        let first = builder.byte
        guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return field(&builder) }
        // A container runs to the last byte that is not whitespace: no need to walk it.
        var end = buffer.count
        while end > 0, buffer[end - 1] == 0x20 || buffer[end - 1] == 0x0A || buffer[end - 1] == 0x0D || buffer[end - 1] == 0x09 {
            end -= 1
        }
        return JSONField(kind: first == UInt8(ascii: "{") ? .object : .array, range: (builder.p - builder.base)..<end)
    }

    /// Calls `body` with each member of `object` (an object field of `buffer`): its key (a string
    /// field) and its value. Repeated keys come as often as they are written; the last one wins
    /// in JSON.parse, so decoders should let later members overwrite.
    public static func forEachMember<E: Error>(of object: JSONField, in buffer: UnsafeRawBufferPointer,
                                               _ body: (_ key: JSONField, _ value: JSONField) throws(E) -> Void) throws(E) {
        precondition(object.kind == .object, "forEachMember needs an object field")
        let base = buffer.baseAddress!
        var builder = ValueBuilder(base: base, end: base + object.range.upperBound)
        builder.p = base + object.range.lowerBound + 1
        while let key = nextKey(&builder) {
            try body(key, field(&builder))
        }
    }

    /// The key of the next member of the object the builder is in, the builder moved to its value;
    /// nil at the object's closing brace (where the builder stays).
    @inline(__always)
    static func nextKey(_ builder: inout ValueBuilder) -> JSONField? {
        JSONScanner.skipWhitespace(&builder.p, end: builder.end)
        if builder.byte == UInt8(ascii: "}") { return nil }
        if builder.byte == UInt8(ascii: ",") {
            builder.p += 1
            JSONScanner.skipWhitespace(&builder.p, end: builder.end)
        }
        let key = field(&builder)
        JSONScanner.skipWhitespace(&builder.p, end: builder.end)
        builder.p += 1  // the colon
        JSONScanner.skipWhitespace(&builder.p, end: builder.end)
        return key
    }

    /// Calls `body` with each member of `object`, as ``forEachMember(of:in:_:)`` does; a member whose
    /// key `descend` picks and whose value is an object has its own members given to `inner` first,
    /// in the same pass. What it saves is a walk: an object given whole has been skipped to find its
    /// end, and walking its members then reads its bytes again (an event's body, most of its bytes).
    public static func forEachMember(of object: JSONField, in buffer: UnsafeRawBufferPointer,
                                     descendingInto descend: (_ key: JSONField) -> Bool,
                                     inner: (_ key: JSONField, _ value: JSONField) -> Void,
                                     _ body: (_ key: JSONField, _ value: JSONField) -> Void) {
        precondition(object.kind == .object, "forEachMember needs an object field")
        let base = buffer.baseAddress!
        var builder = ValueBuilder(base: base, end: base + object.range.upperBound)
        builder.p = base + object.range.lowerBound + 1
        while let key = nextKey(&builder) {
            guard builder.byte == UInt8(ascii: "{"), descend(key) else {
                body(key, field(&builder))
                continue
            }
            let start = builder.p - base
            builder.p += 1
            while let innerKey = nextKey(&builder) {
                inner(innerKey, field(&builder))
            }
            builder.p += 1  // the inner object's closing brace
            body(key, JSONField(kind: .object, range: start..<(builder.p - base)))
        }
    }

    /// Whether an object or array field has no members or elements: its first byte past the
    /// opening bracket that is not whitespace closes it (nothing else is read).
    public static func isEmpty(_ container: JSONField, in buffer: UnsafeRawBufferPointer) -> Bool {
        precondition(container.kind == .object || container.kind == .array, "isEmpty needs an object or array field")
        let base = buffer.baseAddress!
        var p = base + container.range.lowerBound + 1
        JSONScanner.skipWhitespace(&p, end: base + container.range.upperBound)
        let byte = p.load(as: UInt8.self)
        return byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
    }

    /// Calls `body` with each element of `array` (an array field of `buffer`).
    public static func forEachElement<E: Error>(of array: JSONField, in buffer: UnsafeRawBufferPointer,
                                                _ body: (JSONField) throws(E) -> Void) throws(E) {
        precondition(array.kind == .array, "forEachElement needs an array field")
        let base = buffer.baseAddress!
        var builder = ValueBuilder(base: base, end: base + array.range.upperBound)
        builder.p = base + array.range.lowerBound + 1
        while true {
            JSONScanner.skipWhitespace(&builder.p, end: builder.end)
            if builder.byte == UInt8(ascii: "]") { return }
            if builder.byte == UInt8(ascii: ",") {
                builder.p += 1
                JSONScanner.skipWhitespace(&builder.p, end: builder.end)
            }
            try body(field(&builder))
        }
    }

    /// The value of a field, built (objects and arrays in full).
    public static func value(_ field: JSONField, in buffer: UnsafeRawBufferPointer) -> JSONValue {
        if field.kind == .string { return .string(field.string(in: buffer)) }
        let base = buffer.baseAddress!
        var builder = ValueBuilder(base: base, end: base + field.range.upperBound)
        builder.p = base + field.range.lowerBound
        return builder.value()
    }

    /// The value of a field as its text: strings, arrays and objects longer than `threshold`
    /// bytes stay ``JSONValue/raw(_:)``, the rest is built.
    public static func value(_ field: JSONField, in buffer: UnsafeRawBufferPointer, deferringAbove threshold: Int) -> JSONValue {
        let whole = field.kind == .string ? (field.range.lowerBound - 1)..<(field.range.upperBound + 1) : field.range
        guard whole.count > threshold, field.kind == .string || field.kind == .array || field.kind == .object else {
            return value(field, in: buffer)
        }
        return .raw(RawJSON(validated: Array(UnsafeRawBufferPointer(rebasing: buffer[whole]))))
    }

    /// The field under the builder's position, which moves past it.
    static func field(_ builder: inout ValueBuilder) -> JSONField {
        let start = builder.p - builder.base
        switch builder.byte {
        case UInt8(ascii: "\""):
            let escaped = builder.skipString()
            return JSONField(kind: .string, range: (start + 1)..<(builder.p - builder.base - 1), hasEscapes: escaped)
        case UInt8(ascii: "{"):
            builder.skipValue()
            return JSONField(kind: .object, range: start..<(builder.p - builder.base))
        case UInt8(ascii: "["):
            builder.skipValue()
            return JSONField(kind: .array, range: start..<(builder.p - builder.base))
        case UInt8(ascii: "t"):
            builder.p += 4
            return JSONField(kind: .true, range: start..<(start + 4))
        case UInt8(ascii: "f"):
            builder.p += 5
            return JSONField(kind: .false, range: start..<(start + 5))
        case UInt8(ascii: "n"):
            builder.p += 4
            return JSONField(kind: .null, range: start..<(start + 4))
        default:
            while builder.p < builder.end, ValueBuilder.isNumberByte(builder.byte) { builder.p += 1 }
            return JSONField(kind: .number, range: start..<(builder.p - builder.base))
        }
    }
}
