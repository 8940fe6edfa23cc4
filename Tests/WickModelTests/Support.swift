import WickJSON
import WickModel

/// Builds ingestion events for tests: `event("e1", .spanCreate, at: 10, ["id": "s1", …])`, the body
/// decoded by the real decoder.
/// Times are milliseconds after 2026-01-01T00:00:00Z.
func event(_ id: String, _ type: EventType, at milliseconds: Int64, _ body: JSONObject, sequence: UInt64? = nil,
           project: String = "p") -> IngestionEvent {
    let decoded: EventBody
    switch EventBody.decode(body, for: type) {
    case .success(let value): decoded = value
    case .failure(let reject): preconditionFailure("a test built a body the decoder refuses: \(reject)")
    }
    return IngestionEvent(id: id, type: type, timestamp: time(milliseconds), body: decoded,
                   sequence: sequence ?? UInt64(milliseconds * 100) + UInt64(id.utf8.reduce(0) { $0 &+ Int($1) } % 100),
                   receiveTime: 0, project: project)
}

let base: Int64 = 1_767_225_600_000_000

func time(_ milliseconds: Int64) -> Timestamp {
    Timestamp(microsecondsSinceEpoch: base + milliseconds * 1000)!
}

func iso(_ milliseconds: Int64) -> JSONValue {
    .string(time(milliseconds).iso8601)
}

func json(_ text: String) -> JSONValue {
    try! JSONValue.parse(text)  // test literals are valid JSON
}

func object(_ text: String) -> JSONObject {
    json(text).objectValue!
}

