import Logging
import Synchronization

/// An append-only log of segment files with group commit: the store's source of truth.
///
/// Callers append encoded `RecordBatch`es from any thread; the log assigns sequence numbers at once
/// and calls each batch's completion after the group commit that made it durable (written, and
/// synced unless the policy is `never`). One dedicated writer thread does all file I/O: framing,
/// zstd, write, fsync, rotation. Appends never block: when the writer falls behind, `append`
/// reports overload and callers stop reading or drop (their choice), and `whenDrained` tells them
/// when to resume.
public final class SegmentLog: Sendable {
    public struct Configuration: Sendable {
        public enum FsyncMode: String, Sendable, CaseIterable {
            /// Every group commit is synced before its appends complete.
            case always
            /// Commits happen every `commitIntervalMilliseconds`, each synced.
            case interval
            /// Commits (writes to the OS) every `commitIntervalMilliseconds`, never synced.
            case never
        }

        public var fsync: FsyncMode = .interval
        public var commitIntervalMilliseconds: Int64 = 100
        public var maxSegmentBytes: Int64 = 128 << 20
        /// A segment with records is sealed once this old (receive time), even if not full.
        public var maxSegmentAgeMilliseconds: Int64 = 3_600_000
        public var frameBytes: Int = FrameHeader.targetUncompressedBytes
        public var compressionLevel: Int32 = 1
        /// Appended but not yet committed bytes above which `append` reports overload.
        public var maxPendingBytes: Int = 64 << 20
        /// Writes stop (back-pressure, not failure) while the file system has less free than this.
        public var minFreeBytes: Int64 = 64 << 20
        public var diskFullRetryMilliseconds: Int64 = 250
        /// The writer wakes at least this often, even idle, so its liveness can be watched.
        public var heartbeatMilliseconds: Int64 = 1000
        public var clock: ReceiveClock = .system
        public var faults: FaultInjector? = nil

        public init() {}
    }

    public typealias Completion = @Sendable (Result<Range<UInt64>, StorageError>) -> Void

    /// What one group commit did, for the indexer.
    struct Commit: Sendable {
        var index: IndexWork
        /// Catalog entries to write: the active segment's, and a just-sealed one's.
        var catalog: [CatalogEntry]
        /// Every record below this sequence number is durable.
        var durableSequence: UInt64
    }

    struct Pending {
        var batch: RecordBatch
        var firstSequence: UInt64
        var completion: Completion?
    }

    struct State {
        var queue: [Pending] = []
        var queuedBytes = 0
        /// Appended and not yet committed (queued or inside the writer): the back-pressure measure.
        var uncommittedBytes = 0
        var nextSequence: UInt64
        var durableSequence: UInt64
        var closing = false
        var closed = false
        var flushRequests: [@Sendable () -> Void] = []
        var overloaded = false
        var drainWaiters: [@Sendable () -> Void] = []
        var segments: [SegmentInfo]
        /// Frames of the active segment that are completely written (readers in this process use
        /// them instead of walking a file that is growing under them).
        var activeFrames: [SegmentFooter.FrameEntry]
        var diskFull = false
    }

    public let configuration: Configuration
    public let directory: String
    public let kind: SegmentKind
    public let statistics = LogStatistics()
    public let recovery: RecoveryReport
    let state: ConditionLock<State>
    private let writer: Mutex<WorkerThread?> = Mutex(nil)
    private let onCommit: (@Sendable (Commit) -> Void)?
    private let logger: Logger
    /// Lock-free copy of `State.durableSequence` for readers that poll.
    private let durable: Atomic<UInt64>
    private let overloadedFlag = Atomic<Bool>(false)
    /// (durable sequence, monotonic ns) of recent commits, oldest first: when a record became durable.
    private let commitTimes = Mutex<[(UInt64, UInt64)]>([])
    private static let commitTimesKept = 4096

    /// Recovers the log in `directory` and starts its writer.
    init(directory: String, kind: SegmentKind, configuration: Configuration, retiredBelow: UInt64,
         logger: Logger, onCommit: (@Sendable (Commit) -> Void)?, onRecovered: (RecoveredLog) throws(StorageError) -> Void) throws(StorageError) {
        self.configuration = configuration
        self.directory = directory
        self.kind = kind
        self.logger = logger
        self.onCommit = onCommit
        let recovered = try LogRecovery.recover(directory: directory, kind: kind, retiredBelow: retiredBelow,
                                                clock: configuration.clock, faults: configuration.faults, logger: logger)
        try onRecovered(recovered)
        recovery = recovered.report
        let next = recovered.active.nextSequence
        state = ConditionLock(State(nextSequence: next, durableSequence: next, segments: recovered.segments,
                                    activeFrames: recovered.active.frames))
        durable = Atomic(next)
        let context = WriterContext(log: self, active: recovered.active)
        writer.withLock { $0 = WorkerThread(name: "wick-writer") { context.run() } }
    }

