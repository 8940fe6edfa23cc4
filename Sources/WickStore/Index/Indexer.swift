import Logging
import Synchronization

/// The one writer of the LMDB index. Group commits of the event log arrive here; the indexer merges
/// whatever queued up, sorts it, and applies it in one transaction that also advances the
/// high-water mark. It also runs retention and clears stale LMDB readers. A dedicated thread:
/// `mdb_txn_commit` blocks and must not suspend mid-transaction.
final class Indexer: Sendable {
    struct State {
        var commits: [SegmentLog.Commit] = []
        var closing = false
        var retentionRequested = false
    }

    let index: IndexStore
    private let state = ConditionLock(State())
    private let thread = Mutex<WorkerThread?>(nil)
    private let logger: Logger
    /// Everything below is indexed (mirrors the LMDB meta value, for lock-free reads).
    let highWaterMark: Atomic<UInt64>
    let indexedCommits = Atomic<Int>(0)
    let indexErrors = Atomic<Int>(0)
    let retentionDeletedSegments = Atomic<Int>(0)
    let retentionLostRecords = Atomic<Int>(0)
    let retentionBlocked = Atomic<Int>(0)

    init(index: IndexStore, highWaterMark: UInt64, logger: Logger) {
        self.index = index
        self.logger = logger
        self.highWaterMark = Atomic(highWaterMark)
    }

    /// Starts the thread. `retention` runs on it every `interval`, and whenever requested.
    func start(interval milliseconds: Int64, retention: @escaping @Sendable () -> Void) {
        // Below ingest and the writer in priority: the index may trail (lookups read past its
        // high-water mark), while a listener's kernel buffer and the writer's queue must keep moving.
        let worker = WorkerThread(name: "wick-indexer", nice: 10) { [self] in
            run(intervalNanoseconds: UInt64(max(1, milliseconds)) * 1_000_000, retention: retention)
        }
        thread.withLock { $0 = worker }
    }

    /// Called by the log's writer after each group commit.
    func submit(_ commit: SegmentLog.Commit) {
        state.withLockSignal { $0.commits.append(commit) }
    }

    func requestRetention() {
        state.withLockSignal { $0.retentionRequested = true }
    }

    /// Applies what is queued, then stops the thread.
    func close() {
        let worker: WorkerThread? = thread.withLock { thread in
            defer { thread = nil }
            return thread
        }
        guard let worker else { return }
        state.withLockSignal { $0.closing = true }
        worker.join()
    }

    private func run(intervalNanoseconds: UInt64, retention: @Sendable () -> Void) {
        var nextMaintenance = monotonicNanoseconds() + intervalNanoseconds
        while true {
            let (commits, closing, retentionNow) = state.wait(
                until: { !$0.commits.isEmpty || $0.closing || $0.retentionRequested },
                deadlineNanoseconds: nextMaintenance
            ) { state in
                defer {
                    state.commits.removeAll(keepingCapacity: true)
                    state.retentionRequested = false
                }
                return (state.commits, state.closing, state.retentionRequested)
            }
            if !commits.isEmpty { apply(commits) }
            if closing { return }
            if retentionNow || monotonicNanoseconds() >= nextMaintenance {
                index.environment.clearStaleReaders()
                retention()
                nextMaintenance = monotonicNanoseconds() + intervalNanoseconds
            }
        }
    }

    private func apply(_ commits: [SegmentLog.Commit]) {
        var work = commits[0].index
        for commit in commits.dropFirst() { work.append(commit.index) }
        work.sortAndDeduplicate()
        var catalog: [UInt64: CatalogEntry] = [:]
        for commit in commits {
            for entry in commit.catalog { catalog[entry.segmentID] = entry }
        }
        let high = commits.map(\.durableSequence).max() ?? 0
        work.highWaterMark = high
        let batch = work
        do {
            try index.environment.withWrite { (txn) throws(StorageError) in
                try index.apply(batch, txn: txn)
                for entry in catalog.values.sorted(by: { $0.segmentID < $1.segmentID }) {
                    try index.putSegment(entry, txn: txn)
                }
            }
            highWaterMark.store(high, ordering: .releasing)
            indexedCommits.add(commits.count, ordering: .relaxed)
            if catalog.values.contains(where: \.sealed) {
                // A segment was just sealed: the moment the disk budget may have been crossed.
                state.withLock { $0.retentionRequested = true }
            }
        } catch {
            // The log is still the truth; the next start-up catches the index up from it.
            indexErrors.add(1, ordering: .relaxed)
            logger.error("index.commit-failed", metadata: ["error": "\(error)"])
        }
    }
}
