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
        let page = Int(parameters["page"] ?? "1") ?? 0
        let limit = Int(parameters["limit"] ?? "50") ?? 0
        guard page >= 1, (1...100).contains(limit) else {
            return .failure(Invalid(message: "page starts at 1; limit is 1 to 100"))
        }
        var query = TraceQuery()
        query.project = project
        query.userId = parameters["userId"]
        query.name = parameters["name"]
        query.sessionId = parameters["sessionId"]
        query.environment = parameters["environment"]
        query.tags = parameters["tags"].map { $0.split(separator: ",").map(String.init) } ?? []
        for (key, path) in [("fromTimestamp", \TraceQuery.from), ("toTimestamp", \TraceQuery.to)] {
            guard let text = parameters[key] else { continue }
            guard let time = Timestamp(iso8601: text) else { return .failure(Invalid(message: "\(key) is not an ISO 8601 time")) }
            query[keyPath: path] = time
        }
        query.limit = Int.max
        let fixed = query
        let result: JSONValue = try await NIOThreadPool.singleton.runIfActive {
            let matching = try fixed.run { descending, body throws(StorageError) in
                try store.walkDocuments(namespace: TraceDocuments.summaries, descending: descending, body)
            }
            let (prices, configs) = rules()
            var data: [JSONValue] = []
            for summary in matching.dropFirst((page - 1) * limit).prefix(limit) {
                guard let loaded = try TraceLoader.load(summary.id, project: project, from: store, prices: prices,
                                                        scoreConfigs: configs)
                else { continue }
                data.append(listItem(loaded.langfuseJSON))
            }
            let totalPages = (matching.count + limit - 1) / limit
            return .object([
                "data": .array(data),
                "meta": .object(["page": .number(JSONNumber(page)), "limit": .number(JSONNumber(limit)),
                                 "totalItems": .number(JSONNumber(matching.count)), "totalPages": .number(JSONNumber(totalPages))]),
            ])
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
