import Testing

@testable import WickStore
import WickTestSupport

/// The document store beside the index: what the assembler keeps its summaries in.
@Suite struct DocumentTests {
    func walk(_ store: DataStore, _ namespace: UInt8, descending: Bool = false, after: [UInt8]? = nil) throws -> [String] {
        var keys: [String] = []
        try store.walkDocuments(namespace: namespace, descending: descending, after: after) { _, key, _ in
            keys.append(String(decoding: key, as: UTF8.self))
            return true
        }
        return keys
    }

    func write(_ key: String, _ value: String?, order: UInt8?, namespace: UInt8 = 1) -> DocumentWrite {
        DocumentWrite(namespace: namespace, key: Array(key.utf8), value: value.map { Array($0.utf8) }, orderKey: order.map { [$0] })
    }

    @Test func documentsAreOrderedRewrittenAndDeleted() throws {
        let temp = TemporaryDirectory()
        let store = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(), logger: quietLogger)
        defer { store.close() }
        try store.commitDocuments([
            write("c", "3", order: 1), write("a", "1", order: 3), write("b", "2", order: 2),
            write("x", "other namespace", order: 0, namespace: 2), write("hidden", "no order", order: nil),
        ], cursor: ("test", 1))
        #expect(try walk(store, 1) == ["c", "b", "a"])
        #expect(try walk(store, 1, descending: true) == ["a", "b", "c"])
        #expect(try walk(store, 2) == ["x"])
        #expect(try store.document(namespace: 1, key: Array("hidden".utf8)) == Array("no order".utf8))
        #expect(try store.cursor("test") == 1)

        // Walking on from a position, both ways.
        var positions: [[UInt8]] = []
        try store.walkDocuments(namespace: 1, descending: false) { position, _, _ in
            positions.append(position)
            return true
        }
        #expect(try walk(store, 1, after: positions[0]) == ["b", "a"])
        #expect(try walk(store, 1, descending: true, after: positions[2]) == ["b", "c"])

        // A rewrite moves a document in the order; a delete takes it out of both.
        try store.commitDocuments([write("c", "33", order: 9), write("b", nil, order: nil)], cursor: nil)
        #expect(try walk(store, 1) == ["a", "c"])
        #expect(try store.document(namespace: 1, key: Array("c".utf8)) == Array("33".utf8))
        #expect(try store.document(namespace: 1, key: Array("b".utf8)) == nil)
    }

    @Test func documentsAndCursorsSurviveAReindex() async throws {
        let temp = TemporaryDirectory()
        let store = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(), logger: quietLogger)
        _ = try await store.events.append(batch(0..<100))
        try store.commitDocuments([write("kept", "yes", order: 1)], cursor: ("assembler", 50))
        store.close()

        _ = try Reindex.run(temp.dataDirectory)
        let again = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(), logger: quietLogger)
        defer { again.close() }
        #expect(try again.document(namespace: 1, key: Array("kept".utf8)) == Array("yes".utf8))
        #expect(try walk(again, 1) == ["kept"])
        #expect(try again.cursor("assembler") == 50)
    }
}
