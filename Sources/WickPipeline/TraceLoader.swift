public import WickJSON
public import WickModel
public import WickStore

/// One trace read from the store and folded, as `wick trace` and the read API show it: every event
/// the log holds for it, decoded; late rejects set aside with their reasons.
public struct LoadedTrace: Sendable {
    public var folded: FoldedTrace
    public var tree: TraceTree
    public var summary: TraceSummary
    public var project: String
    public var lateRejects: [(sequence: UInt64, reject: LateReject)]
    /// Receive times of the first and last events.
    public var times: LangfuseJSON.Times

    /// The Langfuse `GET /api/public/traces/{id}` shape.
    public var langfuseJSON: JSONValue {
        LangfuseJSON.trace(folded, summary: summary, project: project, times: times)
    }
}

public enum TraceLoader: Sendable {
    /// The trace `traceID`, from `project` when given (trace ids are unique per project; without one,
    /// the project of the trace's first event), priced with `prices`. Nil when the store holds no event of it.
    public static func load(_ traceID: String, project: String? = nil, from source: some EventSource,
                            prices: PriceBook, scoreConfigs: ScoreConfigs = .none) throws(StorageError) -> LoadedTrace? {
        let records = try source.records(for: TraceDocuments.traceIndexKey(traceID))
            .filter { ($0.kind == .rawEvent || $0.kind == .compactedDocument) && (project == nil || $0.project == project) }
        guard let first = records.first else { return nil }
        let chosen = project ?? first.project
        return assemble(traceID, project: chosen, records: records.filter { $0.project == chosen }, prices: prices,
                        scoreConfigs: scoreConfigs)
    }

    /// Decodes and folds records already read (all of one trace and project): raw events, and the
    /// compacted document that replaced earlier ones.
    public static func assemble(_ traceID: String, project: String, records: [StoredRecord], scope: DecodeScope = .full,
                                prices: PriceBook, scoreConfigs: ScoreConfigs = .none) -> LoadedTrace {
        let (folded, rejects, times) = fold(traceID, records: records, scope: scope, prices: prices, scoreConfigs: scoreConfigs)
        let tree = TraceTree(folded.observations)
        return LoadedTrace(folded: folded, tree: tree,
                           summary: TraceSummary(folded, project: project, lastReceived: times.updated, tree: tree),
                           project: project, lateRejects: rejects, times: times)
    }

    /// The fold alone, without the tree and summary a reader wants (compaction writes the fold).
    public static func fold(_ traceID: String, records: [StoredRecord], scope: DecodeScope = .full, prices: PriceBook,
                            scoreConfigs: ScoreConfigs = .none)
        -> (folded: FoldedTrace, lateRejects: [(sequence: UInt64, reject: LateReject)], times: LangfuseJSON.Times) {
        var events: [IngestionEvent] = []
        events.reserveCapacity(records.count)
        var rejects: [(UInt64, LateReject)] = []
        var lastReceived: Int64 = 0
        var firstReceived: Int64 = .max
        // What compacted documents stand for: their events count as the events folded into them.
        var compactedEvents = 0
        var compactedDuplicates = 0
        var synthetic = 0
        for record in records {
            if record.kind == .compactedDocument {
                switch record.payload.withUnsafeBytes({
                    CompactedTrace.decode($0, sequence: record.sequence, receiveTime: record.receiveTime,
                                          project: record.project, scope: scope)
                }) {
                case .success(let (decoded, bookkeeping)):
                    guard bookkeeping.traceID == traceID else { continue }
                    for event in decoded {
                        // Checked when they first came: a config changed since does not reject them now.
                        if case .success(let checked) = scoreConfigs.check(event) { events.append(checked) } else { events.append(event) }
                    }
                    synthetic += decoded.count
                    compactedEvents += bookkeeping.events
                    compactedDuplicates += bookkeeping.duplicates
                    firstReceived = min(firstReceived, bookkeeping.receivedFirst)
                    lastReceived = max(lastReceived, bookkeeping.receivedLast)
                case .failure(let reject):
                    rejects.append((record.sequence, reject))
                }
                continue
            }
            lastReceived = max(lastReceived, record.receiveTime)
            firstReceived = min(firstReceived, record.receiveTime)
            switch IngestionEvent.decode(record.payload, sequence: record.sequence, receiveTime: record.receiveTime,
                                         project: record.project, scope: scope).flatMap(scoreConfigs.check) {
            case .success(let event):
                // The index key may be shared by a long id's prefix: keep only this trace's events.
                if event.traceID == traceID { events.append(event) }
            case .failure(let reject):
                rejects.append((record.sequence, reject))
            }
        }
        var folded = TraceFold.fold(traceID: traceID, events, prices: prices)
        if synthetic > 0 {
            folded.events += compactedEvents - synthetic
            folded.duplicateEvents += compactedDuplicates
        }
        return (folded, rejects, LangfuseJSON.Times(created: firstReceived == .max ? 0 : firstReceived, updated: lastReceived))
    }
}
