import Foundation
import Testing
import WickJSON

/// Envelope extraction: which fields are found, where, and how batches, duplicates and escapes are handled.
@Suite struct EnvelopeTests {
    @Test func findsEveryEnvelopeAndBodyField() throws {
        let text =
            #"{"id":"e1","type":"score-create","timestamp":"2026-11-01T10:00:00.123Z","body":{"id":"sc1","traceId":"t1","observationId":"o1","sessionId":"s1","name":"helpful","value":0.5,"dataType":"NUMERIC","extra":{"id":"nested-not-body"}},"metadata":{"id":"meta"}}"#
        let (event, bytes) = try scanEvent(text)
        try bytes.withUnsafeBytes { buffer in
            #expect(event.range == 0..<bytes.count)
            #expect(event.duplicateKey == nil)
            #expect(event.id?.string(in: buffer) == "e1")
            #expect(event.type?.equals("score-create", in: buffer) == true)
            #expect(event.timestamp?.string(in: buffer) == "2026-11-01T10:00:00.123Z")
            let body = try #require(event.body)
            #expect(body.kind == .object)
            #expect(String(decoding: body.rawBytes(in: buffer), as: UTF8.self).hasPrefix("{\"id\":\"sc1\""))
            #expect(String(decoding: body.rawBytes(in: buffer), as: UTF8.self).hasSuffix("\"nested-not-body\"}}"))
            let fields = event.bodyFields
            #expect(fields.id?.string(in: buffer) == "sc1")
            #expect(fields.traceId?.string(in: buffer) == "t1")
            #expect(fields.observationId?.string(in: buffer) == "o1")
            #expect(fields.sessionId?.string(in: buffer) == "s1")
            #expect(fields.name?.string(in: buffer) == "helpful")
            #expect(fields.value?.kind == .number)
            #expect(fields.value.map { String(decoding: $0.rawBytes(in: buffer), as: UTF8.self) } == "0.5")
            #expect(fields.dataType?.string(in: buffer) == "NUMERIC")
        }
    }

