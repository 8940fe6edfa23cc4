import Testing
import WickJSON
@testable import WickModel
import WickStore
@testable import WickPipeline
import WickTestSupport

/// A compacted document stands for the events it replaced: folding it, alone or with events that
/// came later, gives what folding all the events would.
@Suite struct CompactedTraceTests {
    static func json(_ text: String) -> JSONValue { try! JSONValue.parse(text) }

    static let start: Int64 = 1_767_225_600_000_000

    static func iso(_ milliseconds: Int64) -> JSONValue {
        .string(Timestamp(microsecondsSinceEpoch: start + milliseconds * 1000)!.iso8601)
    }

    /// Random traces from the fold's property test, as records in arrival order.
    static func records(_ specs: [Spec]) -> [StoredRecord] {
        specs.enumerated().map { position, spec in
            StoredRecord(sequence: UInt64(position + 1), kind: .rawEvent, receiveTime: start + Int64(position),
                         project: "p", keys: [TraceDocuments.traceIndexKey("t1")], payload: spec.line)
        }
    }

    typealias Spec = RandomTrace.Spec

    static func document(_ records: [StoredRecord], sequence: UInt64) -> StoredRecord {
        let loaded = TraceLoader.assemble("t1", project: "p", records: records, prices: .defaults)
        let payload = CompactedTrace.document(loaded.folded, receivedFirst: loaded.times.created,
                                              receivedLast: loaded.times.updated)
        return StoredRecord(sequence: sequence, kind: .compactedDocument, receiveTime: loaded.times.updated, project: "p",
                            keys: [TraceDocuments.traceIndexKey("t1")], payload: payload)
    }

    @Test func aDocumentFoldsToTheTraceItReplaced() {
        var generator = SplitMix(seed: 20261129)
        for _ in 0..<300 {
            let records = Self.records(RandomTrace.specs(&generator))
            let expected = TraceLoader.assemble("t1", project: "p", records: records, prices: .defaults)
            let document = Self.document(records, sequence: 1)
            let folded = TraceLoader.assemble("t1", project: "p", records: [document], prices: .defaults)
            #expect(folded.lateRejects.isEmpty)
            #expect(folded.folded == expected.folded)
            #expect(folded.summary == expected.summary)
            #expect(folded.times.created == expected.times.created && folded.times.updated == expected.times.updated)
        }
    }

    /// Events newer than everything a document holds fold onto it exactly as onto the events.
    @Test func laterEventsMergeIntoADocumentAsIntoTheEvents() {
        var generator = SplitMix(seed: 7)
        var merged = 0
        for _ in 0..<300 {
            let specs = RandomTrace.specs(&generator)
            let cut = Int64.random(in: 0...6, using: &generator)
            let records = Self.records(specs)
            let expected = TraceLoader.assemble("t1", project: "p", records: records, prices: .defaults)
            let early = zip(specs, records).filter { $0.0.at <= cut }.map(\.1)
            let late = zip(specs, records).filter { $0.0.at > cut }.map(\.1)
            guard !early.isEmpty, !late.isEmpty else { continue }
            let document = Self.document(early, sequence: 0)
            let folded = TraceLoader.assemble("t1", project: "p", records: [document] + late, prices: .defaults)
            #expect(folded.folded == expected.folded)
            #expect(folded.summary == expected.summary)
            merged += 1
        }
        #expect(merged > 100)
    }

