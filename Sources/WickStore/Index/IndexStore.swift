import CLMDB

/// The LMDB side of the store: index key → frame locations, the segment catalog, named cursors, and
/// meta values (the index high-water mark above all). All of it is derived from the segments and can
/// be rebuilt from them; the one exception is cursors, which record what consumers have done.
///
/// Writes come from one thread (the indexer); reads from anywhere, in this process or another.
final class IndexStore: Sendable {
    static let formatVersion: UInt32 = 1
    static let databases: [LMDBEnvironment.Database] = [
        .init(name: "keys", flags: Int32(MDB_DUPSORT | MDB_DUPFIXED)),
        .init(name: "segments", flags: 0),
        .init(name: "cursors", flags: 0),
        .init(name: "meta", flags: 0),
    ] + documentDatabases

    let environment: LMDBEnvironment

    init(path: String, readOnly: Bool, initialMapSize: Int) throws(StorageError) {
        environment = try LMDBEnvironment(path: path, databases: Self.databases, readOnly: readOnly,
                                          initialMapSize: initialMapSize)
    }

    private func dbi(_ name: String) throws(StorageError) -> MDB_dbi {
        guard let dbi = environment.dbi(name) else {
            throw StorageError(code: .indexUnavailable, message: "index has no \(name) table")
        }
        return dbi
    }

    // MARK: - Meta

    enum MetaKey: String, CaseIterable {
        case formatVersion = "format-version"
        /// Every record with a sequence number below it is indexed.
        case highWaterMark = "high-water-mark"
        /// Every segment with a smaller id was retired (its file may still need unlinking).
        case retiredBelow = "retired-below"
        case retentionLostRecords = "retention.lost-records"
        case retentionDeletedSegments = "retention.deleted-segments"
        case recoveryTruncatedBytes = "recovery.truncated-bytes"
        case recoveryDroppedFrames = "recovery.dropped-frames"
        case recoveryRuns = "recovery.runs"
        /// Every raw record below it has been replaced by compacted records.
        case compactedBelow = "compacted-below"
        case compactionSegments = "compaction.segments"
        /// Raw segments deleted after compaction once every cursor had passed them.
        case compactionReleasedSegments = "compaction.released-segments"
        /// Compacted records replaced by newer ones (a later compaction merged late events in).
        case compactionSupersededRecords = "compaction.superseded-records"
    }

    func meta(_ key: MetaKey) throws(StorageError) -> UInt64? {
        try environment.withRead { (txn) throws(StorageError) -> UInt64? in try meta(key, txn: txn) }
    }

    func meta(_ key: MetaKey, txn: OpaquePointer) throws(StorageError) -> UInt64? {
        let dbi = try dbi("meta")
        return try withValues(Array(key.rawValue.utf8), []) { (k, v) throws(StorageError) -> UInt64? in
            let rc = mdb_get(txn, dbi, &k, &v)
            if rc == MDB_NOTFOUND { return nil }
            try LMDBEnvironment.check(rc, "mdb_get meta")
            guard v.mv_size == 8 else { return nil }
            return v.bytes.loadLE(UInt64.self, at: 0)
        }
    }

    func setMeta(_ key: MetaKey, _ value: UInt64, txn: OpaquePointer) throws(StorageError) {
        var bytes: [UInt8] = []
        bytes.appendLE(value)
        let dbi = try dbi("meta")
        try withValues(Array(key.rawValue.utf8), bytes) { (k, v) throws(StorageError) in
            try LMDBEnvironment.check(mdb_put(txn, dbi, &k, &v, 0), "mdb_put meta")
        }
    }

    func addMeta(_ key: MetaKey, _ delta: UInt64, txn: OpaquePointer) throws(StorageError) {
        guard delta > 0 else { return }
        try setMeta(key, (try meta(key, txn: txn) ?? 0) + delta, txn: txn)
    }

    func highWaterMark() throws(StorageError) -> UInt64 {
        try meta(.highWaterMark) ?? 0
    }

    /// Both as of one commit of the indexer.
    func highWaterMarkAndCatalog() throws(StorageError) -> (UInt64, [CatalogEntry]) {
        try environment.withRead { (txn) throws(StorageError) -> (UInt64, [CatalogEntry]) in
            (try meta(.highWaterMark, txn: txn) ?? 0, try segments(txn: txn))
        }
    }

    // MARK: - Keys

    /// Applies one commit's entries and advances the high-water mark in the same transaction.
    func apply(_ work: IndexWork, txn: OpaquePointer) throws(StorageError) {
        let dbi = try dbi("keys")
        for entry in work.entries {
            let value = IndexKeyEncoding.encode(entry.location)
            try work.withKey(entry) { (key) throws(StorageError) in
                try value.withBytes { (v) throws(StorageError) in
                    var keyVal = MDB_val(key)
                    var dataVal = MDB_val(v)
                    let rc = mdb_put(txn, dbi, &keyVal, &dataVal, UInt32(MDB_NODUPDATA))
                    if rc != MDB_KEYEXIST { try LMDBEnvironment.check(rc, "mdb_put keys") }
                }
            }
        }
        if work.highWaterMark > (try meta(.highWaterMark, txn: txn) ?? 0) {
            try setMeta(.highWaterMark, work.highWaterMark, txn: txn)
        }
    }

