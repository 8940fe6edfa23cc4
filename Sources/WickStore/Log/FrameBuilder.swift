#if canImport(Glibc)
import Glibc
#endif

/// Gathers records into one frame's uncompressed body, then compresses and frames it. Owned by the
/// writer thread.
struct FrameBuilder {
    /// The header table and the payloads, kept apart so that each compresses with its own kind:
    /// headers of neighbouring records are nearly identical, payloads are the original NDJSON.
    private var headers: [UInt8] = []
    private var payloads: [UInt8] = []
    /// The assembled body is its first `bodyLength` bytes. A split body is written through a pointer
    /// over bytes left from earlier frames (growing it only fills what is new), not appended.
    private var body: [UInt8] = []
    private var bodyLength = 0
    private var previousTime: Int64 = 0
    private(set) var recordCount: UInt32 = 0
    private(set) var firstSequence: UInt64 = 0
    private(set) var minReceiveTime: Int64 = .max
    private(set) var maxReceiveTime: Int64 = .min
    /// Index entries of this frame start here in the commit's IndexWork; their location is set when
    /// the frame is placed.
    private(set) var indexStart = 0
    private var compressed: [UInt8] = []
    /// Compacted segments: records may name runs of their payloads (documents' prompts and
    /// completions, ids, timestamps, numbers) that the frame keeps apart from the rest, each in its
    /// stream, so that each part compresses beside its own kind (a split frame, type 3;
    /// docs/format.md §3). Where the runs are, in `payloads`, and the stream of each.
    let splitsRuns: Bool
    private var runs: [Range<Int>] = []
    private var runStreams: [UInt8] = []
    /// One more than the largest stream a run is in.
    private var streamCount = 0
    /// Some payload holds a zero byte (the split frame's marker): the frame is written plain.
    private var holdsZero = false
    /// Streams written word-coded where that makes them smaller (`WordCodes`; a type-4 frame). Empty:
    /// type-3 frames.
    let wordCodedStreams: Set<UInt8>
    private var wordCoded: [UInt8] = []
    private var wordScratch = WordCodes.Scratch()

    init(capacity: Int, splitsRuns: Bool = false, wordCodedStreams: Set<UInt8> = []) {
        precondition(splitsRuns || wordCodedStreams.isEmpty, "word-coded streams in a frame that does not split runs")
        self.splitsRuns = splitsRuns
        self.wordCodedStreams = wordCodedStreams
        headers.reserveCapacity(capacity / 8)
        payloads.reserveCapacity(capacity + 4096)
        body.reserveCapacity(capacity + 4096)
    }

    var isEmpty: Bool { recordCount == 0 }
    /// The frame body's size so far (what `frameBytes` limits).
    var byteCount: Int {
        4 + headers.count + payloads.count + (runs.isEmpty ? 0 : 9 + 5 * streamCount + 3 * runs.count)
    }

    /// The body size after adding `record`.
    func byteCount(adding record: BatchRecord) -> Int {
        byteCount + record.payload.count + record.metadata.count + 14
    }

    mutating func begin(firstSequence: UInt64, indexStart: Int) {
        precondition(isEmpty, "begin on a frame that holds records")
        self.firstSequence = firstSequence
        self.indexStart = indexStart
        previousTime = 0
    }

    mutating func add(_ record: BatchRecord) {
        add(kind: record.kind, keyCount: record.keyCount, receiveTime: record.receiveTime, metadata: record.metadata,
            payload: record.payload, runs: [], streams: [])
    }

    /// Adds a record whose project and keys are already in the frame encoding (`metadata`).
    /// `runs`: sorted, disjoint ranges of `payload` to keep apart (only when `splitsRuns`), and
    /// `streams` the stream of each (below `FrameHeader.maxStreams`).
    mutating func add(kind: UInt8, keyCount: Int, receiveTime: Int64, metadata: UnsafeRawBufferPointer,
                      payload: UnsafeRawBufferPointer, runs recordRuns: [Range<Int>], streams: [UInt8]) {
        headers.appendVarint(UInt64(payload.count))
        headers.append(kind)
        headers.append(UInt8(keyCount))
        let delta = receiveTime &- previousTime
        headers.appendVarint(UInt64(bitPattern: (delta << 1) ^ (delta >> 63)))
        headers.append(contentsOf: metadata)
        if splitsRuns {
            if !holdsZero, let base = payload.baseAddress, memchr(base, 0, payload.count) != nil { holdsZero = true }
            precondition(recordRuns.count == streams.count, "a stream for each run")
            var position = 0
            for (run, stream) in zip(recordRuns, streams) {
                precondition(run.lowerBound >= position && run.upperBound <= payload.count, "runs must be sorted, disjoint, in the payload")
                precondition(Int(stream) < FrameHeader.maxStreams, "a stream a frame cannot hold")
                runs.append((payloads.count + run.lowerBound)..<(payloads.count + run.upperBound))
                runStreams.append(stream)
                streamCount = max(streamCount, Int(stream) + 1)
                position = run.upperBound
            }
        } else {
            precondition(recordRuns.isEmpty, "runs in a frame that does not split them")
        }
        payloads.append(contentsOf: payload)
        previousTime = receiveTime
        recordCount += 1
        minReceiveTime = min(minReceiveTime, receiveTime)
        maxReceiveTime = max(maxReceiveTime, receiveTime)
    }

