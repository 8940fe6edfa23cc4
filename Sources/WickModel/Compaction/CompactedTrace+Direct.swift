import WickJSON

#if canImport(Glibc)
import Glibc
#endif

extension CompactedTrace {
    /// One raw event of a trace, for ``DirectWriter``: the bytes the client sent, and where the
    /// store put them.
    public struct RawEvent {
        public var payload: UnsafeRawBufferPointer
        public var sequence: UInt64
        public var receiveTime: Int64

        public init(payload: UnsafeRawBufferPointer, sequence: UInt64, receiveTime: Int64) {
            self.payload = payload
            self.sequence = sequence
            self.receiveTime = receiveTime
        }
    }

    /// Writes a trace's document straight from its events' bytes, for compaction, which writes one
    /// per trace and reads none of them: the same document as ``document(_:receivedFirst:receivedLast:)``
    /// writes for ``TraceFold``'s result, decoded, folded and read back (CompactedTraceTests check it on
    /// random traces), without building the values it only copies. Every event's JSON was validated
    /// when it was accepted (it is walked here as validated JSON), and every body field is checked as
    /// ``IngestionEvent/decode(_:sequence:receiveTime:project:scope:)`` checks it; the fold takes the
    /// same fields by the same rules, but keeps where each value sits
    /// in its event, and the document copies those bytes (valid JSON that decodes to the same value).
    /// Usage, costs and scores are built and computed by the same code as the fold's.
    ///
    /// What it leaves to the full fold (``write(traceID:events:project:prices:scoreConfigs:)`` answers
    /// false): events that do not decode (late rejects), events of another trace or of none, legacy
    /// `observation-*` events, event and entity ids written with escapes or outside ASCII (the fold
    /// compares them as Swift strings, which equates canonically equivalent ones; bytes are compared
    /// here), and metadata given by more than one event of an entity or not as an object (deep
    /// merges). One per compaction: it keeps its buffers from one trace to the next.
    public struct DirectWriter {
        private var events: [Event] = []
        /// Score events, decoded in full (`Event.score` points here).
        private var scores: [IngestionEvent] = []
        private var byArrival: [Int] = []
        private var kept: [Int] = []
        private var groupOf: [Int] = []
        /// `kept` by group (observations), each group's events in order; `groupStart[g]` is where group g starts.
        private var grouped: [Int] = []
        private var groupStart: [Int] = []
        private var observations: [Folded] = []
        /// The trace's events, and the first event of each observation (``fold``).
        private var traceEvents: [Int] = []
        private var heads: [Int] = []
        /// The trace's tags, as written (``foldTrace``).
        private var tags: [Ref] = []
        private var buffer: [UInt8] = []
        /// Receive times (µs) of the first and last events of the last document written.
        public private(set) var receivedFirst: Int64 = 0
        public private(set) var receivedLast: Int64 = 0

        public init() {}

        /// The last document written.
        public var document: [UInt8] { buffer }
        /// Where in ``document`` the values a compacted frame keeps apart from the rest are (inputs
        /// and outputs as the events wrote them, ids, timestamps, numbers), in order, and the
        /// ``DocumentStream`` of each.
        public private(set) var runs: [Range<Int>] = []
        public private(set) var runStreams: [UInt8] = []

        /// Writes the document of trace `traceID` (its events in any order); false when the events
        /// need the full fold (see the type's comment), and ``document`` is then undefined.
        public mutating func write(traceID: String, events raw: [RawEvent], project: String, prices: PriceBook,
                                   scoreConfigs: ScoreConfigs) -> Bool {
            events.removeAll(keepingCapacity: true)
            scores.removeAll(keepingCapacity: true)
            guard !raw.isEmpty else { return false }
            var id = traceID
            let read = id.withUTF8 { id in
                raw.allSatisfy { self.read($0, traceID: UnsafeRawBufferPointer(id), project: project, scoreConfigs: scoreConfigs) }
            }
            guard read else { return false }
            var first = Int64.max
            var last: Int64 = 0
            for event in raw {
                first = min(first, event.receiveTime)
                last = max(last, event.receiveTime)
            }
            receivedFirst = first
            receivedLast = last
            orderAndDeduplicate()
            return fold(traceID: traceID, prices: prices)
        }

        // MARK: - Reading events

        /// Reads one event into `events`; false when it does not decode or needs the full fold.
        ///
        /// Raw events were validated when they were accepted (the ingest path's `LineProcessor`
        /// writes every one, and frames are checksummed), so they are walked as validated JSON; when
        /// the envelope names its type before its body, as clients write it, the body's members are
        /// read in the same pass.
        private mutating func read(_ raw: RawEvent, traceID: UnsafeRawBufferPointer, project: String,
                                   scoreConfigs: ScoreConfigs) -> Bool {
            let buffer = raw.payload
            let root = ValidatedJSON.root(buffer)
            guard root.kind == .object else { return false }
            var envelope = EnvelopeWalk()
            // The type the last body was read for as it was walked; nil when it was not.
            var readFor: EventType?
            var descended = false
            var reader = BodyReader(buffer: buffer, keys: BodyKey.Set())
            ValidatedJSON.forEachMember(of: root, in: buffer, descendingInto: { key in
                guard !key.hasEscapes, let type = envelope.type, Self.readsBody(type), isKey(key, "body", in: buffer) else {
                    return false
                }
                reader = BodyReader(buffer: buffer, keys: BodyKey.keys(for: type))
                readFor = type
                descended = true
                return true
            }, inner: { key, value in
                reader.member(key, value)
            }, { key, value in
                if envelope.member(key, value, in: buffer) == .body, !descended { readFor = nil }
                descended = false
            })
            guard envelope.plainKeys,
                  let id = envelope.id, id.kind == .string, !id.hasEscapes, isASCII(id.rawBytes(in: buffer)),
                  let type = envelope.type,
                  let timeField = envelope.timestamp, let timestamp = Timestamp(timeField, in: buffer),
                  let bodyField = envelope.body, bodyField.kind == .object
            else { return false }
            var event = Event(buffer: buffer, id: id, type: type, timestamp: timestamp, sequence: raw.sequence)
            switch type {
            case .sdkLog, .observationCreate, .observationUpdate:
                return false
            case .scoreCreate:
                // Scores are few and configs may change them: decoded (the body; the envelope is read)
                // and checked as the fold's are.
                guard case .success(let score) = IngestionEvent.decode(body: bodyField, of: buffer, id: id.string(in: buffer), type: type,
                                                                       timestamp: timestamp, sequence: raw.sequence,
                                                                       receiveTime: raw.receiveTime, project: project)
                        .flatMap(scoreConfigs.check),
                      score.body.id != nil, var trace = score.traceID, trace.withUTF8({ same(UnsafeRawBufferPointer($0), traceID) })
                else { return false }
                event.score = scores.count
                scores.append(score)
            default:
                // Read again when the type came after the body, or another type after that.
                if readFor != type {
                    reader = BodyReader(buffer: buffer, keys: BodyKey.keys(for: type))
                    ValidatedJSON.forEachMember(of: bodyField, in: buffer) { key, value in reader.member(key, value) }
                }
                guard reader.ok, let entity = reader.entity, !entity.hasEscapes, isASCII(entity.rawBytes(in: buffer)) else { return false }
                // BodyDecoder.finish's rule.
                if type.isGenerationLikeEvent && (reader.body.promptName == nil) != (reader.body.promptVersion == nil) { return false }
                // The trace an event belongs to (IngestionEvent.traceID) must be this one.
                let trace = type == .traceCreate ? entity : reader.traceId
                guard let trace, !trace.hasEscapes, same(trace.rawBytes(in: buffer), traceID) else { return false }
                event.entity = entity
                event.body = reader.body
            }
            events.append(event)
            return true
        }

