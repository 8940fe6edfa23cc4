import Synchronization
import Logging

/// Everything the writer thread owns: the active segment, the frame being filled, framed bytes not
/// yet written, and the completions of appends not yet committed.
final class WriterContext: @unchecked Sendable {
    // @unchecked: built by the thread that opens the log, then used by the writer thread alone.
    private let log: SegmentLog
    private let configuration: SegmentLog.Configuration
    private var active: ActiveSegment
    private let compressor: ZstdCompressor
    private var frame: FrameBuilder
    private var output: [UInt8] = []
    private var outputFrames: [SegmentFooter.FrameEntry] = []
    private var completions: [(SegmentLog.Completion, Range<UInt64>)] = []
    private var flushRequests: [@Sendable () -> Void] = []
    private var index = IndexWork()
    private var sealedCatalog: [CatalogEntry] = []
    /// Bytes taken from the queue since the last commit (released from back-pressure at commit).
    private var takenBytes = 0
    private var takenNextSequence: UInt64
    private var hasUncommitted = false
    private var writtenSinceSync = false
    private var lastCommit: UInt64 = monotonicNanoseconds()
    private var diskFullRetryAt: UInt64? = nil

    /// Framed bytes above this are written before the commit, to bound memory.
    private static let maxOutputBytes = 8 << 20

    init(log: SegmentLog, active: ActiveSegment) {
        self.log = log
        configuration = log.configuration
        self.active = active
        compressor = ZstdCompressor(level: configuration.compressionLevel)
        frame = FrameBuilder(capacity: configuration.frameBytes)
        takenNextSequence = active.nextSequence
        output.reserveCapacity(Self.maxOutputBytes + configuration.frameBytes)
    }

    private var interval: UInt64 { UInt64(max(0, configuration.commitIntervalMilliseconds)) * 1_000_000 }

    func run() {
        let mode = configuration.fsync
        while true {
            let now = monotonicNanoseconds()
            var deadline = now + UInt64(max(1, configuration.heartbeatMilliseconds)) * 1_000_000
            if hasUncommitted { deadline = min(deadline, mode == .always ? now : lastCommit + interval) }
            if let retry = diskFullRetryAt { deadline = min(deadline, retry) }
            let (pending, requests, closing) = log.state.wait(
                until: { state in state.closing || !state.flushRequests.isEmpty || !state.queue.isEmpty },
                deadlineNanoseconds: deadline
            ) { state in
                defer {
                    state.queue.removeAll(keepingCapacity: true)
                    state.queuedBytes = 0
                    state.flushRequests.removeAll()
                }
                return (state.queue, state.flushRequests, state.closing)
            }
            log.statistics.lastWriterTurn.store(monotonicNanoseconds(), ordering: .relaxed)
            flushRequests.append(contentsOf: requests)
            for item in pending { take(item) }

            let turn = monotonicNanoseconds()
            if let retry = diskFullRetryAt, turn < retry, !closing { continue }
            let due = hasUncommitted && (mode == .always || turn >= lastCommit + interval)
            if due || closing || !flushRequests.isEmpty {
                let done = commit(sync: mode != .never || closing)
                if !done && closing {
                    abandonUncommitted(StorageError(code: .diskFull, message: "shutting down with the disk full"))
                }
            } else if output.count >= Self.maxOutputBytes {
                _ = writeOutput()
            }
            if closing {
                let remaining = log.state.withLock { !$0.queue.isEmpty }
                if !remaining {
                    log.finishClose(flushRequests: flushRequests)
                    return
                }
            }
            rotateIfOld()
        }
    }

    // MARK: - Framing