    /// Every frame location recorded for `key`, in (segment, offset) order.
    func locations(for key: IndexKey) throws(StorageError) -> [FrameLocation] {
        let dbi = try dbi("keys")
        return try environment.withRead { (txn) throws(StorageError) -> [FrameLocation] in
            var cursor: OpaquePointer?
            try LMDBEnvironment.check(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open")
            defer { mdb_cursor_close(cursor) }
            var locations: [FrameLocation] = []
            try withValues(IndexKeyEncoding.lmdbKey(key), []) { (k, v) throws(StorageError) in
                var rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_KEY)
                while rc == MDB_SUCCESS {
                    if let location = IndexKeyEncoding.decodeLocation(v.bytes) { locations.append(location) }
                    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT_DUP)
                }
                if rc != MDB_NOTFOUND { try LMDBEnvironment.check(rc, "mdb_cursor_get keys") }
            }
            return locations
        }
    }

    /// For each of `keys`, its entries that point into a segment that `wanted` accepts, in order
    /// (one read transaction for all: compaction asks this of every trace it writes).
    func locations(_ keys: [IndexKey], in wanted: (UInt64) -> Bool) throws(StorageError) -> [[FrameLocation]] {
        let dbi = try dbi("keys")
        return try environment.withRead { (txn) throws(StorageError) -> [[FrameLocation]] in
            var cursor: OpaquePointer?
            try LMDBEnvironment.check(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open")
            defer { mdb_cursor_close(cursor) }
            var found: [[FrameLocation]] = []
            found.reserveCapacity(keys.count)
            for key in keys {
                var locations: [FrameLocation] = []
                try withValues(IndexKeyEncoding.lmdbKey(key), []) { (k, v) throws(StorageError) in
                    var rc = mdb_cursor_get(cursor, &k, &v, MDB_SET_KEY)
                    while rc == MDB_SUCCESS {
                        if let location = IndexKeyEncoding.decodeLocation(v.bytes), wanted(location.segment) {
                            locations.append(location)
                        }
                        rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT_DUP)
                    }
                    if rc != MDB_NOTFOUND { try LMDBEnvironment.check(rc, "mdb_cursor_get keys") }
                }
                found.append(locations)
            }
            return found
        }
    }

    /// Removes the entries of `keys` that point into `segment` (used when a segment is retired).
    func removeEntries(segment: UInt64, keys: [[UInt8]], txn: OpaquePointer) throws(StorageError) -> Int {
        try removeEntries(segments: segment...segment, keys: keys, txn: txn)
    }

    /// Removes the entries of `keys` that point into any segment in `segments` (keys in LMDB form,
    /// sorted).
    func removeEntries(segments: ClosedRange<UInt64>, keys: [[UInt8]], txn: OpaquePointer) throws(StorageError) -> Int {
        try removeEntries(FrameLocation(segment: segments.lowerBound, offset: 0)...FrameLocation(segment: segments.upperBound, offset: .max),
                          keys: keys, txn: txn)
    }

    /// Removes the entries of `keys` whose location lies in `locations` (keys in LMDB form, sorted).
    func removeEntries(_ locations: ClosedRange<FrameLocation>, keys: [[UInt8]], txn: OpaquePointer) throws(StorageError) -> Int {
        let dbi = try dbi("keys")
        var cursor: OpaquePointer?
        try LMDBEnvironment.check(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var removed = 0
        let start = IndexKeyEncoding.encode(locations.lowerBound)
        for key in keys {
            // Collect the duplicates in range first (they sort together), then delete each exactly.
            var doomed: [[UInt8]] = []
            try withValues(key, start) { (k, v) throws(StorageError) in
                var rc = mdb_cursor_get(cursor, &k, &v, MDB_GET_BOTH_RANGE)
                while rc == MDB_SUCCESS {
                    guard let location = IndexKeyEncoding.decodeLocation(v.bytes), locations.contains(location) else { break }
                    doomed.append(Array(v.bytes))
                    rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT_DUP)
                }
                if rc != MDB_SUCCESS && rc != MDB_NOTFOUND { try LMDBEnvironment.check(rc, "mdb_cursor_get keys") }
            }
            for value in doomed {
                try withValues(key, value) { (k, v) throws(StorageError) in
                    let rc = mdb_del(txn, dbi, &k, &v)
                    if rc != MDB_NOTFOUND { try LMDBEnvironment.check(rc, "mdb_del keys") }
                }
                removed += 1
            }
        }
        return removed
    }

    /// Number of (key, location) entries.
    func entryCount() throws(StorageError) -> Int {
        let dbi = try dbi("keys")
        return try environment.withRead { (txn) throws(StorageError) -> Int in
            var stat = MDB_stat()
            try LMDBEnvironment.check(mdb_stat(txn, dbi, &stat), "mdb_stat")
            return stat.ms_entries
        }
    }

    /// Every (key, location) entry, in order: for comparing a rebuilt index with an incremental one.
    func allEntries() throws(StorageError) -> [([UInt8], FrameLocation)] {
        let dbi = try dbi("keys")
        return try environment.withRead { (txn) throws(StorageError) -> [([UInt8], FrameLocation)] in
            var cursor: OpaquePointer?
            try LMDBEnvironment.check(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open")
            defer { mdb_cursor_close(cursor) }
            var entries: [([UInt8], FrameLocation)] = []
            var k = MDB_val()
            var v = MDB_val()
            var rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
            while rc == MDB_SUCCESS {
                if let location = IndexKeyEncoding.decodeLocation(v.bytes) { entries.append((Array(k.bytes), location)) }
                rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
            }
            if rc != MDB_NOTFOUND { try LMDBEnvironment.check(rc, "mdb_cursor_get keys") }
            return entries
        }
    }

    // MARK: - Segment catalog

    func putSegment(_ entry: CatalogEntry, txn: OpaquePointer) throws(StorageError) {
        let dbi = try dbi("segments")
        try withValues(IndexKeyEncoding.encodeSegmentID(entry.segmentID), entry.encoded()) { (k, v) throws(StorageError) in
            try LMDBEnvironment.check(mdb_put(txn, dbi, &k, &v, 0), "mdb_put segments")
        }
    }

    func removeSegment(_ id: UInt64, txn: OpaquePointer) throws(StorageError) {
        let dbi = try dbi("segments")
        try withValues(IndexKeyEncoding.encodeSegmentID(id), []) { (k, _) throws(StorageError) in
            let rc = mdb_del(txn, dbi, &k, nil)
            if rc != MDB_NOTFOUND { try LMDBEnvironment.check(rc, "mdb_del segments") }
        }
    }

    func segments() throws(StorageError) -> [CatalogEntry] {
        try environment.withRead { (txn) throws(StorageError) -> [CatalogEntry] in try segments(txn: txn) }
    }

    func segments(txn: OpaquePointer) throws(StorageError) -> [CatalogEntry] {
        let dbi = try dbi("segments")
        var cursor: OpaquePointer?
        try LMDBEnvironment.check(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var entries: [CatalogEntry] = []
        var k = MDB_val()
        var v = MDB_val()
        var rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
        while rc == MDB_SUCCESS {
            if let entry = CatalogEntry.decode(v.bytes) { entries.append(entry) }
            rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
        }
        if rc != MDB_NOTFOUND { try LMDBEnvironment.check(rc, "mdb_cursor_get segments") }
        return entries
    }

    // MARK: - Cursors

    func cursor(_ name: String) throws(StorageError) -> UInt64? {
        try cursors()[name]
    }

    func setCursor(_ name: String, _ value: UInt64, txn: OpaquePointer) throws(StorageError) {
        let dbi = try dbi("cursors")
        var bytes: [UInt8] = []
        bytes.appendLE(value)
        try withValues(Array(name.utf8), bytes) { (k, v) throws(StorageError) in
            try LMDBEnvironment.check(mdb_put(txn, dbi, &k, &v, 0), "mdb_put cursors")
        }
    }

    func removeCursor(_ name: String, txn: OpaquePointer) throws(StorageError) {
        let dbi = try dbi("cursors")
        try withValues(Array(name.utf8), []) { (k, _) throws(StorageError) in
            let rc = mdb_del(txn, dbi, &k, nil)
            if rc != MDB_NOTFOUND { try LMDBEnvironment.check(rc, "mdb_del cursors") }
        }
    }

    func cursors() throws(StorageError) -> [String: UInt64] {
        try environment.withRead { (txn) throws(StorageError) -> [String: UInt64] in try cursors(txn: txn) }
    }

    func cursors(txn: OpaquePointer) throws(StorageError) -> [String: UInt64] {
        let dbi = try dbi("cursors")
        var cursor: OpaquePointer?
        try LMDBEnvironment.check(mdb_cursor_open(txn, dbi, &cursor), "mdb_cursor_open")
        defer { mdb_cursor_close(cursor) }
        var result: [String: UInt64] = [:]
        var k = MDB_val()
        var v = MDB_val()
        var rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
        while rc == MDB_SUCCESS {
            if v.mv_size == 8 {
                result[String(decoding: k.bytes, as: UTF8.self)] = v.bytes.loadLE(UInt64.self, at: 0)
            }
            rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
        }
        if rc != MDB_NOTFOUND { try LMDBEnvironment.check(rc, "mdb_cursor_get cursors") }
        return result
    }

    /// Empties everything derived (keys, catalog, high-water mark); cursors and loss counters stay.
    func clearDerived(txn: OpaquePointer) throws(StorageError) {
        try LMDBEnvironment.check(mdb_drop(txn, try dbi("keys"), 0), "mdb_drop keys")
        try LMDBEnvironment.check(mdb_drop(txn, try dbi("segments"), 0), "mdb_drop segments")
        try setMeta(.highWaterMark, 0, txn: txn)
    }
}
