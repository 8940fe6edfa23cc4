import WickJSON

/// `POST /api/public/scores` (reference §4): one score object, or an array of them (the current
/// Python SDK sends arrays). Each becomes a `score-create` event (an id made when it has none)
/// and goes through ingestion's checks; the answer is `{"id":…}`, or an array of them.
struct ScoreRequest {
    /// `{"batch":[…]}` of the score events.
    var batch: [UInt8]
    var response: JSONValue

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
        var ids: [JSONValue] = []
        for item in items {
            guard case .object(var score) = item else { return .failure(Invalid(message: "a score is a JSON object")) }
            let id = score["id"]?.stringValue ?? APIKeys.randomUUID()
            score["id"] = .string(id)
            events.append(.object(["id": .string(APIKeys.randomUUID()), "type": "score-create", "timestamp": .string(time),
                                   "body": .object(score)]))
            ids.append(.object(["id": .string(id)]))
        }
        return .success(ScoreRequest(batch: JSONValue.object(["batch": .array(events)]).serialized(),
                                     response: many ? .array(ids) : ids[0]))
    }
}
