/// A validating, allocation-free JSON scanner for one NDJSON line, which also finds the Langfuse envelope
/// fields in the same pass.
///
/// The whole input must be one JSON text per RFC 8259, in well-formed UTF-8:
/// - numbers follow the strict grammar (no leading zeros, no `+`, no `.5`, no `1.`, no NaN or Infinity) and are
///   never converted, so any magnitude is accepted;
/// - strings hold no raw byte below 0x20, only the escapes `\" \\ \/ \b \f \n \r \t \uXXXX`, no lone UTF-16
///   surrogate escapes, and only well-formed UTF-8 (no overlong forms, encoded surrogates, code points above
///   U+10FFFF or cut-off sequences);
/// - only space, tab, CR and LF separate tokens, and only they may follow the value; a byte order mark is
///   rejected;
/// - objects and arrays nest at most ``JSONLimits/maxDepth`` deep.
///
/// The walk is iterative (a bit per depth says "object or array"), skips plain ASCII inside strings eight bytes
/// at a time, and allocates nothing for a single event; a batch line allocates its element array.
public struct JSONScanner: Sendable {
    /// The limits every scan enforces.
    public let limits: JSONLimits

    /// A scanner enforcing `limits`.
    @inlinable
    public init(limits: JSONLimits = JSONLimits()) {
        self.limits = limits
    }

    /// Validates `input` and extracts its Langfuse envelope.
    ///
    /// A top-level object with a `batch` key whose (last) value is an array, and no `type` key, is a batch:
    /// each element is scanned as an event, and elements that are not objects are reported as such. Any other
    /// top-level object is one event. A top-level value that is not an object fails with
    /// ``JSONScanError/Code/notAnObject``, but only once the whole input proved to be valid JSON; an invalid
    /// input fails with its first real error.
    ///
    /// Precondition: `input` is shorter than 4 GiB (ranges are kept in 32 bits; frame lines long before that).
    @inlinable
    public func scan(_ input: UnsafeRawBufferPointer) throws(JSONScanError) -> ScannedLine {
        try Self.run(input, maxDepth: limits.maxDepth, extract: true)
    }

    /// Validates `input` as one JSON text of any kind (a top-level scalar or array is fine), extracting nothing.
    /// Accepts exactly the inputs ``JSONValue/parse(_:limits:)`` accepts.
    @inlinable
    public func validate(_ input: UnsafeRawBufferPointer) throws(JSONScanError) {
        _ = try Self.run(input, maxDepth: limits.maxDepth, extract: false)
    }

