import Foundation
import Logging
import Testing

@testable import WickStore
import WickTestSupport

extension TemporaryDirectory {
    var dataDirectory: DataDirectory { DataDirectory(path + "/data") }
}

let traceSpace = KeySpace(rawValue: 1)
let eventSpace = KeySpace(rawValue: 2)

/// A store configuration for tests: small frames and segments, millisecond timers.
func testConfiguration(frameBytes: Int = 4096, segmentBytes: Int64 = 64 << 10, fsync: SegmentLog.Configuration.FsyncMode = .interval) -> DataStore.Configuration {
    var configuration = DataStore.Configuration()
    configuration.log.frameBytes = frameBytes
    configuration.log.maxSegmentBytes = segmentBytes
    configuration.log.commitIntervalMilliseconds = 2
    configuration.log.heartbeatMilliseconds = 20
    configuration.log.fsync = fsync
    configuration.log.minFreeBytes = 0
    configuration.deadLetter.commitIntervalMilliseconds = 2
    configuration.deadLetter.minFreeBytes = 0
    configuration.maintenanceIntervalMilliseconds = 50
    return configuration
}

/// A record payload that says which record it is, so any mix-up shows.
func payload(_ n: Int, size: Int = 200) -> [UInt8] {
    var text = "{\"n\":\(n),\"pad\":\""
    var rng = SplitMix(seed: UInt64(n))
    while text.utf8.count < size - 2 {
        text.append(Character(UnicodeScalar(UInt8(97 + rng.next() % 26))))
    }
    text += "\"}"
    return Array(text.utf8)
}

func traceKey(_ n: Int) -> IndexKey {
    IndexKey(space: traceSpace, "trace-\(n / 8)")
}

func batch(_ range: Range<Int>, time: Int64 = 1_000_000, project: String = "default") -> RecordBatch {
    var batch = RecordBatch()
    for n in range {
        batch.append(kind: .rawEvent, receiveTime: time + Int64(n), project: project,
                     keys: [traceKey(n), IndexKey(space: eventSpace, "event-\(n)")], payload: payload(n))
    }
    return batch
}

/// Every event-log record, in order, read from disk by a fresh reader.
func allRecords(_ directory: DataDirectory) throws -> [StoredRecord] {
    let reader = LogReader(directory: directory.logDirectory)
    var records: [StoredRecord] = []
    try reader.read(from: 0) { sequence, record in records.append(record.stored(sequence: sequence)) }
    return records
}

extension StoredRecord {
    var n: Int? {
        let text = String(decoding: payload, as: UTF8.self)
        guard let start = text.range(of: "\"n\":"), let end = text[start.upperBound...].firstIndex(of: ",") else { return nil }
        return Int(text[start.upperBound..<end])
    }
}

func segmentFiles(_ directory: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        .filter { $0.hasSuffix(".wseg") }.sorted().map { directory + "/" + $0 }
}
