/// A fully decoded JSON value, for use off the ingest hot path (assembly, compaction, replay, queries).
///
/// Numbers keep their text (``JSONNumber``) and objects keep their key order (``JSONObject``), so
/// `parse` followed by ``serialized()`` loses nothing but insignificant whitespace and escapes that were not
/// needed.
///
/// A parse may defer large nested values (``parse(_:limits:deferringAbove:fromDepth:)``): they stay
/// ``raw(_:)`` text until read. Every accessor, equality and hashing see through raw text to the
/// value it holds, so a deferred value behaves as the parsed one.
public enum JSONValue: Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, with its text as written.
    case number(JSONNumber)
    /// A string, unescaped.
    case string(String)
    /// An array, in order.
    case array([JSONValue])
    /// An object, in key order (last value wins for a repeated key).
    case object(JSONObject)
    /// A string, array or object not parsed yet: its validated JSON text.
    case raw(RawJSON)

    /// The value with raw text parsed (one level: nested raw values stay raw).
    public var resolved: JSONValue {
        if case .raw(let raw) = self { return raw.value }
        return self
    }

    /// For objects: the value of `key`. Nil for a missing key and for non-objects.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = resolved { return object[key] }
        return nil
    }

    /// For arrays: the element at `index`. Nil out of bounds and for non-arrays.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let array) = resolved, array.indices.contains(index) { return array[index] }
        return nil
    }

    /// The kind of the value.
    public var kind: JSONKind {
        switch self {
        case .null: .null
        case .bool(let value): value ? .true : .false
        case .number: .number
        case .string: .string
        case .array: .array
        case .object: .object
        case .raw(let raw): raw.kind
        }
    }

    /// Whether the value is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value, if a boolean.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The value, if a number.
    public var numberValue: JSONNumber? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The value, if a string.
    public var stringValue: String? {
        if case .string(let value) = resolved { return value }
        return nil
    }

    /// The elements, if an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = resolved { return value }
        return nil
    }

    /// The object, if an object.
    public var objectValue: JSONObject? {
        if case .object(let value) = resolved { return value }
        return nil
    }
}

extension JSONValue: Hashable {
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.raw(let a), .raw(let b)) where a.bytes == b.bytes: true
        case (.raw, _), (_, .raw): lhs.resolved == rhs.resolved
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let value): hasher.combine(1); hasher.combine(value)
        case .number(let value): hasher.combine(2); hasher.combine(value)
        case .string(let value): hasher.combine(3); hasher.combine(value)
        case .array(let value): hasher.combine(4); hasher.combine(value)
        case .object(let value): hasher.combine(5); hasher.combine(value)
        case .raw(let raw): raw.value.hash(into: &hasher)
        }
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text.
    public var description: String {
        String(decoding: serialized(), as: UTF8.self)
    }
}
