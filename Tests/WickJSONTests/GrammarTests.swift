import Foundation
import Testing
import WickJSON

/// Table-driven checks of every grammar rule: each input is checked with `validate`, with `JSONValue.parse`
/// (which must agree exactly) and, wrapped in an object, with `scan`.
@Suite struct GrammarTests {
    static let validTexts: [String] = [
        // Literals and structure.
        "true", "false", "null", "{}", "[]", "[[]]", "{\"a\":{}}", "[1,2,3]", "{\"a\":1,\"b\":[true,false,null]}",
        // Whitespace: only space, tab, CR and LF, anywhere between tokens and around the value.
        " {} ", "\t[ 1 ,\r\n 2 ]\n", "{ \"a\" : 1 }", "\r\n\t 0 \r\n\t",
        // Numbers: the full grammar, any magnitude.
        "0", "-0", "1", "-1", "10", "1234567890", "0.5", "-0.5", "1.25", "1e5", "1E5", "1e+5", "1e-5", "1.5E+10",
        "-0.0e-0", "0e0", "1e99999", "-1e99999", "1e-99999", String(repeating: "9", count: 400),
        "-" + String(repeating: "1", count: 400) + "." + String(repeating: "2", count: 400) + "e" + String(repeating: "3", count: 50),
        "[1e99999, 123456789012345678901234567890]",
        // Strings: escapes, unicode, surrogate pairs, raw UTF-8 of every length, DEL.
        "\"\"", "\"abc\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0000\"", "\"\\u001f\"", "\"\\u00e9\\u00E9\"",
        "\"\\uD83D\\uDE00\"", "\"\\ud83d\\ude00\"", "\"\\uDBFF\\uDFFF\"", "\"\\uD800\\uDC00\"", "\"\\uFFFF\"", "\"\\uE000\"",
        "\"é\"", "\"中文\"", "\"😀\"", "\"\u{7F}\"", "\"\u{10FFFF}\"", "\"\u{FFFD}\"", "\"\u{D7FF}\u{E000}\"",
        "\"long plain ascii text that crosses several eight-byte words without any escape\"",
        "\"a\\nb\\tc d e f g h i j k\\\"l\"",
        // Keys may be any string, escaped or not, repeated or not.
        "{\"\":0}", "{\"\\u0000\":1}", "{\"a\":1,\"a\":2}", "{\"é\":\"😀\"}",
    ]