    @Test func aDocumentKeepsCostsUsageAndTheBookkeeping() throws {
        let lines = [
            #"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t1","name":"chat","userId":"u"}}"#,
            #"{"id":"e2","type":"generation-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g","traceId":"t1","model":"gpt-4o","startTime":"2026-01-01T00:00:01Z","usageDetails":{"input":1000,"output":100}}}"#,
            #"{"id":"e2","type":"generation-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g","traceId":"t1","model":"gpt-4o","startTime":"2026-01-01T00:00:01Z","usageDetails":{"input":1000,"output":100}}}"#,
        ]
        let records = lines.enumerated().map {
            StoredRecord(sequence: UInt64($0.offset + 1), kind: .rawEvent, receiveTime: 100 + Int64($0.offset), project: "p",
                         keys: [], payload: Array($0.element.utf8))
        }
        let document = Self.document(records, sequence: 1)
        let head = try JSONValue.parse(document.payload)
        #expect(head["events"]?.numberValue?.int64Value == 2)
        #expect(head["duplicates"]?.numberValue?.int64Value == 1)
        #expect(head["received"] == Self.json("[100,102]"))
        // gpt-4o: $2.50/M input, $10/M output.
        #expect(head["totalCost"]?.numberValue?.text == "0.0035")
        #expect(head["usage"]?["total"]?.numberValue?.int64Value == 1100)
        let generation = try #require(head["observations"]?[0])
        #expect(generation["@type"]?.stringValue == "GENERATION")
        #expect(generation["@cost"] == Self.json(#"{"input":0.0025,"output":0.001,"total":0.0035}"#))
        // Defaults and the observation's own trace id are left out.
        #expect(generation["traceId"] == nil && generation["level"] == nil && generation["environment"] == nil)
        #expect(head["trace"]?["name"]?.stringValue == "chat")
    }
    // MARK: - The direct writer (what compaction writes with)

    /// Runs the direct writer over records (raw events of "t1"); the document, or nil when it
    /// leaves the trace to the fold.
    static func direct(_ records: [StoredRecord], prices: PriceBook = .defaults,
                       scoreConfigs: ScoreConfigs = .none) -> (payload: [UInt8], first: Int64, last: Int64, streams: [UInt8])? {
        var arena: [UInt8] = []
        var offsets: [Range<Int>] = []
        for record in records {
            offsets.append(arena.count..<(arena.count + record.payload.count))
            arena.append(contentsOf: record.payload)
        }
        var writer = CompactedTrace.DirectWriter()
        return arena.withUnsafeBytes { bytes in
            let events = zip(records, offsets).map {
                CompactedTrace.RawEvent(payload: UnsafeRawBufferPointer(rebasing: bytes[$0.1]), sequence: $0.0.sequence,
                                        receiveTime: $0.0.receiveTime)
            }
            guard writer.write(traceID: "t1", events: events, project: "p", prices: prices, scoreConfigs: scoreConfigs) else {
                return nil
            }
            expectRuns(writer.document, writer.runs, writer.runStreams)
            return (writer.document, writer.receivedFirst, writer.receivedLast, writer.runStreams)
        }
    }

    /// The runs a compacted frame keeps apart are in order, disjoint, and each the whole JSON value
    /// of its stream's kind; every timestamp of the document is in one.
    static func expectRuns(_ document: [UInt8], _ runs: [Range<Int>], _ streams: [UInt8],
                           sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(runs.count == streams.count, sourceLocation: sourceLocation)
        var end = 0
        var times = 0
        for (run, raw) in zip(runs, streams) {
            #expect(run.lowerBound >= end && run.upperBound <= document.count, sourceLocation: sourceLocation)
            end = run.upperBound
            let stream = DocumentStream(rawValue: raw)
            guard let value = try? JSONValue.parse(Array(document[run])) else {
                Issue.record("run \(run) is not a JSON value", sourceLocation: sourceLocation)
                continue
            }
            switch stream {
            case .text: break
            case .ids: #expect(value.stringValue != nil, sourceLocation: sourceLocation)
            case .times:
                #expect(value.stringValue.flatMap { Timestamp(iso8601: $0) } != nil, sourceLocation: sourceLocation)
                times += 1
            case .numbers: #expect(value.numberValue != nil, sourceLocation: sourceLocation)
            case nil: Issue.record("stream \(raw)", sourceLocation: sourceLocation)
            }
        }
        guard let parsed = try? JSONValue.parse(document) else { return }
        let entities = [parsed["trace"]].compactMap { $0 } + (parsed["observations"]?.arrayValue ?? []) + (parsed["scores"]?.arrayValue ?? [])
        let timestamps = entities.reduce(0) { count, entity in
            count + ["timestamp", "startTime", "endTime", "completionStartTime"].filter { entity[$0] != nil }.count
        }
        #expect(times == timestamps, sourceLocation: sourceLocation)
    }