        /// Whether `read` reads the body of an event of this type with a `BodyReader`.
        private static func readsBody(_ type: EventType) -> Bool {
            switch type {
            case .sdkLog, .observationCreate, .observationUpdate, .scoreCreate: false
            default: true
            }
        }

        /// `kept`: the events to fold, without duplicates (the first to arrive is the one), in
        /// Langfuse's order (TraceFold.OrderKey).
        private mutating func orderAndDeduplicate() {
            kept.removeAll(keepingCapacity: true)
            byArrival.removeAll(keepingCapacity: true)
            byArrival.append(contentsOf: events.indices)
            byArrival.sort { events[$0].sequence < events[$1].sequence }
            if events.count <= 48 {
                for position in byArrival {
                    let id = events[position].idBytes
                    if !kept.contains(where: { same(events[$0].idBytes, id) }) { kept.append(position) }
                }
            } else {
                var seen = Set<String>(minimumCapacity: events.count)
                for position in byArrival where seen.insert(String(decoding: events[position].idBytes, as: UTF8.self)).inserted {
                    kept.append(position)
                }
            }
            kept.sort { a, b in
                let x = events[a], y = events[b]
                if x.timestamp != y.timestamp { return x.timestamp < y.timestamp }
                if x.type.isUpdate != y.type.isUpdate { return !x.type.isUpdate }
                return x.sequence < y.sequence
            }
        }

        // MARK: - Folding and writing

        private mutating func fold(traceID: String, prices: PriceBook) -> Bool {
            // Group by entity, groups in the order of their first event (TraceFold.Groups).
            traceEvents.removeAll(keepingCapacity: true)
            var scoreEvents = TraceFold.Groups()
            heads.removeAll(keepingCapacity: true)
            // Past a few groups, found by a hash of the id (the bytes confirm it).
            var byHash: [UInt64: [Int]] = [:]
            groupOf.removeAll(keepingCapacity: true)
            groupOf.append(contentsOf: repeatElement(-1, count: events.count))
            for position in kept {
                switch events[position].type {
                case .traceCreate:
                    traceEvents.append(position)
                case .scoreCreate:
                    // !: read() kept only scores with an id.
                    let score = scores[events[position].score]
                    scoreEvents.add(score, to: score.body.id!)
                default:
                    let entity = events[position].entityBytes
                    let found: Int?
                    if heads.count <= 16 {
                        found = heads.firstIndex { same(events[$0].entityBytes, entity) }
                    } else {
                        found = byHash[Self.hash(entity)]?.first { same(events[heads[$0]].entityBytes, entity) }
                    }
                    if let found {
                        groupOf[position] = found
                        continue
                    }
                    groupOf[position] = heads.count
                    heads.append(position)
                    if heads.count == 17 {
                        for (group, head) in heads.enumerated() { byHash[Self.hash(events[head].entityBytes), default: []].append(group) }
                    } else if heads.count > 17 {
                        byHash[Self.hash(entity), default: []].append(heads.count - 1)
                    }
                }
            }
            // Each group's events, in order, side by side.
            groupStart.removeAll(keepingCapacity: true)
            groupStart.append(contentsOf: repeatElement(0, count: heads.count + 1))
            for position in kept where groupOf[position] >= 0 { groupStart[groupOf[position] + 1] += 1 }
            for group in heads.indices { groupStart[group + 1] += groupStart[group] }
            grouped.removeAll(keepingCapacity: true)
            grouped.append(contentsOf: repeatElement(0, count: groupStart[heads.count]))
            var next = groupStart
            for position in kept where groupOf[position] >= 0 {
                grouped[next[groupOf[position]]] = position
                next[groupOf[position]] += 1
            }
            observations.removeAll(keepingCapacity: true)
            for group in heads.indices {
                guard let observation = foldObservation(groupStart[group]..<groupStart[group + 1], prices: prices) else {
                    return false
                }
                observations.append(observation)
            }
            observations.sort { a, b in
                if a.start != b.start { return a.start < b.start }
                return precedes(events[a.first].entityBytes, events[b.first].entityBytes)
            }
            var trace: FoldedTraceFields?
            if !traceEvents.isEmpty {
                guard let folded = foldTrace(traceEvents) else { return false }
                trace = folded
            }
            var scores = scoreEvents.groups.compactMap { TraceFold.foldScore(id: $0.id, $0.events) }
            scores.sort { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }

            var writer = DocumentWriter(reusing: [])
            swap(&writer.bytes, &buffer)
            writer.bytes.removeAll(keepingCapacity: true)
            swap(&writer.runs, &runs)
            swap(&writer.runStreams, &runStreams)
            writer.runs.removeAll(keepingCapacity: true)
            writer.runStreams.removeAll(keepingCapacity: true)
            writer.open()
            writer.key("wick"); writer.integer(Int64(CompactedTrace.version))
            writer.key("traceId"); writer.id(traceID)
            writer.key("events"); writer.integer(Int64(kept.count))
            if events.count > kept.count { writer.key("duplicates"); writer.integer(Int64(events.count - kept.count)) }
            writer.key("received")
            writer.bytes.append(UInt8(ascii: "["))
            writer.number(receivedFirst == .max ? 0 : receivedFirst)
            writer.bytes.append(UInt8(ascii: ","))
            writer.number(receivedLast)
            writer.bytes.append(UInt8(ascii: "]"))
            var total: FixedDecimal?
            // Plain usages sum without a dictionary; any other makes the sum one.
            var plainUsage = PlainUsage()
            var usage: [String: UInt64] = [:]
            for observation in observations {
                if let cost = observation.plainCost?.total ?? observation.cost?.total { total = (total ?? .zero) + cost }
                if let plain = observation.plainUsage { plainUsage.add(plain) }
                for (key, value) in observation.usageDetails { usage[key] = UsageCount.sum(usage[key] ?? 0, value) }
            }
            if let total { writer.key("totalCost"); writer.number(total) }
            if !usage.isEmpty {
                for (key, value) in plainUsage.dictionary { usage[key] = UsageCount.sum(usage[key] ?? 0, value) }
                writer.key("usage"); writer.counts(usage)
            } else if !plainUsage.isEmpty {
                writer.key("usage"); writer.counts(plainUsage)
            }
            if let trace {
                writer.key("trace")
                write(trace, traceID: traceID, to: &writer)
            }
            writer.key("observations")
            writer.bytes.append(UInt8(ascii: "["))
            for position in observations.indices {
                if position > 0 { writer.bytes.append(UInt8(ascii: ",")) }
                write(observations[position], to: &writer)
            }
            writer.bytes.append(UInt8(ascii: "]"))
            if !scores.isEmpty {
                writer.key("scores")
                writer.list(scores) { $0.score($1) }
            }
            writer.close()
            swap(&writer.bytes, &buffer)
            swap(&writer.runs, &runs)
            swap(&writer.runStreams, &runStreams)
            return true
        }