    static let invalidTexts: [(String, JSONScanError.Code)] = [
        ("", .empty), ("   ", .empty), ("\n\t\r ", .empty),
        // Numbers.
        ("01", .invalidNumber), ("-01", .invalidNumber), ("00", .invalidNumber), ("[01]", .invalidNumber),
        ("1.", .truncated), ("[1.]", .invalidNumber), ("1.e5", .invalidNumber), (".5", .invalidNumber),
        ("[.5]", .invalidNumber), ("+1", .invalidNumber), ("[+1]", .invalidNumber), ("-", .truncated),
        ("[-]", .invalidNumber), ("-a", .invalidNumber), ("1e", .truncated), ("[1e]", .invalidNumber),
        ("1e+", .truncated), ("[1e+]", .invalidNumber), ("[1E-x]", .invalidNumber), ("0x10", .trailingBytes),
        ("1.5.3", .trailingBytes), ("[1 2]", .unexpectedByte), ("--1", .invalidNumber), ("[-Infinity]", .invalidNumber),
        // Literals.
        ("NaN", .invalidLiteral), ("[NaN]", .invalidLiteral), ("Infinity", .invalidLiteral), ("TRUE", .invalidLiteral),
        ("True", .invalidLiteral), ("nul", .truncated), ("[nul]", .invalidLiteral), ("tru", .truncated),
        ("fals", .truncated), ("[truе]", .invalidLiteral), ("nulll", .trailingBytes), ("undefined", .invalidLiteral),
        ("[true false]", .unexpectedByte),
        // Strings.
        ("\"abc", .truncated), ("\"\\", .truncated), ("\"\\u12", .truncated), ("\"\\x\"", .invalidEscape),
        ("\"\\'\"", .invalidEscape), ("\"\\U0041\"", .invalidEscape), ("\"\\u12G4\"", .invalidEscape),
        ("\"\\u-123\"", .invalidEscape), ("\"\\0\"", .invalidEscape), ("\"\\a\"", .invalidEscape),
        ("\"\\uD800\"", .loneSurrogate), ("\"\\uDBFF\"", .loneSurrogate), ("\"\\uDC00\"", .loneSurrogate),
        ("\"\\uDFFF\"", .loneSurrogate), ("\"\\uD800\\u0041\"", .loneSurrogate), ("\"\\uD800\\uD800\"", .loneSurrogate),
        ("\"\\uD800x\"", .loneSurrogate), ("\"\\uD800\\n\"", .loneSurrogate), ("\"\\uDE00\\uD83D\"", .loneSurrogate),
        ("\"\\uD800\\u00\"", .invalidEscape), ("\"\\uD800", .truncated), ("\"\\uD800\\", .truncated),
        ("\"\\uD800\\uDC", .truncated), ("\"\\uD800\\uZZZZ\"", .invalidEscape),
        ("\"a\u{0}b\"", .controlCharacterInString), ("\"a\nb\"", .controlCharacterInString),
        ("\"a\tb\"", .controlCharacterInString), ("\"\u{1F}\"", .controlCharacterInString),
        ("\"\r\"", .controlCharacterInString),
        ("'abc'", .unexpectedByte),
        // Structure.
        ("[", .truncated), ("{", .truncated), ("[1", .truncated), ("[1,", .truncated), ("{\"a\"", .truncated),
        ("{\"a\":", .truncated), ("{\"a\":1", .truncated), ("]", .unexpectedByte), ("}", .unexpectedByte),
        ("[1,]", .unexpectedByte), ("{\"a\":1,}", .unexpectedByte), ("[,1]", .unexpectedByte), ("{,}", .unexpectedByte),
        ("{\"a\"1}", .unexpectedByte), ("{\"a\":1 \"b\":2}", .unexpectedByte), ("{1:2}", .unexpectedByte),
        ("{a:1}", .unexpectedByte), ("[1}", .unexpectedByte), ("{\"a\":1]", .unexpectedByte), ("{\"a\"::1}", .unexpectedByte),
        ("[1]]", .trailingBytes), ("{} {}", .trailingBytes), ("{}x", .trailingBytes), ("1 2", .trailingBytes),
        ("[1]//", .trailingBytes), ("/*c*/[1]", .unexpectedByte), ("[1,,2]", .unexpectedByte),
        // Whitespace other than the four is not whitespace.
        ("[1,\u{0C}2]", .unexpectedByte), ("[1,\u{0B}2]", .unexpectedByte), ("[1,\u{A0}2]", .unexpectedByte),
        ("\u{FEFF}{}", .byteOrderMark), ("{}\u{0}", .trailingBytes), ("\u{0}{}", .unexpectedByte),
    ]

    @Test(arguments: validTexts)
    func acceptsValid(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(validateVerdict(bytes) == .accepted)
        #expect(parseVerdict(bytes) == .accepted)
        // Inside an event body, the same value must scan too.
        #expect(scanVerdict(Array("{\"id\":\"e\",\"body\":{\"x\":\(text)}}".utf8)) == .accepted)
    }

    @Test(arguments: invalidTexts)
    func rejectsInvalid(_ text: String, _ code: JSONScanError.Code) {
        let bytes = Array(text.utf8)
        #expect(validateVerdict(bytes) == .rejected(code), "\(text.debugDescription)")
        #expect(parseVerdict(bytes) == .rejected(code))
        #expect(scanVerdict(bytes) == .rejected(code))
    }

    @Test func errorOffsetsPointAtTheProblem() throws {
        func offset(_ text: String) -> Int? {
            Array(text.utf8).withUnsafeBytes { buffer in
                errorOffset { () throws(JSONScanError) in try JSONScanner().validate(buffer) }
            }
        }
        #expect(offset("[1,]") == 3)
        #expect(offset("{\"a\":01}") == 6)
        #expect(offset("\"ab\\x\"") == 3)
        #expect(offset("[\"\\uDC00\"]") == 2)
        #expect(offset("[1") == 2)
        #expect(offset("{} x") == 3)
        #expect(offset("  7") == nil)
    }

    @Test func topLevelMustBeAnObjectForScan() {
        for text in ["[]", "1", "\"s\"", "null", "true", " [ {\"id\":1} ] "] {
            #expect(scanVerdict(Array(text.utf8)) == .rejected(.notAnObject), "\(text)")
            #expect(validateVerdict(Array(text.utf8)) == .accepted)
        }
        // An invalid line reports its real error, not notAnObject.
        #expect(scanVerdict(Array("[1,]".utf8)) == .rejected(.unexpectedByte))
        #expect(scanVerdict(Array("[1] x".utf8)) == .rejected(.trailingBytes))
        let offset = Array("  [1]".utf8).withUnsafeBytes { buffer in
            errorOffset { () throws(JSONScanError) in _ = try JSONScanner().scan(buffer) }
        }
        #expect(offset == 2)
    }

