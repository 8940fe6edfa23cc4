public import WickJSON

/// How the assembler stores a summary (and `wick traces --json` prints one): a JSON object.
extension TraceSummary {
    public var json: JSONValue {
        var object: JSONObject = [
            "id": .string(id), "project": .string(project), "environment": .string(environment),
            "tags": .array(tags.map { .string($0) }),
            "start": .string(start.iso8601), "end": .string(end.iso8601),
            "latency": .number(JSONNumber(latency) ?? JSONNumber(0)),
            "observations": .object(JSONObject(observationCounts.sorted { $0.key < $1.key }.map { ($0.key.rawValue, .number(JSONNumber($0.value))) })),
            "errors": .number(JSONNumber(errors)), "warnings": .number(JSONNumber(warnings)),
            "usage": .object(JSONObject(usage.sorted { $0.key < $1.key }.map { ($0.key, .number(JSONNumber(Int64(clamping: $0.value)))) })),
            "totalCost": totalCost.map { .number($0) } ?? .null,
            "scores": .array(scores.map { score in
                .object(["name": .string(score.name), "count": .number(JSONNumber(score.count)),
                         "average": score.average.flatMap { JSONNumber($0) }.map { .number($0) } ?? .null])
            }),
            "events": .number(JSONNumber(events)),
            "lastReceived": .string(Timestamp(microsecondsSinceEpoch: lastReceived)?.iso8601 ?? ""),
            "hasTraceEvent": .bool(hasTraceEvent), "treeProblems": .number(JSONNumber(treeProblems)),
        ]
        for (key, value) in [("name", name), ("userId", userId), ("sessionId", sessionId), ("release", release), ("version", version)] {
            object[key] = value.map { .string($0) } ?? .null
        }
        return .object(object)
    }

    public init?(json value: JSONValue) {
        guard let object = value.objectValue, let id = object["id"]?.stringValue, let project = object["project"]?.stringValue,
              let start = object["start"]?.stringValue.flatMap({ Timestamp(iso8601: $0) }),
              let end = object["end"]?.stringValue.flatMap({ Timestamp(iso8601: $0) })
        else { return nil }
        self.id = id
        self.project = project
        name = object["name"]?.stringValue
        userId = object["userId"]?.stringValue
        sessionId = object["sessionId"]?.stringValue
        tags = object["tags"]?.arrayValue?.compactMap(\.stringValue) ?? []
        environment = object["environment"]?.stringValue ?? "default"
        release = object["release"]?.stringValue
        version = object["version"]?.stringValue
        self.start = start
        self.end = end
        latency = object["latency"]?.numberValue?.doubleValue ?? 0
        var counts: [ObservationType: Int] = [:]
        for (key, count) in object["observations"]?.objectValue ?? JSONObject() {
            if let type = ObservationType(rawValue: key), let number = count.numberValue?.int64Value { counts[type] = Int(number) }
        }
        observationCounts = counts
        errors = Int(object["errors"]?.numberValue?.int64Value ?? 0)
        warnings = Int(object["warnings"]?.numberValue?.int64Value ?? 0)
        var usage: [String: UInt64] = [:]
        for (key, count) in object["usage"]?.objectValue ?? JSONObject() {
            if let number = count.numberValue?.int64Value, number >= 0 { usage[key] = UInt64(number) }
        }
        self.usage = usage
        totalCost = object["totalCost"]?.numberValue
        scores = (object["scores"]?.arrayValue ?? []).compactMap { item in
            guard let name = item["name"]?.stringValue, let count = item["count"]?.numberValue?.int64Value else { return nil }
            return ScoreSummary(name: name, count: Int(count), average: item["average"]?.numberValue?.doubleValue)
        }
        events = Int(object["events"]?.numberValue?.int64Value ?? 0)
        lastReceived = object["lastReceived"]?.stringValue.flatMap { Timestamp(iso8601: $0) }?.microsecondsSinceEpoch ?? 0
        hasTraceEvent = object["hasTraceEvent"]?.boolValue ?? false
        treeProblems = Int(object["treeProblems"]?.numberValue?.int64Value ?? 0)
    }
}
