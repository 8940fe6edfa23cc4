/// Builds the Prometheus text exposition format (version 0.0.4): `# HELP`, `# TYPE`, then samples.
public struct PrometheusText: Sendable {
    public private(set) var text = ""

    public init() {}

    public mutating func counter(_ name: String, _ help: String, _ samples: [([(String, String)], Double)]) {
        family(name, "counter", help, samples)
    }

    public mutating func gauge(_ name: String, _ help: String, _ samples: [([(String, String)], Double)]) {
        family(name, "gauge", help, samples)
    }

    public mutating func counter(_ name: String, _ help: String, _ value: Int) {
        family(name, "counter", help, [([], Double(value))])
    }

    public mutating func gauge(_ name: String, _ help: String, _ value: Double) {
        family(name, "gauge", help, [([], value)])
    }

    /// A histogram from cumulative bucket counts over upper bounds in seconds.
    public mutating func histogram(_ name: String, _ help: String, labels: [(String, String)], bounds: [Double],
                                   cumulative: [Int], count: Int, sum: Double) {
        if !text.contains("# TYPE \(name) histogram") {
            text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        }
        for (index, bound) in bounds.enumerated() {
            text += sample("\(name)_bucket", labels + [("le", format(bound))], Double(cumulative[index]))
        }
        text += sample("\(name)_bucket", labels + [("le", "+Inf")], Double(count))
        text += sample("\(name)_sum", labels, sum)
        text += sample("\(name)_count", labels, Double(count))
    }

    private mutating func family(_ name: String, _ type: String, _ help: String, _ samples: [([(String, String)], Double)]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for (labels, value) in samples { text += sample(name, labels, value) }
    }

    private func sample(_ name: String, _ labels: [(String, String)], _ value: Double) -> String {
        let rendered = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
        return "\(name)\(rendered) \(format(value))\n"
    }

    private func escape(_ value: String) -> String {
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }

    private func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