    /// Reads a direct document back and checks it against the fold of `records` and against the
    /// fold writer's document for them.
    static func expectDirectDocument(_ records: [StoredRecord], _ written: (payload: [UInt8], first: Int64, last: Int64, streams: [UInt8]),
                                     prices: PriceBook = .defaults, sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = TraceLoader.assemble("t1", project: "p", records: records, prices: prices)
        let document = StoredRecord(sequence: 1, kind: .compactedDocument, receiveTime: written.last, project: "p",
                                    keys: [TraceDocuments.traceIndexKey("t1")], payload: written.payload)
        let folded = TraceLoader.assemble("t1", project: "p", records: [document], prices: prices)
        #expect(folded.lateRejects.isEmpty, sourceLocation: sourceLocation)
        #expect(folded.folded == expected.folded, sourceLocation: sourceLocation)
        #expect(folded.summary == expected.summary, sourceLocation: sourceLocation)
        #expect(written.first == expected.times.created && written.last == expected.times.updated, sourceLocation: sourceLocation)
        // The same document, value for value, as the fold's writer makes (bytes may differ: values
        // are copied as the events wrote them).
        let slow = CompactedTrace.document(expected.folded, receivedFirst: expected.times.created, receivedLast: expected.times.updated)
        let values = (try? JSONValue.parse(written.payload), try? JSONValue.parse(slow))
        #expect(values.0 != nil && values.0 == values.1, sourceLocation: sourceLocation)
        // The fold's writer notes the same runs, each in the same stream (compaction writes with it
        // when a trace merges with its earlier document).
        let noted = CompactedTrace.writtenDocument(expected.folded, receivedFirst: expected.times.created,
                                                   receivedLast: expected.times.updated)
        #expect(noted.bytes == slow, sourceLocation: sourceLocation)
        expectRuns(noted.bytes, noted.runs, noted.runStreams, sourceLocation: sourceLocation)
        #expect(noted.runStreams == written.streams, sourceLocation: sourceLocation)
    }

    /// Random traces, with metadata given once per entity (merges are the fold's): the direct
    /// writer's document reads back as the fold of the events, alone and with later events.
    @Test func theDirectWriterWritesWhatTheFoldWrites() {
        var generator = SplitMix(seed: 20261130)
        var direct = 0
        var merged = 0
        for _ in 0..<400 {
            var specs = RandomTrace.specs(&generator)
            var withMetadata = Set<String>()
            for index in specs.indices where specs[index].body["metadata"] != nil {
                let entity = specs[index].body["id"]?.stringValue ?? ""
                if !withMetadata.insert(entity).inserted || specs[index].body["metadata"]?.objectValue == nil {
                    specs[index].body["metadata"] = nil
                }
            }
            let records = Self.records(specs)
            guard let written = Self.direct(records) else { continue }
            direct += 1
            Self.expectDirectDocument(records, written)

            let cut = Int64.random(in: 0...6, using: &generator)
            let early = zip(specs, records).filter { $0.0.at <= cut }.map(\.1)
            let late = zip(specs, records).filter { $0.0.at > cut }.map(\.1)
            guard !early.isEmpty, !late.isEmpty, let first = Self.direct(early) else { continue }
            let document = StoredRecord(sequence: 0, kind: .compactedDocument, receiveTime: first.last, project: "p",
                                        keys: [TraceDocuments.traceIndexKey("t1")], payload: first.payload)
            let expected = TraceLoader.assemble("t1", project: "p", records: records, prices: .defaults)
            let folded = TraceLoader.assemble("t1", project: "p", records: [document] + late, prices: .defaults)
            #expect(folded.folded == expected.folded)
            merged += 1
        }
        #expect(direct > 300)
        #expect(merged > 100)
    }

    static func lines(_ lines: [String]) -> [StoredRecord] {
        lines.enumerated().map {
            StoredRecord(sequence: UInt64($0.offset + 1), kind: .rawEvent, receiveTime: 100 + Int64($0.offset), project: "p",
                         keys: [], payload: Array($0.element.utf8))
        }
    }

