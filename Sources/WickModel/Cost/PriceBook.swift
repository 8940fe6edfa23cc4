import Synchronization

/// The price tables in force: the user's entries first, then Wick's defaults (reference §3.2: a
/// project's own models win over the managed ones). Model names are matched case-insensitively
/// against the whole pattern; each distinct name is matched once and the answer cached, including
/// "no match". Immutable apart from that cache; a reload builds a new book.
public final class PriceBook: Sendable {
    public let entries: [PriceEntry]
    /// Where the tables came from, in precedence order.
    public let sources: [String]
    /// Some tier has a condition on metadata: pricing then reads observations' metadata.
    public let readsMetadata: Bool
    private let cache = Mutex<[String: Int]>([:])
    /// Past this many distinct names the cache starts over (names are client-chosen).
    static let cacheLimit = 10_000

    public init(entries: [PriceEntry], sources: [String]) {
        self.entries = entries
        self.sources = sources
        readsMetadata = entries.contains { entry in
            entry.tiers.contains { tier in
                tier.conditions.contains { if case .attribute(.metadata, _, _) = $0 { true } else { false } }
            }
        }
    }

    /// No prices: only costs the clients provide.
    public static let none = PriceBook(entries: [], sources: [])

    /// The user's tables (`files`, the first file's entries winning), then Wick's defaults unless
    /// left out. A file that does not parse is an error: a price table silently ignored would price
    /// nothing.
    public static func load(_ files: [(path: String, bytes: [UInt8])], includeDefaults: Bool = true) throws(PriceTableError) -> PriceBook {
        var entries: [PriceEntry] = []
        for file in files {
            entries += try PriceTable.parse(file.bytes, source: file.path)
        }
        var sources = files.map(\.path)
        if includeDefaults {
            entries += defaultEntries
            sources.append("embedded config/model-prices.json")
        }
        return PriceBook(entries: entries, sources: sources)
    }

    /// Wick's defaults alone.
    public static let defaults = PriceBook(entries: defaultEntries, sources: ["embedded config/model-prices.json"])

    /// The first entry whose pattern matches the whole of `model`.
    public func match(_ model: String) -> PriceEntry? {
        guard !entries.isEmpty else { return nil }
        if let cached = cache.withLock({ $0[model] }) {
            return cached < 0 ? nil : entries[cached]
        }
        let found = entries.firstIndex { $0.pattern.matchesWhole(model) }
        cache.withLock { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[model] = found ?? -1
        }
        return found.map { entries[$0] }
    }

    /// Every entry matching `model`, in precedence order (the first is the one used).
    public func allMatches(_ model: String) -> [PriceEntry] {
        entries.filter { $0.pattern.matchesWhole(model) }
    }
}

extension PriceBook {
    /// Wick's own table (config/model-prices.json, embedded at build time), parsed once.
    public static let defaultEntries: [PriceEntry] = {
        do {
            return try PriceTable.parse(Array(defaultTableJSON.utf8), source: "embedded config/model-prices.json")
        } catch {
            // A test parses the same bytes, so a broken table never ships.
            preconditionFailure("the embedded price table does not parse: \(error)")
        }
    }()
}