    private func take(_ item: SegmentLog.Pending) {
        let frameBytes = configuration.frameBytes
        var sequence = item.firstSequence
        item.batch.bytes.withUnsafeBytes { raw in
            var records = BatchRecordIterator(raw)
            while let record = records.next() {
                if frame.isEmpty {
                    frame.begin(firstSequence: sequence, indexStart: index.entries.count)
                } else if frame.byteCount(adding: record) > frameBytes {
                    finishFrame()
                    frame.begin(firstSequence: sequence, indexStart: index.entries.count)
                }
                frame.add(record)
                noteKeys(record)
                sequence += 1
            }
        }
        takenNextSequence = sequence
        takenBytes += item.batch.byteCount
        hasUncommitted = true
        if let completion = item.completion {
            completions.append((completion, item.firstSequence..<sequence))
        }
    }

    /// Puts a record's keys into the commit's index work and the segment's key summary.
    private func noteKeys(_ record: BatchRecord) {
        guard record.keyCount > 0 else { return }
        record.forEachKey { space, key in
            if !index.lastEntryMatches(space: space, key: key, since: frame.indexStart) {
                index.add(space: space, key: key, location: FrameLocation(segment: 0, offset: 0))
            }
            active.noteKey(space, hash: keyHash(key))
        }
    }

    private func finishFrame() {
        let offset = active.size + Int64(output.count)
        let header: FrameHeader
        do {
            header = try frame.finish(into: &output, compressor: compressor)
        } catch {
            // zstd fails only when memory does; nothing sensible remains to do.
            fatalError("frame compression failed: \(error)")
        }
        index.setLocation(FrameLocation(segment: active.id, offset: offset), from: frame.indexStart)
        outputFrames.append(SegmentFooter.FrameEntry(
            offset: offset, firstSequence: header.firstSequence, recordCount: header.recordCount,
            payloadLength: header.payloadLength, uncompressedLength: header.uncompressedLength,
            minReceiveTime: header.minReceiveTime, maxReceiveTime: header.maxReceiveTime))
        log.statistics.framesWritten.add(1, ordering: .relaxed)
        log.statistics.uncompressedBytes.add(Int(header.uncompressedLength), ordering: .relaxed)
        log.statistics.compressedBytes.add(header.frameLength, ordering: .relaxed)
    }

    // MARK: - Writing and committing

    /// Writes framed bytes to the active segment. False when the disk is full (everything is kept
    /// for a retry); other failures fail the pending appends and move to a new segment.
    private func writeOutput() -> Bool {
        guard !output.isEmpty else { return true }
        if let available = FileSystem.availableBytes(log.directory),
           available - Int64(output.count) < configuration.minFreeBytes {
            return diskFull()
        }
        do {
            try active.append(output, frames: outputFrames)
        } catch let error where error.code == .diskFull {
            return diskFull()
        } catch {
            log.statistics.writeErrors.add(1, ordering: .relaxed)
            failCommit(error)
            return true
        }
        diskFullRetryAt = nil
        log.setDiskFull(false)
        log.framesWritten(outputFrames)
        output.removeAll(keepingCapacity: true)
        outputFrames.removeAll(keepingCapacity: true)
        writtenSinceSync = true
        if active.size >= configuration.maxSegmentBytes { rotate() }
        return true
    }

    private func diskFull() -> Bool {
        log.statistics.diskFullStalls.add(1, ordering: .relaxed)
        log.setDiskFull(true)
        diskFullRetryAt = monotonicNanoseconds() + UInt64(max(1, configuration.diskFullRetryMilliseconds)) * 1_000_000
        return false
    }

    /// Makes everything taken so far durable and completes it. False when the disk is full.
    private func commit(sync: Bool) -> Bool {
        if !frame.isEmpty { finishFrame() }
        guard writeOutput() else { return false }
        if sync && writtenSinceSync {
            let start = monotonicNanoseconds()
            do {
                try active.sync()
            } catch {
                log.statistics.fsyncErrors.add(1, ordering: .relaxed)
                failCommit(error)
                return true
            }
            log.statistics.fsyncs.add(1, ordering: .relaxed)
            log.statistics.fsyncLatency.record(microseconds: Int((monotonicNanoseconds() - start) / 1000))
            writtenSinceSync = false
        }
        publish { commit, done, bytes in log.committed(commit, completions: done, bytes: bytes) }
        return true
    }