    /// Values the fold builds and the direct writer copies: escapes, whitespace, unicode, numbers as
    /// written, duplicate keys; every usage shape, provided costs, tiers that read model parameters,
    /// clamped end times, nulls that clear and nulls that do not.
    @Test func theDirectWriterCopiesValuesThatReadTheSame() throws {
        let records = Self.lines([
            #"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00.5+01:00","body":{"id":"t1","name":"a\"b\u00e9 \/","userId":null,"sessionId":"s","release":"r","version":"v","tags":["b","a","b"],"public":true,"environment":"Langfuse-Prod","input":0,"metadata":{ "a" : [1, 2.50, -0.0e1] , "b":{"c":null}, "a":{"d":"\ud83d\ude00"} },"externalId":null}}"#,
            #"{"id":"e2","type":"trace-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"t1","input":"x","output":{},"name":null,"public":false,"tags":["c"]}}"#,
            #"{"id":"e3","type":"generation-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g1","traceId":"t1","model":"gpt-4o","modelParameters":{"service_tier":"priority","temperature":0.5},"usage":{"promptTokens":10,"completionTokens":5},"promptName":"p","promptVersion":3,"level":"DEFAULT","statusMessage":null,"startTime":"2026-01-01T00:00:02Z","completionStartTime":"2026-01-01T00:00:02.250Z","input":[{"role":"user","content":"caf\u00e9\n\t"}],"name":null,"parentObservationId":null}}"#,
            #"{"id":"e4","type":"generation-update","timestamp":"2026-01-01T00:00:03Z","body":{"id":"g1","traceId":"t1","usageDetails":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120,"prompt_tokens_details":{"cached_tokens":30}},"endTime":"2026-01-01T00:00:01Z","level":"WARNING","version":"v2","output":{ },"metadata":{"k":[1,{"x":"y"}]},"statusMessage":"ok"}}"#,
            #"{"id":"e5","type":"generation-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g2","traceId":"t1","model":"no-such-model","usage":{"input":5,"output":7,"unit":"CHARACTERS","inputCost":0.1},"startTime":"2026-01-01T00:00:01Z","modelParameters":{}}}"#,
            #"{"id":"e6","type":"generation-update","timestamp":"2026-01-01T00:00:02Z","body":{"id":"g2","traceId":"t1","costDetails":{"input":0.25,"output":1e-3},"version":null,"level":null,"model":null}}"#,
            #"{"id":"e7","type":"event-create","timestamp":"2026-01-01T00:00:02Z","body":{"id":"ev","traceId":"t1","input":1e2,"output":false,"startTime":"2026-01-01T00:00:02Z","environment":"bad env!"}}"#,
            #"{"id":"e8","type":"agent-create","timestamp":"2026-01-01T00:00:02Z","body":{"id":"ag","traceId":"t1","model":"claude-3-5-sonnet-20241022","usageDetails":{"input":1000,"output":10},"input":"","output":"   "}}"#,
            #"{"id":"e9","type":"span-update","timestamp":"2026-01-01T00:00:00Z","body":{"id":"sp","traceId":"t1","endTime":"2026-01-01T00:00:09Z","output":"done"}}"#,
            #"{"id":"e10","type":"span-create","timestamp":"2026-01-01T00:00:04Z","body":{"id":"sp","traceId":"t1","name":"late create","startTime":"2026-01-01T00:00:04Z","input":{"q":1}}}"#,
            #"{"id":"e11","type":"score-create","timestamp":"2026-01-01T00:00:05Z","body":{"id":"s1","traceId":"t1","name":"n","value":0.75}}"#,
            #"{"id":"e12","type":"score-create","timestamp":"2026-01-01T00:00:05Z","body":{"id":"s2","traceId":"t1","name":"c","value":"good","dataType":"CATEGORICAL","comment":"fine"}}"#,
            #"{"id":"e3","type":"generation-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g1","traceId":"t1","model":"gpt-4o","name":"a duplicate: ignored"}}"#,
            #"{"id":"e13","type":"tool-create","timestamp":"2026-01-01T00:00:06Z","body":{"id":"to","traceId":"t1","usage":{"input":3,"output":4,"total":9},"unknownKey":[1,2]}}"#,
        ])
        let written = try #require(Self.direct(records))
        Self.expectDirectDocument(records, written)
        let head = try JSONValue.parse(written.payload)
        #expect(head["duplicates"]?.numberValue?.int64Value == 1)
        #expect(head["trace"]?["tags"] == Self.json(#"["a","b","c"]"#))
        // The tier for priority service was the one priced.
        let generation = try #require(head["observations"]?.arrayValue?.first { $0["id"]?.stringValue == "g1" })
        #expect(generation["@cost"] != nil)
    }

