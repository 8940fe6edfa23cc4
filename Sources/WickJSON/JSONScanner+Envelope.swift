// Envelope extraction, done during the validating pass: the scanner tells this builder about keys and
// values in the few objects that matter (the top-level object, the `batch` array, each event, each `body`)
// and ignores everything deeper.
//
// Where a value goes is a small integer "slot", set when its key is read; what an object's keys mean is its
// "role", set when the object opens. Both fit in a byte, so the scanner keeps them per depth in one word.

/// Where a value's field is recorded.
enum Slot {
    static let none: UInt8 = 0
    /// `id`, `type`, `timestamp`, `body` of the top-level object: 1 + ``EnvelopeKey`` raw value.
    static let topEnvelope: UInt8 = 1
    static let topBody: UInt8 = 4
    /// The seven body fields of the top-level event: 5 + body key index.
    static let topBodyField: UInt8 = 5
    /// Envelope keys of the batch element being scanned: 12 + ``EnvelopeKey`` raw value.
    static let elementEnvelope: UInt8 = 12
    static let elementBody: UInt8 = 15
    /// Body fields of the batch element being scanned: 16 + body key index.
    static let elementBodyField: UInt8 = 16
    /// The value of the top-level `batch` key.
    static let batch: UInt8 = 23
    /// An element of the `batch` array.
    static let batchElement: UInt8 = 24
    /// The top-level value itself.
    static let topLevel: UInt8 = 25
}

/// What an object's keys mean (or, for the batch array, what its elements are).
enum Role {
    static let none: UInt8 = 0
    static let top: UInt8 = 1
    static let batchArray: UInt8 = 2
    static let topBody: UInt8 = 3
    static let element: UInt8 = 4
    static let elementBody: UInt8 = 5
}

/// Collects the envelope of a line while the scanner walks it.
struct EnvelopeBuilder {
    var top = EnvelopeFields(range: 0..<0)
    var element = EnvelopeFields(range: 0..<0)
    /// Whether the last `batch` key's value is an array.
    var batchIsArray = false
    var elements: [BatchElement] = []
    /// Start of a batch element that is an array (only one can be open at a time).
    var elementArrayStart = 0

    // MARK: - Keys

    /// The slot for the value of a key of an object with the given role.
    @inline(__always)
    mutating func slot(forKeyAt key: UnsafeRawPointer, count: Int, hasEscapes: Bool, role: UInt8, end: UnsafeRawPointer)
        -> UInt8
    {
        guard let (length, low, high) = Self.packKey(key, count: count, hasEscapes: hasEscapes, end: end) else {
            return Slot.none
        }
        switch role {
        case Role.top:
            let index = Self.envelopeKeyIndex(length, low, high)
            if index < 4 { return Slot.topEnvelope + index }
            if index == 4 {
                // A later `batch` replaces an earlier one (last key wins), so forget its elements.
                batchIsArray = false
                elements.removeAll(keepingCapacity: true)
                return Slot.batch
            }
            return Slot.none
        case Role.element:
            let index = Self.envelopeKeyIndex(length, low, high)
            return index < 4 ? Slot.elementEnvelope + index : Slot.none
        case Role.topBody:
            let index = Self.bodyKeyIndex(length, low, high)
            return index < 7 ? Slot.topBodyField + index : Slot.none
        case Role.elementBody:
            let index = Self.bodyKeyIndex(length, low, high)
            return index < 7 ? Slot.elementBodyField + index : Slot.none
        default:
            return Slot.none
        }
    }

