import Hummingbird
import NIOCore
import NIOPosix
import WickJSON
import WickModel
import WickPipeline
import WickStore

/// The read side of the public API (reference §7): a trace by id, and the trace list with the
/// filters and pagination of §7.1, from the same fold `wick trace` uses. Store reads block, so they
/// run on NIO's thread pool, never on an event loop.
enum LangfuseReads {
    /// What folds need that changes on SIGHUP: the prices and score configs in force.
    typealias Rules = @Sendable () -> (PriceBook, ScoreConfigs)

    static func trace(_ id: String, project: String, store: DataStore, rules: @escaping Rules) async throws -> JSONValue? {
        try await NIOThreadPool.singleton.runIfActive {
            let (prices, configs) = rules()
            return try TraceLoader.load(id, project: project, from: store, prices: prices, scoreConfigs: configs)?.langfuseJSON
        }
    }

    /// `GET /api/public/traces`: newest first, `page` from 1, `limit` up to 100.
    static func traces(_ parameters: [String: String], project: String, store: DataStore,
                       rules: @escaping Rules) async throws -> Result<JSONValue, Invalid> {
        if let invalid = unsupportedFilter(parameters) { return .failure(invalid) }
        let page: Int
        let limit: Int
        switch Self.page(parameters) {
        case .success(let paging): (page, limit) = paging
        case .failure(let invalid): return .failure(invalid)
        }
        let fixed: TraceFilter
        switch Self.query(parameters, project: project, name: "name") {
        case .success(let made): fixed = made
        case .failure(let invalid): return .failure(invalid)
        }
        let result: JSONValue = try await NIOThreadPool.singleton.runIfActive {
            let matching = try summaries(fixed, store: store)
            let (prices, configs) = rules()
            var data: [JSONValue] = []
            for summary in matching.dropFirst(offset(page: page, limit: limit)).prefix(limit) {
                guard let loaded = try TraceLoader.load(summary.id, project: project, from: store, prices: prices,
                                                        scoreConfigs: configs)
                else { continue }
                data.append(listItem(loaded.langfuseJSON))
            }
            return .object(["data": .array(data), "meta": meta(page: page, limit: limit, total: matching.count)])
        }
        return .success(result)
    }

    /// The trace filters the list endpoints share (§7.1): `userId`, `sessionId`, the trace name under
    /// `name`'s key, `tags` (all of them), `environment` (any of them), `release`, `version`,
    /// `fromTimestamp`, `toTimestamp`. List parameters come comma-separated (`parameters` joins
    /// repeated ones).
    struct TraceFilter {
        var query: TraceQuery
        var environments: Set<String>?
        var release: String?
        var version: String?

        func matches(_ summary: TraceSummary) -> Bool {
            (environments.map { $0.contains(summary.environment) } ?? true) && (release.map { $0 == summary.release } ?? true)
                && (version.map { $0 == summary.version } ?? true)
        }
    }

    static func query(_ parameters: [String: String], project: String, name: String) -> Result<TraceFilter, Invalid> {
        var query = TraceQuery()
        query.project = project
        query.userId = parameters["userId"]
        query.name = parameters[name]
        query.sessionId = parameters["sessionId"]
        query.tags = list(parameters["tags"]) ?? []
        for (key, path) in [("fromTimestamp", \TraceQuery.from), ("toTimestamp", \TraceQuery.to)] {
            guard let text = parameters[key] else { continue }
            guard let time = Timestamp(iso8601: text) else { return .failure(Invalid(message: "\(key) is not an ISO 8601 time")) }
            query[keyPath: path] = time
        }
        query.limit = Int.max
        return .success(TraceFilter(query: query, environments: list(parameters["environment"]).map(Set.init),
                                    release: parameters["release"], version: parameters["version"]))
    }

    /// The values of a list parameter; nil when there are none.
    static func list(_ text: String?) -> [String]? {
        let values = (text ?? "").split(separator: ",").map(String.init)
        return values.isEmpty ? nil : values
    }

    /// The first of `enums` whose parameter is present but not one of its values, as a refusal
    /// (Langfuse's enums refuse what they do not list).
    static func badEnum(_ parameters: [String: String], _ enums: [(String, [String])]) -> Invalid? {
        for (key, values) in enums {
            if let value = parameters[key], !values.contains(value) {
                return Invalid(message: "\(key) is one of \(values.joined(separator: ", "))")
            }
        }
        return nil
    }

