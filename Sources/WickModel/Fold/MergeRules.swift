public import WickJSON

/// The value-level rules of Langfuse's fold (reference §1.8), each on its own so each has its test.
public enum MergeRules: Sendable {
    /// lodash `merge`: objects merge key by key and arrays index by index, recursively; anything
    /// else in `source` replaces what is there.
    public static func deepMerge(_ target: inout JSONValue, _ source: JSONValue) {
        switch (target.resolved, source.resolved) {
        case (.object(var into), .object(let from)):
            for (key, value) in from {
                if var existing = into[key] {
                    deepMerge(&existing, value)
                    into[key] = existing
                } else {
                    into[key] = value
                }
            }
            target = .object(into)
        case (.array(var into), .array(let from)):
            for (index, value) in from.enumerated() {
                if index < into.count {
                    deepMerge(&into[index], value)
                } else {
                    into.append(value)
                }
            }
            target = .array(into)
        default:
            target = source
        }
    }

    /// Merges an event's `metadata` into an entity's: objects deep-merge; any other JSON value is kept
    /// under the key `metadata` (Langfuse wraps primitives and arrays the same way).
    public static func mergeMetadata(_ metadata: inout JSONObject, _ value: JSONValue) {
        let incoming: JSONObject
        switch value.resolved {
        case .object(let object): incoming = object
        case .null: return
        default: incoming = ["metadata": value]
        }
        var merged = JSONValue.object(metadata)
        deepMerge(&merged, .object(incoming))
        if case .object(let object) = merged { metadata = object }
    }

    /// Tags are a set: union, de-duplicated, sorted.
    public static func unionTags(_ tags: [String], _ more: [String]) -> [String] {
        Array(Set(tags).union(more)).sorted()
    }

    /// JavaScript truthiness: input and output take the last truthy value (`""`, `0`, `false` and
    /// `null` never replace what is there; `{}` and `[]` do).
    public static func isTruthy(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return false
        case .bool(let flag): return flag
        case .string(let text): return !text.isEmpty
        case .number(let number): return number.doubleValue != 0 && !number.doubleValue.isNaN
        case .array, .object: return true
        // Deferred text is a long string, an array or an object: never empty.
        case .raw: return true
        }
    }

    /// Langfuse's environment normalisation (§1.6): lower-cased, leading `langfuse`, `langfuse-` and
    /// `langfuse_` prefixes stripped (repeatedly), cut to 40 characters, and `default` unless what is
    /// left is made of `a-z 0-9 - _` only.
    public static func normaliseEnvironment(_ raw: String?) -> String {
        guard var name = raw?.lowercased() else { return "default" }
        while name.hasPrefix("langfuse") {
            name.removeFirst("langfuse".count)
            if name.hasPrefix("-") || name.hasPrefix("_") { name.removeFirst() }
        }
        name = String(name.prefix(40))
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
        }) else { return "default" }
        return name
    }
}
