import Testing

@testable import WickIngest

/// Feeds the framer the same bytes whole, one byte at a time and in random cuts: it must see the
/// same lines every way (NIO's ByteToMessageDecoderVerifier idea, for a pure state machine).
@Suite struct LineFramerTests {
    private enum Seen: Equatable {
        case line(String)
        case tooLong(prefix: Int, length: Int?)
    }

    private func run(_ input: [UInt8], max: Int, cuts: [Int], finish: Bool = true) -> [Seen] {
        var framer = LineFramer(maxLineBytes: max)
        var seen: [Seen] = []
        var start = 0
        for cut in cuts + [input.count] where cut > start {
            input[start..<cut].withUnsafeBytes { chunk in
                framer.feed(chunk) { event in
                    switch event {
                    case .line(let line): seen.append(.line(String(decoding: line, as: UTF8.self)))
                    case .tooLong(let prefix, let length): seen.append(.tooLong(prefix: prefix.count, length: length))
                    }
                }
            }
            start = cut
        }
        if finish {
            framer.finish { event in
                if case .line(let line) = event { seen.append(.line(String(decoding: line, as: UTF8.self))) }
            }
        }
        return seen
    }

    private func everyWay(_ text: String, max: Int, expect: [Seen], finish: Bool = true) {
        let input = Array(text.utf8)
        #expect(run(input, max: max, cuts: [], finish: finish) == expect, "whole")
        #expect(normalise(run(input, max: max, cuts: Array(0..<input.count), finish: finish)) == normalise(expect), "byte by byte")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let cuts = (0..<Int.random(in: 1...5, using: &rng)).map { _ in Int.random(in: 0...input.count, using: &rng) }.sorted()
            #expect(normalise(run(input, max: max, cuts: cuts, finish: finish)) == normalise(expect), "cuts \(cuts)")
        }
    }

    /// Split reads cannot always know an over-long line's full length: compare without it.
    private func normalise(_ expect: [Seen]) -> [Seen] {
        expect.map { if case .tooLong(let prefix, _) = $0 { return .tooLong(prefix: prefix, length: nil) } else { return $0 } }
    }

    @Test func splitsLines() {
        everyWay("a\nbb\n\nccc\n", max: 100, expect: [.line("a"), .line("bb"), .line(""), .line("ccc")])
    }

    @Test func lastLineWithoutNewlineCountsAtTheEnd() {
        everyWay("one\ntwo", max: 100, expect: [.line("one"), .line("two")])
        everyWay("one\ntwo", max: 100, expect: [.line("one")], finish: false)
    }

    @Test func keepsCarriageReturnsForTheScanner() {
        everyWay("x\r\ny\r\n", max: 100, expect: [.line("x\r"), .line("y\r")])
    }

    @Test func overLongLineIsReportedOnceAndTheStreamResynchronises() {
        let long = String(repeating: "z", count: 50)
        everyWay("ok\n\(long)\nafter\n", max: 10, expect: [.line("ok"), .tooLong(prefix: 10, length: 50), .line("after")])
        // Exactly at the limit is fine; one over is not.
        everyWay("\(String(repeating: "a", count: 10))\n\(String(repeating: "b", count: 11))\nc\n", max: 10,
                 expect: [.line(String(repeating: "a", count: 10)), .tooLong(prefix: 10, length: 11), .line("c")])
    }

    @Test func overLongLastLineWithoutNewlineIsNotALine() {
        let seen = run(Array("ok\n\(String(repeating: "q", count: 40))".utf8), max: 10, cuts: [])
        #expect(seen == [.line("ok"), .tooLong(prefix: 10, length: nil)])
    }

    @Test func carryNeverHoldsMoreThanTheLimit() {
        var framer = LineFramer(maxLineBytes: 1000)
        let chunk = [UInt8](repeating: 0x61, count: 300)
        var tooLong = 0
        for _ in 0..<100 {
            chunk.withUnsafeBytes { framer.feed($0) { if case .tooLong = $0 { tooLong += 1 } } }
            #expect(framer.pendingBytes <= 1000)
        }
        #expect(tooLong == 1)
    }
}
