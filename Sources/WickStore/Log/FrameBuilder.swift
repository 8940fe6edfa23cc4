/// Gathers records into one frame's uncompressed body, then compresses and frames it. Owned by the
/// writer thread.
struct FrameBuilder {
    private(set) var body: [UInt8] = []
    private(set) var recordCount: UInt32 = 0
    private(set) var firstSequence: UInt64 = 0
    private(set) var minReceiveTime: Int64 = .max
    private(set) var maxReceiveTime: Int64 = .min
    /// Index entries of this frame start here in the commit's IndexWork; their location is set when
    /// the frame is placed.
    private(set) var indexStart = 0
    private var compressed: [UInt8] = []

    init(capacity: Int) {
        body.reserveCapacity(capacity + 4096)
    }

    var isEmpty: Bool { recordCount == 0 }
    var byteCount: Int { body.count }

    mutating func begin(firstSequence: UInt64, indexStart: Int) {
        precondition(isEmpty, "begin on a frame that holds records")
        self.firstSequence = firstSequence
        self.indexStart = indexStart
    }

    mutating func add(record: UnsafeRawBufferPointer, receiveTime: Int64) {
        body.append(contentsOf: record)
        recordCount += 1
        minReceiveTime = min(minReceiveTime, receiveTime)
        maxReceiveTime = max(maxReceiveTime, receiveTime)
    }

    /// Drops the records gathered so far.
    mutating func discard() {
        body.removeAll(keepingCapacity: true)
        recordCount = 0
        minReceiveTime = .max
        maxReceiveTime = .min
    }

    /// Compresses the body and appends header + payload to `output`; returns the frame's header.
    /// The builder is empty afterwards.
    mutating func finish(into output: inout [UInt8], compressor: ZstdCompressor) throws(StorageError) -> FrameHeader {
        precondition(!isEmpty, "finish on an empty frame")
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
        body.removeAll(keepingCapacity: true)
        recordCount = 0
        minReceiveTime = .max
        maxReceiveTime = .min
        return header
    }
}