    /// `page` and `limit` as Langfuse's public pagination schema takes them: an empty value is no
    /// value (the default); `page` a whole number from 1 (one past every list, however large, is an
    /// empty page), `limit` one from 1 to 100. (Langfuse also takes a fraction for `page`; the
    /// spec says integer, and so does Wick.)
    static func page(_ parameters: [String: String]) -> Result<(page: Int, limit: Int), Invalid> {
        var page = 1
        if let text = parameters["page"], !text.isEmpty {
            if let whole = Int(text) {
                page = whole
            } else {
                let digits = text.hasPrefix("+") ? text.dropFirst() : Substring(text)
                page = !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber) ? Int.max : 0
            }
        }
        var limit = 50
        if let text = parameters["limit"], !text.isEmpty { limit = Int(text) ?? 0 }
        guard page >= 1, (1...100).contains(limit) else { return .failure(Invalid(message: "page starts at 1; limit is 1 to 100")) }
        return .success((page, limit))
    }

    /// The JSON `filter` parameter, which overrides the simple ones in Langfuse: refused until it is
    /// supported rather than ignored (an ignored filter would answer with what it should have left
    /// out). Empty, or an empty array, filters nothing.
    static func unsupportedFilter(_ parameters: [String: String]) -> Invalid? {
        guard let filter = parameters["filter"], !filter.isEmpty, (try? JSONValue.parse(filter)) != .array([]) else { return nil }
        return Invalid(message: "the JSON filter parameter is not supported yet; use the simple filter parameters")
    }

    /// The first of `keys` that is present but not an ISO 8601 time, as a refusal.
    static func badTime(_ parameters: [String: String], _ keys: [String]) -> Invalid? {
        for key in keys {
            if let text = parameters[key], Timestamp(iso8601: text) == nil { return Invalid(message: "\(key) is not an ISO 8601 time") }
        }
        return nil
    }

    /// Items before `page`: saturating, so that a page past any list (Langfuse takes any positive
    /// page number) is an empty one, not an overflow.
    static func offset(page: Int, limit: Int) -> Int {
        let (items, overflow) = (page - 1).multipliedReportingOverflow(by: limit)
        return overflow ? Int.max : items
    }

    static func meta(page: Int, limit: Int, total: Int) -> JSONValue {
        .object(["page": .number(JSONNumber(page)), "limit": .number(JSONNumber(limit)), "totalItems": .number(JSONNumber(total)),
                 "totalPages": .number(JSONNumber((total + limit - 1) / limit))])
    }

    static func summaries(_ filter: TraceFilter, store: DataStore) throws -> [TraceSummary] {
        try filter.query.run { descending, body throws(StorageError) in
            try store.walkDocuments(namespace: TraceDocuments.summaries, descending: descending, body)
        }.filter(filter.matches)
    }

    /// `GET /api/public/metrics/daily` (§7.3): per day (UTC, newest first), traces, observations,
    /// cost, and usage by model, from the trace summaries.
    static func dailyMetrics(_ parameters: [String: String], project: String, store: DataStore) async throws -> Result<JSONValue, Invalid> {
        let query: TraceFilter
        let paging: (page: Int, limit: Int)
        switch (Self.query(parameters, project: project, name: "traceName"), Self.page(parameters)) {
        case (.success(let made), .success(let pages)): (query, paging) = (made, pages)
        case (.failure(let invalid), _), (_, .failure(let invalid)): return .failure(invalid)
        }
        let days: JSONValue = try await NIOThreadPool.singleton.runIfActive {
            var byDay: [String: (traces: Int, observations: Int, cost: FixedDecimal?, models: [String: (TraceSummary.ModelUsage, Int)])] = [:]
            for summary in try summaries(query, store: store) {
                let day = String(summary.start.iso8601.prefix(10))
                var entry = byDay[day] ?? (0, 0, nil, [:])
                entry.traces += 1
                entry.observations += summary.observationCounts.values.reduce(0, +)
                if let cost = summary.totalCost.flatMap(FixedDecimal.init) { entry.cost = (entry.cost ?? .zero) + cost }
                for (model, usage) in summary.models {
                    var total = entry.models[model] ?? (TraceSummary.ModelUsage(), 0)
                    total.0.add(usage)
                    total.1 += 1
                    entry.models[model] = total
                }
                byDay[day] = entry
            }
            let ordered = byDay.keys.sorted(by: >)
            let data: [JSONValue] = ordered.dropFirst(offset(page: paging.page, limit: paging.limit)).prefix(paging.limit).map { day in
                let entry = byDay[day]!
                return .object([
                    "date": .string(day), "countTraces": .number(JSONNumber(entry.traces)),
                    "countObservations": .number(JSONNumber(entry.observations)),
                    "totalCost": .number(entry.cost?.json ?? 0),
                    "usage": .array(entry.models.sorted { $0.key < $1.key }.map { model, total in
                        .object([
                            "model": model.isEmpty ? .null : .string(model),
                            "inputUsage": .number(JSONNumber(Int64(clamping: total.0.input))),
                            "outputUsage": .number(JSONNumber(Int64(clamping: total.0.output))),
                            "totalUsage": .number(JSONNumber(Int64(clamping: total.0.total))),
                            "countObservations": .number(JSONNumber(total.0.observations)),
                            "countTraces": .number(JSONNumber(total.1)),
                            "totalCost": .number(total.0.cost?.json ?? 0),
                        ])
                    }),
                ])
            }
            return .object(["data": .array(data), "meta": meta(page: paging.page, limit: paging.limit, total: ordered.count)])
        }
        return .success(days)
    }

    /// `GET /api/public/sessions` and `/sessions/{id}` (§7.3): sessions are the traces' session ids;
    /// a session was created with its first trace.
    static func sessions(_ parameters: [String: String], id: String?, project: String, store: DataStore,
                         rules: @escaping Rules) async throws -> Result<JSONValue?, Invalid> {
        let paging: (page: Int, limit: Int)
        switch Self.page(parameters) {
        case .success(let pages): paging = pages
        case .failure(let invalid): return .failure(invalid)
        }
        var query = TraceQuery()
        query.project = project
        query.sessionId = id
        query.limit = Int.max
        if let invalid = badTime(parameters, ["fromTimestamp", "toTimestamp"]) { return .failure(invalid) }
        let from = parameters["fromTimestamp"].flatMap { Timestamp(iso8601: $0) }
        let to = parameters["toTimestamp"].flatMap { Timestamp(iso8601: $0) }
        let environments = list(parameters["environment"]).map(Set.init)
        let fixed = TraceFilter(query: query)
        let result: JSONValue? = try await NIOThreadPool.singleton.runIfActive {
            var sessions: [String: (created: Timestamp, environment: String, traces: [TraceSummary])] = [:]
            for summary in try summaries(fixed, store: store) {
                guard let session = summary.sessionId else { continue }
                var entry = sessions[session] ?? (summary.start, summary.environment, [])
                if summary.start <= entry.created { entry.created = summary.start; entry.environment = summary.environment }
                entry.traces.append(summary)
                sessions[session] = entry
            }
            func object(_ id: String, _ entry: (created: Timestamp, environment: String, traces: [TraceSummary])) -> JSONObject {
                ["id": .string(id), "createdAt": .string(entry.created.iso8601), "projectId": .string(project),
                 "environment": .string(entry.environment)]
            }
            if let id {
                guard let entry = sessions[id] else { return nil }
                var session = object(id, entry)
                let (prices, configs) = rules()
                session["traces"] = .array(try entry.traces.sorted { $0.start < $1.start }.compactMap { summary in
                    try TraceLoader.load(summary.id, project: project, from: store, prices: prices, scoreConfigs: configs)
                        .map { listItem($0.langfuseJSON) }
                })
                return .object(session)
            }
            let listed = sessions.filter { _, entry in
                (from.map { entry.created >= $0 } ?? true) && (to.map { entry.created < $0 } ?? true)
                    && (environments.map { $0.contains(entry.environment) } ?? true)
            }.sorted { $0.value.created > $1.value.created }
            let data = listed.dropFirst(offset(page: paging.page, limit: paging.limit)).prefix(paging.limit).map { JSONValue.object(object($0.key, $0.value)) }
            return .object(["data": .array(Array(data)), "meta": meta(page: paging.page, limit: paging.limit, total: listed.count)])
        }
        return .success(result)
    }

    /// `GET /api/public/observations` and `GET /api/public/v2/scores`: the observations or scores of
    /// the traces that match (newest traces first), each as the trace shows it, filtered by the
    /// entity's own fields and paged. `observations/{id}` has no index of its own: it looks through
    /// the newest `maxScanned` traces.
    static func entities(_ kind: String, _ parameters: [String: String], id: String? = nil, project: String, store: DataStore,
                         rules: @escaping Rules, maxScanned: Int = 10_000) async throws -> Result<JSONValue?, Invalid> {
        let paging: (page: Int, limit: Int)
        var query: TraceFilter
        let traceKeys = ["userId", "sessionId", "environment", kind == "scores" ? "traceTags" : "tags"]
        switch (Self.query(parameters.filter { traceKeys.contains($0.key) }, project: project, name: "traceName"), Self.page(parameters)) {
        case (.success(let made), .success(let pages)): (query, paging) = (made, pages)
        case (.failure(let invalid), _), (_, .failure(let invalid)): return .failure(invalid)
        }
        if kind == "scores" { query.query.tags = list(parameters["traceTags"]) ?? [] }
        let enums = kind == "scores"
            ? [("source", ["ANNOTATION", "API", "EVAL"]), ("dataType", ["NUMERIC", "BOOLEAN", "CATEGORICAL", "CORRECTION", "TEXT"]),
               ("operator", ["<", ">", "<=", ">=", "!=", "="])]
            : [("level", ["DEBUG", "DEFAULT", "WARNING", "ERROR"])]
        if let invalid = unsupportedFilter(parameters) ?? badEnum(parameters, enums)
            ?? badTime(parameters, ["fromTimestamp", "toTimestamp", "fromStartTime", "toStartTime"]) {
            return .failure(invalid)
        }
        // A score's value against a number (`operator` and `value` together).
        var comparison: (String, Double)?
        if let text = parameters["value"] {
            // Langfuse coerces it as JavaScript's Number() does: an empty value is 0.
            guard let value = text.isEmpty ? 0 : Double(text), value.isFinite else { return .failure(Invalid(message: "value is a number")) }
            if let op = parameters["operator"] { comparison = (op, value) }
        }
        // Filters on the entity itself: exact matches on these fields (times: from inclusive, to exclusive).
        let fields = kind == "scores"
            ? ["name", "traceId", "source", "dataType", "observationId", "configId", "sessionId", "datasetRunId", "queueId"]
            : ["name", "type", "traceId", "parentObservationId", "level", "version"]
        let exact = parameters.filter { fields.contains($0.key) }
        let environments = query.environments
        let traceFilter = query
        let compared = comparison
        let scoreIDs = list(parameters["scoreIds"]).map(Set.init)
        let timeField = kind == "scores" ? "timestamp" : "startTime"
        let from = (parameters["fromTimestamp"] ?? parameters["fromStartTime"]).flatMap { Timestamp(iso8601: $0) }
        let to = (parameters["toTimestamp"] ?? parameters["toStartTime"]).flatMap { Timestamp(iso8601: $0) }
        let result: JSONValue? = try await NIOThreadPool.singleton.runIfActive {
            let (prices, configs) = rules()
            var traceIDs: [String]
            if let trace = parameters["traceId"] {
                traceIDs = [trace]
            } else {
                traceIDs = try summaries(traceFilter, store: store).map(\.id)
                if id != nil { traceIDs = Array(traceIDs.prefix(maxScanned)) }
            }
            var matched: [JSONValue] = []
            for traceID in traceIDs {
                guard let loaded = try TraceLoader.load(traceID, project: project, from: store, prices: prices, scoreConfigs: configs)
                else { continue }
                let trace = loaded.langfuseJSON
                for entity in trace[kind]?.arrayValue ?? [] {
                    if let id {
                        if entity["id"]?.stringValue == id { return entity }
                        continue
                    }
                    guard exact.allSatisfy({ entity[$0.key]?.stringValue == $0.value }),
                          environments.map({ $0.contains(entity["environment"]?.stringValue ?? "") }) ?? true,
                          scoreIDs.map({ $0.contains(entity["id"]?.stringValue ?? "") }) ?? true,
                          compared.map({ compare(entity["value"]?.numberValue?.doubleValue, $0.0, $0.1) }) ?? true
                    else { continue }
                    let time = entity[timeField]?.stringValue.flatMap { Timestamp(iso8601: $0) }
                    if let from, (time.map { $0 < from } ?? true) { continue }
                    if let to, (time.map { $0 >= to } ?? true) { continue }
                    guard case .object(var object) = entity else { continue }
                    if kind == "scores" {
                        object["trace"] = .object(["userId": trace["userId"] ?? .null, "tags": trace["tags"] ?? .array([]),
                                                   "environment": trace["environment"] ?? .null, "sessionId": trace["sessionId"] ?? .null])
                    }
                    matched.append(.object(object))
                }
            }
            if id != nil { return nil }
            let data = Array(matched.dropFirst(offset(page: paging.page, limit: paging.limit)).prefix(paging.limit))
            return .object(["data": .array(data), "meta": meta(page: paging.page, limit: paging.limit, total: matched.count)])
        }
        return .success(result)
    }

    /// `value <operator> bound`; false for a score without a number value.
    static func compare(_ value: Double?, _ op: String, _ bound: Double) -> Bool {
        guard let value else { return false }
        switch op {
        case "<": return value < bound
        case ">": return value > bound
        case "<=": return value <= bound
        case ">=": return value >= bound
        case "!=": return value != bound
        default: return value == bound
        }
    }

    /// A trace as the list shows it: observations and scores by id.
    static func listItem(_ trace: JSONValue) -> JSONValue {
        guard case .object(var object) = trace else { return trace }
        for key in ["observations", "scores"] {
            object[key] = .array((object[key]?.arrayValue ?? []).compactMap { $0["id"] })
        }
        return .object(object)
    }

    struct Invalid: Error {
        var message: String
    }
}