    deinit {
        assert(state.withLock { $0.closed }, "SegmentLog was not closed before deinit")
    }

    // MARK: - Appending

    public struct AppendResult: Sendable {
        /// Sequence numbers given to the batch's records, in order.
        public var sequences: Range<UInt64>
        /// True when the writer is behind: stop reading (or drop) until `whenDrained` fires.
        public var overloaded: Bool
    }

    /// Queues a batch; `completion` runs on the writer thread once the batch is durable (or failed).
    /// Never blocks.
    @discardableResult
    public func append(_ batch: RecordBatch, completion: Completion?) -> AppendResult {
        precondition(!batch.isEmpty, "append of an empty batch")
        let bytes = batch.byteCount
        let result: (Range<UInt64>, Bool, Bool)? = state.withLock { state in
            guard !state.closing else { return nil }
            let wasEmpty = state.queue.isEmpty
            let first = state.nextSequence
            state.nextSequence += UInt64(batch.count)
            state.queue.append(Pending(batch: batch, firstSequence: first, completion: completion))
            state.queuedBytes += bytes
            state.uncommittedBytes += bytes
            if state.uncommittedBytes > configuration.maxPendingBytes && !state.overloaded {
                state.overloaded = true
                // Set under the lock, so that it can never disagree with the state for long.
                overloadedFlag.store(true, ordering: .relaxed)
            }
            return (first..<state.nextSequence, state.overloaded, wasEmpty)
        }
        guard let (sequences, overloaded, wake) = result else {
            completion?(.failure(StorageError(code: .closed, message: "append after close")))
            return AppendResult(sequences: 0..<0, overloaded: true)
        }
        statistics.appendedRecords.add(batch.count, ordering: .relaxed)
        statistics.appendedBytes.add(bytes, ordering: .relaxed)
        // The writer takes whatever is queued each time it wakes; it only needs waking when the
        // queue was empty (otherwise a wake-up is already on its way or it is busy).
        if wake {
            state.withLockSignal { _ in }
        }
        return AppendResult(sequences: sequences, overloaded: overloaded)
    }

    /// Appends and waits until durable.
    public func append(_ batch: RecordBatch) async throws(StorageError) -> Range<UInt64> {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Range<UInt64>, StorageError>, Never>) in
            append(batch) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Appends and blocks the calling thread until the batch is durable: for threads of their own
    /// (`wick import`), never an event loop or Swift's cooperative pool.
    public func appendAndWait(_ batch: RecordBatch) throws(StorageError) -> Range<UInt64> {
        let done = ConditionLock<Result<Range<UInt64>, StorageError>?>(nil)
        append(batch) { result in done.withLockSignal { $0 = result } }
        return try done.wait(until: { $0 != nil }, deadlineNanoseconds: nil) { $0! }.get()
    }

    /// True while appended-but-uncommitted bytes exceed `maxPendingBytes`.
    public var isOverloaded: Bool { overloadedFlag.load(ordering: .relaxed) }

    /// Runs `body` once the log is no longer overloaded (at once if it is not).
    public func whenDrained(_ body: @escaping @Sendable () -> Void) {
        let now: Bool = state.withLock { state in
            if state.overloaded || state.closing && !state.closed {
                state.drainWaiters.append(body)
                return false
            }
            return true
        }
        if now { body() }
    }