        /// TraceFold.foldTrace, on fields. Mutating for the reason ``foldObservation`` is.
        private mutating func foldTrace(_ positions: [Int]) -> FoldedTraceFields? {
            let first = events[positions[0]]
            var trace = FoldedTraceFields(timestamp: first.body.timestamp ?? first.timestamp,
                                          lastEvent: events[positions[positions.count - 1]].timestamp)
            trace.environment = first.body.environment.map { Ref(event: positions[0], field: $0) }
            tags.removeAll(keepingCapacity: true)
            var plainTags = true
            for position in positions {
                let body = events[position].body
                // Explicit null clears these; absent keys leave them.
                if let field = body.name { trace.name = Ref(position, field) }
                if let field = body.userId { trace.userId = Ref(position, field) }
                if let field = body.sessionId { trace.sessionId = Ref(position, field) }
                if let field = body.release { trace.release = Ref(position, field) }
                if let field = body.version { trace.version = Ref(position, field) }
                if let field = body.input, isTruthy(field, events[position].buffer) { trace.input = Ref(position, field) }
                if let field = body.output, isTruthy(field, events[position].buffer) { trace.output = Ref(position, field) }
                if let field = body.metadata {
                    // One object, taken as it is; anything else is a merge for the full fold.
                    guard trace.metadata == nil, field.kind == .object else { return nil }
                    trace.metadata = Ref(position, field)
                }
                if let field = body.tags {
                    let buffer = events[position].buffer
                    ValidatedJSON.forEachElement(of: field, in: buffer) { tag in
                        if tag.hasEscapes || !isASCII(tag.rawBytes(in: buffer)) { plainTags = false }
                        tags.append(Ref(position, tag))
                    }
                }
                trace.isPublic = body.isPublic ?? false
            }
            guard !tags.isEmpty else { return trace }
            if plainTags {
                // MergeRules.unionTags on bytes: for ASCII written without escapes, strings order
                // and compare as their bytes do.
                tags.sort { precedes(events[$0.event].bytes($0.field), events[$1.event].bytes($1.field)) }
                var last: UnsafeRawBufferPointer?
                for tag in tags {
                    let bytes = events[tag.event].bytes(tag.field)
                    if let last, same(last, bytes) { continue }
                    trace.plainTags.append(tag)
                    last = bytes
                }
            } else {
                trace.tags = MergeRules.unionTags([], tags.map { $0.field.string(in: events[$0.event].buffer) })
            }
            return trace
        }

