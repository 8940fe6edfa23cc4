public import WickJSON
public import WickModel
public import WickStore

/// The hot path for one line: scan it (validating the whole of it), check each event's envelope,
/// and append accepted events verbatim to the event batch and rejects, with their reasons, to the
/// dead-letter batch. One line may hold one event or a `{"batch":[…]}` of them; a bad element
/// costs only itself.
public struct LineProcessor: Sendable {
    public let scanner: JSONScanner

    public init(maxDepth: Int = 64) {
        scanner = JSONScanner(limits: JSONLimits(maxDepth: maxDepth))
    }

    /// What one or more lines came to.
    public struct Outcome: Sendable, Equatable {
        public var lines = 0
        public var bytes = 0
        public var accepted = 0
        public var rejected = 0
        public var empty = 0

        public init() {}

        public mutating func add(_ other: Outcome) {
            lines += other.lines
            bytes += other.bytes
            accepted += other.accepted
            rejected += other.rejected
            empty += other.empty
        }
    }

    /// Processes one complete line (without its newline).
    public func process(
        _ line: UnsafeRawBufferPointer,
        receiveTime: Int64,
        project: UnsafeRawBufferPointer,
        source: IngestSource,
        events: inout RecordBatch,
        rejects: inout RecordBatch,
        counters: IngestCounters,
        outcome: inout Outcome
    ) {
        outcome.lines += 1
        outcome.bytes += line.count
        if Self.isBlank(line) {
            outcome.empty += 1
            return
        }
        let scanned: ScannedLine
        do {
            scanned = try scanner.scan(line)
        } catch {
            reject(line, reason: .json(error), detail: "\(error)", receiveTime: receiveTime, project: project,
                   source: source, into: &rejects, counters: counters)
            outcome.rejected += 1
            return
        }
        switch scanned {
        case .event(let event):
            accept(event, in: line, receiveTime: receiveTime, project: project, source: source,
                   events: &events, rejects: &rejects, counters: counters, outcome: &outcome)
        case .batch(let elements):
            for element in elements {
                switch element {
                case .event(let event):
                    accept(event, in: line, receiveTime: receiveTime, project: project, source: source,
                           events: &events, rejects: &rejects, counters: counters, outcome: &outcome)
                case .notAnObject(let field):
                    reject(UnsafeRawBufferPointer(rebasing: line[field.range]), reason: .batchElementNotObject,
                           detail: "a batch element is a \(field.kind), not an event object", receiveTime: receiveTime,
                           project: project, source: source, into: &rejects, counters: counters)
                    outcome.rejected += 1
                }
            }
        }
    }

    private func accept(
        _ event: EnvelopeFields, in line: UnsafeRawBufferPointer, receiveTime: Int64, project: UnsafeRawBufferPointer,
        source: IngestSource, events: inout RecordBatch, rejects: inout RecordBatch, counters: IngestCounters,
        outcome: inout Outcome
    ) {
        if element(event, in: line, receiveTime: receiveTime, project: project, source: source, events: &events,
                   rejects: &rejects, counters: counters) == nil {
            outcome.accepted += 1
        } else {
            outcome.rejected += 1
        }
    }

    /// Checks one event of a line or a batch: appends it to `events` and returns nil, or appends it
    /// to `rejects` and returns why.
    public func element(
        _ event: EnvelopeFields, in line: UnsafeRawBufferPointer, receiveTime: Int64, project: UnsafeRawBufferPointer,
        source: IngestSource, events: inout RecordBatch, rejects: inout RecordBatch, counters: IngestCounters
    ) -> (reason: RejectReason, detail: String)? {
        let bytes = UnsafeRawBufferPointer(rebasing: line[event.range])
        switch EnvelopeValidator.check(event, in: line) {
        case .rejected(let reason, let detail):
            reject(bytes, reason: reason, detail: detail, receiveTime: receiveTime, project: project, source: source,
                   into: &rejects, counters: counters)
            return (reason, detail)
        case .accepted(let validated):
            events.startRecord(kind: .rawEvent, receiveTime: receiveTime, project: project)
            if let trace = validated.traceID {
                if trace.hasEscapes {
                    trace.decodedBytes(in: line).withUnsafeBytes { events.addKey(KeySpace(rawValue: IndexSpaces.traceID), $0) }
                } else {
                    events.addKey(KeySpace(rawValue: IndexSpaces.traceID), trace.rawBytes(in: line))
                }
            }
            events.finishRecord(payload: bytes)
            return nil
        }
    }

    /// Appends a dead letter: the input (cut to `DeadLetter.maxStoredBytes`) with its reason.
    /// `originalLength` is the input's full length when `input` is only its beginning (an over-long line).
    public func reject(
        _ input: UnsafeRawBufferPointer, reason: RejectReason, detail: String, receiveTime: Int64,
        project: UnsafeRawBufferPointer, source: IngestSource, into rejects: inout RecordBatch, counters: IngestCounters,
        originalLength: Int? = nil
    ) {
        counters.reject(reason)
        DeadLetter.append(input, reason: reason.rawValue, detail: detail, source: source.rawValue, receiveTime: receiveTime,
                          project: project, originalLength: originalLength ?? input.count, into: &rejects)
    }

    /// Whitespace only (including CR of a CRLF line ending).
    @inlinable
    static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        for byte in line where byte != 0x20 && byte != 0x09 && byte != 0x0D && byte != 0x0A {
            return false
        }
        return true
    }
}
