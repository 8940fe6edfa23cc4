/// A JSON object that keeps its keys in the order they first appeared.
///
/// Setting a key that exists replaces its value in place, so parsing `{"a":1,"b":2,"a":3}` gives `a: 3, b: 2`
/// — the same as JavaScript's `JSON.parse` (last value wins, first position kept), except that JavaScript
/// also moves integer-like keys to the front, which this type does not.
///
/// Equality and hashing are order-sensitive: two objects are equal when they have the same keys, in the same
/// order, with equal values.
public struct JSONObject: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    /// One key and its value.
    public typealias Element = (key: String, value: JSONValue)

    @usableFromInline
    struct Entry: Sendable, Hashable {
        @usableFromInline var key: String
        @usableFromInline var value: JSONValue

        @inlinable
        init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    /// Objects with more keys than this get a hash index, so building and looking up stay linear overall.
    @usableFromInline
    static let indexThreshold = 12

    @usableFromInline
    var entries: [Entry] = []
    /// Key → position in `entries`, kept only for objects above ``indexThreshold`` keys.
    @usableFromInline
    var positions: [String: Int]? = nil

    /// An empty object.
    public init() {}

    /// An object from key–value pairs in order; a repeated key keeps its first position and its last value.
    public init<S: Sequence>(_ pairs: S) where S.Element == (String, JSONValue) {
        for (key, value) in pairs { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }

    public subscript(position: Int) -> Element {
        let entry = entries[position]
        return (entry.key, entry.value)
    }

    /// The keys, in order.
    public var keys: [String] { entries.map(\.key) }

    /// The position of `key`, if present.
    public func index(forKey key: String) -> Int? {
        if let positions { return positions[key] }
        return entries.firstIndex { $0.key == key }
    }

    /// The value for `key`; setting nil removes the key.
    public subscript(key: String) -> JSONValue? {
        get {
            index(forKey: key).map { entries[$0].value }
        }
        set {
            guard let newValue else {
                removeValue(forKey: key)
                return
            }
            if let position = index(forKey: key) {
                entries[position].value = newValue
                return
            }
            entries.append(Entry(key: key, value: newValue))
            if positions != nil {
                positions?[key] = entries.count - 1
            } else if entries.count > Self.indexThreshold {
                rebuildPositions()
            }
        }
    }

    /// Removes `key` and returns its value, if present. Later keys move up one place.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let position = index(forKey: key) else { return nil }
        let removed = entries.remove(at: position).value
        if positions != nil { rebuildPositions() }
        return removed
    }

    mutating func rebuildPositions() {
        guard entries.count > Self.indexThreshold else {
            positions = nil
            return
        }
        var map: [String: Int] = [:]
        map.reserveCapacity(entries.count)
        for (position, entry) in entries.enumerated() { map[entry.key] = position }
        positions = map
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.entries == rhs.entries
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries)
    }
}
