import Testing
import WickJSON

/// Raw bytes inside strings must be well-formed UTF-8 (RFC 3629 §4); each malformed class is rejected, at every
/// position relative to the eight-byte SWAR words.
@Suite struct UTF8Tests {
    static let wellFormed: [[UInt8]] = [
        [0xC2, 0x80], [0xDF, 0xBF],  // 2 bytes, both ends
        [0xE0, 0xA0, 0x80], [0xE0, 0xBF, 0xBF], [0xE1, 0x80, 0x80], [0xEC, 0xBF, 0xBF],
        [0xED, 0x80, 0x80], [0xED, 0x9F, 0xBF],  // U+D000, U+D7FF: just below the surrogates
        [0xEE, 0x80, 0x80], [0xEF, 0xBF, 0xBF],  // U+E000, U+FFFF
        [0xF0, 0x90, 0x80, 0x80], [0xF0, 0x9F, 0x98, 0x80], [0xF3, 0xBF, 0xBF, 0xBF],
        [0xF4, 0x80, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],  // U+100000, U+10FFFF
    ]

    /// Each malformed sequence, followed in the string by an ASCII byte, so none of them is merely cut off.
    static let malformed: [(String, [UInt8])] = [
        ("stray continuation 0x80", [0x80]), ("stray continuation 0xBF", [0xBF]),
        ("overlong 2-byte C0", [0xC0, 0x80]), ("overlong 2-byte C1", [0xC1, 0xBF]),
        ("overlong 3-byte", [0xE0, 0x80, 0x80]), ("overlong 3-byte max", [0xE0, 0x9F, 0xBF]),
        ("overlong 4-byte", [0xF0, 0x80, 0x80, 0x80]), ("overlong 4-byte max", [0xF0, 0x8F, 0xBF, 0xBF]),
        ("encoded high surrogate", [0xED, 0xA0, 0x80]), ("encoded low surrogate", [0xED, 0xBF, 0xBF]),
        ("encoded surrogate pair", [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]),
        ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80]), ("F5 lead", [0xF5, 0x80, 0x80, 0x80]),
        ("F8 lead", [0xF8, 0x88, 0x80, 0x80, 0x80]), ("FE", [0xFE]), ("FF", [0xFF]),
        ("2-byte missing continuation", [0xC3, 0x41]), ("3-byte missing last", [0xE2, 0x82, 0x41]),
        ("3-byte missing two", [0xE2, 0x41]), ("4-byte missing last", [0xF0, 0x9F, 0x98, 0x41]),
        ("4-byte missing two", [0xF0, 0x9F, 0x41]), ("lead then lead", [0xC3, 0xC3, 0xA9]),
        ("continuation after complete", [0xC3, 0xA9, 0xA9]),
    ]

    static func wrapped(_ inner: [UInt8], padding: Int) -> [UInt8] {
        Array("{\"k\":\"".utf8) + Array(repeating: UInt8(ascii: "a"), count: padding) + inner + Array("z\"}".utf8)
    }

    @Test(arguments: wellFormed)
    func acceptsWellFormed(_ sequence: [UInt8]) throws {
        for padding in 0..<9 {
            let bytes = Self.wrapped(sequence, padding: padding)
            #expect(validateVerdict(bytes) == .accepted)
            #expect(parseVerdict(bytes) == .accepted)
        }
        let value = try JSONValue.parse(Self.wrapped(sequence, padding: 0))
        #expect(value["k"]?.stringValue.map { Array($0.utf8) } == sequence + [UInt8(ascii: "z")])
    }

    @Test(arguments: malformed)
    func rejectsMalformed(_ name: String, _ sequence: [UInt8]) {
        for padding in 0..<9 {
            let bytes = Self.wrapped(sequence, padding: padding)
            #expect(validateVerdict(bytes) == .rejected(.invalidUTF8), "\(name), padding \(padding)")
            #expect(parseVerdict(bytes) == .rejected(.invalidUTF8))
            #expect(scanVerdict(bytes) == .rejected(.invalidUTF8))
            // Also as a key of a role object, where keys are classified.
            let asKey = Array("{\"".utf8) + sequence + Array("\":1}".utf8)
            #expect(scanVerdict(asKey) == .rejected(.invalidUTF8))
        }
    }

    @Test(arguments: wellFormed)
    func cutOffSequenceIsTruncated(_ sequence: [UInt8]) {
        for keep in 1..<sequence.count {
            let bytes = Array("[\"".utf8) + sequence.prefix(keep)
            #expect(validateVerdict(bytes) == .rejected(.truncated))
        }
    }

    @Test func highBytesOutsideStringsAreUnexpected() {
        #expect(validateVerdict([0xC3, 0xA9]) == .rejected(.unexpectedByte))
        #expect(validateVerdict(Array("[1,".utf8) + [0xC3, 0xA9] + Array("]".utf8)) == .rejected(.unexpectedByte))
        #expect(validateVerdict(Array("{}".utf8) + [0xFF]) == .rejected(.trailingBytes))
    }

    @Test func byteOrderMarkIsRejected() {
        #expect(validateVerdict([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == .rejected(.byteOrderMark))
        #expect(scanVerdict([0xEF, 0xBB, 0xBF] + Array("{\"id\":\"x\"}".utf8)) == .rejected(.byteOrderMark))
        #expect(validateVerdict([0xEF, 0xBB]) == .rejected(.unexpectedByte))
        // A BOM inside a string is just U+FEFF.
        #expect(validateVerdict(Array("[\"".utf8) + [0xEF, 0xBB, 0xBF] + Array("\"]".utf8)) == .accepted)
    }
}
