import WickJSON

/// A score config (reference §4): what a score naming it by `configId` must be.
public struct ScoreConfig: Sendable, Hashable {
    public struct Category: Sendable, Hashable {
        public var label: String
        public var value: Double
    }

    public var id: String
    public var name: String
    /// NUMERIC, BOOLEAN, CATEGORICAL or TEXT (a CORRECTION never has a config).
    public var dataType: ScoreDataType
    public var isArchived: Bool
    /// NUMERIC bounds, inclusive; nil is unbounded.
    public var minValue: Double?
    public var maxValue: Double?
    public var categories: [Category]
    public var description: String?
}

/// The score configs a daemon knows, by id: loaded from a JSON file (an array of Langfuse's
/// ScoreConfig objects, or the `{"data":[…]}` page `GET /api/public/score-configs` returns).
public struct ScoreConfigs: Sendable, Hashable {
    public private(set) var byID: [String: ScoreConfig]

    public static let none = ScoreConfigs(byID: [:])

    public init(_ configs: [ScoreConfig]) {
        byID = Dictionary(configs.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
    }

    private init(byID: [String: ScoreConfig]) {
        self.byID = byID
    }

    public var isEmpty: Bool { byID.isEmpty }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> ScoreConfigs {
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes)
        } catch {
            throw ParseError(description: "not JSON: \(error)")
        }
        guard let list = root.arrayValue ?? root["data"]?.arrayValue else {
            throw ParseError(description: "expected an array of score configs, or an object with a \"data\" array")
        }
        var configs: [ScoreConfig] = []
        for (position, item) in list.enumerated() {
            configs.append(try config(item, at: position))
        }
        return ScoreConfigs(configs)
    }

    private static func config(_ item: JSONValue, at position: Int) throws(ParseError) -> ScoreConfig {
        func fail(_ what: String) -> ParseError { ParseError(description: "score config \(position): \(what)") }
        guard let id = item["id"]?.stringValue, !id.isEmpty else { throw fail("needs a non-empty string id") }
        guard let name = item["name"]?.stringValue, !name.isEmpty else { throw fail("needs a non-empty string name") }
        guard let typeName = item["dataType"]?.stringValue, let dataType = ScoreDataType(rawValue: typeName),
              dataType != .correction
        else { throw fail("dataType must be NUMERIC, BOOLEAN, CATEGORICAL or TEXT") }
        var config = ScoreConfig(id: id, name: name, dataType: dataType, isArchived: item["isArchived"]?.boolValue ?? false,
                                 minValue: item["minValue"]?.numberValue?.doubleValue,
                                 maxValue: item["maxValue"]?.numberValue?.doubleValue, categories: [],
                                 description: item["description"]?.stringValue)
        if let min = config.minValue, let max = config.maxValue, min > max { throw fail("minValue is above maxValue") }
        for category in item["categories"]?.arrayValue ?? [] {
            guard let label = category["label"]?.stringValue, let value = category["value"]?.numberValue?.doubleValue else {
                throw fail("each category needs a string label and a number value")
            }
            config.categories.append(.init(label: label, value: value))
        }
        if dataType == .categorical && config.categories.isEmpty { throw fail("a CATEGORICAL config needs categories") }
        return config
    }

    /// Checks a score event against Langfuse's rules that the hot path cannot (reference §4): its
    /// target, and its config when it names one. A score that passes may come back changed: the
    /// config's name replaces its own, and a category's value is set. Other events pass unchanged.
    public func check(_ event: IngestionEvent) -> Result<IngestionEvent, LateReject> {
        guard event.type == .scoreCreate else { return .success(event) }
        var body = event.body
        let dataType = body.dataType ?? (body.value?.numberValue != nil ? .numeric : .categorical)
        if body.traceId == nil && body.sessionId.value == nil && body.datasetRunId == nil {
            return .failure(LateReject(.scoreInvalidTarget, "a score needs a traceId, sessionId or datasetRunId"))
        }
        if body.observationId != nil && body.traceId == nil {
            return .failure(LateReject(.scoreInvalidTarget, "a score with an observationId needs its traceId"))
        }
        if dataType == .correction {
            if body.traceId == nil {
                return .failure(LateReject(.scoreInvalidTarget, "a CORRECTION score targets a trace or observation, not a session or dataset run"))
            }
            if body.configId != nil {
                return .failure(LateReject(.scoreConfigMismatch, "a CORRECTION score has no config"))
            }
            return .success(event)
        }
        guard let configID = body.configId else { return .success(event) }
        guard let config = byID[configID] else {
            return .failure(LateReject(.scoreConfigMismatch, "score config \"\(configID.prefix(64))\" is not known"))
        }
        if config.isArchived {
            return .failure(LateReject(.scoreConfigMismatch, "score config \"\(config.name)\" is archived"))
        }
        if body.dataType != nil && dataType != config.dataType {
            return .failure(LateReject(.scoreConfigMismatch,
                                       "a \(dataType.rawValue) score cannot use the \(config.dataType.rawValue) config \"\(config.name)\""))
        }
        body.dataType = config.dataType
        body.name = .value(config.name)
        switch config.dataType {
        case .numeric:
            guard let number = body.value?.numberValue?.doubleValue else {
                return .failure(LateReject(.scoreInvalidValue, "score config \"\(config.name)\" is NUMERIC: the value must be a number"))
            }
            if let min = config.minValue, number < min {
                return .failure(LateReject(.scoreConfigMismatch, "value \(number) is below the minimum \(min) of \"\(config.name)\""))
            }
            if let max = config.maxValue, number > max {
                return .failure(LateReject(.scoreConfigMismatch, "value \(number) is above the maximum \(max) of \"\(config.name)\""))
            }
        case .boolean:
            guard let number = body.value?.numberValue?.doubleValue, number == 0 || number == 1 else {
                return .failure(LateReject(.scoreInvalidValue, "score config \"\(config.name)\" is BOOLEAN: the value must be 0 or 1"))
            }
        case .categorical:
            guard let label = body.value?.stringValue else {
                return .failure(LateReject(.scoreInvalidValue, "score config \"\(config.name)\" is CATEGORICAL: the value must be a label"))
            }
            guard let category = config.categories.first(where: { $0.label == label }) else {
                let labels = config.categories.map(\.label).joined(separator: ", ")
                return .failure(LateReject(.scoreConfigMismatch, "\"\(label.prefix(64))\" is not a category of \"\(config.name)\" (\(labels))"))
            }
            body.categoryValue = category.value
        case .text:
            guard let text = body.value?.stringValue, (1...500).contains(text.count) else {
                return .failure(LateReject(.scoreInvalidValue, "score config \"\(config.name)\" is TEXT: the value must be 1 to 500 characters"))
            }
        case .correction:
            break
        }
        return .success(IngestionEvent(id: event.id, type: event.type, timestamp: event.timestamp, body: body,
                                       sequence: event.sequence, receiveTime: event.receiveTime, project: event.project))
    }
}

extension RejectReason {
    /// A score that does not fit the score config it names (unknown, archived, other data type,
    /// out of range, not one of the categories).
    public static let scoreConfigMismatch = RejectReason(rawValue: "score_config_mismatch")
}