        /// TraceFold.foldObservation and the cost, on fields. Mutating only so that `fold` calls it
        /// on the writer in place: called as a plain method, it was given a copy of the writer (a
        /// retain and release of each of its buffers, for every observation).
        private mutating func foldObservation(_ range: Range<Int>, prices: PriceBook) -> Folded? {
            let positions = grouped[range]
            let head = positions[positions.startIndex]
            let first = events[head]
            // !: read() let only observation events with a type of their own through.
            var observation = Folded(first: head, type: ObservationType.of(first.type)!, start: first.body.startTime ?? first.timestamp)
            observation.environment = first.body.environment.map { Ref(event: head, field: $0) }
            var provided: ProvidedUsage?
            var plain: PlainUsage?
            var costs: [String: JSONNumber] = [:]
            for position in positions {
                let event = events[position]
                let body = event.body
                // Null clears name, model and level; for the rest null means "not given".
                if let field = body.name { observation.name = Ref(position, field) }
                if let field = body.model { observation.model = Ref(position, field) }
                if let field = body.level { observation.level = Ref(position, field) }
                if let field = body.statusMessage { observation.statusMessage = Ref(position, field) }
                if let field = body.parentObservationId { observation.parent = Ref(position, field) }
                if let field = body.version, !field.isNull { observation.version = Ref(position, field) }
                if let time = body.endTime { observation.endTime = time }
                if let time = body.completionStartTime { observation.completionStartTime = time }
                if let field = body.modelParameters, hasMembers(field, event.buffer) { observation.modelParameters = Ref(position, field) }
                if let field = body.input, isTruthy(field, event.buffer) { observation.input = Ref(position, field) }
                if let field = body.output, isTruthy(field, event.buffer) { observation.output = Ref(position, field) }
                if let field = body.metadata {
                    guard observation.metadata == nil, field.kind == .object else { return nil }
                    observation.metadata = Ref(position, field)
                }
                if let name = body.promptName, let version = body.promptVersion {
                    observation.promptName = Ref(position, name)
                    observation.promptVersion = version
                }
                // A non-empty usage or cost map replaces the one before; an empty one never erases it.
                if body.usageDetails == nil, body.costDetails == nil, let usage = body.usage,
                   let counts = Self.plainUsage(usage, in: event.buffer) {
                    if !counts.isEmpty {
                        plain = counts
                        provided = nil
                    }
                } else if body.usage != nil || body.usageDetails != nil || body.costDetails != nil {
                    let given = ProvidedUsage.from(usage: object(body.usage, event.buffer), usageDetails: object(body.usageDetails, event.buffer),
                                                   costDetails: object(body.costDetails, event.buffer))
                    if !given.usage.isEmpty {
                        provided = given
                        plain = nil
                    }
                    if !given.costs.isEmpty { costs = given.costs }
                }
                observation.lastEvent = event.timestamp
            }
            var usageDetails: [String: UInt64] = [:]
            var usageUnit: String?
            if var plain {
                plain.completeTotal()
                observation.plainUsage = plain
            } else if let provided {
                usageDetails = provided.usage
                usageUnit = provided.unit
                if usageDetails["total"] == nil { usageDetails["total"] = UsageCount.total(of: usageDetails.values) }
            }
            // An end before the start is clamped to the start.
            if let end = observation.endTime, end < observation.start { observation.endTime = observation.start }
            let model = observation.model.flatMap { $0.field.isNull ? nil : $0.field.string(in: events[$0.event].buffer) }
            if model != nil || !costs.isEmpty {
                // Matched once, here and for the calculator.
                let entry = model.flatMap { prices.match($0) }
                if costs.isEmpty, usageDetails.isEmpty,
                   Self.price(&observation, entry: entry, modelParameters: located(observation.modelParameters),
                              metadata: located(observation.metadata)) {
                    return observation
                }
                var priced = Observation(id: "", traceId: "", type: observation.type, startTime: observation.start)
                if let entry, entry.readsAttributes {
                    // Tiers that look at model parameters or metadata see them as the fold builds them.
                    priced.modelParameters = observation.modelParameters.map { ValidatedJSON.value($0.field, in: events[$0.event].buffer) }
                    if let metadata = observation.metadata, let object = self.object(metadata.field, events[metadata.event].buffer) {
                        MergeRules.mergeMetadata(&priced.metadata, .object(object))
                    }
                }
                priced.model = model
                priced.usageDetails = observation.plainUsage?.dictionary ?? usageDetails
                priced.usageUnit = usageUnit
                priced.providedCostDetails = costs
                let cost = CostCalculator.cost(of: priced, entry: entry)
                observation.other = OtherUsage(usageDetails: usageDetails, usageUnit: usageUnit, providedCosts: costs, cost: cost)
            } else if !usageDetails.isEmpty {
                observation.other = OtherUsage(usageDetails: usageDetails, usageUnit: usageUnit, providedCosts: costs, cost: nil)
            }
            return observation
        }

        /// ProvidedUsage.from for the usual shape, without building the objects: a legacy `usage`
        /// of plain non-negative integers under `input`, `output` and `total` (each once), and no
        /// `usageDetails` or `costDetails`. Nil for anything else (ProvidedUsage.from then decides).
        static func plainUsage(_ usage: JSONField, in buffer: UnsafeRawBufferPointer) -> PlainUsage? {
            var counts: (input: UInt64?, output: UInt64?, total: UInt64?) = (nil, nil, nil)
            var plain = true
            ValidatedJSON.forEachMember(of: usage, in: buffer) { key, value in
                guard plain, !key.hasEscapes, let count = Self.plainCount(value, buffer) else {
                    plain = false
                    return
                }
                let name = key.rawBytes(in: buffer)
                if name.count == 5, counts.input == nil, key.equals("input", in: buffer) {
                    counts.input = count
                } else if name.count == 6, counts.output == nil, key.equals("output", in: buffer) {
                    counts.output = count
                } else if name.count == 5, counts.total == nil, key.equals("total", in: buffer) {
                    counts.total = count
                } else {
                    plain = false
                }
            }
            guard plain else { return nil }
            var result = PlainUsage(input: counts.input, output: counts.output, total: counts.total)
            if result.total == nil, let input = counts.input, let output = counts.output {
                result.total = UsageCount.sum(input, output)
            }
            return result
        }

        /// Prices an observation whose usage is plain (or absent) and whose client gave no costs,
        /// on fields: the costs CostCalculator computes, without building the observation. False
        /// when a tier's condition needs the built values (the caller then prices it in full).
        private static func price(_ observation: inout Folded, entry: PriceEntry?, modelParameters: Located?,
                                  metadata: Located?) -> Bool {
            // No entry or no usage: no cost (CostCalculator.cost's guard).
            guard let entry, let usage = observation.plainUsage else { return true }
            let tier: Int?
            do {
                tier = try CostCalculator.tierIndex(of: entry) { (condition) throws(UndecidedCondition) -> Bool in
                    if let holds = CostCalculator.holds(condition, for: usage) { return holds }
                    guard case .attribute(let source, let key, let values) = condition else { throw UndecidedCondition() }
                    return try attribute(key, of: source == .modelParameters ? modelParameters : metadata, isOneOf: values)
                }
            } catch {
                return false
            }
            observation.plainCost = tier.flatMap { CostCalculator.cost(of: usage, tier: entry.tiers[$0]) }
            return true
        }

