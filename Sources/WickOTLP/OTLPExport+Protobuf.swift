import Foundation
import SwiftProtobuf
import WickOTLPProto

typealias ExportRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
typealias ProtoValue = Opentelemetry_Proto_Common_V1_AnyValue
typealias ProtoKeyValue = Opentelemetry_Proto_Common_V1_KeyValue

extension OTLPExport {
    /// Decodes an `ExportTraceServiceRequest` (`application/x-protobuf`). A body that is not one,
    /// or a span without a well-formed trace or span id, refuses the whole export as Langfuse does.
    public init(protobuf bytes: [UInt8]) throws(OTLPDecodeError) {
        let request: ExportRequest
        do {
            request = try ExportRequest(serializedBytes: bytes)
        } catch {
            throw OTLPDecodeError("the body is not an OTLP ExportTraceServiceRequest (\(error))")
        }
        var resourceSpans: [ResourceSpans] = []
        resourceSpans.reserveCapacity(request.resourceSpans.count)
        for (r, resource) in request.resourceSpans.enumerated() {
            var scopes: [ScopeSpans] = []
            for (s, scopeSpans) in resource.scopeSpans.enumerated() {
                var spans: [OTLPSpan] = []
                spans.reserveCapacity(scopeSpans.spans.count)
                for (n, span) in scopeSpans.spans.enumerated() {
                    let place = "resourceSpans[\(r)].scopeSpans[\(s)].spans[\(n)]"
                    guard span.traceID.count == 16, span.traceID.contains(where: { $0 != 0 }) else {
                        throw OTLPDecodeError("\(place) has no valid traceId (16 bytes, not all zero)")
                    }
                    guard span.spanID.count == 8, span.spanID.contains(where: { $0 != 0 }) else {
                        throw OTLPDecodeError("\(place) has no valid spanId (8 bytes, not all zero)")
                    }
                    guard span.parentSpanID.isEmpty || span.parentSpanID.count == 8 else {
                        throw OTLPDecodeError("\(place) has a malformed parentSpanId (\(span.parentSpanID.count) bytes)")
                    }
                    let parent = span.parentSpanID.contains(where: { $0 != 0 }) ? Hex.encode(span.parentSpanID) : nil
                    spans.append(OTLPSpan(
                        traceID: Hex.encode(span.traceID), spanID: Hex.encode(span.spanID), parentSpanID: parent,
                        name: span.name, kind: span.kind.rawValue,
                        startTimeUnixNano: span.startTimeUnixNano == 0 ? nil : span.startTimeUnixNano,
                        endTimeUnixNano: span.endTimeUnixNano == 0 ? nil : span.endTimeUnixNano,
                        attributes: span.attributes.map(Self.attribute),
                        events: span.events.map {
                            OTLPSpanEvent(name: $0.name, timeUnixNano: $0.timeUnixNano == 0 ? nil : $0.timeUnixNano,
                                          attributes: $0.attributes.map(Self.attribute))
                        },
                        statusCode: span.status.code.rawValue, statusMessage: span.status.message))
                }
                let scope = scopeSpans.scope
                scopes.append(ScopeSpans(scope: OTLPScope(name: scope.name, version: scope.version,
                                                          attributes: scope.attributes.map(Self.attribute)),
                                         spans: spans))
            }
            resourceSpans.append(ResourceSpans(resource: resource.resource.attributes.map(Self.attribute), scopeSpans: scopes))
        }
        self.init(resourceSpans: resourceSpans)
    }

    private static func attribute(_ keyValue: ProtoKeyValue) -> OTLPAttribute {
        OTLPAttribute(keyValue.key, value(keyValue.value))
    }

    private static func value(_ value: ProtoValue) -> OTLPValue {
        switch value.value {
        case .stringValue(let string): .string(string)
        case .boolValue(let bool): .bool(bool)
        case .intValue(let int): .int(int)
        case .doubleValue(let double): .double(double)
        case .arrayValue(let array): .array(array.values.map(Self.value))
        case .kvlistValue(let list): .keyValues(list.values.map(attribute))
        case .bytesValue(let bytes): .bytes(Array(bytes))
        case .stringValueStrindex, .none: .empty
        }
    }
}
