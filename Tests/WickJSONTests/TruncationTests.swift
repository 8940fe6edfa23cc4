import Testing
import WickJSON

/// Every proper prefix of a valid object is invalid JSON, so every one must be rejected, and scanning one must
/// never read past its end (the ASan fuzz build checks the reads; these check the verdicts).
@Suite struct TruncationTests {
    static let realistic: [String] = [
        #"{"id":"e1","type":"trace-create","timestamp":"2025-01-01T10:00:00.000000Z","body":{"id":"t1","name":"chat","userId":"u1","sessionId":"s1","tags":["prod"],"input":"hi","environment":"default"}}"#,
        #"{"id":"e5","type":"score-create","timestamp":"2025-01-01T10:00:05.5Z","body":{"id":"sc1","traceId":"t1","name":"helpful","value":1,"dataType":"BOOLEAN"}}"#,
        #"{"batch":[{"id":"e2","type":"generation-create","timestamp":"2025-01-01T10:00:00.001Z","body":{"id":"g1","traceId":"t1","modelParameters":{"temperature":0.2},"input":[{"role":"user","content":"h\u00e9 \ud83d\ude00 \"q\""}]}},{"id":"e3","type":"span-update","timestamp":"2025-01-01T10:00:01.2+02:00","body":{"id":"g1","usageDetails":{"input":8,"output":-2e-3},"ok":true,"none":null,"f":false}}],"metadata":{"sdk":"é中😀"}}"#,
        "{ \"id\" : \"e\\u0069\" ,\r\n\t\"body\" : [ 1 , { } , [ ] , \"\\\\\" ] }",
    ]

    @Test(arguments: realistic)
    func everyPrefixIsRejected(_ text: String) throws {
        let bytes = Array(text.utf8)
        #expect(validateVerdict(bytes) == .accepted)
        #expect(scanVerdict(bytes) == .accepted)
        for length in 0..<bytes.count {
            // A fresh array per prefix, so its end is the end of the allocation (ASan sees any over-read).
            let prefix = Array(bytes[0..<length])
            let verdict = validateVerdict(prefix)
            #expect(verdict != .accepted, "prefix of \(length) bytes accepted")
            #expect(scanVerdict(prefix) == verdict)
            #expect(parseVerdict(prefix) == verdict)
        }
    }

    @Test func corpusPrefixesAreRejected() throws {
        let lines = Corpus.lines
        try #require(lines.count > 1000, "the corpus generator did not run")
        for line in lines.prefix(40) {
            for length in 0..<line.count {
                #expect(validateVerdict(Array(line[0..<length])) != .accepted)
            }
        }
    }
}
