public import WickIngest
public import WickJSON
public import WickStore

/// The plain-text forms of the reports (the JSON forms are in Reports+JSON.swift).
extension Inspection {
    public var text: String {
        var out = "data dir \(directory)\(daemonRunning ? " (daemon running)" : "")\n"
        var table = TextTable(["log", "segment", "state", "bytes", "records", "frames", "raw bytes", "ratio", "received"])
        for segment in segments {
            let range: String
            if let first = segment.minReceiveTime, let last = segment.maxReceiveTime {
                range = "\(shortTime(first)) .. \(shortTime(last))"
            } else {
                range = "-"
            }
            table.add([segment.log, String(segment.id), segment.sealed ? "sealed" : "active", bytes(segment.fileBytes),
                       String(segment.records), String(segment.frames), bytes(Int64(segment.uncompressedBytes)),
                       String(format2(segment.compressionRatio)) + "x", range])
        }
        out += table.render()
        let totals = self.totals
        out += "events: \(totals.records) records in \(totals.segments) segments, \(bytes(totals.fileBytes)) on disk, "
        out += "\(bytes(Int64(totals.uncompressedBytes))) raw (\(format2(totals.fileBytes > 0 ? Double(totals.uncompressedBytes) / Double(totals.fileBytes) : 0))x)\n"
        if let mark = indexHighWaterMark {
            out += "index: high-water mark \(mark), \(indexEntries ?? 0) entries\n"
        } else {
            out += "index: unavailable (\(indexProblem ?? "unknown")); lookups read the segments\n"
        }
        if !cursors.isEmpty {
            out += "cursors: " + cursors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "\n"
        }
        return out
    }
}

extension Verification {
    public var text: String {
        var out = ""
        for segment in segments {
            let state = segment.isDamaged ? "DAMAGED" : "ok"
            out += "\(segment.log) segment \(segment.id): \(state), \(segment.frames) frames, \(segment.records) records"
            if segment.unverifiedTailBytes > 0 { out += ", \(segment.unverifiedTailBytes) bytes being written (not judged)" }
            out += "\n"
            if segment.headerDamaged { out += "  header damaged\n" }
            for damage in segment.damage {
                let lost = damage.records.map { "\($0) records lost" } ?? "records lost: unknown"
                out += "  \(damage.detail) at byte \(damage.offset), \(damage.length) bytes, \(damage.frames) frames, \(lost)\n"
            }
        }
        if isDamaged {
            out += "damage found: \(lostRecords.map { "\($0) records lost" } ?? "some records lost (count unknown)")\n"
        } else {
            out += "all \(segments.count) segments intact\n"
        }
        return out
    }
}

extension DeadLetter {
    public var text: String {
        let input = String(decoding: bytes.prefix(200), as: UTF8.self).map { $0.isASCII && !$0.isNewline ? $0 : "·" }
        return "\(sequence) \(shortTime(receiveTime)) \(source) \(reason): \(detail)\n    \(String(input))\(isCut || bytes.count > 200 ? "…" : "") (\(originalLength) bytes)"
    }
}

