public import WickJSON
public import WickPipeline

/// `wick compact`'s summary: what a compaction run did, as JSON and as a line of text.
extension Compactor.Report {
    public var json: JSONValue {
        .object([
            "segments": .number(JSONNumber(segments)),
            "rawRecords": .number(JSONNumber(Int64(rawRecords))),
            "rawFileBytes": .number(JSONNumber(rawFileBytes)),
            "rawPayloadBytes": .number(JSONNumber(Int64(rawPayloadBytes))),
            "documents": .number(JSONNumber(documents)),
            "carried": .number(JSONNumber(carried)),
            "merged": .number(JSONNumber(merged)),
            "mergeFramesRead": .number(JSONNumber(mergeFramesRead)),
            "compactedSegments": .number(JSONNumber(compactedSegments)),
            "compactedFileBytes": .number(JSONNumber(compactedFileBytes)),
            "superseded": .number(JSONNumber(superseded)),
            "seconds": .number(JSONNumber(seconds) ?? JSONNumber(0)),
        ])
    }

    public init?(json: JSONValue) {
        guard let segments = json["segments"]?.numberValue?.int64Value else { return nil }
        self.init()
        func int(_ key: String) -> Int64 { json[key]?.numberValue?.int64Value ?? 0 }
        self.segments = Int(segments)
        rawRecords = UInt64(int("rawRecords"))
        rawFileBytes = int("rawFileBytes")
        rawPayloadBytes = UInt64(int("rawPayloadBytes"))
        documents = Int(int("documents"))
        carried = Int(int("carried"))
        merged = Int(int("merged"))
        mergeFramesRead = Int(int("mergeFramesRead"))
        compactedSegments = Int(int("compactedSegments"))
        compactedFileBytes = int("compactedFileBytes")
        superseded = Int(int("superseded"))
        seconds = json["seconds"]?.numberValue?.doubleValue ?? 0
    }

    public var text: String {
        guard segments > 0 else { return "nothing to compact: no sealed raw segment the assembler has passed" }
        let ratio = rawFileBytes > 0 ? Double(compactedFileBytes) / Double(rawFileBytes) : 0
        let rate = seconds > 0 ? Double(rawPayloadBytes) / seconds / 1_048_576 : 0
        return "compacted \(segments) raw segment\(segments == 1 ? "" : "s") (\(rawRecords) events, \(rawFileBytes) bytes) "
            + "into \(documents) trace documents (\(compactedFileBytes) bytes, \(format2(ratio))x); "
            + "\(merged) merged with late events, \(carried) events carried as they were; "
            + "\(format2(seconds)) s, \(format2(rate)) MB/s of NDJSON"
    }
}