        /// Whether the top-level `key` of an object (model parameters, metadata) reads as one of
        /// `values`, as CostCalculator.holds reads it on the built object (the last member of the
        /// key; a string's text, a number as written, `true` or `false`). Throws where comparing
        /// bytes might differ from comparing Swift strings: escapes, text outside ASCII.
        private static func attribute(_ key: String, of object: Located?, isOneOf values: [String]) throws(UndecidedCondition) -> Bool {
            guard let object else { return false }
            let buffer = object.buffer
            guard key.utf8.allSatisfy({ $0 < 0x80 }), values.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) else {
                throw UndecidedCondition()
            }
            var found: JSONField?
            var plain = true
            ValidatedJSON.forEachMember(of: object.field, in: buffer) { name, value in
                let bytes = name.rawBytes(in: buffer)
                if name.hasEscapes || !isASCII(bytes) { plain = false }
                if key.utf8.elementsEqual(bytes) { found = value }
            }
            guard plain else { throw UndecidedCondition() }
            guard let found else { return false }
            let text = found.rawBytes(in: buffer)
            switch found.kind {
            case .string:
                guard !found.hasEscapes, isASCII(text) else { throw UndecidedCondition() }
                return values.contains { $0.utf8.elementsEqual(text) }
            case .number:
                return values.contains { $0.utf8.elementsEqual(text) }
            case .true:
                return values.contains("true")
            case .false:
                return values.contains("false")
            case .null, .array, .object:
                return false
            }
        }

        /// A number written as plain digits (what ProvidedUsage.count takes as a count), nil for
        /// anything else.
        static func plainCount(_ field: JSONField, _ buffer: UnsafeRawBufferPointer) -> UInt64? {
            guard field.kind == .number else { return nil }
            let digits = field.rawBytes(in: buffer)
            guard digits.count <= 18 else { return nil }
            var value: UInt64 = 0
            for digit in digits {
                guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + UInt64(digit - UInt8(ascii: "0"))
            }
            return value
        }

        /// A value as one event wrote it, with that event's bytes.
        private struct Located {
            var field: JSONField
            var buffer: UnsafeRawBufferPointer
        }

        private func located(_ ref: Ref?) -> Located? {
            ref.map { Located(field: $0.field, buffer: events[$0.event].buffer) }
        }

        /// FNV-1a 64.
        private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
            return hash
        }

        private func object(_ field: JSONField?, _ buffer: UnsafeRawBufferPointer) -> JSONObject? {
            field.flatMap { ValidatedJSON.value($0, in: buffer).objectValue }
        }

        /// MergeRules.isTruthy, on a field.
        private func isTruthy(_ field: JSONField, _ buffer: UnsafeRawBufferPointer) -> Bool {
            switch field.kind {
            case .null, .false: false
            case .true, .array, .object: true
            case .string: !field.range.isEmpty
            case .number:
                // As JSONNumber.doubleValue reads it.
                { $0 != 0 && !$0.isNaN }(Double(String(decoding: field.rawBytes(in: buffer), as: UTF8.self)) ?? .nan)
            }
        }

        /// An object field with at least one member.
        private func hasMembers(_ field: JSONField, _ buffer: UnsafeRawBufferPointer) -> Bool {
            !ValidatedJSON.isEmpty(field, in: buffer)
        }

        private func copy(_ name: StaticString, _ ref: Ref?, to writer: inout DocumentWriter) {
            guard let ref, !ref.field.isNull else { return }
            writer.key(name)
            writer.copy(ref.field, in: events[ref.event].buffer)
        }

        private func copyText(_ name: StaticString, _ ref: Ref?, to writer: inout DocumentWriter) {
            guard let ref else { return }
            writer.key(name)
            writer.copyText(ref.field, in: events[ref.event].buffer)
        }

        private func environment(_ ref: Ref?, to writer: inout DocumentWriter) {
            let name = MergeRules.normaliseEnvironment(ref.map { $0.field.string(in: events[$0.event].buffer) })
            writer.environment(name)
        }

        private func metadata(_ ref: Ref?, to writer: inout DocumentWriter) {
            guard let ref, hasMembers(ref.field, events[ref.event].buffer) else { return }
            writer.key("metadata")
            writer.copy(ref.field, in: events[ref.event].buffer)
        }

        /// DocumentWriter.trace, on fields.
        private func write(_ trace: FoldedTraceFields, traceID: String, to writer: inout DocumentWriter) {
            writer.open()
            writer.key("id"); writer.id(traceID)
            writer.key("timestamp"); writer.time(trace.timestamp)
            writer.lastEvent(trace.lastEvent, after: trace.timestamp)
            copy("name", trace.name, to: &writer)
            copy("userId", trace.userId, to: &writer)
            copy("sessionId", trace.sessionId, to: &writer)
            copy("release", trace.release, to: &writer)
            copy("version", trace.version, to: &writer)
            copyText("input", trace.input, to: &writer)
            copyText("output", trace.output, to: &writer)
            metadata(trace.metadata, to: &writer)
            if !trace.plainTags.isEmpty {
                writer.key("tags")
                writer.bytes.append(UInt8(ascii: "["))
                for (position, tag) in trace.plainTags.enumerated() {
                    if position > 0 { writer.bytes.append(UInt8(ascii: ",")) }
                    writer.copy(tag.field, in: events[tag.event].buffer)
                }
                writer.bytes.append(UInt8(ascii: "]"))
            } else if !trace.tags.isEmpty {
                writer.key("tags")
                writer.bytes.append(UInt8(ascii: "["))
                for (position, tag) in trace.tags.enumerated() {
                    if position > 0 { writer.bytes.append(UInt8(ascii: ",")) }
                    writer.string(tag)
                }
                writer.bytes.append(UInt8(ascii: "]"))
            }
            if trace.isPublic { writer.key("public"); writer.raw("true") }
            environment(trace.environment, to: &writer)
            writer.close()
        }

        /// DocumentWriter.observation, on fields.
        private func write(_ observation: Folded, to writer: inout DocumentWriter) {
            let first = events[observation.first]
            writer.open()
            writer.key("id"); writer.copyID(first.entity, in: first.buffer)
            writer.key("@type"); writer.string(observation.type.rawValue)
            writer.key("startTime"); writer.time(observation.start)
            writer.lastEvent(observation.lastEvent, after: observation.start)
            copy("name", observation.name, to: &writer)
            if let end = observation.endTime { writer.key("endTime"); writer.time(end) }
            if let time = observation.completionStartTime { writer.key("completionStartTime"); writer.time(time) }
            copy("model", observation.model, to: &writer)
            copy("modelParameters", observation.modelParameters, to: &writer)
            copyText("input", observation.input, to: &writer)
            copyText("output", observation.output, to: &writer)
            metadata(observation.metadata, to: &writer)
            if let level = observation.level, !level.field.isNull, !level.field.equals("DEFAULT", in: events[level.event].buffer) {
                copy("level", level, to: &writer)
            }
            copy("statusMessage", observation.statusMessage, to: &writer)
            if let parent = observation.parent, !parent.field.isNull {
                writer.key("parentObservationId")
                writer.copyID(parent.field, in: events[parent.event].buffer)
            }
            copy("version", observation.version, to: &writer)
            environment(observation.environment, to: &writer)
            if let name = observation.promptName {
                copy("promptName", name, to: &writer)
                writer.key("promptVersion"); writer.integer(Int64(observation.promptVersion))
            }
            if let plain = observation.plainUsage {
                writer.key("usageDetails"); writer.counts(plain)
            } else if !observation.usageDetails.isEmpty {
                writer.key("usageDetails"); writer.counts(observation.usageDetails)
                if let unit = observation.usageUnit { writer.key("usage"); writer.open(); writer.key("unit"); writer.string(unit); writer.close() }
            }
            if !observation.providedCosts.isEmpty {
                writer.key("costDetails")
                writer.open()
                for (name, number) in observation.providedCosts.sorted(by: { $0.key < $1.key }) { writer.clientKey(name); writer.raw(number.text) }
                writer.close()
            }
            if let cost = observation.plainCost {
                // As below: the priced keys in order, then the total.
                writer.key("@cost")
                writer.open()
                if let value = cost.input { writer.key("input"); writer.number(value) }
                if let value = cost.output { writer.key("output"); writer.number(value) }
                if let value = cost.totalKey { writer.key("total"); writer.number(value) }
                writer.key("total"); writer.number(cost.total)
                writer.close()
            } else if let cost = observation.cost {
                writer.key("@cost")
                writer.open()
                for (name, value) in cost.details.sorted(by: { $0.key < $1.key }) { writer.clientKey(name); writer.number(value) }
                if let value = cost.total { writer.key("total"); writer.number(value) }
                writer.close()
            }
            writer.close()
        }
    }
}

