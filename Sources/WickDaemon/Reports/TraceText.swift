import WickJSON
public import WickModel
public import WickPipeline

/// `wick trace` in a terminal: the trace's fields, then its observations as a tree with a timeline
/// bar each, model, tokens, latency and level; scores last. Colour only on a terminal.
public struct TraceText: Sendable {
    public var colour: Bool
    public var width: Int

    public init(colour: Bool, width: Int = 32) {
        self.colour = colour
        self.width = width
    }

    public func render(_ loaded: LoadedTrace) -> String {
        let trace = loaded.folded.trace
        let summary = loaded.summary
        var out = bold("trace \(trace.id)") + (trace.name.map { "  \"\($0)\"" } ?? "")
        if !trace.hasTraceEvent { out += dim("  (no trace-create seen)") }
        out += "\n"
        var fields: [String] = ["project \(loaded.project)", "env \(trace.environment)"]
        if let user = trace.userId { fields.append("user \(user)") }
        if let session = trace.sessionId { fields.append("session \(session)") }
        if !trace.tags.isEmpty { fields.append("tags [\(trace.tags.joined(separator: ","))]") }
        if let release = trace.release { fields.append("release \(release)") }
        out += "  " + fields.joined(separator: "  ") + "\n"
        let tokens = summary.usage["total"].map { "  tokens \($0)" } ?? ""
        let cost = summary.totalCost.map { "  cost $\($0.text)" } ?? ""
        out += "  \(trace.timestamp.iso8601)  latency \(seconds(summary.latency))  \(loaded.folded.observations.count) observations\(tokens)\(cost)"
        if summary.errors > 0 { out += "  " + red("\(summary.errors) errors") }
        if summary.warnings > 0 { out += "  " + yellow("\(summary.warnings) warnings") }
        out += "\n"
        let observations = loaded.folded.observations
        let start = observations.map(\.startTime.microsecondsSinceEpoch).min() ?? trace.timestamp.microsecondsSinceEpoch
        let end = observations.map { ($0.endTime ?? $0.startTime).microsecondsSinceEpoch }.max() ?? start
        let span = max(1, end - start)
        let nameWidth = min(40, (loaded.tree.nodes.map { $0.depth * 2 + (observations[$0.observation].name ?? "").count }.max() ?? 4) + 1)
        for node in loaded.tree.nodes {
            let observation = observations[node.observation]
            let indent = String(repeating: "  ", count: node.depth)
            let name = indent + (observation.name ?? "-")
            var line = "  " + pad(typeColour(observation.type, observation.type.rawValue), 10, visible: observation.type.rawValue.count)
            line += " " + pad(name, nameWidth) + " "
            line += pad(observation.latency.map(seconds) ?? "…", 8) + " "
            line += bar(from: observation.startTime.microsecondsSinceEpoch - start,
                        to: (observation.endTime ?? observation.startTime).microsecondsSinceEpoch - start, span: span)
            if let model = observation.model { line += "  " + model }
            if !observation.usageDetails.isEmpty {
                let input = observation.usageDetails["input"].map(String.init) ?? "-"
                let output = observation.usageDetails["output"].map(String.init) ?? "-"
                line += "  tokens \(input)/\(output)"
            }
            if let cost = observation.cost?.total { line += "  $\(cost)" }
            if let ttft = observation.timeToFirstToken { line += "  ttft \(seconds(ttft))" }
            switch observation.level {
            case .error: line += "  " + red("ERROR" + (observation.statusMessage.map { ": \($0)" } ?? ""))
            case .warning: line += "  " + yellow("WARNING" + (observation.statusMessage.map { ": \($0)" } ?? ""))
            default: break
            }
            if node.flags.contains(.orphan) { line += dim("  (parent \(observation.parentObservationId ?? "?") not seen)") }
            if node.flags.contains(.selfParent) { line += dim("  (its own parent)") }
            if node.flags.contains(.cycle) { line += dim("  (parent loop cut here)") }
            out += line + "\n"
        }
        if !loaded.folded.scores.isEmpty {
            out += "  scores: " + loaded.folded.scores.map { score in
                let value = score.stringValue ?? formatNumber(score.value)
                return "\(score.name)=\(value)" + (score.observationId.map { " (on \($0))" } ?? "")
            }.joined(separator: ", ") + "\n"
        }
        for (sequence, reject) in loaded.lateRejects {
            out += red("  rejected event #\(sequence): \(reject)") + "\n"
        }
        return out
    }

    private func bar(from: Int64, to: Int64, span: Int64) -> String {
        let first = Int(Double(from) / Double(span) * Double(width - 1))
        let last = max(first, Int(Double(to) / Double(span) * Double(width - 1)))
        var cells = [Character](repeating: " ", count: width)
        for index in first...min(last, width - 1) { cells[index] = "█" }
        return "|" + String(cells) + "|"
    }

    private func seconds(_ value: Double) -> String {
        value < 1 ? "\(Int((value * 1000).rounded()))ms" : "\(formatNumber((value * 100).rounded() / 100))s"
    }

    private func formatNumber(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    private func pad(_ text: String, _ width: Int, visible: Int? = nil) -> String {
        text + String(repeating: " ", count: max(0, width - (visible ?? text.count)))
    }

    private func paint(_ code: String, _ text: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    private func bold(_ text: String) -> String { paint("1", text) }
    private func dim(_ text: String) -> String { paint("2", text) }
    private func red(_ text: String) -> String { paint("31", text) }
    private func yellow(_ text: String) -> String { paint("33", text) }

    private func typeColour(_ type: ObservationType, _ text: String) -> String {
        switch type {
        case .generation, .embedding: paint("36", text)
        case .event: paint("35", text)
        case .agent, .tool, .chain: paint("34", text)
        default: text
        }
    }
}

/// `wick traces` as a table.
public enum TraceSummaryText: Sendable {
    public static func table(_ summaries: [TraceSummary]) -> String {
        guard !summaries.isEmpty else { return "no traces\n" }
        var table = TextTable(["start", "trace", "name", "user", "latency", "obs", "tokens", "cost", "errors", "tags"])
        for summary in summaries {
            table.add([shortTime(summary.start.microsecondsSinceEpoch), summary.id, summary.name ?? "-", summary.userId ?? "-",
                       format2(summary.latency) + "s", String(summary.observationCounts.values.reduce(0, +)),
                       summary.usage["total"].map(String.init) ?? "-", summary.totalCost.map { "$" + $0.text } ?? "-",
                       summary.errors > 0 ? String(summary.errors) : "", summary.tags.joined(separator: ",")])
        }
        return table.render()
    }

    /// One line for `wick tail --traces`.
    public static func line(_ summary: TraceSummary) -> String {
        "\(shortTime(summary.lastReceived)) \(summary.id) \(summary.name ?? "-") latency \(format2(summary.latency))s "
            + "\(summary.observationCounts.values.reduce(0, +)) obs" + (summary.errors > 0 ? " \(summary.errors) errors" : "")
            + (summary.userId.map { " user \($0)" } ?? "")
    }
}
