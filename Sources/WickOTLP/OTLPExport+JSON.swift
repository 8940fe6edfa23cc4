public import WickJSON

extension OTLPExport {
    /// Decodes an OTLP/JSON export (`application/json`): `resourceSpans`, ids as hex strings,
    /// 64-bit integers as strings or numbers. An OTLP logs or metrics export sent here, a span
    /// without well-formed ids, or a list that is not an array refuses the whole export.
    public init(json bytes: [UInt8], limits: JSONLimits = JSONLimits()) throws(OTLPDecodeError) {
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes, limits: limits)
        } catch {
            throw OTLPDecodeError("the body is not JSON (\(error))")
        }
        guard let object = root.objectValue else { throw OTLPDecodeError("an OTLP export is a JSON object") }
        guard let resources = object["resourceSpans"] else {
            for other in ["resourceLogs", "resourceMetrics", "resourceProfiles"] where object[other] != nil {
                throw OTLPDecodeError("this is an OTLP \(other.dropFirst(8).lowercased()) export, not traces: send it to its own path")
            }
            self.init()
            return
        }
        var resourceSpans: [ResourceSpans] = []
        for (r, resource) in try Self.array(resources, "resourceSpans").enumerated() {
            let resourceAttributes = try Self.attributes(resource["resource"]?["attributes"], "resourceSpans[\(r)].resource.attributes")
            var scopes: [ScopeSpans] = []
            for (s, scopeSpans) in try Self.array(resource["scopeSpans"], "resourceSpans[\(r)].scopeSpans").enumerated() {
                let place = "resourceSpans[\(r)].scopeSpans[\(s)]"
                let scopeValue = scopeSpans["scope"]
                let scope = OTLPScope(name: scopeValue?["name"]?.stringValue ?? "",
                                      version: scopeValue?["version"]?.stringValue ?? "",
                                      attributes: try Self.attributes(scopeValue?["attributes"], place + ".scope.attributes"))
                var spans: [OTLPSpan] = []
                for (n, span) in try Self.array(scopeSpans["spans"], place + ".spans").enumerated() {
                    spans.append(try Self.span(span, place: place + ".spans[\(n)]"))
                }
                scopes.append(ScopeSpans(scope: scope, spans: spans))
            }
            resourceSpans.append(ResourceSpans(resource: resourceAttributes, scopeSpans: scopes))
        }
        self.init(resourceSpans: resourceSpans)
    }

    private static func span(_ span: JSONValue, place: String) throws(OTLPDecodeError) -> OTLPSpan {
        guard let trace = span["traceId"]?.stringValue, let traceID = Hex.decode(trace, count: 16),
              traceID.contains(where: { $0 != 0 }) else {
            throw OTLPDecodeError("\(place) has no valid traceId (32 hex digits)")
        }
        guard let spanText = span["spanId"]?.stringValue, let spanID = Hex.decode(spanText, count: 8),
              spanID.contains(where: { $0 != 0 }) else {
            throw OTLPDecodeError("\(place) has no valid spanId (16 hex digits)")
        }
        var parent: String?
        if let parentText = span["parentSpanId"]?.stringValue, !parentText.isEmpty {
            guard let parentID = Hex.decode(parentText, count: 8) else {
                throw OTLPDecodeError("\(place) has a malformed parentSpanId")
            }
            if parentID.contains(where: { $0 != 0 }) { parent = Hex.encode(parentID) }
        }
        var events: [OTLPSpanEvent] = []
        for (e, event) in try array(span["events"], place + ".events").enumerated() {
            events.append(OTLPSpanEvent(name: event["name"]?.stringValue ?? "", timeUnixNano: nanos(event["timeUnixNano"]),
                                        attributes: try attributes(event["attributes"], place + ".events[\(e)].attributes")))
        }
        return OTLPSpan(
            traceID: Hex.encode(traceID), spanID: Hex.encode(spanID), parentSpanID: parent,
            name: span["name"]?.stringValue ?? "", kind: integer(span["kind"]).map { Int($0) } ?? 0,
            startTimeUnixNano: nanos(span["startTimeUnixNano"]), endTimeUnixNano: nanos(span["endTimeUnixNano"]),
            attributes: try attributes(span["attributes"], place + ".attributes"), events: events,
            statusCode: integer(span["status"]?["code"]).map { Int($0) } ?? statusCode(span["status"]?["code"]?.stringValue),
            statusMessage: span["status"]?["message"]?.stringValue ?? "")
    }

    /// A list field: absent or null is empty, anything but an array refuses the export.
    private static func array(_ value: JSONValue?, _ place: String) throws(OTLPDecodeError) -> [JSONValue] {
        guard let value, !value.isNull else { return [] }
        guard let array = value.arrayValue else { throw OTLPDecodeError("\(place) is not an array") }
        return array
    }

    private static func attributes(_ value: JSONValue?, _ place: String) throws(OTLPDecodeError) -> [OTLPAttribute] {
        var out: [OTLPAttribute] = []
        for element in try array(value, place) {
            guard let key = element["key"]?.stringValue else { continue }
            out.append(OTLPAttribute(key, self.value(element["value"])))
        }
        return out
    }

    private static func value(_ value: JSONValue?) -> OTLPValue {
        guard let object = value?.objectValue else { return .empty }
        if let string = object["stringValue"]?.stringValue { return .string(string) }
        if let bool = object["boolValue"]?.boolValue { return .bool(bool) }
        if let int = integer(object["intValue"]) { return .int(int) }
        if let double = object["doubleValue"] {
            if let number = double.numberValue { return .double(number.doubleValue) }
            if let text = double.stringValue { return Double(text).map(OTLPValue.double) ?? .string(text) }
        }
        if let array = object["arrayValue"] {
            return .array((array["values"]?.arrayValue ?? []).map { self.value($0) })
        }
        if let list = object["kvlistValue"] {
            return .keyValues((list["values"]?.arrayValue ?? []).compactMap { element in
                element["key"]?.stringValue.map { OTLPAttribute($0, self.value(element["value"])) }
            })
        }
        if let bytes = object["bytesValue"]?.stringValue { return .string(bytes) }
        return .empty
    }

    /// OTLP/JSON writes 64-bit integers as strings; some encoders write numbers.
    private static func integer(_ value: JSONValue?) -> Int64? {
        if let number = value?.numberValue { return number.int64Value }
        if let text = value?.stringValue { return Int64(text) }
        return nil
    }

    private static func nanos(_ value: JSONValue?) -> UInt64? {
        if let number = value?.numberValue {
            if let int = number.int64Value { return int > 0 ? UInt64(int) : nil }
            return number.doubleValue > 0 && number.doubleValue < 1.8e19 ? UInt64(number.doubleValue) : nil
        }
        if let text = value?.stringValue, let nanos = UInt64(text), nanos > 0 { return nanos }
        return nil
    }

    private static func statusCode(_ name: String?) -> Int {
        switch name {
        case "STATUS_CODE_OK": 1
        case "STATUS_CODE_ERROR": 2
        default: 0
        }
    }
}
