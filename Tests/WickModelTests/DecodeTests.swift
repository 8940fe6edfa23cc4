import Testing
import WickJSON
@testable import WickModel

/// Full decoding: what passed the hot path's envelope checks but breaks Langfuse's body schema is a
/// late reject with a reason, never part of a trace.
@Suite struct DecodeTests {
    func decode(_ line: String) -> Result<IngestionEvent, LateReject> {
        IngestionEvent.decode(Array(line.utf8), sequence: 1, receiveTime: 0, project: "p")
    }

    let envelope = #"{"id":"e1","timestamp":"2026-01-01T00:00:00.000Z","type":"#

    @Test func aWellFormedEventDecodes() throws {
        let event = try decode(envelope + #""generation-create","body":{"id":"g1","traceId":"t1","model":"gpt-4o","usageDetails":{"input":1},"level":"ERROR","promptName":"p","promptVersion":2}}"#).get()
        #expect(event.type == .generationCreate)
        #expect(event.traceID == "t1")
        #expect(event.entityID == "g1")
    }

    @Test(arguments: [
        (#""span-create","body":{"id":"s1","traceId":"t1","name":5}"#, RejectReason.bodyFieldType),
        (#""span-create","body":{"id":"s1","traceId":"t1","startTime":"yesterday"}"#, .bodyFieldType),
        (#""trace-create","body":{"id":"t1","tags":"prod"}"#, .bodyFieldType),
        (#""trace-create","body":{"id":"t1","tags":["a",1]}"#, .bodyFieldType),
        (#""trace-create","body":{"id":"t1","public":"yes"}"#, .bodyFieldType),
        (#""generation-create","body":{"id":"g1","level":"LOUD"}"#, .bodyFieldValue),
        (#""generation-create","body":{"id":"g1","costDetails":{"total":-1}}"#, .bodyFieldValue),
        (#""generation-create","body":{"id":"g1","promptVersion":1.5}"#, .bodyFieldType),
        (#""score-create","body":{"id":"s1","traceId":"t1","name":"q","value":[1]}"#, .bodyFieldType),
        (#""score-create","body":{"id":"s1","traceId":"t1","name":"q","value":1,"dataType":"LIKERT"}"#, .bodyFieldValue),
        (#""score-create","body":{"id":"s1","traceId":"t1","name":"q","value":2,"dataType":"BOOLEAN"}"#, .bodyFieldValue),
        (#""score-create","body":{"id":"s1","traceId":"t1","name":"q","value":"","dataType":"TEXT"}"#, .bodyFieldValue),
    ])
    func aBodyThatBreaksTheSchemaIsALateReject(_ rest: String, _ reason: RejectReason) {
        switch decode(envelope + rest + "}") {
        case .success(let event): Issue.record("decoded \(event.type) although it breaks the schema")
        case .failure(let reject): #expect(reject.reason == reason, "\(reject.detail)")
        }
    }

    @Test func nullIsAllowedWhereTheSchemaIsNullish() throws {
        let event = try decode(envelope + #""span-update","body":{"id":"s1","traceId":"t1","name":null,"endTime":null,"metadata":null,"level":null}}"#).get()
        #expect(event.body.name == .null)
        #expect(event.body.endTime == nil)
        #expect(event.body.level == .null)
    }

    @Test func sdkLogDecodesAndBelongsToNoTrace() throws {
        let event = try decode(envelope + #""sdk-log","body":{"log":"flush failed"}}"#).get()
        #expect(event.type == .sdkLog)
        #expect(event.traceID == nil)
    }

    @Test func anObservationWithoutATraceIdIsItsOwnTrace() throws {
        let event = try decode(envelope + #""event-create","body":{"id":"ev1"}}"#).get()
        #expect(event.traceID == "ev1")
    }
}

extension DecodeTests {
    /// Compaction's key matcher finds exactly the keys the decoder's table finds.
    @Test func bodyKeysMatchByTheirBytes() {
        for key in BodyKey.allCases {
            var name = key.text
            #expect(name.withUTF8 { BodyKey.match(UnsafeRawBufferPointer($0)) } == key)
        }
        for other in ["", "i", "ID", "idx", "names", "nam", "tage", "typo", "traceID", "metaData", "public!", "usageDetail"] {
            var name = other
            #expect(name.withUTF8 { BodyKey.match(UnsafeRawBufferPointer($0)) } == nil, "\(other)")
        }
    }
}

extension DecodeTests {
    /// A type names itself, and every name one byte off (changed, dropped, added, escaped) names
    /// none, or the type it then spells.
    @Test func eventTypesMatchByTheirBytes() {
        func type(_ text: String) -> EventType? {
            let quoted = Array(("\"" + text + "\"").utf8)
            return quoted.withUnsafeBytes { line in
                EventType(JSONField(kind: .string, range: 1..<(line.count - 1), hasEscapes: text.contains("\\")), in: line)
            }
        }
        let names = Dictionary(uniqueKeysWithValues: EventType.allCases.map { ($0.description, $0) })
        for (name, expected) in names {
            #expect(type(name) == expected)
            #expect(type(name.split(separator: "-").joined(separator: "\\u002d")) == expected)
            let bytes = Array(name.utf8)
            var variants: [[UInt8]] = [Array(bytes.dropLast()), Array(bytes.dropFirst()), bytes + [UInt8(ascii: "s")]]
            for index in bytes.indices {
                for replacement in [UInt8(ascii: "c"), UInt8(ascii: "u"), UInt8(ascii: "x"), bytes[index] ^ 0x20] {
                    var changed = bytes
                    changed[index] = replacement
                    variants.append(changed)
                }
            }
            for variant in variants {
                let text = String(decoding: variant, as: UTF8.self)
                #expect(type(text) == names[text], "\(text)")
            }
        }
    }
}