    @Test func reportsKindsAndRangesOfNonStringValues() throws {
        let text = #"{"id":12,"type":null,"timestamp":[1,{"a":2}],"body":"not an object"}"#
        let (event, bytes) = try scanEvent(text)
        bytes.withUnsafeBytes { buffer in
            #expect(event.id?.kind == .number)
            #expect(event.type?.kind == .null)
            #expect(event.timestamp?.kind == .array)
            #expect(event.timestamp.map { String(decoding: $0.rawBytes(in: buffer), as: UTF8.self) } == #"[1,{"a":2}]"#)
            #expect(event.body?.kind == .string)
            #expect(event.body?.string(in: buffer) == "not an object")
            #expect(event.bodyFields == BodyFields())
        }
        let (other, otherBytes) = try scanEvent(#"{"body":{"value":true,"name":false,"id":{},"traceId":[],"dataType":{"x":[1]}}}"#)
        otherBytes.withUnsafeBytes { buffer in
            #expect(other.bodyFields.value?.kind == .true)
            #expect(other.bodyFields.name?.kind == .false)
            #expect(other.bodyFields.id?.kind == .object)
            #expect(other.bodyFields.id.map { String(decoding: $0.rawBytes(in: buffer), as: UTF8.self) } == "{}")
            #expect(other.bodyFields.traceId.map { String(decoding: $0.rawBytes(in: buffer), as: UTF8.self) } == "[]")
            #expect(other.bodyFields.dataType.map { String(decoding: $0.rawBytes(in: buffer), as: UTF8.self) } == #"{"x":[1]}"#)
        }
    }

    @Test func eventRangeExcludesSurroundingWhitespace() throws {
        let (event, bytes) = try scanEvent("  \t{\"id\":\"x\"}\r\n ")
        #expect(event.range == 3..<(bytes.count - 3))
    }

    @Test func keysAreComparedAfterUnescaping() throws {
        let text = #"{"\u0069d":"e1","typ\u0065":"t","\u0074imestamp":"ts","b\u006fdy":{"\u0069\u0064":"b1","trace\u0049d":"t1","dataT\u0079pe":"X"}}"#
        let (event, bytes) = try scanEvent(text)
        bytes.withUnsafeBytes { buffer in
            #expect(event.id?.string(in: buffer) == "e1")
            #expect(event.type?.string(in: buffer) == "t")
            #expect(event.timestamp?.string(in: buffer) == "ts")
            #expect(event.bodyFields.id?.string(in: buffer) == "b1")
            #expect(event.bodyFields.traceId?.string(in: buffer) == "t1")
            #expect(event.bodyFields.dataType?.string(in: buffer) == "X")
        }
        // Near misses are not keys of interest.
        let (misses, _) = try scanEvent(#"{"Id":"a","ids":"b","i":"c","id ":"d","typ":"e","bodyx":{},"body":{"traceid":"x","name\u0000":"y"}}"#)
        #expect(misses.id == nil && misses.type == nil && misses.timestamp == nil)
        #expect(misses.bodyFields == BodyFields())
        // An escaped key that decodes to a long string is no key of interest either.
        let (long, _) = try scanEvent(#"{"\u0069d\u0069d\u0069d\u0069d\u0069d\u0069d\u0069d\u0069d\u0069d":1}"#)
        #expect(long.id == nil)
    }

    @Test(arguments: EnvelopeKey.allCases)
    func duplicateEnvelopeKeyIsReported(_ key: EnvelopeKey) throws {
        let name = "\(key)"
        let text = #"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"b"},"# + "\"\(name)\":\"again\"}"
        let (event, bytes) = try scanEvent(text)
        #expect(event.duplicateKey == key)
        // The later value is the one kept, like JSON.parse.
        bytes.withUnsafeBytes { buffer in
            let field: JSONField? =
                switch key {
                case .id: event.id
                case .type: event.type
                case .timestamp: event.timestamp
                case .body: event.body
                }
            #expect(field?.string(in: buffer) == "again")
        }
        // Written with an escape, it is still the same key.
        let escaped = #"{"id":"e1","type":"t","timestamp":"x","body":{},"# + "\"\\u00\(String(name.utf8.first!, radix: 16))\(name.dropFirst())\":1}"
        let (again, _) = try scanEvent(escaped)
        #expect(again.duplicateKey == key)
        // Inside a batch element too.
        let batch = Array(("{\"batch\":[" + text + "]}").utf8)
        try withScan(batch) { result, _ in
            guard case .batch(let elements) = try result.get(), case .event(let element) = elements.first else {
                Issue.record("expected a batch with one event")
                return
            }
            #expect(element.duplicateKey == key)
        }
    }

    @Test func firstDuplicateIsTheOneReported() throws {
        let (event, _) = try scanEvent(#"{"type":"a","id":"1","type":"b","id":"2"}"#)
        #expect(event.duplicateKey == .type)
    }

    @Test func duplicateKeysInsideBodyLastWins() throws {
        let text = #"{"id":"e","body":{"id":"first","traceId":"t1","id":"second","traceId":{"x":1},"name":"n","traceId":"t3"}}"#
        let (event, bytes) = try scanEvent(text)
        #expect(event.duplicateKey == nil)
        bytes.withUnsafeBytes { buffer in
            #expect(event.bodyFields.id?.string(in: buffer) == "second")
            #expect(event.bodyFields.traceId?.string(in: buffer) == "t3")
            #expect(event.bodyFields.name?.string(in: buffer) == "n")
        }
    }

    @Test func duplicateBodyDescribesTheLastBody() throws {
        let (event, bytes) = try scanEvent(#"{"body":{"id":"a","name":"x"},"body":{"id":"b"}}"#)
        #expect(event.duplicateKey == .body)
        bytes.withUnsafeBytes { buffer in
            #expect(event.bodyFields.id?.string(in: buffer) == "b")
            #expect(event.bodyFields.name == nil)
        }
    }

    @Test func batchWithMixedElements() throws {
        let text =
            #"{"batch":[{"id":"e1","type":"trace-create","body":{"id":"t1"}}, 7 ,"str\n",null,[1,[2]],{},true,{"id":"e2","body":{"traceId":"t1"},"id":"e3"}],"metadata":{"batch_size":8}}"#
        let bytes = Array(text.utf8)
        try withScan(bytes) { result, buffer in
            guard case .batch(let elements) = try result.get() else {
                Issue.record("expected a batch")
                return
            }
            #expect(elements.count == 8)
            func raw(_ field: JSONField) -> String { String(decoding: field.rawBytes(in: buffer), as: UTF8.self) }
            guard elements.count == 8 else { return }
            if case .event(let first) = elements[0] {
                #expect(String(decoding: UnsafeRawBufferPointer(rebasing: buffer[first.range]), as: UTF8.self)
                    == #"{"id":"e1","type":"trace-create","body":{"id":"t1"}}"#)
                #expect(first.bodyFields.id?.string(in: buffer) == "t1")
                #expect(first.type?.equals("trace-create", in: buffer) == true)
            } else {
                Issue.record("element 0 is not an event")
            }
            if case .notAnObject(let field) = elements[1] { #expect(raw(field) == "7") }
            if case .notAnObject(let field) = elements[2] {
                #expect(field.kind == .string && field.hasEscapes && field.string(in: buffer) == "str\n")
            }
            if case .notAnObject(let field) = elements[3] { #expect(field.kind == .null) }
            if case .notAnObject(let field) = elements[4] { #expect(field.kind == .array && raw(field) == "[1,[2]]") }
            if case .event(let empty) = elements[5] {
                #expect(empty == EnvelopeFields(range: empty.range))
                #expect(String(decoding: UnsafeRawBufferPointer(rebasing: buffer[empty.range]), as: UTF8.self) == "{}")
            } else {
                Issue.record("element 5 is not an event")
            }
            if case .notAnObject(let field) = elements[6] { #expect(field.kind == .true) }
            if case .event(let last) = elements[7] {
                #expect(last.duplicateKey == .id)
                #expect(last.id?.string(in: buffer) == "e3")
                #expect(last.bodyFields.traceId?.string(in: buffer) == "t1")
            } else {
                Issue.record("element 7 is not an event")
            }
        }
    }

    @Test func emptyBatch() throws {
        for text in [#"{"batch":[]}"#, #"{"batch":[ ],"metadata":null}"#, #"{ "metadata":{}, "batch" : [] }"#] {
            try withScan(Array(text.utf8)) { result, _ in
                let line = try result.get()
                #expect(line == .batch([]))
            }
        }
    }

    @Test func batchWithTypeIsAnEvent() throws {
        for text in [
            #"{"batch":[{"id":"x"}],"type":"trace-create","id":"e"}"#,
            #"{"type":"trace-create","batch":[{"id":"x"}],"id":"e"}"#,
        ] {
            let (event, bytes) = try scanEvent(text)
            bytes.withUnsafeBytes { buffer in
                #expect(event.id?.string(in: buffer) == "e")
                #expect(event.type?.string(in: buffer) == "trace-create")
            }
        }
    }

    @Test func batchThatIsNotAnArrayIsAnEvent() throws {
        for text in [#"{"batch":{"a":1}}"#, #"{"batch":"x","id":"e"}"#, #"{"batch":[1],"batch":null}"#, #"{"batch":[],"batch":{}}"#] {
            _ = try scanEvent(text)
        }
        // The last `batch` wins: an array after a non-array makes a batch of the last array's elements.
        try withScan(Array(#"{"batch":[{"id":"a"}],"batch":7,"batch":[{"id":"b"},1]}"#.utf8)) { result, buffer in
            guard case .batch(let elements) = try result.get() else {
                Issue.record("expected a batch")
                return
            }
            #expect(elements.count == 2)
            if case .event(let event) = elements.first { #expect(event.id?.string(in: buffer) == "b") }
        }
    }

    @Test func batchElementsGoOnlyOneLevelDeep() throws {
        // Objects nested inside batch elements, or batches nested in events, are not events.
        try withScan(Array(#"{"batch":[{"id":"a","body":{"batch":[{"id":"inner"}],"id":"b"}}]}"#.utf8)) { result, buffer in
            guard case .batch(let elements) = try result.get(), elements.count == 1, case .event(let event) = elements[0]
            else {
                Issue.record("expected a batch of one event")
                return
            }
            #expect(event.id?.string(in: buffer) == "a")
            #expect(event.bodyFields.id?.string(in: buffer) == "b")
        }
        let (event, bytes) = try scanEvent(#"{"id":"a","body":{"body":{"id":"deep"},"id":"b"},"x":{"id":"not"}}"#)
        bytes.withUnsafeBytes { buffer in
            #expect(event.id?.string(in: buffer) == "a")
            #expect(event.bodyFields.id?.string(in: buffer) == "b")
        }
    }

    @Test func batchesOfCorpusEventsMatchTheEventsAlone() throws {
        let lines = Corpus.lines
        try #require(lines.count > 1000, "the corpus generator did not run")
        for start in stride(from: 0, to: 400, by: 37) {
            let group = Array(lines[start..<start + 9])
            var batch = Array("{\"batch\":[".utf8)
            var offsets: [Int] = []
            for (index, line) in group.enumerated() {
                if index > 0 { batch.append(contentsOf: Array(" , ".utf8)) }
                offsets.append(batch.count)
                batch.append(contentsOf: line)
            }
            batch.append(contentsOf: Array("],\"metadata\":{\"sdk\":\"python\"}}".utf8))
            try withScan(batch) { result, _ in
                guard case .batch(let elements) = try result.get() else {
                    Issue.record("expected a batch")
                    return
                }
                #expect(elements.count == group.count)
                for (index, element) in elements.enumerated() {
                    let (alone, _) = try scanEvent(String(decoding: group[index], as: UTF8.self))
                    guard case .event(let inBatch) = element else {
                        Issue.record("element \(index) is not an event")
                        continue
                    }
                    #expect(EnvelopeFieldsSnapshot(alone).shifted(by: offsets[index]) == EnvelopeFieldsSnapshot(inBatch))
                }
            }
        }
    }

    @Test func corpusFieldsMatchFoundation() throws {
        let lines = Corpus.lines
        try #require(lines.count > 1000, "the corpus generator did not run")
        for line in lines {
            let reference = try #require(Reference.parse(line) as? [String: Any])
            try withScan(line) { result, buffer in
                guard case .event(let event) = try result.get() else {
                    Issue.record("corpus line is not an event")
                    return
                }
                #expect(event.range == 0..<line.count)
                #expect(event.duplicateKey == nil)
                expectFieldsMatch(event, reference, buffer)
                // The generator writes these as plain strings.
                #expect(event.id?.kind == .string && event.type?.kind == .string && event.timestamp?.kind == .string)
                #expect(event.bodyFields.id?.kind == .string)
            }
        }
    }
}

/// The comparable content of an `EnvelopeFields`, which tests can shift (an event scanned alone vs. inside a
/// batch).
struct EnvelopeFieldsSnapshot: Equatable {
    var range: Range<Int>
    var fields: [JSONField?]
    var duplicateKey: EnvelopeKey?

    init(_ event: EnvelopeFields) {
        let body = event.bodyFields
        range = event.range
        fields = [
            event.id, event.type, event.timestamp, event.body,
            body.id, body.traceId, body.observationId, body.sessionId, body.name, body.value, body.dataType,
        ]
        duplicateKey = event.duplicateKey
    }

    func shifted(by offset: Int) -> EnvelopeFieldsSnapshot {
        var copy = self
        copy.range = (range.lowerBound + offset)..<(range.upperBound + offset)
        copy.fields = fields.map { field in
            field.map {
                JSONField(
                    kind: $0.kind,
                    range: ($0.range.lowerBound + offset)..<($0.range.upperBound + offset),
                    hasEscapes: $0.hasEscapes
                )
            }
        }
        return copy
    }
}

/// Checks each extracted field against Foundation's parse of the same line.
func expectFieldsMatch(
    _ event: EnvelopeFields,
    _ reference: [String: Any],
    _ buffer: UnsafeRawBufferPointer,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let envelope: [(String, JSONField?)] = [
        ("id", event.id), ("type", event.type), ("timestamp", event.timestamp), ("body", event.body),
    ]
    for (key, field) in envelope {
        expectFieldMatches(field, reference[key], key: key, buffer, sourceLocation: sourceLocation)
    }
    guard let body = reference["body"] as? [String: Any] else {
        #expect(event.bodyFields == BodyFields(), sourceLocation: sourceLocation)
        return
    }
    let fields = event.bodyFields
    let bodyFields: [(String, JSONField?)] = [
        ("id", fields.id), ("traceId", fields.traceId), ("observationId", fields.observationId),
        ("sessionId", fields.sessionId), ("name", fields.name), ("value", fields.value), ("dataType", fields.dataType),
    ]
    for (key, field) in bodyFields {
        expectFieldMatches(field, body[key], key: "body.\(key)", buffer, sourceLocation: sourceLocation)
    }
}

func expectFieldMatches(
    _ field: JSONField?,
    _ reference: Any?,
    key: String,
    _ buffer: UnsafeRawBufferPointer,
    sourceLocation: SourceLocation
) {
    guard let field else {
        #expect(reference == nil, "\(key): missing", sourceLocation: sourceLocation)
        return
    }
    guard let reference else {
        Issue.record("\(key): found but Foundation has none", sourceLocation: sourceLocation)
        return
    }
    let value: JSONValue
    if field.kind == .string {
        value = .string(field.string(in: buffer))
    } else {
        do {
            value = try JSONValue.parse(field.rawBytes(in: buffer))
        } catch {
            Issue.record("\(key): field bytes do not parse: \(error)", sourceLocation: sourceLocation)
            return
        }
    }
    #expect(value.kind == field.kind, "\(key)", sourceLocation: sourceLocation)
    #expect(sameValue(value, reference), "\(key): \(value) vs \(reference)", sourceLocation: sourceLocation)
}
