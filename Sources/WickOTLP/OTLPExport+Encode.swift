import Foundation
import SwiftProtobuf
import WickOTLPProto

extension OTLPExport {
    /// The export as an `ExportTraceServiceRequest` (`application/x-protobuf`).
    public func protobuf() -> [UInt8] {
        var request = ExportRequest()
        request.resourceSpans = resourceSpans.map { resource in
            var out = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            out.resource.attributes = resource.resource.map(Self.keyValue)
            out.scopeSpans = resource.scopeSpans.map { scopeSpans in
                var scope = Opentelemetry_Proto_Trace_V1_ScopeSpans()
                scope.scope.name = scopeSpans.scope.name
                scope.scope.version = scopeSpans.scope.version
                scope.scope.attributes = scopeSpans.scope.attributes.map(Self.keyValue)
                scope.spans = scopeSpans.spans.map(Self.span)
                return scope
            }
            return out
        }
        // Encoding a message built here cannot fail (no required fields, no unset oneofs).
        return (try? request.serializedBytes()) ?? []
    }

    private static func span(_ span: OTLPSpan) -> Opentelemetry_Proto_Trace_V1_Span {
        var out = Opentelemetry_Proto_Trace_V1_Span()
        out.traceID = Data(Hex.decode(span.traceID, count: 16) ?? [])
        out.spanID = Data(Hex.decode(span.spanID, count: 8) ?? [])
        if let parent = span.parentSpanID { out.parentSpanID = Data(Hex.decode(parent, count: 8) ?? []) }
        out.name = span.name
        out.kind = Opentelemetry_Proto_Trace_V1_Span.SpanKind(rawValue: span.kind) ?? .internal
        out.startTimeUnixNano = span.startTimeUnixNano ?? 0
        out.endTimeUnixNano = span.endTimeUnixNano ?? 0
        out.attributes = span.attributes.map(keyValue)
        out.events = span.events.map { event in
            var protoEvent = Opentelemetry_Proto_Trace_V1_Span.Event()
            protoEvent.name = event.name
            protoEvent.timeUnixNano = event.timeUnixNano ?? 0
            protoEvent.attributes = event.attributes.map(keyValue)
            return protoEvent
        }
        if span.statusCode != 0 || !span.statusMessage.isEmpty {
            out.status.code = Opentelemetry_Proto_Trace_V1_Status.StatusCode(rawValue: span.statusCode) ?? .unset
            out.status.message = span.statusMessage
        }
        return out
    }

    private static func keyValue(_ attribute: OTLPAttribute) -> ProtoKeyValue {
        var out = ProtoKeyValue()
        out.key = attribute.key
        out.value = value(attribute.value)
        return out
    }

    private static func value(_ value: OTLPValue) -> ProtoValue {
        var out = ProtoValue()
        switch value {
        case .string(let string): out.stringValue = string
        case .bool(let bool): out.boolValue = bool
        case .int(let int): out.intValue = int
        case .double(let double): out.doubleValue = double
        case .array(let values): out.arrayValue.values = values.map(Self.value)
        case .keyValues(let pairs): out.kvlistValue.values = pairs.map(keyValue)
        case .bytes(let bytes): out.bytesValue = Data(bytes)
        case .empty: break
        }
        return out
    }
}
