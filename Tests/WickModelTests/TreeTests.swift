import Testing
import WickJSON
@testable import WickModel
import WickTestSupport

@Suite struct TreeTests {
    func observation(_ id: String, parent: String?, at milliseconds: Int64) -> Observation {
        var observation = Observation(id: id, traceId: "t1", type: .span, startTime: time(milliseconds))
        observation.parentObservationId = parent
        return observation
    }

    func shape(_ tree: TraceTree, _ observations: [Observation]) -> [String] {
        tree.nodes.map { String(repeating: " ", count: $0.depth) + observations[$0.observation].id }
    }

    @Test func childrenNestUnderParentsInStartOrder() {
        let observations = [
            observation("root", parent: nil, at: 0),
            observation("a", parent: "root", at: 1),
            observation("a1", parent: "a", at: 2),
            observation("b", parent: "root", at: 3),
        ]
        let tree = TraceTree(observations)
        #expect(shape(tree, observations) == ["root", " a", "  a1", " b"])
        #expect(tree.nodes.allSatisfy { $0.flags.isEmpty })
    }

    @Test func anOrphanIsARootUntilItsParentArrives() {
        let child = [observation("child", parent: "late-parent", at: 5)]
        let before = TraceTree(child)
        #expect(before.nodes.map(\.flags) == [.orphan])

        let after = [observation("late-parent", parent: nil, at: 1)] + child
        let tree = TraceTree(after)
        #expect(shape(tree, after) == ["late-parent", " child"])
        #expect(tree.nodes.allSatisfy { $0.flags.isEmpty })
    }

    @Test func aSelfParentIsARootAndFlagged() {
        let observations = [observation("x", parent: "x", at: 0), observation("y", parent: "x", at: 1)]
        let tree = TraceTree(observations)
        #expect(shape(tree, observations) == ["x", " y"])
        #expect(tree.nodes[0].flags == .selfParent)
    }

    @Test func aCycleIsCutAtItsEarliestObservation() {
        let observations = [
            observation("a", parent: "c", at: 0),
            observation("b", parent: "a", at: 1),
            observation("c", parent: "b", at: 2),
            observation("d", parent: "c", at: 3),
        ]
        let tree = TraceTree(observations)
        #expect(shape(tree, observations) == ["a", " b", "  c", "   d"])
        #expect(tree.nodes[0].flags == .cycle)
        #expect(tree.nodes.count == observations.count, "every observation appears exactly once")
    }

    @Test func everyObservationAppearsOnceWhateverTheLinks() {
        var generator = SplitMix(seed: 7)
        for _ in 0..<200 {
            let count = Int.random(in: 1...30, using: &generator)
            let observations = (0..<count).map { index in
                let parent: String? = Bool.random(using: &generator) ? "o\(Int.random(in: 0...count, using: &generator))" : nil
                return observation("o\(index)", parent: parent, at: Int64(index))
            }
            let tree = TraceTree(observations)
            #expect(tree.nodes.map(\.observation).sorted() == Array(0..<count))
            for node in tree.nodes where node.depth > 0 {
                #expect(observations[node.observation].parentObservationId != nil)
            }
        }
    }

    @Test func observationsWithoutATraceCreateStillFormATrace() {
        let folded = TraceFold.fold(traceID: "t9", [
            event("e1", .spanCreate, at: 0, ["id": "s1", "traceId": "t9", "name": "outer"]),
            event("e2", .generationCreate, at: 5, ["id": "g1", "traceId": "t9", "parentObservationId": "s1"]),
        ])
        #expect(!folded.trace.hasTraceEvent)
        #expect(folded.trace.id == "t9")
        #expect(folded.trace.timestamp == time(0))
        let tree = TraceTree(folded.observations)
        #expect(shape(tree, folded.observations) == ["s1", " g1"])
    }
}
