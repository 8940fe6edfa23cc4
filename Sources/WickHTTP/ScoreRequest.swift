import WickIngest
import WickJSON

/// `POST /api/public/scores` (reference §4): one score object, or an array of them (the current
/// Python SDK sends arrays). Each becomes a `score-create` event (an id made when it has none)
/// and goes through ingestion's checks. One object is all or nothing (`{"id":…}`, or a 400); an
/// array is taken score by score and answered as the current SDK reads it: 202 `{"message":"Accepted"}`
/// when every score was, else 207 with `{"accepted","rejected","errors":[{"id","message"}]}`.
struct ScoreRequest {
    /// `{"batch":[…]}` of the score events.
    var batch: [UInt8]
    /// The score ids, in order.
    var ids: [String]
    /// The body was an array.
    var many: Bool

    struct Invalid: Error {
        var message: String
    }

    static func parse(_ body: [UInt8], now: Int64) -> Result<ScoreRequest, Invalid> {
        let value: JSONValue
        do {
            value = try JSONValue.parse(body)
        } catch {
            return .failure(Invalid(message: "the body is not JSON: \(error)"))
        }
        let many = value.arrayValue != nil
        let items = value.arrayValue ?? [value]
        guard !items.isEmpty else { return .failure(Invalid(message: "no score in the body")) }
        let time = Timestamp(microsecondsSinceEpoch: now)?.iso8601 ?? ""
        var events: [JSONValue] = []
        var ids: [String] = []
        for item in items {
            guard case .object(var score) = item else { return .failure(Invalid(message: "a score is a JSON object")) }
            if let problem = typeProblem(score) { return .failure(Invalid(message: problem)) }
            let id = score["id"]?.stringValue ?? APIKeys.randomUUID()
            score["id"] = .string(id)
            events.append(.object(["id": .string(APIKeys.randomUUID()), "type": "score-create", "timestamp": .string(time),
                                   "body": .object(score)]))
            ids.append(id)
        }
        return .success(ScoreRequest(batch: JSONValue.object(["batch": .array(events)]).serialized(), ids: ids, many: many))
    }

    /// The 207 body for an array, from the per-event results of its batch (in the same order).
    func batchResponse(_ results: [IngestionRequest.Result]) -> JSONValue {
        var errors: [JSONValue] = []
        for (id, result) in zip(ids, results) where result.status >= 300 {
            errors.append(.object(["id": .string(id), "message": .string(result.message ?? result.reason ?? "invalid score"),
                                   "error": .string(result.reason ?? "")]))
        }
        return .object(["accepted": .number(JSONNumber(ids.count - errors.count)), "rejected": .number(JSONNumber(errors.count)),
                        "errors": .array(errors)])
    }

    /// What Langfuse's request schema (`CreateScoreRequest`, and the ingestion schema it goes
    /// through) refuses beyond ingestion's own checks: fields of the wrong JSON type, unknown enum
    /// values, a BOOLEAN that is not 0 or 1. Langfuse checks the whole body before it takes a
    /// score, so these are a 400 there, not late rejects.
    static func typeProblem(_ score: JSONObject) -> String? {
        for key in ["id", "traceId", "sessionId", "observationId", "datasetRunId", "comment", "environment", "queueId", "configId"] {
            if let value = score[key], value != .null, value.stringValue == nil { return "\(key) must be a string or null" }
        }
        for (key, allowed) in [("dataType", ["NUMERIC", "BOOLEAN", "CATEGORICAL", "CORRECTION", "TEXT"]), ("source", ["API", "ANNOTATION"])] {
            if let value = score[key], value != .null, !allowed.contains(value.stringValue ?? "") {
                return "\(key) must be one of \(allowed.joined(separator: ", ")), or null"
            }
        }
        if let name = score["name"], name.stringValue == nil { return "name must be a string" }
        if score["dataType"]?.stringValue == "BOOLEAN", let value = score["value"]?.numberValue?.doubleValue, value != 0 && value != 1 {
            return "Value must be a number equal to either 0 or 1 for data type BOOLEAN"
        }
        return nil
    }
}