/// Not Sendable: they borrow the bytes of the thread that read the events.
@available(*, unavailable)
extension CompactedTrace.RawEvent: Sendable {}

@available(*, unavailable)
extension CompactedTrace.DirectWriter: Sendable {}

// MARK: - What the direct writer keeps

/// Whether every byte is ASCII.
private func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var any: UInt8 = 0
    for byte in bytes { any |= byte }
    return any < 0x80
}

/// Byte order (a shorter prefix first).
private func precedes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    let common = min(a.count, b.count)
    let order = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
    return order != 0 ? order < 0 : a.count < b.count
}

/// Byte equality.
private func same(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0 else { return true }
    return sameBytes(a.baseAddress!, b.baseAddress!, a.count)
}

/// Whether `key` (a key without escapes) is `literal`.
private func isKey(_ key: JSONField, _ literal: StaticString, in buffer: UnsafeRawBufferPointer) -> Bool {
    let name = key.rawBytes(in: buffer)
    return name.count == literal.utf8CodeUnitCount && sameBytes(name.baseAddress!, literal.utf8Start, name.count)
}

/// Whether `count` bytes at `a` and `b` are equal, eight at a time and inline: the ids and keys
/// compared here are short, and differ, when they do, in their first eight bytes, where a call to
/// memcmp costs more than the comparison.
@inline(__always)
private func sameBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
    var offset = 0
    while offset + 8 <= count {
        guard a.loadUnaligned(fromByteOffset: offset, as: UInt64.self) == b.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        else { return false }
        offset += 8
    }
    while offset < count {
        guard a.load(fromByteOffset: offset, as: UInt8.self) == b.load(fromByteOffset: offset, as: UInt8.self) else { return false }
        offset += 1
    }
    return true
}

/// A value as one event wrote it: the event (its position in the writer's list) and the field.
private struct Ref {
    var event: Int
    var field: JSONField

    init(event: Int, field: JSONField) {
        self.event = event
        self.field = field
    }

    init(_ event: Int, _ field: JSONField) {
        self.init(event: event, field: field)
    }
}

/// An event's envelope as walked: the last of each key, as JSON.parse takes it.
private struct EnvelopeWalk {
    var id: JSONField?
    /// Nil also when the type is not a string naming an event type.
    var type: EventType?
    var timestamp: JSONField?
    var body: JSONField?
    /// False when a key is written with escapes (the full decode reads those).
    var plainKeys = true

    /// Takes one member; returns the key it was, if one of the envelope's.
    @discardableResult
    mutating func member(_ key: JSONField, _ value: JSONField, in buffer: UnsafeRawBufferPointer) -> EnvelopeKey? {
        guard !key.hasEscapes else {
            plainKeys = false
            return nil
        }
        // By length first: one comparison per member.
        switch key.range.count {
        case 2 where isKey(key, "id", in: buffer):
            id = value
            return .id
        case 4 where isKey(key, "type", in: buffer):
            type = value.kind == .string ? EventType(value, in: buffer) : nil
            return .type
        case 4 where isKey(key, "body", in: buffer):
            body = value
            return .body
        case 9 where isKey(key, "timestamp", in: buffer):
            timestamp = value
            return .timestamp
        default:
            return nil
        }
    }
}

/// One event as read: its envelope, and the body fields a fold reads.
private struct Event {
    var buffer: UnsafeRawBufferPointer
    var id: JSONField
    var type: EventType
    var timestamp: Timestamp
    var sequence: UInt64
    var entity = JSONField(kind: .string, range: 0..<0)
    var body = BodyFields()
    /// A score's position in the writer's `scores` (decoded in full); -1 for other events. An
    /// index, not the event, so that an `Event` copies without reference counting.
    var score = -1

