public import WickJSON
import WickIngest
public import WickStore

/// `wick stats`: the running daemon's counters when one runs (from its metrics page), and what the
/// data directory alone can tell either way.
public struct StatsReport: Sendable {
    public var daemon: ListeningAnnouncement?
    /// The daemon's metric samples (empty when none runs, or when its metrics are off).
    public var metrics: [String: Double]
    public var inspection: Inspection
    public var deadLettersByReason: [String: Int]
    public var problem: String?

    public static func make(_ directory: DataDirectory) throws -> StatsReport {
        let reader = try StoreReader(directory)
        let inspection = try Inspection.make(reader)
        var metrics: [String: Double] = [:]
        var announcement: ListeningAnnouncement? = nil
        var problem: String? = nil
        if directory.isLocked, let text = RuntimeFile.read(directory.runtimePath) {
            announcement = text
            if let address = text.metrics {
                do {
                    for sample in MetricsClient.parse(try MetricsClient.fetch(address)) {
                        let labels = sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                        metrics[labels.isEmpty ? sample.name : "\(sample.name){\(labels)}"] = sample.value
                    }
                } catch {
                    problem = "daemon metrics unavailable: \(error)"
                }
            }
        }
        var reasons: [String: Int] = [:]
        try reader.deadLetterReader().read(from: 0) { sequence, record in
            reasons[DeadLetter(record.stored(sequence: sequence)).reason, default: 0] += 1
        }
        return StatsReport(daemon: announcement, metrics: metrics, inspection: inspection, deadLettersByReason: reasons,
                           problem: problem)
    }

    public var json: JSONValue {
        var object: JSONObject = [
            "daemon": daemon?.json ?? .null,
            "metrics": .object(JSONObject(metrics.sorted { $0.key < $1.key }.map { ($0.key, .number(JSONNumber($0.value) ?? JSONNumber(0))) })),
            "store": inspection.json,
            "dead_letters_by_reason": .object(JSONObject(deadLettersByReason.sorted { $0.key < $1.key }.map { ($0.key, .number(JSONNumber($0.value))) })),
        ]
        if let problem { object["problem"] = .string(problem) }
        return .object(object)
    }
}

extension RuntimeFile {
    /// The announcement of the daemon running on a data directory, if it wrote one.
    static func read(_ path: String) -> ListeningAnnouncement? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: 8192)
        let count = fread(&bytes, 1, bytes.count, file)
        guard count > 0, let value = try? JSONValue.parse(Array(bytes[0..<count])) else { return nil }
        return ListeningAnnouncement(json: value)
    }
}

#if canImport(Glibc)
import Glibc
#endif
