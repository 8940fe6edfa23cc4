public import WickJSON
public import WickModel

/// Random traces for property tests: trace-create events (first and updates), observations with a
/// create and updates, scores; envelope timestamps (milliseconds after 2026-01-01) drawn from a
/// narrow range so that ties are common; a few events delivered twice.
public enum RandomTrace: Sendable {
    public struct Spec: Sendable {
        public var id: String
        public var type: EventType
        public var at: Int64
        public var body: JSONObject

        /// The event as a client would send it.
        public var line: [UInt8] {
            JSONValue.object(["id": .string(id), "type": .string(type.description), "timestamp": iso(at), "body": .object(body)])
                .serialized()
        }
    }

    public static func specs(_ generator: inout SplitMix) -> [Spec] {
        var events: [Spec] = []
        func event(_ id: String, _ type: EventType, at: Int64, _ body: JSONObject) -> Spec {
            Spec(id: id, type: type, at: at, body: body)
        }
        var counter = 0
        func nextID() -> String {
            counter += 1
            return "e\(counter)"
        }
        func at(_ generator: inout SplitMix) -> Int64 { Int64.random(in: 0...6, using: &generator) }
        func pick<T>(_ values: [T], _ generator: inout SplitMix) -> T { values[Int.random(in: 0..<values.count, using: &generator)] }
        func fields(_ generator: inout SplitMix) -> JSONObject {
            var body: JSONObject = [:]
            if Bool.random(using: &generator) { body["name"] = pick(["a", "b", "c", nil], &generator) }
            if Bool.random(using: &generator) {
                body["metadata"] = pick([["k": 1], ["k": 2, "n": ["x": 1]], ["n": ["y": 2]], "text", [:]], &generator)
            }
            if Bool.random(using: &generator) { body["input"] = pick(["q1", "q2", "", 0, ["m": 1]], &generator) }
            if Bool.random(using: &generator) { body["output"] = pick(["r1", false, ["c": "x"]], &generator) }
            return body
        }

        let traceEvents = Int.random(in: 0...3, using: &generator)
        for _ in 0..<traceEvents {
            var body = fields(&generator)
            body["id"] = "t1"
            if Bool.random(using: &generator) { body["tags"] = .array(pick([["x"], ["y", "x"], ["z"], []], &generator)) }
            if Bool.random(using: &generator) { body["userId"] = pick(["u1", "u2", nil], &generator) }
            if Bool.random(using: &generator) { body["public"] = true }
            if Bool.random(using: &generator) { body["environment"] = pick(["Prod", "langfuse-staging", "bad env!"], &generator) }
            events.append(event(nextID(), .traceCreate, at: at(&generator), body))
        }
        let observationCount = Int.random(in: 1...4, using: &generator)
        for index in 0..<observationCount {
            let kind = pick([(EventType.spanCreate, EventType.spanUpdate), (.generationCreate, .generationUpdate)], &generator)
            var create = fields(&generator)
            create["id"] = .string("o\(index)")
            create["traceId"] = "t1"
            create["startTime"] = iso(Int64.random(in: 0...3, using: &generator))
            if index > 0 { create["parentObservationId"] = .string("o\(Int.random(in: 0..<index, using: &generator))") }
            let generation = kind.0 == .generationCreate
            if generation && Bool.random(using: &generator) {
                // Priced (by tiers on usage and on model parameters) and not.
                create["model"] = pick(["gpt-4o", "gemini-2.5-pro", "claude-3-5-sonnet-20241022", "no-such-model"], &generator)
                create["modelParameters"] = pick([["service_tier": "priority"], ["temperature": 0.5], [:]], &generator)
            }
            events.append(event(nextID(), kind.0, at: at(&generator), create))
            for _ in 0..<Int.random(in: 0...3, using: &generator) {
                var update = fields(&generator)
                update["id"] = .string("o\(index)")
                update["traceId"] = "t1"
                if Bool.random(using: &generator) { update["endTime"] = iso(Int64.random(in: 0...9, using: &generator)) }
                if Bool.random(using: &generator) { update["level"] = pick(["ERROR", "WARNING", nil], &generator) }
                if Bool.random(using: &generator) {
                    update["usageDetails"] = pick([["input": 3, "output": 1], ["input": 5], [:]], &generator)
                }
                if generation && Bool.random(using: &generator) {
                    update["usage"] = pick([["input": 3, "output": 1], ["input": 250_000], ["total": 9], [:]], &generator)
                }
                if Bool.random(using: &generator) { update["startTime"] = iso(9) }  // immutable: ignored
                events.append(event(nextID(), kind.1, at: at(&generator), update))
            }
        }
        for index in 0..<Int.random(in: 0...2, using: &generator) {
            let body: JSONObject = ["id": .string("s\(index)"), "traceId": "t1", "name": "quality",
                                    "value": .number(JSONNumber(Int.random(in: 0...1, using: &generator)))]
            events.append(event(nextID(), .scoreCreate, at: at(&generator), body))
        }
        // At-least-once delivery: a few events arrive twice, byte for byte.
        for _ in 0..<Int.random(in: 0...2, using: &generator) {
            events.append(pick(events, &generator))
        }
        return events
    }

    static func iso(_ milliseconds: Int64) -> JSONValue {
        .string(Timestamp(microsecondsSinceEpoch: 1_767_225_600_000_000 + milliseconds * 1000)!.iso8601)
    }
}
