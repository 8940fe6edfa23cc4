public import WickJSON
public import WickStore
import WickIngest

/// The JSON shapes of the reports the query commands print with `--json` (stable: scripts read them).
extension Inspection {
    public var json: JSONValue {
        .object([
            "data_dir": .string(directory),
            "daemon_running": .bool(daemonRunning),
            "segments": .array(segments.map(\.json)),
            "totals": .object(totals.json),
            "index": .object([
                "high_water_mark": indexHighWaterMark.map { .number(JSONNumber(Int64($0))) } ?? .null,
                "entries": indexEntries.map { .number(JSONNumber($0)) } ?? .null,
                "problem": indexProblem.map { .string($0) } ?? .null,
                "meta": .object(JSONObject(meta.sorted { $0.key < $1.key }.map { ($0.key, .number(JSONNumber(Int64($0.value)))) })),
            ]),
            "cursors": .object(JSONObject(cursors.sorted { $0.key < $1.key }.map { ($0.key, .number(JSONNumber(Int64($0.value)))) })),
        ])
    }

    public struct Totals: Sendable {
        public var segments = 0
        public var records: UInt64 = 0
        public var fileBytes: Int64 = 0
        public var uncompressedBytes: UInt64 = 0

        var json: JSONObject {
            ["segments": .number(JSONNumber(segments)), "records": .number(JSONNumber(Int64(records))),
             "file_bytes": .number(JSONNumber(fileBytes)), "uncompressed_bytes": .number(JSONNumber(Int64(uncompressedBytes))),
             "compression_ratio": .number(JSONNumber(fileBytes > 0 ? Double(uncompressedBytes) / Double(fileBytes) : 0) ?? JSONNumber(0))]
        }
    }

    public var totals: Totals {
        var totals = Totals()
        for segment in segments where segment.log == "events" {
            totals.segments += 1
            totals.records += segment.records
            totals.fileBytes += segment.fileBytes
            totals.uncompressedBytes += segment.uncompressedBytes
        }
        return totals
    }
}

extension Inspection.Segment {
    var json: JSONValue {
        .object([
            "log": .string(log), "id": .number(JSONNumber(String(id))!), "kind": .string(kind.description),
            "sealed": .bool(sealed), "file_bytes": .number(JSONNumber(fileBytes)),
            "records": .number(JSONNumber(Int64(records))), "frames": .number(JSONNumber(frames)),
            "uncompressed_bytes": .number(JSONNumber(Int64(uncompressedBytes))),
            "compression_ratio": .number(JSONNumber(compressionRatio) ?? JSONNumber(0)),
            "first_sequence": .number(JSONNumber(Int64(firstSequence))),
            "next_sequence": .number(JSONNumber(Int64(nextSequence))),
            "min_receive_time": minReceiveTime.map { .string(Timestamp(microsecondsSinceEpoch: $0)?.iso8601 ?? "") } ?? .null,
            "max_receive_time": maxReceiveTime.map { .string(Timestamp(microsecondsSinceEpoch: $0)?.iso8601 ?? "") } ?? .null,
            "created_at": .string(Timestamp(microsecondsSinceEpoch: createdAt)?.iso8601 ?? ""),
        ])
    }
}

extension Verification {
    public var json: JSONValue {
        .object([
            "damaged": .bool(isDamaged),
            "lost_records": lostRecords.map { .number(JSONNumber(Int64($0))) } ?? .null,
            "segments": .array(segments.map { segment in
                .object([
                    "log": .string(segment.log), "id": .number(JSONNumber(String(segment.id))!), "path": .string(segment.path),
                    "sealed": .bool(segment.sealed), "frames": .number(JSONNumber(segment.frames)),
                    "records": .number(JSONNumber(Int64(segment.records))),
                    "header_damaged": .bool(segment.headerDamaged), "footer_damaged": .bool(segment.footerDamaged),
                    "unverified_tail_bytes": .number(JSONNumber(segment.unverifiedTailBytes)),
                    "lost_records": segment.lostRecords.map { .number(JSONNumber(Int64($0))) } ?? .null,
                    "damage": .array(segment.damage.map { damage in
                        .object([
                            "offset": .number(JSONNumber(damage.offset)), "length": .number(JSONNumber(damage.length)),
                            "frames": .number(JSONNumber(damage.frames)),
                            "records": damage.records.map { .number(JSONNumber(Int64($0))) } ?? .null,
                            "detail": .string(damage.detail),
                        ])
                    }),
                ])
            }),
        ])
    }
}

extension DeadLetter {
    public var json: JSONValue {
        .object([
            "sequence": .number(JSONNumber(Int64(sequence))),
            "received_at": .string(Timestamp(microsecondsSinceEpoch: receiveTime)?.iso8601 ?? ""),
            "project": .string(project), "reason": .string(reason), "source": .string(source), "detail": .string(detail),
            "length": .number(JSONNumber(originalLength)), "cut": .bool(isCut),
            "input": .string(String(decoding: bytes, as: UTF8.self)),
        ])
    }
}
