import CZstd

/// A zstd compression context. Not shareable: one per writer thread.
final class ZstdCompressor {
    private let context: OpaquePointer

    /// What the frames hold: the log's small frames of NDJSON, or compaction's 1 MiB split frames
    /// of documents.
    enum Frames {
        case log
        case compacted
    }

    init(level: Int32, frames: Frames = .log) {
        // ZSTD_createCCtx only fails when malloc does.
        context = ZSTD_createCCtx()!
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        // Compacted frames at level 1 (the default) keep zstd's own parameters: on 85 MB of compacted
        // frame bodies of the gen-events corpus, 1 MiB blocks, 641 MB/s at 4.838x, against 527 MB/s
        // at 4.844x for level 3 tuned as below and 557 MB/s at 4.824x for the log's level 1.
        if frames == .compacted && level == 3 {
            // Level 3's tables are sized for files larger than a 1 MiB frame. Tables that fit the
            // caches and matches of at least 6 bytes compress compacted frames 22% faster and 0.6%
            // smaller (zstd's own benchmark on 155 MB of split frame bodies of the gen-events corpus,
            // 1 MiB blocks: 411 MB/s, 6.011x against 328-344 MB/s, 5.975x).
            _ = ZSTD_CCtx_setParameter(context, ZSTD_c_chainLog, 11)
            _ = ZSTD_CCtx_setParameter(context, ZSTD_c_hashLog, 14)
            _ = ZSTD_CCtx_setParameter(context, ZSTD_c_minMatch, 6)
        } else if level == 1 && frames == .log {
            // Level 1 is tuned for whole files. For independent 256 KiB frames of NDJSON, the double-fast
            // strategy with small tables compresses about 6% smaller at the same speed and decompresses
            // about 12% faster (StoreBench on the gen-events corpus: 5.31x against 5.01x).
            _ = ZSTD_CCtx_setParameter(context, ZSTD_c_strategy, Int32(ZSTD_dfast.rawValue))
            _ = ZSTD_CCtx_setParameter(context, ZSTD_c_chainLog, 10)
            _ = ZSTD_CCtx_setParameter(context, ZSTD_c_hashLog, 13)
        }
        // The frame's own CRC-32C covers the payload; zstd's content checksum would be a second pass.
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 0)
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)
    }

    deinit {
        ZSTD_freeCCtx(context)
    }

    static func bound(_ count: Int) -> Int {
        ZSTD_compressBound(count)
    }

    /// Compresses `source` into `destination` (which must hold `bound(source.count)` bytes); returns
    /// the compressed length.
    func compress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws(StorageError) -> Int {
        let result = ZSTD_compress2(context, destination.baseAddress, destination.count, source.baseAddress, source.count)
        if ZSTD_isError(result) != 0 {
            throw StorageError(code: .ioError, message: "zstd compression failed: \(String(cString: ZSTD_getErrorName(result)))")
        }
        return result
    }
}

/// A zstd decompression context. One per reader; cheap to keep around.
final class ZstdDecompressor {
    private let context: OpaquePointer

    init() {
        context = ZSTD_createDCtx()!
    }

    deinit {
        ZSTD_freeDCtx(context)
    }

    /// Decompresses exactly one frame of known decompressed size. A frame that decodes to a different
    /// size is corrupt, whatever zstd thinks.
    func decompress(_ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> Bool {
        let result = ZSTD_decompressDCtx(context, destination.baseAddress, destination.count, source.baseAddress, source.count)
        return ZSTD_isError(result) == 0 && result == destination.count
    }
}
