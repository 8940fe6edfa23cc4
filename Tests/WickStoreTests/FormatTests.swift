import CWickLinux
import Foundation
import Testing

@testable import WickStore
import WickTestSupport

@Suite struct FormatTests {
    @Test func crc32cKnownVectors() {
        // RFC 3720 B.4 and the usual "123456789" check value.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array(0..<32)) == 0x46DD_794E)
    }

    @Test func crc32cHardwareMatchesSoftware() {
        var rng = SplitMix(seed: 7)
        for length in [0, 1, 7, 8, 9, 63, 64, 65, 1000, 4097] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let software = bytes.withUnsafeBytes { CWickLinux_crc32c_software(0, $0.baseAddress, $0.count) }
            #expect(CRC32C.checksum(bytes) == software, "length \(length)")
            // Continuing a checksum equals checksumming the concatenation.
            let half = length / 2
            let split = CRC32C.checksum(Array(bytes[half...]), continuing: CRC32C.checksum(Array(bytes[..<half])))
            #expect(split == software)
        }
    }

    @Test func segmentHeaderRoundTripAndDamage() {
        let header = SegmentHeader(kind: .raw, segmentID: 42, createdAt: 1_700_000_000_000_000, firstSequence: 1234)
        let bytes = header.encoded()
        #expect(bytes.count == SegmentHeader.size)
        #expect(bytes.withUnsafeBytes { SegmentHeader.decode($0) } == .success(header))
        for index in bytes.indices {
            var damaged = bytes
            damaged[index] ^= 0x10
            if case .success = damaged.withUnsafeBytes({ SegmentHeader.decode($0) }) {
                Issue.record("flip at \(index) not detected")
            }
        }
    }

    /// Records through a batch and a frame body, back out through the frame decoder.
    private func frameBody(_ batch: RecordBatch) -> [UInt8] {
        var builder = FrameBuilder(capacity: 1 << 20)
        builder.begin(firstSequence: 10, indexStart: 0)
        batch.bytes.withUnsafeBytes { raw in
            var records = BatchRecordIterator(raw)
            while let record = records.next() { builder.add(record) }
        }
        return builder.uncompressedBody()
    }

    @Test func recordsRoundTripThroughAFrameBody() throws {
        var batch = RecordBatch()
        batch.append(kind: .rawEvent, receiveTime: -5, project: "p", keys: [], payload: [])
        batch.append(kind: .reject, receiveTime: 1 << 50, project: String(repeating: "x", count: 255),
                     keys: [IndexKey(space: traceSpace, "t"), IndexKey(space: eventSpace, bytes: Array(repeating: 9, count: 600))],
                     payload: Array(repeating: 7, count: 70_000))
        batch.append(kind: .rawEvent, receiveTime: (1 << 50) - 3, project: "p", keys: [IndexKey(space: traceSpace, "t")], payload: [1, 2])
        #expect(batch.count == 3)
        var decoded: [StoredRecord] = []
        try frameBody(batch).withUnsafeBytes { raw in
            var iterator = try RecordIterator(raw)
            var sequence: UInt64 = 10
            while let record = try iterator.next() {
                decoded.append(record.stored(sequence: sequence))
                sequence += 1
            }
        }
        #expect(decoded.count == 3)
        #expect(decoded[0] == StoredRecord(sequence: 10, kind: .rawEvent, receiveTime: -5, project: "p", keys: [], payload: []))
        #expect(decoded[1].kind == .reject)
        #expect(decoded[1].receiveTime == 1 << 50)
        #expect(decoded[1].project.count == 255)
        #expect(decoded[1].keys.count == 2 && decoded[1].keys[1].bytes.count == 600)
        #expect(decoded[1].payload == Array(repeating: 7, count: 70_000))
        // Receive times are stored as differences: going back in time decodes too.
        #expect(decoded[2].receiveTime == (1 << 50) - 3)
        #expect(decoded[2].payload == [1, 2])
    }

    @Test func damagedFrameBodiesAreCorruptionNotCrashes() {
        let body = frameBody(batch(0..<3))
        var rng = SplitMix(seed: 3)
        var variants: [[UInt8]] = (0..<body.count).map { Array(body[..<$0]) }
        for _ in 0..<500 {
            var damaged = body
            damaged[Int(rng.next() % UInt64(body.count))] ^= UInt8(1 + rng.next() % 255)
            variants.append(damaged)
        }
        for variant in variants {
            var count = 0
            _ = Result { () throws -> Void in
                try variant.withUnsafeBytes { raw in
                    var iterator = try RecordIterator(raw)
                    while try iterator.next() != nil { count += 1 }
                }
            }
            #expect(count <= 3)
        }
    }

    typealias SplitRecord = (payload: [UInt8], runs: [(range: Range<Int>, stream: UInt8)])

    /// A split frame (compacted segments): runs of payloads kept apart in their streams, put back
    /// by the reader; assembled after a frame of `previous` records when there are some (a builder
    /// writes each frame over the last one's bytes).
    private func splitBody(_ records: [SplitRecord], wordCoded: Set<UInt8> = [], previous: [SplitRecord] = []) -> (body: [UInt8], split: Bool) {
        var builder = FrameBuilder(capacity: 1 << 20, splitsRuns: true, wordCodedStreams: wordCoded)
        let metadata: [UInt8] = [1, UInt8(ascii: "p")]
        if !previous.isEmpty {
            builder.begin(firstSequence: 1, indexStart: 0)
            for record in previous {
                metadata.withUnsafeBytes { meta in
                    record.payload.withUnsafeBytes {
                        builder.add(kind: 2, keyCount: 0, receiveTime: 7, metadata: meta, payload: $0,
                                    runs: record.runs.map(\.range), streams: record.runs.map(\.stream))
                    }
                }
            }
            _ = builder.uncompressedBody()
            builder.discard()
        }
        builder.begin(firstSequence: 1, indexStart: 0)
        for record in records {
            metadata.withUnsafeBytes { meta in
                record.payload.withUnsafeBytes {
                    builder.add(kind: 2, keyCount: 0, receiveTime: 7, metadata: meta, payload: $0,
                                runs: record.runs.map(\.range), streams: record.runs.map(\.stream))
                }
            }
        }
        let body = builder.uncompressedBody()
        let plain = body.count == 4 + Int(body.withUnsafeBytes { $0.loadLE(UInt32.self, at: 0) }) + records.reduce(0) { $0 + $1.payload.count }
        return (body, !plain)
    }

    /// A type-2 body (one stream, as format version 2 wrote them), laid out by hand.
    private func typeTwoBody(_ records: [SplitRecord]) -> [UInt8] {
        var headers: [UInt8] = []
        var rest: [UInt8] = []
        var runs: [UInt8] = []
        for record in records {
            headers.appendVarint(UInt64(record.payload.count))
            headers.append(contentsOf: [2, 0, 14, 1, UInt8(ascii: "p")])
            var position = 0
            for run in record.runs {
                rest += record.payload[position..<run.range.lowerBound] + [0]
                runs += record.payload[run.range] + [0]
                position = run.range.upperBound
            }
            rest += record.payload[position...]
        }
        var body: [UInt8] = []
        body.appendLE(UInt32(headers.count))
        body += headers
        body.appendLE(UInt32(rest.count))
        return body + rest + runs
    }

    private func unsplitPayloads(_ body: [UInt8], type: UInt8 = FrameHeader.typeZstdStreamRecords) -> [[UInt8]]? {
        var out: [UInt8] = []
        var decoded: [UInt8] = []
        guard let length = body.withUnsafeBytes({ FrameHeader.unsplit($0, type: type, into: &out, decoded: &decoded) }) else {
            return nil
        }
        return try? out.withUnsafeBytes { raw in
            var iterator = try RecordIterator(UnsafeRawBufferPointer(rebasing: raw[0..<length]))
            var payloads: [[UInt8]] = []
            while let record = try iterator.next() { payloads.append(Array(record.payload)) }
            return payloads
        }
    }

    private let splitRecords: [SplitRecord] = [
        (Array(#"{"a":"text one","b":1,"c":["more text"],"d":"2026-11-01T00:00:00Z"}"#.utf8),
         [(5..<15, 0), (20..<21, 3), (26..<39, 0), (44..<66, 2)]),
        (Array(#"{"no runs":true}"#.utf8), []),
        (Array("run at the start and at the end".utf8), [(0..<3, 1), (28..<31, 1)]),
        (Array("whole".utf8), [(0..<5, 0)]),
        ([], []),
        (Array("x".utf8), [(1..<1, 3)]),
    ]

    @Test func splitFramesGiveBackTheirPayloads() {
        let (body, split) = splitBody(splitRecords)
        #expect(split)
        #expect(unsplitPayloads(body) == splitRecords.map(\.payload))
        // Stream 2 is used once, and the text beside text: the streams are where the format says.
        let text = Array("\"text one\"\u{0}[\"more text\"]\u{0}whole\u{0}".utf8)
        #expect(body.firstRange(of: text) != nil)
        // A payload with a zero byte (never JSON) keeps the frame plain.
        let (plain, splitToo) = splitBody(splitRecords + [([1, 0, 2], [])])
        #expect(!splitToo)
        #expect(plain.withUnsafeBytes { raw in
            var iterator = try? RecordIterator(raw)
            var count = 0
            while (try? iterator?.next()) != nil, count < 100 { count += 1 }
            return count
        } > 0)
    }

    /// Runs and the bytes between them of every length up to a few dozen (the frame copies short
    /// ones inline, by size), in three streams: each payload comes back whole.
    @Test func runsOfEveryLengthGiveBackTheirPayloads() {
        var rng = SplitMix(seed: 1206)
        var records: [SplitRecord] = []
        for length in 0...80 {
            var payload: [UInt8] = []
            var runs: [(range: Range<Int>, stream: UInt8)] = []
            for _ in 0..<3 {
                let gap = Int(rng.next() % 70)
                payload += (0..<gap).map { _ in UInt8(0x20 + rng.next() % 90) }
                let start = payload.count
                payload += (0..<length).map { _ in UInt8(0x20 + rng.next() % 90) }
                runs.append((start..<payload.count, UInt8(rng.next() % 3)))
            }
            payload += (0..<Int(rng.next() % 9)).map { _ in UInt8(0x20 + rng.next() % 90) }
            records.append((payload, runs))
        }
        let (body, split) = splitBody(records)
        #expect(split)
        #expect(unsplitPayloads(body) == records.map(\.payload))
    }

    @Test func wordCodedStreamsGiveBackTheirPayloads() throws {
        var rng = SplitMix(seed: 12)
        let words = ["the", "model", "answer", "context", "retrieval", "document", "vector", "search"]
        var records: [SplitRecord] = []
        for index in 0..<300 {
            let text = (0..<40).map { _ in words[Int(rng.next() % 8)] }.joined(separator: " ")
            let payload = Array(#"{"id":"\#(index)","input":"\#(text)","n":\#(index)}"#.utf8)
            let textStart = 8 + String(index).utf8.count + 11
            records.append((payload, [(6..<(6 + String(index).utf8.count), 1), (textStart..<(textStart + text.utf8.count), 0)]))
        }
        let (plainBody, _) = splitBody(records)
        let (body, split) = splitBody(records, wordCoded: [0])
        #expect(split)
        #expect(body.count * 2 < plainBody.count, "stream 0 is word-coded")
        #expect(unsplitPayloads(body, type: FrameHeader.typeZstdCodedRecords) == records.map(\.payload))
        // The same bytes are not a type-3 body; a type-3 body with no stream coded reads as type 4
        // would not (its lengths are followed by codings).
        #expect(unsplitPayloads(body) == nil)
        // A stream too short to code is stated as plain in a type-4 frame.
        let (short, _) = splitBody(splitRecords, wordCoded: [0])
        #expect(unsplitPayloads(short, type: FrameHeader.typeZstdCodedRecords) == splitRecords.map(\.payload))
        // Written over a larger frame whose stream was coded, the same body, byte for byte.
        #expect(splitBody(splitRecords, wordCoded: [0], previous: records).body == short)
        // Damage never crashes or reads out of bounds.
        for length in stride(from: 0, to: body.count, by: 7) {
            #expect(unsplitPayloads(Array(body[..<length]), type: FrameHeader.typeZstdCodedRecords) == nil)
        }
        for _ in 0..<1000 {
            var damaged = body
            damaged[Int(rng.next() % UInt64(body.count))] ^= UInt8(1 + rng.next() % 255)
            _ = unsplitPayloads(damaged, type: FrameHeader.typeZstdCodedRecords)
        }
    }

    @Test func typeTwoFramesStillRead() {
        let records = splitRecords.map { record in (record.payload, record.runs.map { ($0.range, UInt8(0)) }) }
        let body = typeTwoBody(records)
        #expect(unsplitPayloads(body, type: FrameHeader.typeZstdSplitRecords) == records.map(\.0))
        // The same bytes are not a type-3 body.
        #expect(unsplitPayloads(body) == nil)
    }

    @Test func damagedSplitFramesAreCorruptionNotCrashes() {
        let records: [SplitRecord] = [(Array(#"{"a":"text one","b":"text two","c":12}"#.utf8), [(5..<15, 0), (20..<30, 1), (35..<37, 3)]),
                                      (Array(#"{"c":"three"}"#.utf8), [(5..<12, 0)])]
        let (body, _) = splitBody(records)
        let two = typeTwoBody(records)
        var rng = SplitMix(seed: 9)
        // No cut-short body accounts for its parts.
        for length in 0..<body.count { #expect(unsplitPayloads(Array(body[..<length])) == nil) }
        for length in 0..<two.count { #expect(unsplitPayloads(Array(two[..<length]), type: FrameHeader.typeZstdSplitRecords) == nil) }
        var variants: [([UInt8], UInt8)] = []
        for _ in 0..<2000 {
            var damaged = body
            damaged[Int(rng.next() % UInt64(body.count))] ^= UInt8(1 + rng.next() % 255)
            variants.append((damaged, FrameHeader.typeZstdStreamRecords))
            var damagedTwo = two
            damagedTwo[Int(rng.next() % UInt64(two.count))] ^= UInt8(1 + rng.next() % 255)
            variants.append((damagedTwo, FrameHeader.typeZstdSplitRecords))
        }
        // Damage elsewhere may change a payload's bytes (the frame's checksum catches that before a
        // reader gets here); it must not crash or read out of bounds.
        for (variant, type) in variants { _ = unsplitPayloads(variant, type: type) }
    }

    /// Compacted segment files as Wick wrote them (the fuzzer's seeds: format version 2 with type-2
    /// frames, version 3 with type-3 frames, and version 4 with type-4 frames whose text stream is
    /// word-coded) read back as their documents.
    @Test(arguments: [("compacted-split.wseg", 2), ("compacted-streams.wseg", 3), ("compacted-coded.wseg", 4)])
    func compactedSegmentFilesRead(_ name: String, _ version: Int) throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let bytes = try [UInt8](Data(contentsOf: repository.appendingPathComponent("Fuzz/corpus/segment/" + name)))
        #expect(Int(bytes[8]) == version && Int(bytes[SegmentHeader.size + 4]) == version)
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.file("log"), withIntermediateDirectories: false)
        try Data(bytes).write(to: URL(fileURLWithPath: directory.file("log/00000000000000000001.wseg")))
        var documents = 0
        try LogReader(directory: directory.file("log")).read(from: 0) { _, record in
            let text = String(decoding: record.payload, as: UTF8.self)
            #expect(text.hasPrefix(#"{"wick":1,"traceId":""#) && text.hasSuffix("}"))
            #expect(!record.payload.contains(0))
            documents += 1
        }
        #expect(documents >= 4)
    }

    @Test func compactedSegmentsAreVersionFourAndOthersVersionOne() {
        #expect(SegmentHeader.version(for: .compacted) == 4)
        #expect(SegmentHeader.version(for: .raw) == 1 && SegmentHeader.version(for: .reject) == 1)
        var header = SegmentHeader(kind: .compacted, segmentID: 1 << 63, createdAt: 0, firstSequence: 0)
        header.version = 5
        #expect(header.encoded().withUnsafeBytes { SegmentHeader.decode($0) } == .failure(.unsupportedVersion(5)))
    }

    @Test func footerRoundTripAndTrailer() {
        var bloom = BloomFilter(expectedKeys: 100)
        for i in 0..<100 { bloom.insert(hash: keyHash(Array("k\(i)".utf8))) }
        let footer = SegmentFooter(
            frames: [.init(offset: 64, firstSequence: 1, recordCount: 3, payloadLength: 100, uncompressedLength: 300,
                           minReceiveTime: 5, maxReceiveTime: 9)],
            keySummaries: [.init(space: traceSpace, distinctKeys: 100, bloom: bloom)])
        let bytes = footer.encoded(at: 220)
        let trailer = Array(bytes.suffix(SegmentFooter.trailerSize))
        let parsed = trailer.withUnsafeBytes { SegmentFooter.parseTrailer($0) }
        #expect(parsed?.offset == 220)
        #expect(parsed?.length == bytes.count - SegmentFooter.trailerSize)
        let body = Array(bytes.prefix(bytes.count - SegmentFooter.trailerSize))
        #expect(body.withUnsafeBytes { SegmentFooter.decode($0) } == footer)
    }

    @Test func bloomFilterFalsePositiveRateNearOnePercent() {
        var bloom = BloomFilter(expectedKeys: 10_000)
        for i in 0..<10_000 { bloom.insert(hash: keyHash(Array("present-\(i)".utf8))) }
        for i in 0..<10_000 { #expect(bloom.mightContain(hash: keyHash(Array("present-\(i)".utf8)))) }
        let falsePositives = (0..<20_000).filter { bloom.mightContain(hash: keyHash(Array("absent-\($0)".utf8))) }.count
        #expect(falsePositives < 20_000 * 2 / 100, "false positive rate \(Double(falsePositives) / 200)%")
    }

    @Test(arguments: [0, 1, 127, 128, 300, 16_383, 16_384, UInt64.max])
    func varintRoundTrip(_ value: UInt64) {
        var bytes: [UInt8] = []
        bytes.appendVarint(value)
        let decoded = bytes.withUnsafeBytes { raw -> UInt64? in
            var reader = ByteReader(raw)
            return reader.readVarint()
        }
        #expect(decoded == value)
    }

    @Test func longKeysAreShortenedForLMDB() {
        let short = [UInt8](repeating: 1, count: 480)
        let long = [UInt8](repeating: 1, count: 800)
        #expect(short.withUnsafeBytes { IndexKeyEncoding.storedKey($0) } == short)
        let stored = long.withUnsafeBytes { IndexKeyEncoding.storedKey($0) }
        #expect(stored.count == 409)
        var other = long
        other[799] = 2
        #expect(other.withUnsafeBytes { IndexKeyEncoding.storedKey($0) } != stored)
    }
}
