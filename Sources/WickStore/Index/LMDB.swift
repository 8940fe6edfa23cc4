import CLMDB

#if canImport(Glibc)
import Glibc
#endif

/// A thin, checked wrapper over an LMDB environment. The environment is thread-safe; transactions are
/// not, and a write transaction must begin and commit on one thread without suspending, so every
/// transaction here is a synchronous closure (`withRead`, `withWrite`).
final class LMDBEnvironment: @unchecked Sendable {
    // @unchecked: the env pointer is thread-safe (opened with MDB_NOTLS); the `dbis` table is written
    // once during init and only read afterwards; `mapSize` is guarded by the writers' single thread
    // and LMDB's own resize protocol.
    let pointer: OpaquePointer
    let path: String
    let readOnly: Bool
    private(set) var mapSize: Int
    private var dbis: [String: MDB_dbi] = [:]
    /// Transactions hold it shared; growing the map holds it exclusively, because LMDB allows
    /// `mdb_env_set_mapsize` only while this process has no transaction open.
    private let resizeLock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)

    struct Database: Sendable, Hashable {
        var name: String
        var flags: Int32
    }

    init(path: String, databases: [Database], readOnly: Bool, initialMapSize: Int) throws(StorageError) {
        pthread_rwlock_init(resizeLock, nil)
        var env: OpaquePointer?
        try Self.check(mdb_env_create(&env), "mdb_env_create")
        guard let env else { throw StorageError(code: .indexUnavailable, message: "mdb_env_create returned nothing") }
        pointer = env
        self.path = path
        self.readOnly = readOnly
        mapSize = initialMapSize
        // From here on a throw runs deinit (every property is set), which closes the env.
        try Self.check(mdb_env_set_maxdbs(env, MDB_dbi(databases.count + 2)), "mdb_env_set_maxdbs")
        try Self.check(mdb_env_set_mapsize(env, initialMapSize), "mdb_env_set_mapsize")
        try Self.check(mdb_env_set_maxreaders(env, 256), "mdb_env_set_maxreaders")
        // NOTLS: Swift tasks hop threads. NOMETASYNC: the index is derived data; a crash may roll
        // back the last commit, which start-up catch-up redoes from the log.
        var flags = Int32(MDB_NOSUBDIR | MDB_NOTLS | MDB_NOMETASYNC)
        if readOnly { flags |= Int32(MDB_RDONLY) }
        try Self.check(mdb_env_open(env, path, UInt32(flags), 0o640), "mdb_env_open \(path)")
        var stale: Int32 = 0
        mdb_reader_check(env, &stale)
        var info = MDB_envinfo()
        if mdb_env_info(env, &info) == 0 { mapSize = info.me_mapsize }
        for database in databases {
            // A handle opened in a transaction lives on only if that transaction commits.
            try withTransaction(write: !readOnly, commitRead: true) { txn throws(StorageError) in
                var dbi = MDB_dbi()
                var flags = database.flags
                if !readOnly { flags |= Int32(MDB_CREATE) }
                let rc = mdb_dbi_open(txn, database.name, UInt32(flags), &dbi)
                if rc == MDB_NOTFOUND && readOnly { return }
                try Self.check(rc, "mdb_dbi_open \(database.name)")
                dbis[database.name] = dbi
            }
        }
    }

    deinit {
        mdb_env_close(pointer)
        pthread_rwlock_destroy(resizeLock)
        resizeLock.deallocate()
    }

    func dbi(_ name: String) -> MDB_dbi? {
        dbis[name]
    }

    /// Clears reader slots left by processes that died; returns how many.
    @discardableResult
    func clearStaleReaders() -> Int {
        var stale: Int32 = 0
        mdb_reader_check(pointer, &stale)
        return Int(stale)
    }

    func sync() throws(StorageError) {
        try Self.check(mdb_env_sync(pointer, 1), "mdb_env_sync")
    }

    /// A read-only transaction. Other processes may have grown the map: on MDB_MAP_RESIZED the map
    /// is re-read and the transaction retried.
    func withRead<R>(_ body: (OpaquePointer) throws(StorageError) -> R) throws(StorageError) -> R {
        try withTransaction(write: false, body)
    }

    /// A write transaction, committed when `body` returns. On MDB_MAP_FULL the map is doubled and
    /// `body` runs again from the start, so it must be repeatable (it only writes through `txn`).
    func withWrite<R>(_ body: (OpaquePointer) throws(StorageError) -> R) throws(StorageError) -> R {
        while true {
            do {
                return try withTransaction(write: true, body)
            } catch let error where error.isMapFull {
                try grow()
            }
        }
    }

    private func withTransaction<R>(write: Bool, commitRead: Bool = false, _ body: (OpaquePointer) throws(StorageError) -> R) throws(StorageError) -> R {
        pthread_rwlock_rdlock(resizeLock)
        defer { pthread_rwlock_unlock(resizeLock) }
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(pointer, nil, write ? 0 : UInt32(MDB_RDONLY), &txn)
        if rc == MDB_MAP_RESIZED {
            mdb_env_set_mapsize(pointer, 0)
            var info = MDB_envinfo()
            if mdb_env_info(pointer, &info) == 0 { mapSize = info.me_mapsize }
            rc = mdb_txn_begin(pointer, nil, write ? 0 : UInt32(MDB_RDONLY), &txn)
        }
        try Self.check(rc, "mdb_txn_begin")
        guard let txn else { throw StorageError(code: .indexUnavailable, message: "mdb_txn_begin returned nothing") }
        let result: R
        do {
            result = try body(txn)
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        if write || commitRead {
            // mdb_txn_commit frees the transaction whether or not it succeeds: no abort after it.
            try Self.check(mdb_txn_commit(txn), "mdb_txn_commit")
        } else {
            mdb_txn_abort(txn)
        }
        return result
    }

    /// Doubles the map. Only the writer thread calls this, with no transaction open in this process.
    private func grow() throws(StorageError) {
        pthread_rwlock_wrlock(resizeLock)
        defer { pthread_rwlock_unlock(resizeLock) }
        let next = mapSize * 2
        try Self.check(mdb_env_set_mapsize(pointer, next), "mdb_env_set_mapsize")
        mapSize = next
    }

    static func check(_ rc: Int32, _ what: @autoclosure () -> String) throws(StorageError) {
        guard rc != MDB_SUCCESS else { return }
        throw StorageError(code: .indexUnavailable, message: "\(what()): \(String(cString: mdb_strerror(rc)))",
                           cause: LMDBError(code: rc))
    }
}

/// An LMDB return code, kept as a `StorageError`'s cause.
struct LMDBError: Error, Sendable, Hashable {
    var code: Int32
}

extension StorageError {
    var isMapFull: Bool {
        (cause as? LMDBError)?.code == MDB_MAP_FULL
    }

    var lmdbCode: Int32? {
        (cause as? LMDBError)?.code
    }
}

// MARK: - Values

extension MDB_val {
    init(_ bytes: UnsafeRawBufferPointer) {
        self.init(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
    }

    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: mv_data, count: mv_size)
    }
}

/// Calls LMDB with `key` and `value` as MDB_vals.
func withValues<R>(_ key: [UInt8], _ value: [UInt8], _ body: (inout MDB_val, inout MDB_val) throws(StorageError) -> R) throws(StorageError) -> R {
    try key.withBytes { (k) throws(StorageError) -> R in
        try value.withBytes { (v) throws(StorageError) -> R in
            var keyVal = MDB_val(k)
            var dataVal = MDB_val(v)
            return try body(&keyVal, &dataVal)
        }
    }
}
