import Foundation
import Testing

@testable import WickStore
import WickTestSupport

@Suite struct WordCodesTests {
    private static let vocabulary = ("the model answer context retrieval document vector search query user agent tool call "
        + "Latency token cost prompt system assistant chunk embedding score rerank summary").split(separator: " ").map(String.init)

    /// JSON values of prompt-like text, each followed by a zero byte, as a compacted frame's text stream.
    private func textStream(bytes: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix(seed: seed)
        var stream: [UInt8] = []
        while stream.count < bytes {
            let words = (0..<(5 + Int(rng.next() % 60))).map { _ in Self.vocabulary[Int(rng.next() % UInt64(Self.vocabulary.count))] }
            stream += Array(#"{"role":"user","content":"\#(words.joined(separator: " ")), #\#(rng.next() % 100)."}"#.utf8)
            stream.append(0)
        }
        return stream
    }

    private func encode(_ input: [UInt8]) -> [UInt8]? {
        var output: [UInt8] = [0xAB]
        var scratch = WordCodes.Scratch()
        let coded = input.withUnsafeBytes { WordCodes.encode($0, into: &output, scratch: &scratch) }
        guard coded else {
            #expect(output == [0xAB], "a stream not worth coding appends nothing")
            return nil
        }
        #expect(output.first == 0xAB, "the coded stream is appended after what the output held")
        return Array(output.dropFirst())
    }

    private func decode(_ coded: [UInt8]) -> [UInt8]? {
        guard let length = coded.withUnsafeBytes({ WordCodes.decodedLength($0) }) else { return nil }
        var out = [UInt8](repeating: 0, count: length)
        let ok = coded.withUnsafeBytes { source in out.withUnsafeMutableBytes { WordCodes.decode(source, into: $0) } }
        return ok ? out : nil
    }

    @Test func lettersAreFoundEightAtATimeAsOneByOne() {
        // Every byte value in every position, beside neighbours that are letters or not.
        var rng = SplitMix(seed: 4)
        var mismatches = 0
        for byte in 0...255 {
            for position in 0..<8 {
                for _ in 0..<8 {
                    var lanes = (0..<8).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    lanes[position] = UInt8(byte)
                    let word = lanes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
                    let expected = lanes.enumerated().reduce(UInt64(0)) {
                        $0 | (WordCodes.isLetter($1.element) ? 0 : UInt64(0x80) << (8 * UInt64($1.offset)))
                    }
                    if WordCodes.nonLetters(word) != expected { mismatches += 1 }
                    // The first byte that stops a run of plain bytes: a letter, a control byte or one above 0x7F.
                    let stop = lanes.firstIndex { WordCodes.isLetter($0) || $0 < 0x20 || $0 > 0x7F }
                    let stops = WordCodes.stopsPlainRun(word)
                    if (stops == 0 ? nil : stops.trailingZeroBitCount / 8) != stop { mismatches += 1 }
                }
            }
        }
        #expect(mismatches == 0)
        #expect((0...255).filter { WordCodes.isLetter(UInt8($0)) }.count == 52)
    }

    @Test func promptsComeBackAndTakeAFractionOfTheirBytes() throws {
        let input = textStream(bytes: 300_000, seed: 5)
        let coded = try #require(encode(input))
        #expect(decode(coded) == input)
        // A word of this vocabulary averages 6.9 bytes with its space; coded, it is one.
        #expect(coded.count * 3 < input.count)
    }

    @Test func sourceCodeComesBack() throws {
        // Real text with indentation, punctuation and digits between its words: this repository's
        // store sources, each file at a different offset so that words meet every 8-byte boundary,
        // behind prompts that make the stream pass the trial.
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/WickStore")
        var input = textStream(bytes: WordCodes.trialBytes + 100, seed: 13)
        for case let file as URL in FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        where file.pathExtension == "swift" {
            input += [UInt8](repeating: UInt8(ascii: " "), count: input.count % 7) + (try [UInt8](Data(contentsOf: file))) + [0]
        }
        #expect(input.count > 100_000)
        let coded = try #require(encode(input))
        #expect(decode(coded) == input)
        #expect(coded.count < input.count * 15 / 16)
    }

    @Test func codeBytesThatAppearAfterTheSampleAreEscaped() throws {
        // The table is chosen from the sample, where no byte above 0x7F nor any control byte
        // appears; after it, every byte value does, so every code appears as itself too.
        var input = textStream(bytes: WordCodes.sampleBytes + 10_000, seed: 6)
        for round in 0..<3 {
            for byte in 1...255 { input += [UInt8(byte), UInt8(ascii: "a") + UInt8(round)] }
        }
        input += textStream(bytes: 20_000, seed: 7)
        let coded = try #require(encode(input))
        #expect(decode(coded) == input)
    }

    @Test func streamsNotWorthCodingAreLeftAsTheyAre() {
        var rng = SplitMix(seed: 8)
        let noise = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        #expect(encode(noise) == nil)
        // Too short to repay a table.
        #expect(encode(Array("the model the model the model".utf8)) == nil)
        // A start whose words are mostly each used once codes to more than two thirds of its bytes:
        // the stream is left as it is, however well the rest would code.
        var unique: [UInt8] = []
        while unique.count < WordCodes.sampleBytes {
            let word = (0..<8).map { _ in UInt8(ascii: "a") + UInt8(rng.next() % 26) }
            unique += [UInt8(ascii: " ")] + word + Array(" the".utf8)
        }
        #expect(encode(unique + textStream(bytes: 400_000, seed: 12)) == nil)
        #expect(encode(textStream(bytes: 400_000, seed: 12)) != nil)
        // No byte is left for a code.
        var every: [UInt8] = []
        for _ in 0..<200 { every += (1...255).map { UInt8($0) } + Array(" the model".utf8) }
        #expect(encode(every) == nil)
    }

    @Test func anyBytesComeBackWhenCoded() {
        var rng = SplitMix(seed: 9)
        var codedCount = 0
        for round in 0..<40 {
            // Words with arbitrary bytes among them: a few anywhere, or many after the sample (each
            // a code, the escape or itself).
            var input = textStream(bytes: 2_000 + Int(rng.next() % 120_000), seed: UInt64(round))
            let (from, count) = round % 2 == 0 ? (0, round) : (min(WordCodes.sampleBytes, input.count - 1), 200 * round)
            for _ in 0..<count {
                input[from + Int(rng.next() % UInt64(input.count - from))] = UInt8(truncatingIfNeeded: rng.next())
            }
            guard let coded = encode(input) else { continue }
            codedCount += 1
            #expect(decode(coded) == input)
        }
        #expect(codedCount >= 35)
    }

    @Test func damagedCodedStreamsAreRejectedNotCrashes() throws {
        let input = textStream(bytes: 3_000, seed: 10)
        let coded = try #require(encode(input))
        let decodedCuts = (0..<coded.count).filter { decode(Array(coded[..<$0])) != nil }
        #expect(decodedCuts.isEmpty)
        var rng = SplitMix(seed: 11)
        var decodedDamage = 0
        for _ in 0..<3_000 {
            var damaged = coded
            damaged[Int(rng.next() % UInt64(coded.count))] ^= UInt8(1 + rng.next() % 255)
            // Damage in the body may decode to other bytes (the frame's checksum catches that
            // first); it must not crash or read out of bounds.
            if decode(damaged) != nil { decodedDamage += 1 }
        }
        #expect(decodedDamage < 3_000)
        // Two entries with the same code, the escape as an entry, a zero code.
        let escape = coded[0]
        var twice = coded
        twice[2 + 2 + Int(coded[3])] = coded[2]
        #expect(decode(twice) == nil)
        var escapeEntry = coded
        escapeEntry[2] = escape
        #expect(decode(escapeEntry) == nil)
        var zero = coded
        zero[2] = 0
        #expect(decode(zero) == nil)
    }
}