    var idBytes: UnsafeRawBufferPointer { id.rawBytes(in: buffer) }
    func bytes(_ field: JSONField) -> UnsafeRawBufferPointer { field.rawBytes(in: buffer) }
    var entityBytes: UnsafeRawBufferPointer { entity.rawBytes(in: buffer) }
}

/// The body fields of one event (EventBody's, as fields): nil when absent. Where the fold tells
/// `null` from absent (name, model, level, and the trace's strings) the null field is kept; where
/// it does not, null is nil, as BodyDecoder makes it.
private struct BodyFields {
    var name: JSONField?
    var version: JSONField?
    var userId: JSONField?
    var sessionId: JSONField?
    var release: JSONField?
    var model: JSONField?
    var level: JSONField?
    var environment: JSONField?
    var parentObservationId: JSONField?
    var statusMessage: JSONField?
    var metadata: JSONField?
    var input: JSONField?
    var output: JSONField?
    var tags: JSONField?
    var modelParameters: JSONField?
    var usage: JSONField?
    var usageDetails: JSONField?
    var costDetails: JSONField?
    var promptName: JSONField?
    var promptVersion: Int?
    var timestamp: Timestamp?
    var startTime: Timestamp?
    var endTime: Timestamp?
    var completionStartTime: Timestamp?
    var isPublic: Bool?
}

/// Reads a body's members with BodyDecoder's checks, keeping fields instead of building values.
/// `ok` turns false where BodyDecoder would throw (the event is a late reject, for the full fold).
private struct BodyReader {
    let buffer: UnsafeRawBufferPointer
    let keys: BodyKey.Set
    var body = BodyFields()
    var entity: JSONField?
    var traceId: JSONField?
    var ok = true

    init(buffer: UnsafeRawBufferPointer, keys: BodyKey.Set) {
        self.buffer = buffer
        self.keys = keys
    }

    mutating func member(_ keyField: JSONField, _ field: JSONField) {
        guard ok else { return }
        let key = keyField.hasEscapes ? BodyKey(keyField, in: buffer) : BodyKey.match(keyField.rawBytes(in: buffer))
        guard let key, keys.has(key) else { return }
        ok = read(key, field)
    }

    private func isString(_ field: JSONField) -> Bool { field.isNull || field.kind == .string }

    /// A later member of the same key overwrites an earlier one, as in BodyDecoder.
    private mutating func read(_ key: BodyKey, _ field: JSONField) -> Bool {
        let null = field.isNull
        switch key {
        case .id:
            guard isString(field) else { return false }
            entity = null ? nil : field
        case .traceId:
            guard isString(field) else { return false }
            traceId = null ? nil : field
        case .name:
            guard isString(field) else { return false }
            body.name = field
        case .version:
            guard isString(field) else { return false }
            body.version = field
        case .userId:
            guard isString(field) else { return false }
            body.userId = field
        case .sessionId:
            guard isString(field) else { return false }
            body.sessionId = field
        case .release:
            guard isString(field) else { return false }
            body.release = field
        case .model:
            guard isString(field) else { return false }
            body.model = field
        case .environment:
            guard isString(field) else { return false }
            body.environment = null ? nil : field
        case .parentObservationId:
            guard isString(field) else { return false }
            body.parentObservationId = null ? nil : field
        case .statusMessage:
            guard isString(field) else { return false }
            body.statusMessage = null ? nil : field
        case .promptName:
            guard isString(field) else { return false }
            body.promptName = null ? nil : field
        case .externalId, .queueId, .executionTraceId:
            guard isString(field) else { return false }
        case .timestamp, .startTime, .endTime, .completionStartTime:
            var time: Timestamp?
            if !null {
                guard field.kind == .string, let parsed = Timestamp(field, in: buffer) else { return false }
                time = parsed
            }
            switch key {
            case .timestamp: body.timestamp = time
            case .startTime: body.startTime = time
            case .endTime: body.endTime = time
            default: body.completionStartTime = time
            }
        case .metadata:
            body.metadata = null ? nil : field
        case .input:
            body.input = null ? nil : field
        case .output:
            body.output = null ? nil : field
        case .tags:
            if null {
                body.tags = nil
                return true
            }
            guard field.kind == .array else { return false }
            var strings = true
            ValidatedJSON.forEachElement(of: field, in: buffer) { if $0.kind != .string { strings = false } }
            guard strings else { return false }
            body.tags = field
        case .public:
            guard null || field.kind == .true || field.kind == .false else { return false }
            body.isPublic = null ? nil : field.kind == .true
        case .level:
            if !null {
                guard field.kind == .string, BodyDecoder.levels.contains(where: { field.equals($0, in: buffer) }) else { return false }
            }
            body.level = field
        case .modelParameters, .usage, .usageDetails:
            guard null || field.kind == .object else { return false }
            let value = null ? nil : field
            switch key {
            case .modelParameters: body.modelParameters = value
            case .usage: body.usage = value
            default: body.usageDetails = value
            }
        case .costDetails:
            if null {
                body.costDetails = nil
                return true
            }
            guard field.kind == .object else { return false }
            // Every cost a number, none negative (a repeated key is left to the full decode).
            var valid = true
            var names: [UnsafeRawBufferPointer] = []
            ValidatedJSON.forEachMember(of: field, in: buffer) { name, value in
                let bytes = name.rawBytes(in: buffer)
                if name.hasEscapes || names.contains(where: { $0.elementsEqual(bytes) }) { valid = false }
                names.append(bytes)
                if value.isNull { return }
                guard value.kind == .number,
                      let number = Double(String(decoding: value.rawBytes(in: buffer), as: UTF8.self)), !(number < 0)
                else {
                    valid = false
                    return
                }
            }
            guard valid else { return false }
            body.costDetails = field
        case .promptVersion:
            if null {
                body.promptVersion = nil
                return true
            }
            guard field.kind == .number,
                  let version = JSONNumber(String(decoding: field.rawBytes(in: buffer), as: UTF8.self))?.int64Value
            else { return false }
            body.promptVersion = Int(clamping: version)
        case .type, .value, .dataType, .observationId, .datasetRunId, .comment, .configId, .source:
            // Legacy observations and scores: read in full elsewhere.
            return false
        }
        return true
    }
}

