import Foundation
import Testing
import WickJSON

/// WickJSON against Foundation's `JSONSerialization` (swift-corelibs-foundation) on thousands of inputs:
/// corpus lines, random mutations of them, and grammar-generated texts.
///
/// The verdicts must agree, except for these documented differences, each of which the test checks rather
/// than skips:
///
/// 1. **Numbers beyond `Double`'s range** (`1e400`, a 400-digit integer): Foundation rejects them ("Number …
///    is not representable in Swift"); WickJSON accepts them and keeps their text, as RFC 8259 §6 allows and
///    the JSON.parse behind Langfuse does (it yields ±Infinity rather than failing). Underflow (`1e-99999`)
///    is accepted by both.
/// 2. **Trailing commas** (`[1,]`, `{"a":1,}`): Foundation accepts them; RFC 8259 and JSON.parse do not,
///    and neither does WickJSON.
/// 3. **Byte order marks and UTF-16/UTF-32 input**: Foundation skips a UTF-8 BOM and transcodes input it
///    detects as UTF-16 or UTF-32 (a BOM, or NUL bytes among the first four); WickJSON takes UTF-8 only, as
///    RFC 8259 §8.1 requires of JSON exchanged between systems, and rejects a BOM.
///
/// Depth is compared with `maxDepth: 512`, Foundation's own limit (512 nested arrays pass, 513 fail — the same
/// counting as WickJSON's). Where both accept, `JSONValue.parse` must equal Foundation's value structurally,
/// the envelope fields must equal Foundation's values for the same keys, and the writer's output must
/// re-parse to the same value.
@Suite struct DifferentialTests {
    static let limits = JSONLimits(maxDepth: 512)

    @Test func corpusLines() throws {
        let lines = Corpus.lines
        try #require(lines.count > 1000, "the corpus generator did not run")
        var stats = DifferentialStats()
        for line in lines { compareWithFoundation(line, stats: &stats) }
        #expect(stats.bothAccepted == lines.count)
    }

    @Test func mutatedCorpusLines() throws {
        let lines = Corpus.lines
        try #require(lines.count > 1000, "the corpus generator did not run")
        var generator = RandomJSON(seed: 0x5EED_0001)
        var stats = DifferentialStats()
        for round in 0..<3000 {
            let line = lines[(round * 7919) % lines.count]
            compareWithFoundation(generator.mutate(line), stats: &stats)
        }
        // Both verdicts must really have been exercised.
        #expect(stats.bothAccepted > 100)
        #expect(stats.bothRejected > 1000)
    }

    @Test func generatedTexts() {
        var generator = RandomJSON(seed: 0x5EED_0002)
        var stats = DifferentialStats()
        for _ in 0..<3000 {
            let text = generator.text()
            compareWithFoundation(text, stats: &stats)
            compareWithFoundation(generator.mutate(text), stats: &stats)
        }
        #expect(stats.bothAccepted > 1000)
        #expect(stats.bothRejected > 500)
        #expect(stats.hugeNumbers > 0)
        #expect(stats.trailingCommas > 0)
    }

    @Test func documentedDifferences() {
        // Each difference, pinned with a concrete input.
        for text in ["[1e400]", "-1e99999", "{\"a\":\(String(repeating: "9", count: 400))}"] {
            #expect(validateVerdict(Array(text.utf8)) == .accepted)
            #expect(Reference.parse(Array(text.utf8)) == nil)
        }
        for text in ["[1,]", "{\"a\":1,}", "[[],]"] {
            #expect(validateVerdict(Array(text.utf8)) == .rejected(.unexpectedByte))
            #expect(Reference.parse(Array(text.utf8)) != nil)
        }
        for bytes: [UInt8] in [[0xEF, 0xBB, 0xBF, 0x7B, 0x7D], [0x7B, 0x00, 0x7D, 0x00], [0xFE, 0xFF, 0x00, 0x7B, 0x00, 0x7D]] {
            #expect(validateVerdict(bytes) != .accepted)
            #expect(Reference.parse(bytes) != nil)
        }
        // Not differences: both reject lone surrogates, both accept underflow and -0.
        #expect(Reference.parse(Array("[\"\\ud800\"]".utf8)) == nil)
        #expect(Reference.parse(Array("[1e-99999,-0]".utf8)) != nil)
        #expect(validateVerdict(Array("[1e-99999,-0]".utf8)) == .accepted)
    }
}

struct DifferentialStats {
    var bothAccepted = 0
    var bothRejected = 0
    var hugeNumbers = 0
    var trailingCommas = 0
    var otherEncodings = 0
}

