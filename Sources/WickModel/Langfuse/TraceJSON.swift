public import WickJSON

/// Langfuse's read-API shapes (reference §7, `openapi.yml`): `GET /api/public/traces/{id}` returns a
/// `TraceWithFullDetails` with a flat `observations` list (`ObservationsView`) and `scores`
/// (`ScoreV1`). `wick trace --json` prints the same, and the HTTP API will serve it.
public enum LangfuseJSON: Sendable {
    public struct Times: Sendable {
        /// Receive times (µs) of the trace's first and last events: createdAt and updatedAt.
        public var created: Int64
        public var updated: Int64

        public init(created: Int64, updated: Int64) {
            self.created = created
            self.updated = updated
        }
    }

    public static func trace(_ folded: FoldedTrace, summary: TraceSummary, project: String, times: Times) -> JSONValue {
        let trace = folded.trace
        let created = string(times.created)
        let updated = string(times.updated)
        var object: JSONObject = [
            "id": .string(trace.id),
            "timestamp": .string(trace.timestamp.iso8601),
            "name": optional(trace.name),
            "input": trace.input ?? .null,
            "output": trace.output ?? .null,
            "sessionId": optional(trace.sessionId),
            "release": optional(trace.release),
            "version": optional(trace.version),
            "userId": optional(trace.userId),
            "metadata": .object(trace.metadata),
            "tags": .array(trace.tags.map { .string($0) }),
            "public": .bool(trace.isPublic),
            "environment": .string(trace.environment),
            "htmlPath": .string("/project/\(project)/traces/\(trace.id)"),
            "latency": number(summary.latency),
            "totalCost": summary.totalCost.map { .number($0) } ?? number(0),
            "projectId": .string(project),
            "bookmarked": .bool(false),
            "externalId": .null,
            "createdAt": created,
            "updatedAt": updated,
        ]
        object["observations"] = .array(folded.observations.map { observation(project: project, $0, created: created, updated: updated) })
        object["scores"] = .array(folded.scores.map { score($0, created: created, updated: updated) })
        return .object(object)
    }

    public static func observation(project: String, _ observation: Observation, created: JSONValue, updated: JSONValue) -> JSONValue {
        let usage = observation.usageDetails
        let input = UsageCount.total(of: usage.filter { $0.key.contains("input") }.values)
        let output = UsageCount.total(of: usage.filter { $0.key.contains("output") }.values)
        let cost = observation.cost
        var costDetails = JSONObject()
        for (key, value) in (cost?.details ?? [:]).sorted(by: { $0.key < $1.key }) { costDetails[key] = .number(value.json) }
        func money(_ value: FixedDecimal?) -> JSONValue { value.map { .number($0.json) } ?? .null }
        let price = { (key: String) -> JSONValue in money(cost?.prices[key]) }
        var usageDetails = JSONObject()
        for (key, value) in usage.sorted(by: { $0.key < $1.key }) { usageDetails[key] = .number(JSONNumber(Int64(clamping: value))) }
        return .object([
            "id": .string(observation.id),
            "traceId": .string(observation.traceId),
            "type": .string(observation.type.rawValue),
            "name": optional(observation.name),
            "startTime": .string(observation.startTime.iso8601),
            "endTime": observation.endTime.map { .string($0.iso8601) } ?? .null,
            "completionStartTime": observation.completionStartTime.map { .string($0.iso8601) } ?? .null,
            "model": optional(observation.model),
            "modelParameters": observation.modelParameters ?? .null,
            "input": observation.input ?? .null,
            "version": optional(observation.version),
            "metadata": .object(observation.metadata),
            "output": observation.output ?? .null,
            "usage": .object([
                "input": .number(JSONNumber(Int64(clamping: input))),
                "output": .number(JSONNumber(Int64(clamping: output))),
                "total": .number(JSONNumber(Int64(clamping: usage["total"] ?? 0))),
                "unit": .string(observation.usageUnit ?? "TOKENS"),
                "inputCost": money(cost?.inputCost),
                "outputCost": money(cost?.outputCost),
                "totalCost": money(cost?.total),
            ]),
            "level": .string(observation.level.rawValue),
            "statusMessage": optional(observation.statusMessage),
            "parentObservationId": optional(observation.parentObservationId),
            "promptId": .null,
            "usageDetails": .object(usageDetails),
            "costDetails": .object(costDetails),
            "environment": .string(observation.environment),
            "promptName": optional(observation.promptName),
            "promptVersion": observation.promptVersion.map { .number(JSONNumber($0)) } ?? .null,
            "modelId": optional(cost?.modelID),
            "inputPrice": price("input"),
            "outputPrice": price("output"),
            "totalPrice": price("total"),
            "calculatedInputCost": money(cost?.inputCost),
            "calculatedOutputCost": money(cost?.outputCost),
            "calculatedTotalCost": money(cost?.total),
            "latency": observation.latency.map(number) ?? .null,
            "timeToFirstToken": observation.timeToFirstToken.map(number) ?? .null,
            "projectId": .string(project),
            "createdAt": created,
            "updatedAt": updated,
        ])
    }

    public static func score(_ score: Score, created: JSONValue, updated: JSONValue) -> JSONValue {
        var object: JSONObject = [
            "id": .string(score.id),
            "traceId": optional(score.traceId),
            "observationId": optional(score.observationId),
            "name": .string(score.name),
            "source": .string(score.source),
            "timestamp": .string(score.timestamp.iso8601),
            "createdAt": created,
            "updatedAt": updated,
            "authorUserId": .null,
            "comment": optional(score.comment),
            "metadata": .object(score.metadata),
            "configId": optional(score.configId),
            "queueId": .null,
            "environment": .string(score.environment),
            "dataType": .string(score.dataType.rawValue),
        ]
        switch score.dataType {
        case .numeric:
            object["value"] = number(score.value)
        case .boolean:
            object["value"] = number(score.value)
            object["stringValue"] = optional(score.stringValue)
        case .categorical:
            object["value"] = number(score.value)
            object["stringValue"] = optional(score.stringValue)
        case .text, .correction:
            object["stringValue"] = optional(score.stringValue)
        }
        return .object(object)
    }

    static func optional(_ text: String?) -> JSONValue {
        text.map { .string($0) } ?? .null
    }

    static func number(_ value: Double) -> JSONValue {
        JSONNumber(value).map { .number($0) } ?? .null
    }

    static func string(_ microseconds: Int64) -> JSONValue {
        Timestamp(microsecondsSinceEpoch: microseconds).map { .string($0.iso8601) } ?? .null
    }
}
