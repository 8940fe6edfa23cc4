import Foundation
import Testing
import WickModel
import WickStore

@testable import WickIngest

/// What one line came to: accepted payloads with their trace keys, and rejects with reasons.
struct Processed {
    var accepted: [(payload: String, trace: String?)] = []
    var rejected: [(reason: String, detail: String, input: [UInt8])] = []
    var outcome = LineProcessor.Outcome()
}

func process(_ line: [UInt8], maxDepth: Int = 64) throws -> Processed {
    let processor = LineProcessor(maxDepth: maxDepth)
    var events = RecordBatch()
    var rejects = RecordBatch()
    var result = Processed()
    line.withUnsafeBytes { bytes in
        Array("default".utf8).withUnsafeBytes { project in
            processor.process(bytes, receiveTime: 1, project: project, source: .unix, events: &events, rejects: &rejects,
                              counters: IngestCounters(), outcome: &result.outcome)
        }
    }
    for record in decode(events) {
        let trace = record.keys.first { $0.space.rawValue == IndexSpaces.traceID }.map { String(decoding: $0.bytes, as: UTF8.self) }
        result.accepted.append((String(decoding: record.payload, as: UTF8.self), trace))
    }
    for record in decode(rejects) {
        let letter = DeadLetter(record)
        result.rejected.append((letter.reason, letter.detail, letter.bytes))
    }
    return result
}

func decode(_ batch: RecordBatch) -> [StoredRecord] {
    batch.bytes.withUnsafeBytes { raw in
        var records: [StoredRecord] = []
        var offset = 0
        var sequence: UInt64 = 1
        while offset < raw.count {
            let length = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
            let record = UnsafeRawBufferPointer(rebasing: raw[offset + 4..<offset + 4 + length])
            var reader = record.makeIterator()
            let kind = RecordKind(rawValue: reader.next()!)
            let keyCount = Int(reader.next()!)
            var cursor = 2 + 8
            let projectLength = Int(record[cursor])
            cursor += 1
            let project = String(decoding: record[cursor..<cursor + projectLength], as: UTF8.self)
            cursor += projectLength
            var keys: [IndexKey] = []
            for _ in 0..<keyCount {
                let space = record[cursor]
                var value = 0
                var shift = 0
                cursor += 1
                while true {
                    let byte = record[cursor]
                    cursor += 1
                    value |= Int(byte & 0x7F) << shift
                    shift += 7
                    if byte < 0x80 { break }
                }
                keys.append(IndexKey(space: KeySpace(rawValue: space), bytes: Array(record[cursor..<cursor + value])))
                cursor += value
            }
            records.append(StoredRecord(sequence: sequence, kind: kind, receiveTime: 1, project: project, keys: keys,
                                        payload: Array(record[cursor...])))
            sequence += 1
            offset += 4 + length
        }
        return records
    }
}

private let good = #"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00.000Z","body":{"id":"t1","name":"n"}}"#