    /// The decoded key as a length and up to sixteen bytes in two little-endian words, or nil if it is longer
    /// than any key of interest.
    @inline(__always)
    static func packKey(_ key: UnsafeRawPointer, count: Int, hasEscapes: Bool, end: UnsafeRawPointer)
        -> (Int, UInt64, UInt64)?
    {
        if hasEscapes { return packEscapedKey(UnsafeRawBufferPointer(start: key, count: count)) }
        guard count <= 16 else { return nil }
        if end - key >= 16 {
            // The key is followed by at least `":` and a value, so the 16-byte window usually fits.
            let low = UInt64(littleEndian: key.loadUnaligned(as: UInt64.self))
            let high = UInt64(littleEndian: key.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            return (count, low & byteMask(count), high & byteMask(count - 8))
        }
        var low: UInt64 = 0
        var high: UInt64 = 0
        for i in 0..<count {
            let byte = UInt64(key.load(fromByteOffset: i, as: UInt8.self))
            if i < 8 { low |= byte << (8 * i) } else { high |= byte << (8 * (i - 8)) }
        }
        return (count, low, high)
    }

    /// The slow path for keys with escapes (`"\u0069d"` is `id`).
    static func packEscapedKey(_ raw: UnsafeRawBufferPointer) -> (Int, UInt64, UInt64)? {
        var decoded = DecodedBytes(raw)
        var low: UInt64 = 0
        var high: UInt64 = 0
        var length = 0
        while let byte = decoded.next() {
            guard length < 16 else { return nil }
            if length < 8 { low |= UInt64(byte) << (8 * length) } else { high |= UInt64(byte) << (8 * (length - 8)) }
            length += 1
        }
        return (length, low, high)
    }

    /// A mask keeping the low `count` bytes of a word (none for zero or less, all for eight or more).
    @inline(__always)
    static func byteMask(_ count: Int) -> UInt64 {
        if count <= 0 { return 0 }
        if count >= 8 { return ~0 }
        return (1 << UInt64(8 * count)) &- 1
    }

    /// 0...3 for `id`, `type`, `timestamp`, `body` (the ``EnvelopeKey`` raw values), 4 for `batch`, else 255.
    @inline(__always)
    static func envelopeKeyIndex(_ length: Int, _ low: UInt64, _ high: UInt64) -> UInt8 {
        switch length {
        case 2: return low == 0x6469 ? 0 : 255  // "id"
        case 4: return low == 0x6570_7974 ? 1 : low == 0x7964_6F62 ? 3 : 255  // "type", "body"
        case 5: return low == 0x68_6374_6162 ? 4 : 255  // "batch"
        case 9: return low == 0x6D61_7473_656D_6974 && high == 0x70 ? 2 : 255  // "timestamp"
        default: return 255
        }
    }

    /// 0...6 for `id`, `traceId`, `observationId`, `sessionId`, `name`, `value`, `dataType`, else 255.
    @inline(__always)
    static func bodyKeyIndex(_ length: Int, _ low: UInt64, _ high: UInt64) -> UInt8 {
        switch length {
        case 2: return low == 0x6469 ? 0 : 255  // "id"
        case 7: return low == 0x64_4965_6361_7274 ? 1 : 255  // "traceId"
        case 13: return low == 0x7461_7672_6573_626F && high == 0x64_496E_6F69 ? 2 : 255  // "observationId"
        case 9: return low == 0x496E_6F69_7373_6573 && high == 0x64 ? 3 : 255  // "sessionId"
        case 4: return low == 0x656D_616E ? 4 : 255  // "name"
        case 5: return low == 0x65_756C_6176 ? 5 : 255  // "value"
        case 8: return low == 0x6570_7954_6174_6164 ? 6 : 255  // "dataType"
        default: return 255
        }
    }

    // MARK: - Values

    /// Records a complete value: a scalar, or an empty object or array.
    @inline(__always)
    mutating func assign(_ slot: UInt8, _ field: JSONField) {
        switch slot {
        case Slot.topEnvelope..<Slot.topBodyField:
            if slot == Slot.topBody { top.bodyFields = BodyFields() }
            top.set(slot - Slot.topEnvelope, field)
        case Slot.topBodyField..<Slot.elementEnvelope:
            top.bodyFields.set(slot - Slot.topBodyField, field)
        case Slot.elementEnvelope..<Slot.elementBodyField:
            if slot == Slot.elementBody { element.bodyFields = BodyFields() }
            element.set(slot - Slot.elementEnvelope, field)
        case Slot.elementBodyField..<Slot.batch:
            element.bodyFields.set(slot - Slot.elementBodyField, field)
        case Slot.batch:
            batchIsArray = field.kind == .array
        case Slot.batchElement:
            if field.kind == .object {
                elements.append(.event(EnvelopeFields(range: field.range)))
            } else {
                elements.append(.notAnObject(field))
            }
        case Slot.topLevel:
            if field.kind == .object { top = EnvelopeFields(range: field.range) }
        default:
            preconditionFailure("unknown slot \(slot)")
        }
    }

    /// Notes that a non-empty object or array opened at `start` for `slot`; returns the role of its contents.
    @inline(__always)
    mutating func open(_ slot: UInt8, isObject: Bool, start: Int) -> UInt8 {
        let kind: JSONKind = isObject ? .object : .array
        switch slot {
        case Slot.topLevel:
            top = EnvelopeFields(range: start..<start)
            return isObject ? Role.top : Role.none
        case Slot.batch:
            batchIsArray = !isObject
            // Once `type` is known the line is an event, so its `batch` is just another field.
            return !isObject && top.type == nil ? Role.batchArray : Role.none
        case Slot.batchElement:
            if isObject {
                element = EnvelopeFields(range: start..<start)
                return Role.element
            }
            elementArrayStart = start
            return Role.none
        default:
            // A field whose value is a container: record it now, finish its range on close.
            assign(slot, JSONField(kind: kind, range: start..<start))
            if slot == Slot.topBody { return isObject ? Role.topBody : Role.none }
            if slot == Slot.elementBody { return isObject ? Role.elementBody : Role.none }
            return Role.none
        }
    }

    /// Notes that the object or array opened for `slot` closed just before `end`.
    @inline(__always)
    mutating func close(_ slot: UInt8, isObject: Bool, end: Int) {
        switch slot {
        case Slot.topLevel:
            top.range = top.range.lowerBound..<end
        case Slot.batch:
            break
        case Slot.batchElement:
            if isObject {
                element.range = element.range.lowerBound..<end
                elements.append(.event(element))
            } else {
                elements.append(.notAnObject(JSONField(kind: .array, range: elementArrayStart..<end)))
            }
        default:
            finish(slot, end: end)
        }
    }

    /// Extends a field recorded by ``open(_:isObject:start:)`` to its closing bracket.
    mutating func finish(_ slot: UInt8, end: Int) {
        func extended(_ field: JSONField?) -> JSONField {
            // !: open(_:isObject:start:) recorded this field before any of its contents were scanned.
            let field = field!
            return JSONField(kind: field.kind, range: field.range.lowerBound..<end)
        }
        switch slot {
        case Slot.topEnvelope..<Slot.topBodyField:
            // Written directly, not through set(_:_:), so the open is not counted as a duplicate.
            switch EnvelopeKey(rawValue: slot - Slot.topEnvelope)! {  // !: slot - 1 is in 0...3
            case .id: top.id = extended(top.id)
            case .type: top.type = extended(top.type)
            case .timestamp: top.timestamp = extended(top.timestamp)
            case .body: top.body = extended(top.body)
            }
        case Slot.topBodyField..<Slot.elementEnvelope:
            let index = slot - Slot.topBodyField
            top.bodyFields.set(index, extended(top.bodyFields.field(index)))
        case Slot.elementEnvelope..<Slot.elementBodyField:
            switch EnvelopeKey(rawValue: slot - Slot.elementEnvelope)! {  // !: slot - 12 is in 0...3
            case .id: element.id = extended(element.id)
            case .type: element.type = extended(element.type)
            case .timestamp: element.timestamp = extended(element.timestamp)
            case .body: element.body = extended(element.body)
            }
        case Slot.elementBodyField..<Slot.batch:
            let index = slot - Slot.elementBodyField
            element.bodyFields.set(index, extended(element.bodyFields.field(index)))
        default:
            preconditionFailure("unknown slot \(slot)")
        }
    }

    /// The line's verdict, once the top-level object has been scanned: a batch is an object whose last
    /// `batch` key holds an array and that has no `type` key.
    func result() -> ScannedLine {
        batchIsArray && top.type == nil ? .batch(elements) : .event(top)
    }
}

extension BodyFields {
    func field(_ index: UInt8) -> JSONField? {
        switch index {
        case 0: id
        case 1: traceId
        case 2: observationId
        case 3: sessionId
        case 4: name
        case 5: value
        default: dataType
        }
    }
}
