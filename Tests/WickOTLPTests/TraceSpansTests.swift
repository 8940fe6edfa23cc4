import Testing
import WickJSON
import WickModel
import WickOTLP
import WickTestSupport

/// Wick's `otlp` sink encoding: folded traces to spans, and back through the OTLP endpoint's
/// mapping, fold to the same trace (what the sink promises a receiving Wick).
struct TraceSpansTests {
    static func fold(_ lines: [[UInt8]], traceID: String) throws -> FoldedTrace {
        let events = try lines.enumerated().map { sequence, line in
            try IngestionEvent.decode(line, sequence: UInt64(sequence), receiveTime: 0, project: "p").get()
        }
        return TraceFold.fold(traceID: traceID, events)
    }

    /// Folded → spans → protobuf → decoded → Langfuse events → folded again.
    static func roundTrip(_ folded: FoldedTrace) throws -> FoldedTrace {
        let export = TraceSpans.export([folded], serviceName: "edge", version: "test")
        let decoded = try OTLPExport(protobuf: export.protobuf())
        #expect(decoded == export)
        let events = SpanMapper.events(decoded, now: 0)
        return try fold(events.map { $0.serialized() }, traceID: folded.trace.id)
    }

    static func expectSame(_ a: FoldedTrace, _ b: FoldedTrace, _ comment: Comment) {
        var left = a.trace
        var right = b.trace
        left.lastEventTime = .minimum
        right.lastEventTime = .minimum
        // A trace known only from its observations gets a trace event on the other side.
        right.hasTraceEvent = left.hasTraceEvent
        #expect(left == right, comment)
        #expect(a.observations.count == b.observations.count, comment)
        for (x, y) in zip(a.observations, b.observations) {
            var left = x
            var right = y
            left.lastEventTime = .minimum
            right.lastEventTime = .minimum
            left.usageUnit = nil
            #expect(left == right, comment)
        }
    }

    @Test func randomTracesSurviveTheRoundTrip() throws {
        var generator = SplitMix(seed: 0x07E1)
        for round in 0..<300 {
            let specs = RandomTrace.specs(&generator)
            let folded = try Self.fold(specs.map(\.line), traceID: "t1")
            Self.expectSame(folded, try Self.roundTrip(folded), "round \(round)")
        }
    }

    @Test func idsThatAreNotOTelShapedMapDeterministicallyAndComeBack() throws {
        let lines = [
            #"{"id":"e1","type":"trace-create","timestamp":"2026-11-29T10:00:00Z","body":{"id":"order 17/checkout","name":"checkout","userId":"u1","sessionId":"s1","tags":["a","b"],"input":{"q":1},"metadata":{"k":"v"},"release":"r1","version":"v9"}}"#,
            #"{"id":"e2","type":"span-create","timestamp":"2026-11-29T10:00:00Z","body":{"id":"7f1c2a9e-2b7d-4c1e-9a57-3f0c6a3e1b2d","traceId":"order 17/checkout","name":"plan","startTime":"2026-11-29T10:00:00.100000Z"}}"#,
            #"{"id":"e3","type":"generation-create","timestamp":"2026-11-29T10:00:01Z","body":{"id":"gen-1","traceId":"order 17/checkout","parentObservationId":"7f1c2a9e-2b7d-4c1e-9a57-3f0c6a3e1b2d","name":"call","model":"gpt-4o","startTime":"2026-11-29T10:00:00.200000Z","endTime":"2026-11-29T10:00:01.200000Z","completionStartTime":"2026-11-29T10:00:00.400000Z","usageDetails":{"input":100,"output":20},"costDetails":{"total":0.5},"modelParameters":{"temperature":0.1},"promptName":"p","promptVersion":2,"level":"WARNING","statusMessage":"slow"}}"#,
        ].map { Array($0.utf8) }
        let folded = try Self.fold(lines, traceID: "order 17/checkout")
        let spans = TraceSpans.spans(folded)
        #expect(spans.count == 2)
        #expect(spans.allSatisfy { $0.traceID.count == 32 && $0.spanID.count == 16 })
        #expect(spans[1].parentSpanID == spans[0].spanID)
        #expect(spans[0].attributes.contains(OTLPAttribute("wick.trace.id", .string("order 17/checkout"))))
        #expect(TraceSpans.spans(folded) == spans)
        // OTel-shaped ids stay as they are.
        #expect(TraceSpans.otelID("5b8aa5a2d2c872e8321cf37308d69df2", bytes: 16) == ("5b8aa5a2d2c872e8321cf37308d69df2", false))
        #expect(TraceSpans.otelID("051581bf3cb55c13", bytes: 8) == ("051581bf3cb55c13", false))
        let back = try Self.roundTrip(folded)
        Self.expectSame(folded, back, "mapped ids")
        #expect(back.observations.last?.cost?.total == folded.observations.last?.cost?.total)
    }
}
