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
            "models": .object(JSONObject(models.sorted { $0.key < $1.key }.map { ($0.key, $0.value.json) })),
        ]
        for (key, value) in [("name", name), ("userId", userId), ("sessionId", sessionId), ("release", release), ("version", version)] {
            object[key] = value.map { .string($0) } ?? .null
        }
        return .object(object)
    }

    /// `json.serialized()`, written straight to bytes: the assembler stores one per settled trace.
    public func serializedJSON() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        func key(_ name: StaticString) {
            out.append(out.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(contentsOf: "\":".utf8)
        }
        func string(_ value: String?) {
            if let value { JSONWriter.writeString(value, to: &out) } else { out.append(contentsOf: "null".utf8) }
        }
        func number(_ text: String) { out.append(contentsOf: text.utf8) }
        func quoted(_ time: Timestamp) {
            out.append(UInt8(ascii: "\""))
            time.writeISO8601(to: &out)
            out.append(UInt8(ascii: "\""))
        }
        key("id"); string(id)
        key("project"); string(project)
        key("environment"); string(environment)
        key("tags")
        out.append(UInt8(ascii: "["))
        for (position, tag) in tags.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            string(tag)
        }
        out.append(UInt8(ascii: "]"))
        key("start"); quoted(start)
        key("end"); quoted(end)
        key("latency"); number((JSONNumber(latency) ?? JSONNumber(0)).text)
        key("observations")
        out.append(UInt8(ascii: "{"))
        for (position, entry) in observationCounts.sorted(by: { $0.key < $1.key }).enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            string(entry.key.rawValue)
            out.append(UInt8(ascii: ":"))
            number(String(entry.value))
        }
        out.append(UInt8(ascii: "}"))
        key("errors"); number(String(errors))
        key("warnings"); number(String(warnings))
        key("usage")
        out.append(UInt8(ascii: "{"))
        for (position, entry) in usage.sorted(by: { $0.key < $1.key }).enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            string(entry.key)
            out.append(UInt8(ascii: ":"))
            number(String(Int64(clamping: entry.value)))
        }
        out.append(UInt8(ascii: "}"))
        key("totalCost"); number(totalCost?.text ?? "null")
        key("scores")
        out.append(UInt8(ascii: "["))
        for (position, score) in scores.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: "{\"name\":".utf8)
            string(score.name)
            out.append(contentsOf: ",\"count\":".utf8)
            number(String(score.count))
            out.append(contentsOf: ",\"average\":".utf8)
            number(score.average.flatMap { JSONNumber($0) }?.text ?? "null")
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        key("events"); number(String(events))
        key("lastReceived"); string(Timestamp(microsecondsSinceEpoch: lastReceived)?.iso8601 ?? "")
        key("hasTraceEvent"); number(hasTraceEvent ? "true" : "false")
        key("treeProblems"); number(String(treeProblems))
        key("models")
        out.append(UInt8(ascii: "{"))
        for (position, entry) in models.sorted(by: { $0.key < $1.key }).enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            string(entry.key)
            out.append(UInt8(ascii: ":"))
            entry.value.json.write(to: &out)
        }
        out.append(UInt8(ascii: "}"))
        key("name"); string(name)
        key("userId"); string(userId)
        key("sessionId"); string(sessionId)
        key("release"); string(release)
        key("version"); string(version)
        out.append(UInt8(ascii: "}"))
        return out
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
        var models: [String: ModelUsage] = [:]
        for (model, item) in object["models"]?.objectValue ?? JSONObject() {
            func count(_ key: String) -> UInt64 { UInt64(max(0, item[key]?.numberValue?.int64Value ?? 0)) }
            models[model] = ModelUsage(observations: Int(count("observations")), input: count("input"), output: count("output"),
                                       total: count("total"), cost: item["cost"]?.numberValue.flatMap(FixedDecimal.init))
        }
        self.models = models
    }
}

extension TraceSummary.ModelUsage {
    var json: JSONValue {
        .object([
            "observations": .number(JSONNumber(observations)),
            "input": .number(JSONNumber(Int64(clamping: input))), "output": .number(JSONNumber(Int64(clamping: output))),
            "total": .number(JSONNumber(Int64(clamping: total))),
            "cost": cost.map { .number($0.json) } ?? .null,
        ])
    }
}