    /// However an envelope is written (the body before the type, keys given twice, where the last
    /// counts, whitespace, other keys holding objects) the direct writer reads the event the fold
    /// reads: the body is read for the type the envelope ends with.
    @Test func theDirectWriterReadsEnvelopesAsTheFoldDoes() throws {
        let records = Self.lines([
            #"{"body":{"id":"t1","name":"body first"},"timestamp":"2026-01-01T00:00:00Z","type":"trace-create","id":"e1"}"#,
            #"{ "id" : "e2" , "type" : "span-create" , "timestamp" : "2026-01-01T00:00:01Z" , "metadata" : {"body":{"id":"x"}} , "body" : { "id" : "s1" , "traceId" : "t1" , "name" : "spaced" } }"#,
            #"{"id":"e3","type":"span-create","timestamp":"2026-01-01T00:00:02Z","body":{"id":"s2","traceId":"t1","name":"replaced"},"body":{"id":"s3","traceId":"t1","name":"the last body"}}"#,
            #"{"id":"e4","type":"span-create","timestamp":"2026-01-01T00:00:03Z","body":{"id":"g1","traceId":"t1","model":"gpt-4o","usage":{"input":10,"output":2}},"type":"generation-create"}"#,
            #"{"id":"e5","type":"generation-create","timestamp":"2026-01-01T00:00:04Z","body":{"id":"s4","traceId":"t1","model":"gpt-4o","usage":{"input":10,"output":2}},"type":"span-create"}"#,
            #"{"type":"generation-create","id":"e6","body":{"id":"g2","traceId":"t1","model":"gpt-4o","usage":{"input":1,"output":1}},"timestamp":"2026-01-01T00:00:05Z","id":"e7"}"#,
        ])
        let written = try #require(Self.direct(records))
        Self.expectDirectDocument(records, written)
        let head = try JSONValue.parse(written.payload)
        let observations = try #require(head["observations"]?.arrayValue)
        #expect(head["trace"]?["name"]?.stringValue == "body first")
        #expect(Set(observations.compactMap { $0["id"]?.stringValue }) == ["s1", "s3", "g1", "s4", "g2"])
        #expect(observations.first { $0["id"]?.stringValue == "g1" }?["@cost"] != nil)
        #expect(observations.first { $0["id"]?.stringValue == "s4" }?["model"] == nil)
        // A key written with escapes is the full decode's to read.
        #expect(Self.direct(records + Self.lines([
            #"{"id":"e8","type":"span-create","timestamp":"2026-01-01T00:00:06Z","b\u006fdy":{"id":"s5","traceId":"t1"}}"#,
        ]).map { StoredRecord(sequence: $0.sequence + 10, kind: $0.kind, receiveTime: $0.receiveTime, project: $0.project,
                              keys: $0.keys, payload: $0.payload) }) == nil)
    }

    /// The direct writer's reading of a plain legacy usage is ProvidedUsage's, and it leaves every
    /// other shape to ProvidedUsage.
    @Test func plainUsageIsProvidedUsage() throws {
        var generator = SplitMix(seed: 11)
        let keys = ["input", "output", "total", "unit", "promptTokens", "inputCost", "in\\u0070ut"]
        let values = ["0", "7", "123456789012345678", "1234567890123456789", "-1", "1.0", "1e2", "\"5\"", "null", "\"TOKENS\""]
        var plain = 0
        for _ in 0..<3000 {
            let members = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                "\"\(keys[Int.random(in: 0..<keys.count, using: &generator)])\":\(values[Int.random(in: 0..<values.count, using: &generator)])"
            }
            let text = Array("{\(members.joined(separator: ","))}".utf8)
            try text.withUnsafeBytes { buffer in
                try JSONScanner().validate(buffer)
                let field = ValidatedJSON.root(buffer)
                guard let fast = CompactedTrace.DirectWriter.plainUsage(field, in: buffer) else { return }
                plain += 1
                let full = ProvidedUsage.from(usage: ValidatedJSON.value(field, in: buffer).objectValue, usageDetails: nil, costDetails: nil)
                #expect(fast.dictionary == full.usage && full.unit == nil && full.costs.isEmpty, "\(String(decoding: text, as: UTF8.self))")
            }
        }
        #expect(plain > 300)
    }

    /// The direct writer prices a plain usage on fields, reading the model parameters and metadata
    /// a tier's conditions name as the calculator reads the built values: the last of a repeated
    /// key, strings, numbers as written, booleans; where bytes and strings might compare
    /// differently (escapes, text outside ASCII) it prices the built observation instead.
    @Test func theDirectWriterPricesOnFieldsAsTheCalculatorDoes() throws {
        let table = """
            [{"modelName": "meta-model", "matchPattern": "(?i)^meta-model$", "pricingTiers": [
              {"name": "Batch", "isDefault": false, "priority": 1, "prices": {"input": 1e-7, "output": 2e-7},
               "conditions": [{"source": "metadata", "key": "mode", "operator": "in", "values": ["batch", "1.50", "true"]}]},
              {"name": "Standard", "isDefault": true, "priority": 0, "prices": {"input": 1e-6, "output": 2e-6, "total": 5e-8}}]}]
            """
        let prices = try PriceBook.load([("user.json", Array(table.utf8))])
        let models = ["gpt-4o", "o3", "gpt-5.4", "gemini-2.5-pro", "meta-model", "claude-3-5-sonnet-20241022", "no-such-model"]
        let parameters = [#"{"service_tier":"fast"}"#, #"{"service_tier":"priority","service_tier":"flex"}"#, #"{"service_tier":"fl\u0065x"}"#,
                          #"{"service_tier":1}"#, #"{"service_tier":true}"#, #"{"service_tier":null}"#, #"{"servic\u0065_tier":"fast"}"#,
                          #"{"service_tier":"fäst"}"#, #"{"temperature":0.5}"#, #"{}"#]
        let metadata = [#"{"mode":"batch"}"#, #"{"mode":1.50}"#, #"{"mode":1.5}"#, #"{"mode":true}"#, #"{"mode":"b\u0061tch"}"#,
                        #"{"mode":"batch","mode":"online"}"#, #"{"mode":{"x":1}}"#]
        let usages = [#"{"input":300000,"output":5}"#, #"{"input":12}"#, #"{"total":9}"#, #"{"input":3,"output":4,"total":9}"#, #"{}"#]
        var generator = SplitMix(seed: 5)
        var costed = 0
        for _ in 0..<300 {
            func pick(_ values: [String]) -> String { values[Int.random(in: 0..<values.count, using: &generator)] }
            var create = #""id":"g1","traceId":"t1","model":"\#(pick(models))","modelParameters":\#(pick(parameters))"#
            if Bool.random(using: &generator) { create += #","metadata":\#(pick(metadata))"# }
            let records = Self.lines([
                #"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t1"}}"#,
                #"{"id":"e2","type":"generation-create","timestamp":"2026-01-01T00:00:01Z","body":{\#(create)}}"#,
                #"{"id":"e3","type":"generation-update","timestamp":"2026-01-01T00:00:02Z","body":{"id":"g1","traceId":"t1","usage":\#(pick(usages))}}"#,
            ])
            let written = try #require(Self.direct(records, prices: prices))
            Self.expectDirectDocument(records, written, prices: prices)
            if try JSONValue.parse(written.payload)["observations"]?[0]?["@cost"] != nil { costed += 1 }
        }
        #expect(costed > 100)
    }

    /// Tags are the union of every event's, in order: compared as bytes when all are ASCII written
    /// without escapes, as strings otherwise (where `caf\u00e9` and `café` are one tag).
    @Test(arguments: [
        (#"["b","ab","a","B","b"]"#, #"["a b","ab",""]"#, #"["","B","a","a b","ab","b"]"#),
        (#"["caf\u00e9","b"]"#, #"["café","x\"y","cafe\u0301"]"#, #"["b","café","x\"y"]"#),
    ])
    func theDirectWriterUnitesTagsAsTheFoldDoes(_ first: String, _ second: String, _ expected: String) throws {
        let records = Self.lines([
            #"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t1","tags":\#(first)}}"#,
            #"{"id":"e2","type":"trace-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"t1","tags":\#(second)}}"#,
        ])
        let written = try #require(Self.direct(records))
        Self.expectDirectDocument(records, written)
        #expect(try JSONValue.parse(written.payload)["trace"]?["tags"] == JSONValue.parse(expected))
    }

    /// A trace's usage sums its observations' and saturates at 2^64 − 1, plain usages and others
    /// alike, in the direct writer as in the fold.
    @Test func theDirectWriterSumsUsageAsTheFoldDoes() throws {
        var lines = [#"{"id":"e0","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t1"}}"#]
        for index in 1...20 {
            let usage = index % 4 == 0 ? #""usageDetails":{"input":"18446744073709551615","cached":7}"#
                : #""usage":{"input":999999999999999999,"output":999999999999999999}"#
            lines.append(#"{"id":"e\#(index)","type":"generation-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g\#(index)","traceId":"t1","model":"gpt-4o",\#(usage)}}"#)
        }
        for count in [3, 20] {
            let records = Self.lines(Array(lines.prefix(count)))
            let written = try #require(Self.direct(records))
            Self.expectDirectDocument(records, written)
            let usage = try JSONValue.parse(written.payload)["usage"]
            #expect(usage?["total"]?.numberValue?.text == (count == 3 ? "3999999999999999996" : "18446744073709551615"))
        }
    }

    /// What the direct writer leaves to the fold: it says so, and writes nothing.
    @Test(arguments: [
        // A late reject (promptName without promptVersion).
        #"{"id":"x","type":"generation-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g","traceId":"t1","promptName":"p"}}"#,
        // A legacy observation event.
        #"{"id":"x","type":"observation-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g","traceId":"t1","type":"SPAN"}}"#,
        // An observation of no trace id: it belongs to a trace of its own id.
        #"{"id":"x","type":"span-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g"}}"#,
        // An id written with escapes.
        #"{"id":"x","type":"span-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g\u0041","traceId":"t1"}}"#,
        // An event id outside ASCII (the fold compares ids as Swift strings: canonically equivalent ones are one).
        #"{"id":"café","type":"span-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g","traceId":"t1"}}"#,
        // Metadata a second time (a deep merge).
        #"{"id":"x","type":"trace-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"t1","metadata":{"b":1}}}"#,
        // Metadata that is not an object (wrapped by the fold).
        #"{"id":"x","type":"span-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g","traceId":"t1","metadata":"m"}}"#,
        // A bad timestamp, a bad level, a negative cost.
        #"{"id":"x","type":"span-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g","traceId":"t1","endTime":"soon"}}"#,
        #"{"id":"x","type":"span-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g","traceId":"t1","level":"LOUD"}}"#,
        #"{"id":"x","type":"generation-create","timestamp":"2026-01-01T00:00:01Z","body":{"id":"g","traceId":"t1","costDetails":{"input":-1}}}"#,
    ])
    func theDirectWriterLeavesTracesToTheFold(_ line: String) {
        let records = Self.lines([
            #"{"id":"e1","type":"trace-create","timestamp":"2026-01-01T00:00:00Z","body":{"id":"t1","metadata":{"a":1}}}"#,
            line,
        ])
        #expect(Self.direct(records) == nil)
    }
}