    /// After a failed write or fsync nobody knows what reached the disk ("fsyncgate"): the pending
    /// appends fail (clients that asked for acks resend them) and writing moves to a fresh segment.
    /// The old one is left unsealed; the next start-up checks it frame by frame and seals it.
    private func failCommit(_ error: StorageError) {
        output.removeAll(keepingCapacity: true)
        outputFrames.removeAll(keepingCapacity: true)
        // Move on first, so that whoever learns of the failure finds the new segment in place.
        sealedCatalog.append(active.catalogEntry(sealed: false))
        do {
            try startSegment()
        } catch {
            log.log.error("log.new-segment-failed", metadata: ["error": "\(error)"])
        }
        publish { commit, done, bytes in
            log.failed(error, completions: done, bytes: bytes)
            log.committed(commit, completions: [], bytes: 0)
        }
    }

    /// Drops what could not be written (shutdown with the disk full): their appends fail.
    private func abandonUncommitted(_ error: StorageError) {
        output.removeAll()
        outputFrames.removeAll()
        frame.discard()
        publish { commit, done, bytes in
            log.failed(error, completions: done, bytes: bytes)
            log.committed(commit, completions: [], bytes: 0)
        }
    }

    private func publish(_ deliver: (SegmentLog.Commit, [(SegmentLog.Completion, Range<UInt64>)], Int) -> Void) {
        index.highWaterMark = takenNextSequence
        let commit = SegmentLog.Commit(index: index, catalog: sealedCatalog + [active.catalogEntry(sealed: false)],
                                       durableSequence: takenNextSequence)
        let done = completions
        let bytes = takenBytes
        index = IndexWork()
        sealedCatalog.removeAll()
        completions.removeAll(keepingCapacity: true)
        takenBytes = 0
        hasUncommitted = false
        lastCommit = monotonicNanoseconds()
        log.statistics.commits.add(1, ordering: .relaxed)
        log.statistics.committedRecords.add(done.reduce(0) { $0 + $1.1.count }, ordering: .relaxed)
        deliver(commit, done, bytes)
        let requests = flushRequests
        flushRequests.removeAll()
        for request in requests { request() }
    }

    // MARK: - Rotation

    private func rotateIfOld() {
        guard active.recordCount > 0, output.isEmpty, frame.isEmpty, !hasUncommitted else { return }
        let age = configuration.clock.microseconds() - active.header.createdAt
        guard age >= configuration.maxSegmentAgeMilliseconds * 1000 else { return }
        rotate()
        // Nothing else may be written for a while: the index learns of the seal now, not at the
        // next commit (compaction takes only segments the index knows are sealed).
        publish { commit, done, bytes in log.committed(commit, completions: done, bytes: bytes) }
    }

    /// Seals the active segment and starts the next one. Everything in the sealed segment is synced
    /// by the seal, whatever the fsync policy.
    private func rotate() {
        do {
            try active.seal()
        } catch {
            log.log.error("log.seal-failed", metadata: ["segment.id": "\(active.id)", "error": "\(error)"])
            if error.code == .diskFull { _ = diskFull() }
            return
        }
        writtenSinceSync = false
        sealedCatalog.append(active.catalogEntry(sealed: true))
        log.statistics.segmentsSealed.add(1, ordering: .relaxed)
        do {
            try startSegment()
        } catch {
            log.log.error("log.new-segment-failed", metadata: ["error": "\(error)"])
        }
    }

    private func startSegment() throws(StorageError) {
        let next = try ActiveSegment.create(directory: log.directory, id: active.id + 1, kind: log.kind,
                                            firstSequence: takenNextSequence,
                                            createdAt: configuration.clock.microseconds(), faults: configuration.faults)
        active = next
        log.segmentStarted(next.info)
        log.statistics.segmentsCreated.add(1, ordering: .relaxed)
    }
}