/// Compares every WickJSON entry point with Foundation on one input.
func compareWithFoundation(_ bytes: [UInt8], stats: inout DifferentialStats, sourceLocation: SourceLocation = #_sourceLocation) {
    let limits = DifferentialTests.limits
    let ours = validateVerdict(bytes, limits: limits)
    let printable = String(decoding: bytes.prefix(300), as: UTF8.self).debugDescription
    // The value parser and the envelope scanner must agree with the validator on every input.
    #expect(parseVerdict(bytes, limits: limits) == ours, "\(printable)", sourceLocation: sourceLocation)
    let scanned = scanVerdict(bytes, limits: limits)
    if ours == .accepted {
        let isObject = bytes.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } == UInt8(ascii: "{")
        #expect(scanned == (isObject ? .accepted : .rejected(.notAnObject)), "\(printable)", sourceLocation: sourceLocation)
    } else {
        #expect(scanned == ours, "\(printable)", sourceLocation: sourceLocation)
    }

    let theirs = Reference.parse(bytes)
    switch (ours, theirs) {
    case (.accepted, .some(let reference)):
        stats.bothAccepted += 1
        guard let value = try? JSONValue.parse(bytes, limits: limits) else { return }
        #expect(sameValue(value, reference), "\(printable)", sourceLocation: sourceLocation)
        let written = value.serialized()
        #expect((try? JSONValue.parse(written, limits: limits)) == value, "\(printable)", sourceLocation: sourceLocation)
        if let dictionary = reference as? [String: Any] {
            compareEnvelope(bytes, dictionary, sourceLocation: sourceLocation)
        }
    case (.accepted, .none):
        // Difference 1: only numbers Foundation cannot represent explain it.
        stats.hugeNumbers += 1
        let value = try? JSONValue.parse(bytes, limits: limits)
        #expect(value.map(containsNonFiniteNumber) == true, "Foundation rejects \(printable)", sourceLocation: sourceLocation)
    case (.rejected, .none):
        stats.bothRejected += 1
    case (.rejected, .some):
        if looksLikeOtherEncodingToFoundation(bytes) {
            // Difference 3.
            stats.otherEncodings += 1
        } else {
            // Difference 2: without the trailing commas, WickJSON must accept it.
            stats.trailingCommas += 1
            #expect(validateVerdict(withoutTrailingCommas(bytes), limits: limits) == .accepted, "Foundation accepts \(printable), rejected as \(ours)", sourceLocation: sourceLocation)
        }
    }
}

/// Scans an object line and checks its envelope (or its batch elements) against Foundation's dictionary.
func compareEnvelope(_ bytes: [UInt8], _ dictionary: [String: Any], sourceLocation: SourceLocation) {
    withScan(bytes, limits: DifferentialTests.limits) { result, buffer in
        guard case .success(let line) = result else {
            Issue.record("scan failed on an accepted object", sourceLocation: sourceLocation)
            return
        }
        switch line {
        case .event(let event):
            #expect(!(dictionary["batch"] is [Any]) || dictionary["type"] != nil, sourceLocation: sourceLocation)
            expectFieldsMatch(event, dictionary, buffer, sourceLocation: sourceLocation)
        case .batch(let elements):
            guard let array = dictionary["batch"] as? [Any], dictionary["type"] == nil else {
                Issue.record("scanned as a batch, but Foundation sees no batch array", sourceLocation: sourceLocation)
                return
            }
            #expect(elements.count == array.count, sourceLocation: sourceLocation)
            for (element, reference) in zip(elements, array) {
                switch element {
                case .event(let event):
                    guard let object = reference as? [String: Any] else {
                        Issue.record("batch element is an object only to WickJSON", sourceLocation: sourceLocation)
                        continue
                    }
                    expectFieldsMatch(event, object, buffer, sourceLocation: sourceLocation)
                case .notAnObject(let field):
                    #expect(!(reference is [String: Any]), sourceLocation: sourceLocation)
                    expectFieldMatches(field, reference, key: "batch[]", buffer, sourceLocation: sourceLocation)
                }
            }
        }
    }
}

/// Foundation's encoding sniffing: a BOM, or NUL bytes among the first four (UTF-16/UTF-32 without BOM).
func looksLikeOtherEncodingToFoundation(_ bytes: [UInt8]) -> Bool {
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) || bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE]) {
        return true
    }
    return bytes.prefix(4).contains(0)
}

/// `bytes` with every comma that is followed (after whitespace) by `]` or `}` removed, outside strings.
func withoutTrailingCommas(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var inString = false
    var escaped = false
    var index = 0
    while index < bytes.count {
        let byte = bytes[index]
        if inString {
            if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
        } else if byte == 0x22 {
            inString = true
        } else if byte == UInt8(ascii: ",") {
            var next = index + 1
            while next < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[next]) { next += 1 }
            if next < bytes.count, bytes[next] == UInt8(ascii: "]") || bytes[next] == UInt8(ascii: "}") {
                index += 1
                continue
            }
        }
        out.append(byte)
        index += 1
    }
    return out
}
