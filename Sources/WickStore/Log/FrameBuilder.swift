/// Gathers records into one frame's uncompressed body, then compresses and frames it. Owned by the
/// writer thread.
struct FrameBuilder {
    /// The header table and the payloads, kept apart so that each compresses with its own kind:
    /// headers of neighbouring records are nearly identical, payloads are the original NDJSON.
    private var headers: [UInt8] = []
    private var payloads: [UInt8] = []
    private var body: [UInt8] = []
    private var previousTime: Int64 = 0
    private(set) var recordCount: UInt32 = 0
    private(set) var firstSequence: UInt64 = 0
    private(set) var minReceiveTime: Int64 = .max
    private(set) var maxReceiveTime: Int64 = .min
    /// Index entries of this frame start here in the commit's IndexWork; their location is set when
    /// the frame is placed.
    private(set) var indexStart = 0
    private var compressed: [UInt8] = []

    init(capacity: Int) {
        headers.reserveCapacity(capacity / 8)
        payloads.reserveCapacity(capacity + 4096)
        body.reserveCapacity(capacity + 4096)
    }

    var isEmpty: Bool { recordCount == 0 }
    /// The frame body's size so far (what `frameBytes` limits).
    var byteCount: Int { 4 + headers.count + payloads.count }

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
        headers.appendVarint(UInt64(record.payload.count))
        headers.append(record.kind)
        headers.append(UInt8(record.keyCount))
        let delta = record.receiveTime &- previousTime
        headers.appendVarint(UInt64(bitPattern: (delta << 1) ^ (delta >> 63)))
        headers.append(contentsOf: record.metadata)
        payloads.append(contentsOf: record.payload)
        previousTime = record.receiveTime
        recordCount += 1
        minReceiveTime = min(minReceiveTime, record.receiveTime)
        maxReceiveTime = max(maxReceiveTime, record.receiveTime)
    }

    /// The uncompressed frame body: header table length, header table, payloads (docs/format.md §3).
    mutating func assembleBody() {
        body.removeAll(keepingCapacity: true)
        body.appendLE(UInt32(headers.count))
        body.append(contentsOf: headers)
        body.append(contentsOf: payloads)
    }

    /// The body as `finish` would compress it (for tests of the decoder).
    mutating func uncompressedBody() -> [UInt8] {
        assembleBody()
        return body
    }

    /// Drops the records gathered so far.
    mutating func discard() {
        headers.removeAll(keepingCapacity: true)
        payloads.removeAll(keepingCapacity: true)
        recordCount = 0
        minReceiveTime = .max
        maxReceiveTime = .min
    }

    /// Compresses the body and appends header + payload to `output`; returns the frame's header.
    /// The builder is empty afterwards.
    mutating func finish(into output: inout [UInt8], compressor: ZstdCompressor) throws(StorageError) -> FrameHeader {
        precondition(!isEmpty, "finish on an empty frame")
        assembleBody()
        let bound = ZstdCompressor.bound(body.count)
        if compressed.count < bound { compressed = [UInt8](repeating: 0, count: bound) }
        let length = try body.withBytes { (source) throws(StorageError) -> Int in
            try compressed.withMutableBytes { (destination) throws(StorageError) -> Int in
                try compressor.compress(source, into: destination)
            }
        }
        let header = FrameHeader(recordCount: recordCount, uncompressedLength: UInt32(body.count),
                                 payloadLength: UInt32(length), firstSequence: firstSequence,
                                 minReceiveTime: minReceiveTime, maxReceiveTime: maxReceiveTime)
        compressed.withUnsafeBytes { raw in
            let payload = UnsafeRawBufferPointer(rebasing: raw[0..<length])
            header.write(into: &output, payload: payload)
            output.append(contentsOf: payload)
        }
        headers.removeAll(keepingCapacity: true)
        payloads.removeAll(keepingCapacity: true)
        recordCount = 0
        minReceiveTime = .max
        maxReceiveTime = .min
        return header
    }
}
