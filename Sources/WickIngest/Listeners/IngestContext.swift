public import Logging
public import WickStore

/// What every listener shares: the store, the counters, and the limits.
public struct IngestContext: Sendable {
    public var store: DataStore
    public var counters: IngestCounters
    public var processor: LineProcessor
    public var maxLineBytes: Int
    public var logger: Logger

    public init(store: DataStore, counters: IngestCounters, maxLineBytes: Int, maxDepth: Int, logger: Logger) {
        self.store = store
        self.counters = counters
        self.processor = LineProcessor(maxDepth: maxDepth)
        self.maxLineBytes = maxLineBytes
        self.logger = logger
    }
}