extension BodyKey {
    /// The key `bytes` (unescaped) names: a switch on the length and first bytes, then one
    /// comparison, with no table to load (compaction runs this for every member of every body).
    static func match(_ bytes: UnsafeRawBufferPointer) -> BodyKey? {
        guard bytes.count >= 2 else { return nil }
        let candidate: BodyKey
        switch (bytes.count, bytes[0], bytes[1]) {
        case (2, UInt8(ascii: "i"), _): candidate = .id
        case (4, UInt8(ascii: "n"), _): candidate = .name
        case (4, UInt8(ascii: "t"), UInt8(ascii: "a")): candidate = .tags
        case (4, UInt8(ascii: "t"), UInt8(ascii: "y")): candidate = .type
        case (5, UInt8(ascii: "i"), _): candidate = .input
        case (5, UInt8(ascii: "l"), _): candidate = .level
        case (5, UInt8(ascii: "m"), _): candidate = .model
        case (5, UInt8(ascii: "u"), _): candidate = .usage
        case (5, UInt8(ascii: "v"), _): candidate = .value
        case (6, UInt8(ascii: "o"), _): candidate = .output
        case (6, UInt8(ascii: "u"), _): candidate = .userId
        case (6, UInt8(ascii: "p"), _): candidate = .`public`
        case (6, UInt8(ascii: "s"), _): candidate = .source
        case (7, UInt8(ascii: "t"), _): candidate = .traceId
        case (7, UInt8(ascii: "v"), _): candidate = .version
        case (7, UInt8(ascii: "r"), _): candidate = .release
        case (7, UInt8(ascii: "e"), _): candidate = .endTime
        case (7, UInt8(ascii: "c"), _): candidate = .comment
        case (7, UInt8(ascii: "q"), _): candidate = .queueId
        case (8, UInt8(ascii: "m"), _): candidate = .metadata
        case (8, UInt8(ascii: "d"), _): candidate = .dataType
        case (8, UInt8(ascii: "c"), _): candidate = .configId
        case (9, UInt8(ascii: "t"), _): candidate = .timestamp
        case (9, UInt8(ascii: "s"), UInt8(ascii: "e")): candidate = .sessionId
        case (9, UInt8(ascii: "s"), UInt8(ascii: "t")): candidate = .startTime
        case (10, UInt8(ascii: "e"), _): candidate = .externalId
        case (10, UInt8(ascii: "p"), _): candidate = .promptName
        case (11, UInt8(ascii: "e"), _): candidate = .environment
        case (11, UInt8(ascii: "c"), _): candidate = .costDetails
        case (12, UInt8(ascii: "u"), _): candidate = .usageDetails
        case (12, UInt8(ascii: "d"), _): candidate = .datasetRunId
        case (13, UInt8(ascii: "s"), _): candidate = .statusMessage
        case (13, UInt8(ascii: "p"), _): candidate = .promptVersion
        case (13, UInt8(ascii: "o"), _): candidate = .observationId
        case (15, UInt8(ascii: "m"), _): candidate = .modelParameters
        case (16, UInt8(ascii: "e"), _): candidate = .executionTraceId
        case (19, UInt8(ascii: "p"), _): candidate = .parentObservationId
        case (19, UInt8(ascii: "c"), _): candidate = .completionStartTime
        default: return nil
        }
        let name = candidate.name
        return sameBytes(bytes.baseAddress!, name.utf8Start, bytes.count) ? candidate : nil
    }

}

/// An observation folded on fields (the Observation the fold would build).
private struct Folded {
    var first: Int
    var type: ObservationType
    var start: Timestamp
    var lastEvent: Timestamp
    var name: Ref?
    var model: Ref?
    var level: Ref?
    var statusMessage: Ref?
    var parent: Ref?
    var version: Ref?
    var modelParameters: Ref?
    var input: Ref?
    var output: Ref?
    var metadata: Ref?
    var environment: Ref?
    var promptName: Ref?
    var promptVersion = 0
    var endTime: Timestamp?
    var completionStartTime: Timestamp?
    /// The usage when its last non-empty map was of the plain shape (``usageDetails`` is then empty).
    var plainUsage: PlainUsage?
    /// The cost when priced on fields (a plain usage, no provided costs); ``cost`` is then nil.
    var plainCost: PlainCost?
    /// Usage of any other shape, the client's costs and the calculator's cost: out of line, so that
    /// an observation without them (most) copies with one reference where it had four.
    var other: OtherUsage?

    var usageDetails: [String: UInt64] { other?.usageDetails ?? [:] }
    var usageUnit: String? { other?.usageUnit }
    var providedCosts: [String: JSONNumber] { other?.providedCosts ?? [:] }
    var cost: ObservationCost? { other?.cost }

    init(first: Int, type: ObservationType, start: Timestamp) {
        self.first = first
        self.type = type
        self.start = start
        lastEvent = start
    }
}

/// See ``Folded/other``.
private final class OtherUsage {
    let usageDetails: [String: UInt64]
    let usageUnit: String?
    let providedCosts: [String: JSONNumber]
    let cost: ObservationCost?

    init(usageDetails: [String: UInt64], usageUnit: String?, providedCosts: [String: JSONNumber], cost: ObservationCost?) {
        self.usageDetails = usageDetails
        self.usageUnit = usageUnit
        self.providedCosts = providedCosts
        self.cost = cost
    }
}

/// The trace folded on fields (the Trace the fold would build).
private struct FoldedTraceFields {
    var timestamp: Timestamp
    var lastEvent: Timestamp
    var name: Ref?
    var userId: Ref?
    var sessionId: Ref?
    var release: Ref?
    var version: Ref?
    var input: Ref?
    var output: Ref?
    var metadata: Ref?
    var environment: Ref?
    var tags: [String] = []
    /// The tags when all are ASCII written without escapes, as written, in order (``tags`` is then empty).
    var plainTags: [Ref] = []
    var isPublic = false
}
