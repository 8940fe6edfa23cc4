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
        if parameters["filter"] != nil {
            return .failure(Invalid(message: "the JSON filter parameter is not supported yet; use userId, name, sessionId, tags, environment, fromTimestamp, toTimestamp"))
        }
        let page: Int
        let limit: Int
        switch Self.page(parameters) {
        case .success(let paging): (page, limit) = paging
        case .failure(let invalid): return .failure(invalid)
        }
        var query: TraceQuery
        switch Self.query(parameters, project: project, name: "name") {
        case .success(let made): query = made
        case .failure(let invalid): return .failure(invalid)
        }
        query.limit = Int.max
        let fixed = query
        let result: JSONValue = try await NIOThreadPool.singleton.runIfActive {
            let matching = try summaries(fixed, store: store)
            let (prices, configs) = rules()
            var data: [JSONValue] = []
            for summary in matching.dropFirst((page - 1) * limit).prefix(limit) {
                guard let loaded = try TraceLoader.load(summary.id, project: project, from: store, prices: prices,
                                                        scoreConfigs: configs)
                else { continue }
                data.append(listItem(loaded.langfuseJSON))
            }
            return .object(["data": .array(data), "meta": meta(page: page, limit: limit, total: matching.count)])
        }
        return .success(result)
    }

    /// The filters the list endpoints share (§7.1): `userId`, `sessionId`, the trace name under
    /// `name`'s key, `tags` (comma-separated, all of them), `environment`, `fromTimestamp`, `toTimestamp`.
    static func query(_ parameters: [String: String], project: String, name: String) -> Result<TraceQuery, Invalid> {
        var query = TraceQuery()
        query.project = project
        query.userId = parameters["userId"]
        query.name = parameters[name]
        query.sessionId = parameters["sessionId"]
        query.environment = parameters["environment"]
        query.tags = parameters["tags"].map { $0.split(separator: ",").map(String.init) } ?? []
        for (key, path) in [("fromTimestamp", \TraceQuery.from), ("toTimestamp", \TraceQuery.to)] {
            guard let text = parameters[key] else { continue }
            guard let time = Timestamp(iso8601: text) else { return .failure(Invalid(message: "\(key) is not an ISO 8601 time")) }
            query[keyPath: path] = time
        }
        query.limit = Int.max
        return .success(query)
    }

    static func page(_ parameters: [String: String]) -> Result<(page: Int, limit: Int), Invalid> {
        let page = Int(parameters["page"] ?? "1") ?? 0
        let limit = Int(parameters["limit"] ?? "50") ?? 0
        guard page >= 1, (1...100).contains(limit) else { return .failure(Invalid(message: "page starts at 1; limit is 1 to 100")) }
        return .success((page, limit))
    }

    static func meta(page: Int, limit: Int, total: Int) -> JSONValue {
        .object(["page": .number(JSONNumber(page)), "limit": .number(JSONNumber(limit)), "totalItems": .number(JSONNumber(total)),
                 "totalPages": .number(JSONNumber((total + limit - 1) / limit))])
    }

    static func summaries(_ query: TraceQuery, store: DataStore) throws -> [TraceSummary] {
        try query.run { descending, body throws(StorageError) in
            try store.walkDocuments(namespace: TraceDocuments.summaries, descending: descending, body)
        }
    }

    /// `GET /api/public/metrics/daily` (§7.3): per day (UTC, newest first), traces, observations,
    /// cost, and usage by model, from the trace summaries.
    static func dailyMetrics(_ parameters: [String: String], project: String, store: DataStore) async throws -> Result<JSONValue, Invalid> {
        let query: TraceQuery
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
            let data: [JSONValue] = ordered.dropFirst((paging.page - 1) * paging.limit).prefix(paging.limit).map { day in
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
        if let text = parameters["fromTimestamp"] ?? parameters["toTimestamp"], Timestamp(iso8601: text) == nil {
            return .failure(Invalid(message: "fromTimestamp and toTimestamp are ISO 8601 times"))
        }
        let from = parameters["fromTimestamp"].flatMap { Timestamp(iso8601: $0) }
        let to = parameters["toTimestamp"].flatMap { Timestamp(iso8601: $0) }
        let environment = parameters["environment"]
        let fixed = query
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
                    && (environment.map { entry.environment == $0 } ?? true)
            }.sorted { $0.value.created > $1.value.created }
            let data = listed.dropFirst((paging.page - 1) * paging.limit).prefix(paging.limit).map { JSONValue.object(object($0.key, $0.value)) }
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
        let query: TraceQuery
        switch (Self.query(parameters.filter { ["userId", "sessionId", "environment", "tags"].contains($0.key) }, project: project,
                           name: "traceName"), Self.page(parameters)) {
        case (.success(let made), .success(let pages)): (query, paging) = (made, pages)
        case (.failure(let invalid), _), (_, .failure(let invalid)): return .failure(invalid)
        }
        // Filters on the entity itself: exact matches on these fields (times: from inclusive, to exclusive).
        let fields = ["name", "type", "traceId", "parentObservationId", "level", "source", "dataType", "observationId", "configId",
                      "environment"]
        let exact = parameters.filter { fields.contains($0.key) }
        let timeField = kind == "scores" ? "timestamp" : "startTime"
        let from = (parameters["fromTimestamp"] ?? parameters["fromStartTime"]).flatMap { Timestamp(iso8601: $0) }
        let to = (parameters["toTimestamp"] ?? parameters["toStartTime"]).flatMap { Timestamp(iso8601: $0) }
        let result: JSONValue? = try await NIOThreadPool.singleton.runIfActive {
            let (prices, configs) = rules()
            var traceIDs: [String]
            if let trace = parameters["traceId"] {
                traceIDs = [trace]
            } else {
                traceIDs = try summaries(query, store: store).map(\.id)
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
                    guard exact.allSatisfy({ entity[$0.key]?.stringValue == $0.value }) else { continue }
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
            let data = Array(matched.dropFirst((paging.page - 1) * paging.limit).prefix(paging.limit))
            return .object(["data": .array(data), "meta": meta(page: paging.page, limit: paging.limit, total: matched.count)])
        }
        return .success(result)
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