@Suite struct LineProcessorTests {
    static let badLines: [(String, [UInt8], String)] = [
        ("truncated JSON", Array(#"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t1""#.utf8), "json_truncated"),
        ("invalid UTF-8", Array(#"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t"#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8), "json_invalid_utf8"),
        ("nesting over 64", Array(#"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t","input":"#.utf8)
            + Array(repeating: UInt8(ascii: "["), count: 64) + Array(repeating: UInt8(ascii: "]"), count: 64) + Array("}}".utf8), "json_too_deep"),
        ("NaN", Array(#"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t","x":NaN}}"#.utf8), "json_invalid_literal"),
        ("Infinity", Array(#"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t","x":-Infinity}}"#.utf8), "json_invalid_number"),
        ("duplicate id", Array(#"{"id":"e1","id":"e2","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t"}}"#.utf8), "duplicate_envelope_key"),
        ("duplicate type", Array(#"{"id":"e1","type":"trace-create","type":"span-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t"}}"#.utf8), "duplicate_envelope_key"),
        ("duplicate timestamp", Array(#"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","timestamp":"2026-01-02T00:00:00Z","body":{"id":"t"}}"#.utf8), "duplicate_envelope_key"),
        ("duplicate body", Array(#"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t"},"body":{"id":"u"}}"#.utf8), "duplicate_envelope_key"),
        ("missing body.id", Array(#"{"id":"e1","type":"span-create","timestamp":"2026-01-01T00:00:00Z","body":{"traceId":"t"}}"#.utf8), "missing_body_id"),
        ("id is a number", Array(#"{"id":5,"type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t"}}"#.utf8), "invalid_id"),
        ("type is a number", Array(#"{"id":"e1","type":7,"timestamp":"2026-01-01T00:00:00Z","body":{"id":"t"}}"#.utf8), "unknown_type"),
        ("timestamp is a number", Array(#"{"id":"e1","type":"trace-create","timestamp":1735689600,"body":{"id":"t"}}"#.utf8), "invalid_timestamp"),
        ("timestamp without offset", Array(#"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00","body":{"id":"t"}}"#.utf8), "invalid_timestamp"),
        ("body is a string", Array(#"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":"t"}"#.utf8), "body_not_object"),
        ("missing body", Array(#"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z"}"#.utf8), "missing_body"),
        ("missing id", Array(#"{"type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t"}}"#.utf8), "missing_id"),
        ("empty id", Array(#"{"id":"","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t"}}"#.utf8), "invalid_id"),
        ("id with CR", Array(#"{"id":"a\rb","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t"}}"#.utf8), "invalid_id"),
        ("id over 800", Array((#"{"id":""# + String(repeating: "x", count: 801) + #"","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t"}}"#).utf8), "invalid_id"),
        ("unknown type", Array(#"{"id":"e1","type":"trace-update","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t"}}"#.utf8), "unknown_type"),
        ("internal type", Array(#"{"id":"e1","type":"dataset-run-item-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t"}}"#.utf8), "internal_type"),
        ("score without name", Array(#"{"id":"e1","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","traceId":"t","value":1}}"#.utf8), "score_missing_name"),
        ("score without value", Array(#"{"id":"e1","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","traceId":"t","name":"q"}}"#.utf8), "score_missing_value"),
        ("score value true", Array(#"{"id":"e1","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","traceId":"t","name":"q","value":true}}"#.utf8), "score_invalid_value"),
        ("numeric score with a string", Array(#"{"id":"e1","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","traceId":"t","name":"q","value":"high","dataType":"NUMERIC"}}"#.utf8), "score_invalid_value"),
        ("unknown score data type", Array(#"{"id":"e1","type":"score-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","traceId":"t","name":"q","value":1,"dataType":"PERCENT"}}"#.utf8), "score_invalid_data_type"),
        ("not an object", Array("[1,2,3]".utf8), "json_not_an_object"),
        ("binary garbage", [0x00, 0xFF, 0x13, 0x37, 0xC0, 0xDE, 0x7F, 0x80], "json_unexpected_byte"),
        ("trace id a number", Array(#"{"id":"e1","type":"span-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","traceId":42}}"#.utf8), "invalid_trace_id"),
    ]

    @Test(arguments: badLines.indices)
    func badLineIsRejectedWithItsReason(_ index: Int) throws {
        let (name, line, reason) = Self.badLines[index]
        let result = try process(line)
        #expect(result.accepted.isEmpty, "\(name) was accepted")
        #expect(result.rejected.map(\.reason) == [reason], "\(name)")
        #expect(result.rejected.first?.input == line, "\(name): the dead letter keeps the input")
        #expect(result.outcome.rejected == 1)
    }

    @Test func goodLineIsStoredVerbatimWithItsTraceKey() throws {
        let result = try process(Array(good.utf8))
        #expect(result.rejected.isEmpty)
        #expect(result.accepted.count == 1)
        #expect(result.accepted[0].payload == good)
        #expect(result.accepted[0].trace == "t1")
    }

    @Test func numbersOfAnySizeAreKeptVerbatim() throws {
        let line = #"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t","metadata":{"big":123456789012345678901234567890123456789e999,"tiny":-0.000000000000000000000000001}}}"#
        let result = try process(Array(line.utf8))
        #expect(result.accepted.map(\.payload) == [line])
    }

    @Test func duplicateKeysInsideBodyAreFineAndTheLastWins() throws {
        let line = #"{"id":"e1","type":"span-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","traceId":"first","traceId":"last"}}"#
        let result = try process(Array(line.utf8))
        #expect(result.accepted.map(\.trace) == ["last"])
    }

    @Test func escapedTraceIDIsIndexedDecoded() throws {
        let line = #"{"id":"e1","type":"span-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"s","traceId":"t\u00e9-\"q\""}}"#
        let result = try process(Array(line.utf8))
        #expect(result.accepted.map(\.trace) == ["té-\"q\""])
    }

    @Test func unknownExtraFieldsAreFine() throws {
        let line = #"{"id":"e1","type":"generation-create","timestamp":"2026-01-01T00:00:00.123456+02:00","body":{"id":"g","traceId":"t","futureField":{"x":[1,2]}},"metadata":{"sdk":"py"},"extra":1}"#
        #expect(try process(Array(line.utf8)).accepted.count == 1)
    }

    @Test func batchLineCostsOnlyItsBadElements() throws {
        let bad = #"{"id":"e2","type":"span-create","timestamp":"2026-01-01T00:00:00Z","body":{"traceId":"t1"}}"#
        let line = #"{"batch":["# + good + "," + bad + #",17,"# + good.replacingOccurrences(of: "e1", with: "e3") + #"],"metadata":{"batch_size":4}}"#
        let result = try process(Array(line.utf8))
        #expect(result.accepted.map(\.payload) == [good, good.replacingOccurrences(of: "e1", with: "e3")])
        #expect(result.rejected.map(\.reason) == ["missing_body_id", "batch_element_not_object"])
        #expect(result.rejected[0].input == Array(bad.utf8))
        #expect(result.outcome.accepted == 2 && result.outcome.rejected == 2 && result.outcome.lines == 1)
    }

    @Test func blankLinesAreIgnoredWithoutAReject() throws {
        for line in ["", "   ", "\r", "\t \r"] {
            let result = try process(Array(line.utf8))
            #expect(result.accepted.isEmpty && result.rejected.isEmpty)
            #expect(result.outcome.empty == 1)
        }
    }

    @Test func sdkLogIsKeptWithoutATrace() throws {
        let line = #"{"id":"e1","type":"sdk-log","timestamp":"2026-01-01T00:00:00Z","body":{"log":"hello"}}"#
        let result = try process(Array(line.utf8))
        #expect(result.accepted.count == 1 && result.accepted[0].trace == nil)
    }

    @Test func everyEventTypeIsAccepted() throws {
        for type in EventType.allCases {
            let line = #"{"id":"e1","type":""# + type.description + #"","timestamp":"2026-01-01T00:00:00Z","body":{"id":"b","traceId":"t","name":"n","value":1}}"#
            #expect(try process(Array(line.utf8)).accepted.count == 1, "\(type)")
        }
    }
}