    /// Whether the frame keeps runs apart: it has some, no payload holds the zero byte that marks
    /// where each was (JSON never does), and the split body is not larger than a reader takes.
    private var isSplit: Bool { !runs.isEmpty && !holdsZero && byteCount <= FrameHeader.maxUncompressedBytes }

    /// The uncompressed frame body: header table length, header table, payloads. A split frame
    /// has instead of the payloads the length of what is left of them, what is left (a zero byte
    /// where each run was), the number of runs and the stream of each, the number of streams and
    /// the length of each, then each stream: its runs, each followed by a zero byte
    /// (docs/format.md §3). A type-4 frame states after the lengths whether each stream is
    /// word-coded, and the streams named in `wordCodedStreams` are where that makes them smaller.
    mutating func assembleBody() {
        guard isSplit else {
            body.removeAll(keepingCapacity: true)
            body.appendLE(UInt32(headers.count))
            body.append(contentsOf: headers)
            body.append(contentsOf: payloads)
            bodyLength = body.count
            return
        }
        bodyLength = Self.writeSplit(into: &body, headers: headers, payloads: payloads, runs: runs, runStreams: runStreams,
                                     streamCount: streamCount, wordCodedStreams: wordCodedStreams, coded: &wordCoded,
                                     scratch: &wordScratch)
    }

