import Testing
import WickJSON

/// The value type, its parser and its writer.
@Suite struct JSONValueTests {
    @Test func parsesEveryKind() throws {
        let value = try JSONValue.parse(#" {"n":null,"t":true,"f":false,"i":-12,"d":1.5e3,"s":"a\u00e9\n","a":[1,[],{}],"o":{"k":"v"}} "#)
        #expect(value["n"] == .null)
        #expect(value["t"] == .bool(true))
        #expect(value["f"]?.boolValue == false)
        #expect(value["i"]?.numberValue?.int64Value == -12)
        #expect(value["d"]?.numberValue?.text == "1.5e3")
        #expect(value["d"]?.numberValue?.doubleValue == 1500)
        #expect(value["s"]?.stringValue == "aé\n")
        #expect(value["a"]?[0] == .number(1))
        #expect(value["a"]?[1] == .array([]))
        #expect(value["a"]?[2] == .object(JSONObject()))
        #expect(value["a"]?[3] == nil)
        #expect(value["o"]?["k"] == .string("v"))
        #expect(value["missing"] == nil)
        #expect(value.objectValue?.keys == ["n", "t", "f", "i", "d", "s", "a", "o"])
        #expect(value.kind == .object)
    }

    @Test func scalarsAtTopLevel() throws {
        #expect(try JSONValue.parse("1") == .number(1))
        #expect(try JSONValue.parse(" \"x\" ") == .string("x"))
        #expect(try JSONValue.parse("null") == .null)
        #expect(try JSONValue.parse("false") == .bool(false))
    }

    @Test func numbersKeepTheirText() throws {
        let texts = ["0", "-0", "1.0", "1e2", "1E+2", "-1.25e-10", "1e99999", String(repeating: "7", count: 400)]
        for text in texts {
            let value = try JSONValue.parse(text)
            #expect(value.numberValue?.text == text)
            #expect(value.serialized() == Array(text.utf8))
        }
        #expect(try JSONValue.parse("1e99999").numberValue?.doubleValue == .infinity)
        #expect(try JSONValue.parse("-1e99999").numberValue?.doubleValue == -.infinity)
        #expect(try JSONValue.parse("1e-99999").numberValue?.doubleValue == 0)
        #expect(try JSONValue.parse("9223372036854775807").numberValue?.int64Value == .max)
        #expect(try JSONValue.parse("9223372036854775808").numberValue?.int64Value == nil)
        #expect(try JSONValue.parse("1.0").numberValue?.int64Value == nil)
        #expect(try JSONValue.parse("1.0") != JSONValue.parse("1"))
    }

    @Test func numberInitialisers() {
        #expect(JSONNumber("12.5")?.text == "12.5")
        for invalid in ["", " 1", "1 ", "01", "+1", ".5", "1.", "NaN", "Infinity", "\"1\"", "[1]", "true", "1e"] {
            #expect(JSONNumber(invalid) == nil, "\(invalid)")
        }
        #expect(JSONNumber(Int64(-5)).text == "-5")
        #expect(JSONNumber(42).text == "42")
        #expect(JSONNumber(0.1)?.text == "0.1")
        #expect(JSONNumber(Double.nan) == nil)
        #expect(JSONNumber(Double.infinity) == nil)
        for double in [0.1, -2.5e-300, 1e300, 123456.789, Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude] {
            let number = JSONNumber(double)
            #expect(number.flatMap { JSONNumber($0.text) } != nil, "\(double) is written as valid JSON")
            #expect(number?.doubleValue == double)
        }
        let literal: JSONNumber = 7
        #expect(literal.text == "7")
    }

    @Test func objectsKeepFirstPositionAndLastValue() throws {
        let value = try JSONValue.parse(#"{"a":1,"b":2,"a":3,"c":4,"b":5}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["a", "b", "c"])
        #expect(object["a"] == .number(3))
        #expect(object["b"] == .number(5))
        #expect(value.serialized() == Array(#"{"a":3,"b":5,"c":4}"#.utf8))
    }

    @Test func largeObjectsUseTheIndex() throws {
        var text = "{"
        for index in 0..<200 { text += "\"k\(index)\":\(index)," }
        text += "\"k7\":\"again\"}"
        let object = try #require(try JSONValue.parse(text).objectValue)
        #expect(object.count == 200)
        #expect(object["k7"] == .string("again"))
        #expect(object["k199"] == .number(199))
        #expect(object.index(forKey: "k150") == 150)
        var copy = object
        copy.removeValue(forKey: "k0")
        #expect(copy.count == 199)
        #expect(copy.index(forKey: "k150") == 149)
        copy["new"] = .null
        #expect(copy.keys.last == "new")
        copy["k5"] = nil
        #expect(copy["k5"] == nil && copy.count == 199)
        #expect(copy != object)
    }

    @Test func objectAPI() {
        var object: JSONObject = ["x": .number(1), "y": .string("s"), "x": .bool(true)]
        #expect(object.keys == ["x", "y"])
        #expect(object["x"] == .bool(true))
        object["z"] = .array([.null])
        #expect(object.map(\.key) == ["x", "y", "z"])
        #expect(object.removeValue(forKey: "y") == .string("s"))
        #expect(object.removeValue(forKey: "nope") == nil)
        #expect(JSONObject([("a", .null), ("b", .null)]) != JSONObject([("b", .null), ("a", .null)]))
    }

    static let escapingCases: [(String, String)] = [
        ("plain", #""plain""#),
        ("quote\"back\\slash/", #""quote\"back\\slash/""#),
        ("\u{8}\u{C}\n\r\t", #""\b\f\n\r\t""#),
        ("\u{0}\u{1}\u{1F}\u{7F}", #""\u0000\u0001\u001f"# + "\u{7F}\""),
        ("é中😀\u{2028}", "\"é中😀\u{2028}\""),
    ]

    @Test(arguments: escapingCases)
    func writerEscapesOnlyWhatJSONRequires(_ string: String, _ expected: String) throws {
        let written = JSONValue.string(string).serialized()
        #expect(written == Array(expected.utf8))
        #expect(try JSONValue.parse(written) == .string(string))
        var bytes: [UInt8] = []
        JSONWriter.writeString(string, to: &bytes)
        #expect(bytes == written)
    }

    /// A byte that needs an escape at every position of strings of every length up to 40 (the
    /// writer checks eight bytes at a time), beside text outside ASCII: each reads back as written.
    @Test func writerEscapesAtEveryPosition() throws {
        for special in ["\"", "\\", "\n", "\u{1}", "\u{1F}"] {
            for length in 1...40 {
                for position in 0..<length {
                    let string = String(repeating: "a", count: position) + special + String(repeating: "é", count: (length - position) / 2)
                    var bytes: [UInt8] = []
                    JSONWriter.writeString(string, to: &bytes)
                    #expect(try JSONValue.parse(bytes) == .string(string), "\(string.debugDescription)")
                }
            }
        }
        var plain: [UInt8] = []
        JSONWriter.writeString("0123456789abcdef~ é", to: &plain)
        #expect(plain == Array("\"0123456789abcdef~ é\"".utf8))
    }

    @Test func writerIsCompactAndRoundTrips() throws {
        let text = #" { "a" : [ 1 , 2.50 , { } , [ ] , null , true , false , "x\/y\u0041" ] , "b" : { "c" : -0 } } "#
        let value = try JSONValue.parse(text)
        let written = value.serialized()
        #expect(written == Array(#"{"a":[1,2.50,{},[],null,true,false,"x/yA"],"b":{"c":-0}}"#.utf8))
        #expect(try JSONValue.parse(written) == value)
        #expect(value.description == String(decoding: written, as: UTF8.self))
    }

    @Test func corpusRoundTripsByteForByte() throws {
        // The generator writes compact JSON with only the escapes JSON requires, so the writer reproduces it.
        let lines = Corpus.lines
        try #require(lines.count > 1000, "the corpus generator did not run")
        for line in lines {
            let value = try JSONValue.parse(line)
            #expect(value.serialized() == line)
        }
    }

    @Test func parseReportsTheScannersError() {
        for (text, code) in [("[1,]", JSONScanError.Code.unexpectedByte), ("", .empty), ("{\"a\":\"\\uD800\"}", .loneSurrogate)] {
            #expect(throws: JSONScanError.self) { try JSONValue.parse(text) }
            #expect(parseVerdict(Array(text.utf8)) == .rejected(code))
        }
    }
}

/// The deferring parse: large nested values stay text, and nothing can tell but the cost.
@Suite struct DeferredParseTests {
    static func deferred(_ bytes: [UInt8], above threshold: Int = 16, fromDepth depth: Int = 1) throws -> JSONValue {
        try bytes.withUnsafeBytes { try JSONValue.parse($0, deferringAbove: threshold, fromDepth: depth) }
    }

    func rawCount(_ value: JSONValue) -> Int {
        switch value {
        case .raw: 1
        case .array(let elements): elements.reduce(0) { $0 + rawCount($1) }
        case .object(let object): object.reduce(0) { $0 + rawCount($1.value) }
        default: 0
        }
    }

    @Test func largeNestedValuesStayTextAndReadAsTheirValues() throws {
        let text = #"{"small":"ab","long":"a string of more than sixteen bytes, with \"quotes\" and \\ and \u00e9","list":[1,2,3,4,5,6,7,8,9,10],"o":{"k":"v","deep":{"x":[{"y":"z"}]}},"n":123456789012345678901234}"#
        let value = try Self.deferred(Array(text.utf8))
        let full = try JSONValue.parse(text)
        guard case .object(let object) = value else {
            Issue.record("not an object")
            return
        }
        #expect(object["small"] == .string("ab"))
        if case .raw = object["long"]! {} else { Issue.record("the long string was parsed") }
        if case .raw = object["list"]! {} else { Issue.record("the list was parsed") }
        if case .raw = object["o"]! {} else { Issue.record("the object was parsed") }
        #expect(object["n"]?.numberValue?.text == "123456789012345678901234", "numbers are never deferred")
        #expect(value == full)
        #expect(value.hashValue == full.hashValue)
        #expect(object["long"]?.stringValue == #"a string of more than sixteen bytes, with "quotes" and \ and é"#)
        #expect(object["o"]?["deep"]?["x"]?[0]?["y"] == "z")
        #expect(object["list"]?.kind == .array)
        #expect(try JSONValue.parse(value.serialized()) == full)
    }

    @Test func theTopLevelAndShallowValuesAreAlwaysParsed() throws {
        let value = try Self.deferred(Array(#"{"a":{"b":"a long string of text here, yes"}}"#.utf8), above: 4, fromDepth: 2)
        guard case .object(let top) = value, case .object(let inner) = top["a"]! else {
            Issue.record("shallow values were deferred")
            return
        }
        if case .raw = inner["b"]! {} else { Issue.record("the depth-2 string was parsed") }
    }

    /// Every corpus line and every random document: equal to the full parse, and re-parses equal
    /// from its serialisation, whatever the threshold.
    @Test(arguments: [0, 8, 64])
    func equalToTheFullParse(_ threshold: Int) throws {
        var generator = RandomJSON(seed: 0xDEF0 + UInt64(threshold))
        generator.faultPerMille = 0
        var documents = Corpus.lines
        try #require(documents.count > 1000, "the corpus generator did not run")
        for _ in 0..<2000 {
            var out: [UInt8] = []
            generator.value(into: &out, depth: 0)
            documents.append(out)
        }
        var deferredValues = 0
        for document in documents {
            guard let full = try? JSONValue.parse(document) else { continue }
            let value = try Self.deferred(document, above: threshold, fromDepth: 1)
            deferredValues += rawCount(value)
            #expect(value == full)
            #expect(try JSONValue.parse(value.serialized()) == full)
        }
        #expect(deferredValues > 1000)
    }
}