    @Test func reasonsAreStableSnakeCase() {
        let reasons = JSONScanError.Code.allCodes.map(\.reason)
        #expect(Set(reasons).count == reasons.count)
        for reason in reasons {
            #expect(reason.hasPrefix("json_"))
            #expect(reason.allSatisfy { $0.isLowercase || $0 == "_" || $0.isNumber })
        }
        #expect(JSONScanError.Code.truncated.reason == "json_truncated")
        #expect(JSONScanError.Code.invalidUTF8.reason == "json_invalid_utf8")
        #expect(JSONScanError.Code.tooDeep.reason == "json_too_deep")
        #expect(JSONScanError(.tooDeep, at: 3).description == "JSONScanError(json_too_deep at byte 3)")
    }
}

/// Nesting depth: objects and arrays both count, the limit is inclusive, and it is configurable.
@Suite struct DepthTests {
    static func nestedArrays(_ depth: Int) -> [UInt8] {
        Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
    }

    static func nestedMixed(_ depth: Int, innermost: String = "1") -> [UInt8] {
        var text = innermost
        for level in 0..<depth {
            text = level % 2 == 0 ? "[\(text)]" : "{\"k\":\(text)}"
        }
        return Array(text.utf8)
    }

    @Test(arguments: [1, 2, 63, 64])
    func withinDefaultLimit(_ depth: Int) {
        #expect(validateVerdict(Self.nestedArrays(depth)) == .accepted)
        #expect(validateVerdict(Self.nestedMixed(depth)) == .accepted)
        #expect(parseVerdict(Self.nestedMixed(depth)) == .accepted)
    }

    @Test(arguments: [65, 66, 1000, 100_000])
    func beyondDefaultLimit(_ depth: Int) {
        #expect(validateVerdict(Self.nestedArrays(depth)) == .rejected(.tooDeep))
        #expect(validateVerdict(Self.nestedMixed(depth)) == .rejected(.tooDeep))
        #expect(parseVerdict(Self.nestedMixed(depth)) == .rejected(.tooDeep))
    }

    @Test func emptyInnermostContainerCounts() {
        #expect(validateVerdict(Self.nestedMixed(64, innermost: "[]")) == .rejected(.tooDeep))
        #expect(validateVerdict(Self.nestedMixed(63, innermost: "{}")) == .accepted)
        #expect(validateVerdict(Self.nestedMixed(64, innermost: "{}")) == .rejected(.tooDeep))
    }

    @Test(arguments: [1, 2, 8, 63, 64, 65, 100, 128, 129, 512, 1024])
    func configurableLimit(_ limit: Int) {
        let limits = JSONLimits(maxDepth: limit)
        #expect(validateVerdict(Self.nestedArrays(limit), limits: limits) == .accepted)
        #expect(validateVerdict(Self.nestedArrays(limit + 1), limits: limits) == .rejected(.tooDeep))
        #expect(validateVerdict(Self.nestedMixed(limit), limits: limits) == .accepted)
        #expect(validateVerdict(Self.nestedMixed(limit + 1), limits: limits) == .rejected(.tooDeep))
        #expect(parseVerdict(Self.nestedMixed(limit), limits: limits) == .accepted)
    }

    @Test func deepMixedNestingPopsBackCorrectly() throws {
        // Past depth 64 the object/array bits live in the overflow words; closing must restore each level.
        var text = ""
        for level in 0..<300 { text += level % 3 == 0 ? "{\"k\":" : "[" }
        text += "0"
        for level in (0..<300).reversed() { text += level % 3 == 0 ? ",\"z\":1}" : ",2]" }
        let limits = JSONLimits(maxDepth: 300)
        #expect(validateVerdict(Array(text.utf8), limits: limits) == .accepted)
        let value = try JSONValue.parse(Array(text.utf8), limits: limits)
        #expect(value["z"] == .number(1))
        // A wrong closer deep inside is caught.
        let broken = text.replacingFirst(",2]", with: ",2}")
        #expect(validateVerdict(Array(broken.utf8), limits: limits) == .rejected(.unexpectedByte))
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