extension StatsReport {
    public var text: String {
        var out = ""
        if let daemon {
            out += "daemon running, pid \(daemon.pid)"
            if let unix = daemon.unix { out += ", unix \(unix)" }
            if let udp = daemon.udp { out += ", udp \(udp)" }
            if let metrics = daemon.metrics { out += ", metrics \(metrics)" }
            if let http = daemon.http { out += ", http \(http)" }
            out += "\n"
        } else {
            out += "no daemon running on \(inspection.directory)\n"
        }
        if let problem { out += "\(problem)\n" }
        if !metrics.isEmpty {
            func value(_ name: String) -> Int { Int(metrics[name] ?? 0) }
            func sum(_ prefix: String) -> [(String, Int)] {
                metrics.filter { $0.key.hasPrefix(prefix + "{") }.map { (String($0.key.dropFirst(prefix.count)), Int($0.value)) }.sorted { $0.0 < $1.0 }
            }
            out += "received: \(value("wick_ingest_lines_total")) lines, \(value("wick_ingest_bytes_total")) bytes, "
            out += "\(value("wick_ingest_events_accepted_total")) events accepted\n"
            for (labels, count) in sum("wick_ingest_rejected_total") { out += "rejected \(labels): \(count)\n" }
            for (labels, count) in sum("wick_ingest_dropped_total") { out += "dropped \(labels): \(count)\n" }
            for (labels, count) in sum("wick_udp_kernel_drops_total") { out += "kernel UDP drops \(labels): \(count)\n" }
            out += "store: \(value("wick_store_committed_records_total{log=events}")) records durable, "
            out += "index lag \(value("wick_index_lag_records")) records, "
            out += "\(value("wick_store_pending_bytes{log=events}")) bytes pending\n"
            if value("wick_compaction_segments_total") > 0 || value("wick_compaction_backlog_segments") > 0 {
                out += "compaction: \(value("wick_compaction_documents_total")) trace documents from "
                out += "\(value("wick_compaction_raw_payload_bytes_total")) NDJSON bytes, "
                out += "\(value("wick_compaction_backlog_segments")) segments waiting\n"
            }
            for (labels, events) in sum("wick_replay_events_total") {
                let sink = labels.dropFirst("{sink=".count).dropLast()
                let kind = metrics.keys.first { $0.hasPrefix("wick_replay_sink_info{kind=") && $0.hasSuffix(",sink=\(sink)}") }
                    .map { $0.dropFirst("wick_replay_sink_info{kind=".count).prefix { $0 != "," } } ?? "?"
                out += "replay to \(sink) (\(kind)): \(events) events delivered, lag \(value("wick_replay_lag_records" + labels)) records, "
                out += "\(value("wick_replay_retries_total" + labels)) retries, \(value("wick_replay_dead_letters_total" + labels)) refused, "
                out += "\(value("wick_replay_wire_bytes_total" + labels)) bytes \(kind == "file" ? "written" : "sent")\n"
            }
        }
        let totals = inspection.totals
        out += "on disk: \(totals.records) events in \(totals.segments) segments, \(bytes(totals.fileBytes))\n"
        if deadLettersByReason.isEmpty {
            out += "dead letters: none\n"
        } else {
            out += "dead letters: " + deadLettersByReason.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "\n"
        }
        let meta = inspection.meta
        if let lost = meta["retention.lost-records"], lost > 0 { out += "lost to the disk budget: \(lost) records\n" }
        if let truncated = meta["recovery.truncated-bytes"], truncated > 0 {
            out += "recovery: \(truncated) bytes, \(meta["recovery.dropped-frames"] ?? 0) frames cut from torn tails over \(meta["recovery.runs"] ?? 0) starts\n"
        }
        return out
    }
}

extension SendSummary {
    public var json: JSONValue {
        var object: JSONObject = ["lines": .number(JSONNumber(lines)), "bytes": .number(JSONNumber(bytes)),
                                  "seconds": .number(JSONNumber(seconds) ?? JSONNumber(0))]
        if datagrams > 0 { object["datagrams"] = .number(JSONNumber(datagrams)) }
        if unsent > 0 { object["unsent"] = .number(JSONNumber(unsent)) }
        if let acknowledged { object["acked"] = .number(JSONNumber(acknowledged)) }
        if let rejected { object["rejected"] = .number(JSONNumber(rejected)) }
        if let error { object["error"] = .string(error) }
        if let ackLatency {
            object["ack_ms"] = .object(["p50": .number(JSONNumber(ackLatency.p50 * 1000) ?? 0),
                                        "p99": .number(JSONNumber(ackLatency.p99 * 1000) ?? 0),
                                        "max": .number(JSONNumber(ackLatency.max * 1000) ?? 0)])
        }
        return .object(object)
    }
}

/// Columns padded to their widest cell.
struct TextTable {
    private var rows: [[String]]

    init(_ header: [String]) {
        rows = [header]
    }

    mutating func add(_ row: [String]) {
        rows.append(row)
    }

    func render() -> String {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1 + String(repeating: " ", count: widths[$0] - $1.count) }.joined(separator: "  ")
                .trimmingSuffix()
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    fileprivate func trimmingSuffix() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}

func bytes(_ count: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(count) B" : "\(format2(value)) \(units[unit])"
}

func format2(_ value: Double) -> String {
    let scaled = (value * 100).rounded() / 100
    let whole = Int64(scaled)
    let fraction = Int64(((scaled - Double(whole)) * 100).rounded())
    return "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
}

func shortTime(_ microseconds: Int64) -> String {
    let text = Timestamp(microsecondsSinceEpoch: microseconds)?.iso8601 ?? "?"
    return String(text.prefix(19)) + "Z"
}
