import CLMDB

/// A write to the document store: small values the layers above keep beside the index (the
/// assembler's trace summaries, say), each under a namespace and a key, optionally listed in an
/// ordered view (by time, say). Derived data like the rest of the index: whoever writes it can
/// rebuild it from the log.
public struct DocumentWrite: Sendable, Hashable {
    public var namespace: UInt8
    public var key: [UInt8]
    /// nil deletes.
    public var value: [UInt8]?
    /// Where the document sits in the namespace's ordered view; nil keeps it out of it.
    public var orderKey: [UInt8]?

    public init(namespace: UInt8, key: [UInt8], value: [UInt8]?, orderKey: [UInt8]? = nil) {
        self.namespace = namespace
        self.key = key
        self.value = value
        self.orderKey = orderKey
    }
}

/// Documents in LMDB: `documents` maps namespace + key to (order key, value); `document-order` maps
/// namespace + order key + key to the key, so a namespace can be walked in order.
extension IndexStore {
    static let documentDatabases: [LMDBEnvironment.Database] = [
        .init(name: "documents", flags: 0),
        .init(name: "document-order", flags: 0),
    ]

    func applyDocuments(_ writes: [DocumentWrite], txn: OpaquePointer) throws(StorageError) {
        guard let documents = environment.dbi("documents"), let order = environment.dbi("document-order") else {
            throw StorageError(code: .indexUnavailable, message: "index has no documents table")
        }
        for write in writes {
            let key = [write.namespace] + write.key
            // The previous order entry goes, whatever comes next.
            if let previous = try document(namespace: write.namespace, key: write.key, txn: txn), let oldOrder = previous.orderKey {
                try withValues([write.namespace] + oldOrder + write.key, []) { (k, _) throws(StorageError) in
                    let rc = mdb_del(txn, order, &k, nil)
                    if rc != MDB_NOTFOUND { try LMDBEnvironment.check(rc, "mdb_del document-order") }
                }
            }
            guard let value = write.value else {
                try withValues(key, []) { (k, _) throws(StorageError) in
                    let rc = mdb_del(txn, documents, &k, nil)
                    if rc != MDB_NOTFOUND { try LMDBEnvironment.check(rc, "mdb_del documents") }
                }
                continue
            }
            var stored: [UInt8] = []
            stored.reserveCapacity(value.count + (write.orderKey?.count ?? 0) + 2)
            stored.appendLE(UInt16(write.orderKey?.count ?? 0xFFFF))
            stored.append(contentsOf: write.orderKey ?? [])
            stored.append(contentsOf: value)
            try withValues(key, stored) { (k, v) throws(StorageError) in
                try LMDBEnvironment.check(mdb_put(txn, documents, &k, &v, 0), "mdb_put documents")
            }
            if let orderKey = write.orderKey {
                try withValues([write.namespace] + orderKey + write.key, write.key) { (k, v) throws(StorageError) in
                    try LMDBEnvironment.check(mdb_put(txn, order, &k, &v, 0), "mdb_put document-order")
                }
            }
        }
    }

    func document(namespace: UInt8, key: [UInt8], txn: OpaquePointer) throws(StorageError) -> (orderKey: [UInt8]?, value: [UInt8])? {
        guard let documents = environment.dbi("documents") else { return nil }
        return try withValues([namespace] + key, []) { (k, v) throws(StorageError) -> (orderKey: [UInt8]?, value: [UInt8])? in
            let rc = mdb_get(txn, documents, &k, &v)
            if rc == MDB_NOTFOUND { return nil }
            try LMDBEnvironment.check(rc, "mdb_get documents")
            return Self.decodeDocument(v.bytes)
        }
    }

    static func decodeDocument(_ bytes: UnsafeRawBufferPointer) -> (orderKey: [UInt8]?, value: [UInt8])? {
        guard bytes.count >= 2 else { return nil }
        let length = Int(bytes.loadLE(UInt16.self, at: 0))
        if length == 0xFFFF { return (nil, Array(bytes[2...])) }
        guard bytes.count >= 2 + length else { return nil }
        return (Array(bytes[2..<2 + length]), Array(bytes[(2 + length)...]))
    }

    /// Walks a namespace's ordered view. Ascending starts at `after` (exclusive) or the beginning;
    /// descending starts just below `after` or at the end. `after` is a position `body` was given.
    /// `body` gets the position, the document key and the value, and returns false to stop.
    func walkDocuments(namespace: UInt8, descending: Bool, after: [UInt8]?,
                       _ body: (_ position: [UInt8], _ key: [UInt8], _ value: [UInt8]) -> Bool) throws(StorageError) {
        guard let documents = environment.dbi("documents"), let order = environment.dbi("document-order") else { return }
        try environment.withRead { (txn) throws(StorageError) in
            var cursor: OpaquePointer?
            try LMDBEnvironment.check(mdb_cursor_open(txn, order, &cursor), "mdb_cursor_open")
            defer { mdb_cursor_close(cursor) }
            var k = MDB_val()
            var v = MDB_val()
            let seek: [UInt8] = after ?? (descending ? [namespace &+ 1] : [namespace])
            var rc = seek.withUnsafeBytes { raw -> Int32 in
                k = MDB_val(raw)
                return mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
            }
            if descending {
                rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cursor, &k, &v, MDB_LAST) : mdb_cursor_get(cursor, &k, &v, MDB_PREV)
            } else if after != nil, rc == MDB_SUCCESS, k.bytes.elementsEqual(seek) {
                rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
            }
            while rc == MDB_SUCCESS {
                let position = Array(k.bytes)
                guard position.first == namespace else { break }
                let key = Array(v.bytes)
                var dk = MDB_val()
                var dv = MDB_val()
                let found = ([namespace] + key).withUnsafeBytes { raw -> Int32 in
                    dk = MDB_val(raw)
                    return mdb_get(txn, documents, &dk, &dv)
                }
                if found == MDB_SUCCESS, let document = Self.decodeDocument(dv.bytes) {
                    if !body(position, key, document.value) { break }
                }
                rc = mdb_cursor_get(cursor, &k, &v, descending ? MDB_PREV : MDB_NEXT)
            }
            if rc != MDB_SUCCESS && rc != MDB_NOTFOUND { try LMDBEnvironment.check(rc, "mdb_cursor_get document-order") }
        }
    }

    /// Every document, for carrying them over a rebuild of the index.
    func allDocuments() throws(StorageError) -> [DocumentWrite] {
        guard let documents = environment.dbi("documents") else { return [] }
        return try environment.withRead { (txn) throws(StorageError) -> [DocumentWrite] in
            var cursor: OpaquePointer?
            try LMDBEnvironment.check(mdb_cursor_open(txn, documents, &cursor), "mdb_cursor_open")
            defer { mdb_cursor_close(cursor) }
            var writes: [DocumentWrite] = []
            var k = MDB_val()
            var v = MDB_val()
            var rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
            while rc == MDB_SUCCESS {
                let key = k.bytes
                if key.count >= 1, let document = Self.decodeDocument(v.bytes) {
                    writes.append(DocumentWrite(namespace: key[0], key: Array(key[1...]), value: document.value,
                                                orderKey: document.orderKey))
                }
                rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
            }
            if rc != MDB_NOTFOUND { try LMDBEnvironment.check(rc, "mdb_cursor_get documents") }
            return writes
        }
    }
}