    /// The single pass behind ``scan(_:)`` and ``validate(_:)``. When `extract` is false the result is an
    /// empty batch, to be ignored (a non-optional result saves a copy of the envelope on the hot path).
    @usableFromInline
    static func run(_ input: UnsafeRawBufferPointer, maxDepth: Int, extract: Bool) throws(JSONScanError)
        -> ScannedLine
    {
        guard let base = input.baseAddress, input.count > 0 else { throw JSONScanError(.empty, at: 0) }
        precondition(input.count <= Int(UInt32.max), "JSONScanner inputs must be shorter than 4 GiB")
        let end = base + input.count
        var p = base
        if p.load(as: UInt8.self) == 0xEF && input.count >= 3 && p.load(fromByteOffset: 1, as: UInt8.self) == 0xBB
            && p.load(fromByteOffset: 2, as: UInt8.self) == 0xBF
        {
            throw JSONScanError(.byteOrderMark, at: 0)
        }
        skipWhitespace(&p, end: end)
        guard p < end else { throw JSONScanError(.empty, at: input.count) }
        let topLevelByte = p.load(as: UInt8.self)
        let topLevelOffset = p - base

        var builder = EnvelopeBuilder()
        var depth = 0
        /// Bit `d` is set when the container at depth `d + 1` is an object (depths up to 64).
        var objectBits: UInt64 = 0
        /// The same bits for depths beyond 64, one word per 64 levels; allocated only when a limit above 64
        /// is configured and reached.
        var deepObjectBits: [UInt64] = []
        var inObject = false
        /// Byte `d` holds the role (high 3 bits) and slot (low 5 bits) of the container at depth `d`, for the
        /// depths where envelope fields can occur (1...7).
        var frames: UInt64 = 0
        var role = Role.none
        var pendingSlot = extract ? Slot.topLevel : Slot.none

        valueLoop: while true {
            // Here p < end, at the first byte of a value.
            let valueStart = p
            let first = p.load(as: UInt8.self)
            switch first {
            case UInt8(ascii: "\""):
                p += 1
                let hasEscapes = try scanString(&p, end: end, base: base)
                if pendingSlot != Slot.none {
                    let range = (valueStart + 1 - base)..<(p - 1 - base)
                    builder.assign(pendingSlot, JSONField(kind: .string, range: range, hasEscapes: hasEscapes))
                    pendingSlot = Slot.none
                }

            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = first == UInt8(ascii: "{")
                guard depth < maxDepth else { throw JSONScanError(.tooDeep, at: p - base) }
                p += 1
                skipWhitespace(&p, end: end)
                guard p < end else { throw JSONScanError(.truncated, at: end - base) }
                if p.load(as: UInt8.self) == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    // Empty: a complete value, no push needed.
                    p += 1
                    if pendingSlot != Slot.none {
                        let kind: JSONKind = isObject ? .object : .array
                        builder.assign(pendingSlot, JSONField(kind: kind, range: (valueStart - base)..<(p - base)))
                        pendingSlot = Slot.none
                    }
                    break
                }
                // Push.
                if depth < 64 {
                    let bit: UInt64 = 1 << UInt64(depth)
                    objectBits = isObject ? objectBits | bit : objectBits & ~bit
                } else {
                    setDeepBit(&deepObjectBits, depth: depth, isObject: isObject)
                }
                depth += 1
                inObject = isObject
                if depth < 8 {
                    var frame: UInt64 = 0
                    role = Role.none
                    if pendingSlot != Slot.none {
                        role = builder.open(pendingSlot, isObject: isObject, start: valueStart - base)
                        frame = UInt64(role) << 5 | UInt64(pendingSlot)
                        pendingSlot = Slot.none
                    }
                    let shift = UInt64(8 * depth)
                    frames = frames & ~(0xFF << shift) | frame << shift
                } else {
                    role = Role.none
                }
                if isObject {
                    try scanKey(&p, end: end, base: base, role: role, pendingSlot: &pendingSlot, builder: &builder)
                } else if role == Role.batchArray {
                    pendingSlot = Slot.batchElement
                }
                continue valueLoop

            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try scanNumber(&p, end: end, base: base)
                if pendingSlot != Slot.none {
                    builder.assign(pendingSlot, JSONField(kind: .number, range: (valueStart - base)..<(p - base)))
                    pendingSlot = Slot.none
                }

            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                let kind = try scanLiteral(&p, first: first, end: end, base: base)
                if pendingSlot != Slot.none {
                    builder.assign(pendingSlot, JSONField(kind: kind, range: (valueStart - base)..<(p - base)))
                    pendingSlot = Slot.none
                }

            default:
                throw valueStartError(first, at: p - base)
            }

            // A value is complete: what may follow depends on the enclosing container.
            while true {
                skipWhitespace(&p, end: end)
                if depth == 0 {
                    guard p == end else { throw JSONScanError(.trailingBytes, at: p - base) }
                    break valueLoop
                }
                guard p < end else { throw JSONScanError(.truncated, at: end - base) }
                let byte = p.load(as: UInt8.self)
                if byte == UInt8(ascii: ",") {
                    p += 1
                    skipWhitespace(&p, end: end)
                    guard p < end else { throw JSONScanError(.truncated, at: end - base) }
                    if inObject {
                        try scanKey(&p, end: end, base: base, role: role, pendingSlot: &pendingSlot, builder: &builder)
                    } else if role == Role.batchArray {
                        pendingSlot = Slot.batchElement
                    }
                    continue valueLoop
                }
                guard byte == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else {
                    throw JSONScanError(.unexpectedByte, at: p - base)
                }
                p += 1
                // Pop.
                if depth < 8 {
                    let shift = UInt64(8 * depth)
                    let slot = UInt8(truncatingIfNeeded: frames >> shift) & 0x1F
                    if slot != Slot.none { builder.close(slot, isObject: inObject, end: p - base) }
                    role = UInt8(truncatingIfNeeded: frames >> (shift - 8)) >> 5
                }
                depth -= 1
                if depth > 0 {
                    let index = depth - 1
                    inObject =
                        index < 64
                        ? objectBits & (1 << UInt64(index)) != 0
                        : deepObjectBits[index / 64 - 1] & (1 << UInt64(index % 64)) != 0
                }
            }
        }

        guard extract else { return .batch([]) }
        guard topLevelByte == UInt8(ascii: "{") else {
            throw JSONScanError(.notAnObject, at: topLevelOffset)
        }
        return builder.result()
    }

    /// Reads an object key, the colon after it, and the whitespace up to the value. `p` is at the opening quote
    /// on entry and at the first byte of the value on return.
    @inline(__always)
    static func scanKey(
        _ p: inout UnsafeRawPointer,
        end: UnsafeRawPointer,
        base: UnsafeRawPointer,
        role: UInt8,
        pendingSlot: inout UInt8,
        builder: inout EnvelopeBuilder
    ) throws(JSONScanError) {
        guard p.load(as: UInt8.self) == UInt8(ascii: "\"") else { throw JSONScanError(.unexpectedByte, at: p - base) }
        p += 1
        let keyStart = p
        let hasEscapes = try scanString(&p, end: end, base: base)
        if role != Role.none {
            pendingSlot = builder.slot(
                forKeyAt: keyStart,
                count: p - 1 - keyStart,
                hasEscapes: hasEscapes,
                role: role,
                end: end
            )
        }
        skipWhitespace(&p, end: end)
        guard p < end else { throw JSONScanError(.truncated, at: end - base) }
        guard p.load(as: UInt8.self) == UInt8(ascii: ":") else { throw JSONScanError(.unexpectedByte, at: p - base) }
        p += 1
        skipWhitespace(&p, end: end)
        guard p < end else { throw JSONScanError(.truncated, at: end - base) }
    }

    /// Records whether the container at 0-based depth index `depth` (64 or more) is an object.
    static func setDeepBit(_ words: inout [UInt64], depth: Int, isObject: Bool) {
        let word = depth / 64 - 1
        if word == words.count { words.append(0) }
        let bit: UInt64 = 1 << UInt64(depth % 64)
        words[word] = isObject ? words[word] | bit : words[word] & ~bit
    }
}
