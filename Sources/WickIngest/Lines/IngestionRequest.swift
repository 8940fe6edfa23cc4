public import WickJSON
import WickModel
public import WickStore

/// `POST /api/public/ingestion` (reference §1): a `{"batch":[…], "metadata":…}` body, split into
/// events by the same scanner and checked by the same rules as a socket line; each event is
/// accepted or rejected on its own, and the answer lists both (HTTP 207).
public struct IngestionRequest: Sendable {
    /// One event's fate, for the 207 body.
    public struct Result: Sendable, Equatable {
        public var id: String
        /// 201 accepted, 400 rejected.
        public var status: Int
        public var reason: String?
        public var message: String?
    }

    public var events = RecordBatch()
    public var rejects = RecordBatch()
    public var results: [Result] = []

    /// The whole request is refused (HTTP 400): not JSON, or not a batch.
    public struct Invalid: Error, Sendable {
        public var message: String
    }

    public init(body: UnsafeRawBufferPointer, project: String, receiveTime: Int64, processor: LineProcessor,
                counters: IngestCounters, source: IngestSource = .http) throws(Invalid) {
        let scanned: ScannedLine
        do {
            scanned = try processor.scanner.scan(body)
        } catch {
            throw Invalid(message: "Invalid request data: the body is not JSON (\(error))")
        }
        guard case .batch(let elements) = scanned else {
            throw Invalid(message: "Invalid request data: expected an object with a \"batch\" array of events")
        }
        events.reserveCapacity(body.count + elements.count * 64)
        var projectName = project
        projectName.withUTF8 { name in
            let projectBytes = UnsafeRawBufferPointer(name)
            for element in elements {
                switch element {
                case .event(let event):
                    let id = event.id.flatMap { $0.kind == .string ? $0.string(in: body) : nil } ?? ""
                    if let rejected = processor.element(event, in: body, receiveTime: receiveTime, project: projectBytes,
                                                        source: source, events: &events, rejects: &rejects, counters: counters) {
                        results.append(Result(id: id, status: 400, reason: rejected.reason.rawValue, message: rejected.detail))
                    } else {
                        results.append(Result(id: id, status: 201))
                    }
                case .notAnObject(let field):
                    processor.reject(UnsafeRawBufferPointer(rebasing: body[field.range]), reason: .batchElementNotObject,
                                     detail: "a batch element is a \(field.kind), not an event object", receiveTime: receiveTime,
                                     project: projectBytes, source: source, into: &rejects, counters: counters)
                    results.append(Result(id: "", status: 400, reason: RejectReason.batchElementNotObject.rawValue,
                                          message: "a batch element is a \(field.kind), not an event object"))
                }
            }
        }
    }

    /// The 207 body: `{"successes":[{"id","status"}],"errors":[{"id","status","message","error"}]}`.
    public var responseJSON: JSONValue {
        var successes: [JSONValue] = []
        var errors: [JSONValue] = []
        for result in results {
            if result.status < 300 {
                successes.append(.object(["id": .string(result.id), "status": .number(JSONNumber(result.status))]))
            } else {
                errors.append(.object(["id": .string(result.id), "status": .number(JSONNumber(result.status)),
                                       "message": .string(result.message ?? ""), "error": .string(result.reason ?? "")]))
            }
        }
        return .object(["successes": .array(successes), "errors": .array(errors)])
    }
}