    /// Writes a split body (see `assembleBody`) at the start of `out`; returns its length. Written
    /// through one pointer, not appended: a frame holds tens of thousands of runs of a few dozen
    /// bytes, and an append each cost more than copying its bytes. Every byte up to the length is
    /// written: `out` holds an earlier frame's bytes.
    private static func writeSplit(into out: inout [UInt8], headers: [UInt8], payloads: [UInt8], runs: [Range<Int>],
                                   runStreams: [UInt8], streamCount: Int, wordCodedStreams: Set<UInt8>, coded: inout [UInt8],
                                   scratch: inout WordCodes.Scratch) -> Int {
        let runBytes = runs.reduce(0) { $0 + $1.count }
        let restLength = payloads.count - runBytes + runs.count
        let prefix = 4 + headers.count
        let streamsStart = prefix + 4 + restLength + 4 + runStreams.count + 1 + 4 * streamCount
            + (wordCodedStreams.isEmpty ? 0 : streamCount)
        let size = streamsStart + runBytes + runs.count
        if out.count < size { out.append(contentsOf: repeatElement(0, count: size - out.count)) }
        return out.withUnsafeMutableBytes { out in
            payloads.withUnsafeBytes { all in
                out.storeBytes(of: UInt32(headers.count).littleEndian, as: UInt32.self)
                headers.withUnsafeBytes { (out.baseAddress! + 4).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                var at = prefix
                func copy(_ range: Range<Int>) {
                    copyBytes(to: out.baseAddress! + at, from: all.baseAddress! + range.lowerBound, count: range.count)
                    at += range.count
                }
                func store(_ value: UInt32, at offset: Int) {
                    out.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
                }
                store(UInt32(restLength), at: at)
                at += 4
                var position = 0
                for run in runs {
                    copy(position..<run.lowerBound)
                    out[at] = 0  // where the run was
                    at += 1
                    position = run.upperBound
                }
                copy(position..<all.count)
                store(UInt32(runStreams.count), at: at)
                at += 4
                runStreams.withUnsafeBytes { tags in
                    (out.baseAddress! + at).copyMemory(from: tags.baseAddress!, byteCount: tags.count)
                }
                at += runStreams.count
                out[at] = UInt8(streamCount)
                at += 1
                let lengthsAt = at
                at += 4 * streamCount
                let codingsAt = at
                if !wordCodedStreams.isEmpty {
                    for stream in 0..<streamCount { out[codingsAt + stream] = 0 }
                    at += streamCount
                }
                for stream in 0..<streamCount {
                    let start = at
                    for (run, tag) in zip(runs, runStreams) where Int(tag) == stream {
                        copy(run)
                        // Written, not left from the fill: a coded stream before this one left its bytes here.
                        out[at] = 0
                        at += 1
                    }
                    if wordCodedStreams.contains(UInt8(stream)) {
                        coded.removeAll(keepingCapacity: true)
                        // Coded, a stream is smaller than it was (the coder's limit): written over itself.
                        if WordCodes.encode(UnsafeRawBufferPointer(rebasing: out[start..<at]), into: &coded, scratch: &scratch) {
                            coded.withUnsafeBytes { (out.baseAddress! + start).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                            at = start + coded.count
                            out[codingsAt + stream] = 1
                        }
                    }
                    store(UInt32(at - start), at: lengthsAt + 4 * stream)
                }
                return at
            }
        }
    }

    /// The body as `finish` would compress it (for tests of the decoder).
    mutating func uncompressedBody() -> [UInt8] {
        assembleBody()
        return Array(body[..<bodyLength])
    }

    /// Drops the records gathered so far.
    mutating func discard() {
        headers.removeAll(keepingCapacity: true)
        payloads.removeAll(keepingCapacity: true)
        runs.removeAll(keepingCapacity: true)
        runStreams.removeAll(keepingCapacity: true)
        streamCount = 0
        holdsZero = false
        recordCount = 0
        minReceiveTime = .max
        maxReceiveTime = .min
    }

    /// Compresses the body and appends header + payload to `output`; returns the frame's header.
    /// The builder is empty afterwards.
    mutating func finish(into output: inout [UInt8], compressor: ZstdCompressor) throws(StorageError) -> FrameHeader {
        precondition(!isEmpty, "finish on an empty frame")
        assembleBody()
        let bound = ZstdCompressor.bound(bodyLength)
        if compressed.count < bound { compressed = [UInt8](repeating: 0, count: bound) }
        let length = try body.withBytes { (whole) throws(StorageError) -> Int in
            try compressed.withMutableBytes { (destination) throws(StorageError) -> Int in
                try compressor.compress(UnsafeRawBufferPointer(rebasing: whole[..<bodyLength]), into: destination)
            }
        }
        let split = isSplit
        let splitType = wordCodedStreams.isEmpty ? FrameHeader.typeZstdStreamRecords : FrameHeader.typeZstdCodedRecords
        let header = FrameHeader(type: split ? splitType : FrameHeader.typeZstdRecords,
                                 recordCount: recordCount, uncompressedLength: UInt32(bodyLength),
                                 payloadLength: UInt32(length), firstSequence: firstSequence,
                                 minReceiveTime: minReceiveTime, maxReceiveTime: maxReceiveTime)
        compressed.withUnsafeBytes { raw in
            let payload = UnsafeRawBufferPointer(rebasing: raw[0..<length])
            header.write(into: &output, payload: payload)
            output.append(contentsOf: payload)
        }
        discard()
        return header
    }
}

/// Copies `count` bytes: those of a run (an id, a timestamp, a number: a few dozen bytes) as two
/// overlapping word-sized moves inline, where a call to memmove each cost more than its bytes.
@inline(__always)
private func copyBytes(to target: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int) {
    func move(_ offset: Int, _ size: Int) {
        switch size {
        case 8: target.storeBytes(of: source.loadUnaligned(fromByteOffset: offset, as: UInt64.self), toByteOffset: offset, as: UInt64.self)
        case 4: target.storeBytes(of: source.loadUnaligned(fromByteOffset: offset, as: UInt32.self), toByteOffset: offset, as: UInt32.self)
        default: target.storeBytes(of: source.load(fromByteOffset: offset, as: UInt8.self), toByteOffset: offset, as: UInt8.self)
        }
    }
    switch count {
    case 0:
        return
    case 1...3:
        for offset in 0..<count { move(offset, 1) }
    case 4...8:
        move(0, 4)
        move(count - 4, 4)
    case 9...16:
        move(0, 8)
        move(count - 8, 8)
    case 17...32:
        move(0, 8)
        move(8, 8)
        move(count - 16, 8)
        move(count - 8, 8)
    case 33...64:
        for offset in stride(from: 0, to: 32, by: 8) { move(offset, 8) }
        for offset in stride(from: count - 32, to: count, by: 8) { move(offset, 8) }
    default:
        target.copyMemory(from: source, byteCount: count)
    }
}