    /// Commits whatever is pending now, without waiting for the interval; `body` runs after.
    public func flush(_ body: @escaping @Sendable () -> Void) {
        let closed = state.withLockSignal { state in
            if state.closed { return true }
            state.flushRequests.append(body)
            return false
        }
        if closed { body() }
    }

    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            flush { continuation.resume() }
        }
    }

    // MARK: - Reading state

    /// Every record with a smaller sequence number is durable.
    public var durableSequence: UInt64 { durable.load(ordering: .acquiring) }

    /// Monotonic nanoseconds of the commit that made `sequence` durable, while it is recent enough
    /// to be remembered (for lag measurements of consumers).
    public func durableTime(of sequence: UInt64) -> UInt64? {
        commitTimes.withLock { times in
            var low = 0
            var high = times.count
            while low < high {
                let mid = (low + high) / 2
                if times[mid].0 <= sequence { low = mid + 1 } else { high = mid }
            }
            return low < times.count ? times[low].1 : nil
        }
    }

    /// Monotonic nanoseconds now, on the clock `durableTime` uses.
    public static func monotonicNow() -> UInt64 { monotonicNanoseconds() }

    /// The sequence number the next appended record will get.
    public var nextSequence: UInt64 { state.withLock { $0.nextSequence } }

    /// The segments, oldest first; the last is the active one.
    public var segments: [SegmentInfo] { state.withLock { $0.segments } }

    public var isDiskFull: Bool { state.withLock { $0.diskFull } }

    /// Appended bytes not yet committed (the measure back-pressure acts on).
    public var pendingBytes: Int { state.withLock { $0.uncommittedBytes } }

    /// Bytes of this log's segment files on disk.
    public var diskBytes: Int64 {
        segments.reduce(0) { $0 + (FileSystem.fileSize($1.path) ?? 0) }
    }

    // MARK: - Closing

    /// Commits everything appended so far (synced, whatever the policy), then stops the writer.
    /// Appends after this fail with `.closed`.
    public func close() {
        let thread: WorkerThread? = writer.withLock { thread in
            defer { thread = nil }
            return thread
        }
        guard let thread else { return }
        state.withLockSignal { $0.closing = true }
        thread.join()
    }

    // MARK: - Writer-side hooks

    func committed(_ commit: Commit, completions: [(Completion, Range<UInt64>)], bytes: Int) {
        let drained: [@Sendable () -> Void] = state.withLock { state in
            state.durableSequence = commit.durableSequence
            state.uncommittedBytes -= bytes
            if state.overloaded && state.uncommittedBytes <= configuration.maxPendingBytes / 2 {
                state.overloaded = false
                overloadedFlag.store(false, ordering: .relaxed)
                defer { state.drainWaiters.removeAll() }
                return state.drainWaiters
            }
            return []
        }
        durable.store(commit.durableSequence, ordering: .releasing)
        let now = monotonicNanoseconds()
        commitTimes.withLock { times in
            times.append((commit.durableSequence, now))
            if times.count > Self.commitTimesKept * 2 { times.removeFirst(times.count - Self.commitTimesKept) }
        }
        onCommit?(commit)
        for (completion, range) in completions { completion(.success(range)) }
        for waiter in drained { waiter() }
    }

    func failed(_ error: StorageError, completions: [(Completion, Range<UInt64>)], bytes: Int) {
        // The commit that follows a failure releases the overload, if any.
        state.withLock { $0.uncommittedBytes -= bytes }
        logger.error("log.commit-failed", metadata: ["log.directory": "\(directory)", "error": "\(error)"])
        for (completion, _) in completions { completion(.failure(error)) }
    }

    /// The writer moved on to a new segment; every earlier one is sealed (or, after a failed fsync,
    /// abandoned unsealed: readers then scan it).
    func segmentStarted(_ info: SegmentInfo) {
        state.withLock { state in
            if let last = state.segments.indices.last { state.segments[last].sealed = true }
            state.segments.append(info)
            state.activeFrames.removeAll()
        }
    }

    func framesWritten(_ frames: [SegmentFooter.FrameEntry]) {
        state.withLock { $0.activeFrames.append(contentsOf: frames) }
    }

    /// The written frames of segment `id` ending after `sequence`, when `id` is the active segment.
    func liveFrames(segment id: UInt64, after sequence: UInt64) -> [SegmentFooter.FrameEntry]? {
        state.withLock { state in
            guard let last = state.segments.last, last.id == id else { return nil }
            let frames = state.activeFrames
            var low = 0
            var high = frames.count
            while low < high {
                let mid = (low + high) / 2
                if frames[mid].firstSequence + UInt64(frames[mid].recordCount) <= sequence { low = mid + 1 } else { high = mid }
            }
            return Array(frames[low...])
        }
    }

    /// A reader of this log's records (use the durable sequence as its limit when tailing).
    public func reader() -> LogReader {
        LogReader(segments: { [self] in segments }, liveFrames: { [self] in liveFrames(segment: $0, after: $1) })
    }

    /// Retention removed a segment.
    func segmentRetired(_ id: UInt64) {
        state.withLock { $0.segments.removeAll { $0.id == id } }
    }

    func setDiskFull(_ full: Bool) {
        let changed = state.withLock { state in
            defer { state.diskFull = full }
            return state.diskFull != full
        }
        if changed {
            if full {
                logger.error("log.disk-full", metadata: ["log.directory": "\(directory)"])
            } else {
                logger.notice("log.disk-space-back", metadata: ["log.directory": "\(directory)"])
            }
        }
    }

    func finishClose(flushRequests: [@Sendable () -> Void]) {
        let waiters: [@Sendable () -> Void] = state.withLock { state in
            state.closed = true
            defer { state.drainWaiters.removeAll() }
            return state.drainWaiters
        }
        for body in flushRequests { body() }
        for waiter in waiters { waiter() }
    }

    var log: Logger { logger }
}
