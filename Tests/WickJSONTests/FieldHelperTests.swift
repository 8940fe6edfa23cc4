import Testing
import WickJSON

/// The JSONField helpers: comparison, decoding, counting and the carriage-return check, with and without escapes.
@Suite struct FieldHelperTests {
    /// Scans `{"id":<json>}` and returns the `id` field and the line.
    static func idField(_ json: String) throws -> (JSONField, [UInt8]) {
        let (event, bytes) = try scanEvent("{\"id\":\(json)}")
        return (try #require(event.id), bytes)
    }

    struct Case: Sendable, CustomStringConvertible {
        var json: String
        var decoded: String
        var scalars: Int
        var utf16: Int
        var hasCR: Bool
        var description: String { json }
    }

    static let cases: [Case] = [
        Case(json: #""""#, decoded: "", scalars: 0, utf16: 0, hasCR: false),
        Case(json: #""trace-create""#, decoded: "trace-create", scalars: 12, utf16: 12, hasCR: false),
        Case(json: #""trace\u002dcreate""#, decoded: "trace-create", scalars: 12, utf16: 12, hasCR: false),
        Case(json: #""\u0074race-create""#, decoded: "trace-create", scalars: 12, utf16: 12, hasCR: false),
        Case(json: #""a\"b\\c\/d""#, decoded: "a\"b\\c/d", scalars: 7, utf16: 7, hasCR: false),
        Case(json: #""\b\f\n\t""#, decoded: "\u{8}\u{C}\n\t", scalars: 4, utf16: 4, hasCR: false),
        Case(json: #""line\r""#, decoded: "line\r", scalars: 5, utf16: 5, hasCR: true),
        Case(json: #""x\u000dy""#, decoded: "x\ry", scalars: 3, utf16: 3, hasCR: true),
        Case(json: #""x\u000Dy""#, decoded: "x\ry", scalars: 3, utf16: 3, hasCR: true),
        Case(json: #""x\u000ay""#, decoded: "x\ny", scalars: 3, utf16: 3, hasCR: false),
        Case(json: #""\\r""#, decoded: "\\r", scalars: 2, utf16: 2, hasCR: false),
        Case(json: "\"é中😀\"", decoded: "é中😀", scalars: 3, utf16: 4, hasCR: false),
        Case(json: #""\u00e9\u4e2d\ud83d\ude00""#, decoded: "é中😀", scalars: 3, utf16: 4, hasCR: false),
        Case(json: #""\u0000""#, decoded: "\u{0}", scalars: 1, utf16: 1, hasCR: false),
        Case(json: "\"e\u{301}\"", decoded: "e\u{301}", scalars: 2, utf16: 2, hasCR: false),
    ]

    @Test(arguments: cases)
    func stringHelpers(_ testCase: Case) throws {
        let (field, bytes) = try Self.idField(testCase.json)
        bytes.withUnsafeBytes { buffer in
            #expect(field.kind == .string)
            #expect(field.hasEscapes == testCase.json.contains("\\"))
            #expect(field.string(in: buffer).unicodeScalars.elementsEqual(testCase.decoded.unicodeScalars))
            #expect(field.decodedBytes(in: buffer) == Array(testCase.decoded.utf8))
            #expect(field.equals(testCase.decoded, in: buffer))
            #expect(!field.equals(testCase.decoded + "x", in: buffer))
            #expect(field.unicodeScalarCount(in: buffer) == testCase.scalars)
            #expect(field.utf16Count(in: buffer) == testCase.utf16)
            #expect(field.containsCarriageReturn(in: buffer) == testCase.hasCR)
            var appended: [UInt8] = [1, 2]
            field.appendDecodedBytes(in: buffer, to: &appended)
            #expect(appended == [1, 2] + Array(testCase.decoded.utf8))
        }
    }

    /// An object or array is empty exactly when its built value is, whitespace or not.
    @Test(arguments: ["{}", "[]", "{ \n\t}", "[\r\n ]", #"{"a":1}"#, "[0]", #"{ "":null }"#, "[ [] ]", "{\n\"}\":{}}"])
    func containersKnowWhetherTheyAreEmpty(_ json: String) throws {
        let (field, bytes) = try Self.idField(json)
        let value = try JSONValue.parse(Array(json.utf8))
        bytes.withUnsafeBytes { buffer in
            #expect(ValidatedJSON.isEmpty(field, in: buffer) == (value.objectValue?.isEmpty ?? value.arrayValue!.isEmpty))
        }
    }

    @Test func equalsLiteral() throws {
        let (field, bytes) = try Self.idField(#""trace\u002dcreate""#)
        bytes.withUnsafeBytes { buffer in
            #expect(field.equals("trace-create", in: buffer))
            #expect(!field.equals("trace-creat", in: buffer))
            #expect(!field.equals("trace-createe", in: buffer))
            #expect(!field.equals("span-create", in: buffer))
            #expect(!field.equals("", in: buffer))
        }
        let (plain, plainBytes) = try Self.idField(#""span-update""#)
        plainBytes.withUnsafeBytes { buffer in
            #expect(plain.equals("span-update", in: buffer))
            #expect(!plain.equals("span-updatE", in: buffer))
        }
        // Non-strings equal nothing, not even their own text.
        let (number, numberBytes) = try Self.idField("12")
        numberBytes.withUnsafeBytes { buffer in
            #expect(!number.equals("12", in: buffer))
            #expect(String(decoding: number.rawBytes(in: buffer), as: UTF8.self) == "12")
        }
    }

    @Test func isNull() throws {
        let (field, _) = try Self.idField("null")
        #expect(field.isNull)
        let (other, _) = try Self.idField("\"null\"")
        #expect(!other.isNull)
    }
}
