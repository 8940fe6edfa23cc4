import Foundation
import Testing
import WickJSON
import WickTestSupport

/// The outcome of a scan, comparable in `#expect`.
enum Verdict: Equatable, CustomStringConvertible {
    case accepted
    case rejected(JSONScanError.Code)

    var description: String {
        switch self {
        case .accepted: "accepted"
        case .rejected(let code): "rejected(\(code.reason))"
        }
    }
}

/// The verdict of a typed-throwing body.
func verdict(of body: () throws(JSONScanError) -> Void) -> Verdict {
    do {
        try body()
        return .accepted
    } catch {
        return .rejected(error.code)
    }
}

/// The offset of the error a typed-throwing body throws, or nil if it succeeds.
func errorOffset(of body: () throws(JSONScanError) -> Void) -> Int? {
    do {
        try body()
        return nil
    } catch {
        return error.offset
    }
}

func validateVerdict(_ bytes: [UInt8], limits: JSONLimits = JSONLimits()) -> Verdict {
    bytes.withUnsafeBytes { buffer in verdict { () throws(JSONScanError) in try JSONScanner(limits: limits).validate(buffer) } }
}

func scanVerdict(_ bytes: [UInt8], limits: JSONLimits = JSONLimits()) -> Verdict {
    bytes.withUnsafeBytes { buffer in verdict { () throws(JSONScanError) in _ = try JSONScanner(limits: limits).scan(buffer) } }
}

func parseVerdict(_ bytes: [UInt8], limits: JSONLimits = JSONLimits()) -> Verdict {
    verdict { () throws(JSONScanError) in _ = try JSONValue.parse(bytes, limits: limits) }
}

/// Scans `bytes` and hands the result, with the buffer its ranges point into, to `body`.
func withScan<R>(
    _ bytes: [UInt8],
    limits: JSONLimits = JSONLimits(),
    _ body: (Result<ScannedLine, JSONScanError>, UnsafeRawBufferPointer) throws -> R
) rethrows -> R {
    try bytes.withUnsafeBytes { buffer in
        let result = Result { () throws(JSONScanError) -> ScannedLine in try JSONScanner(limits: limits).scan(buffer) }
        return try body(result, buffer)
    }
}

/// The event of a line that must scan as a single event.
func scanEvent(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> (EnvelopeFields, [UInt8]) {
    let bytes = Array(text.utf8)
    let line = try bytes.withUnsafeBytes { try JSONScanner().scan($0) }
    guard case .event(let event) = line else {
        Issue.record("expected an event, got \(line)", sourceLocation: sourceLocation)
        throw TestFailure.unexpected
    }
    return (event, bytes)
}

enum TestFailure: Error {
    case unexpected
}

/// Realistic Langfuse NDJSON lines from the shared generator, produced once per test process.
enum Corpus {
    static let lines: [[UInt8]] = {
        do {
            return try generate(traces: 200, seed: 7)
        } catch {
            return []
        }
    }()

    /// The generator's events, a line each.
    static func generate(traces: Int, seed: Int) throws -> [[UInt8]] {
        try generatedEvents(traces: traces, seed: seed).split(separator: 0x0A).map { Array($0) }
    }
}

// MARK: - Foundation as the reference

enum Reference {
    /// JSONSerialization's verdict and value (top-level fragments allowed, like `validate`).
    static func parse(_ bytes: [UInt8]) -> Any? {
        try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
    }
}

/// Whether Foundation's value `theirs` is the same JSON value as `ours`: same structure, keys and strings;
/// numbers equal as doubles (within a few ulps, since Foundation may go through Decimal for large ones).
func sameValue(_ ours: JSONValue, _ theirs: Any) -> Bool {
    switch ours {
    case .null:
        return theirs is NSNull
    case .bool(let value):
        guard isFoundationBool(theirs), let number = theirs as? NSNumber else { return false }
        return number.boolValue == value
    case .number(let number):
        guard !isFoundationBool(theirs), let theirNumber = theirs as? NSNumber else { return false }
        return sameNumber(number, theirNumber)
    case .string(let string):
        guard let theirString = theirs as? String else { return false }
        return Array(string.unicodeScalars) == Array(theirString.unicodeScalars)
    case .array(let elements):
        guard let theirElements = theirs as? [Any], theirElements.count == elements.count else { return false }
        return zip(elements, theirElements).allSatisfy { sameValue($0, $1) }
    case .object(let object):
        guard let dictionary = theirs as? [String: Any], dictionary.count == object.count else { return false }
        return object.allSatisfy { entry in dictionary[entry.key].map { sameValue(entry.value, $0) } ?? false }
    case .raw(let raw):
        return sameValue(raw.value, theirs)
    }
}

func isFoundationBool(_ value: Any) -> Bool {
    String(describing: type(of: value)).contains("Boolean")
}

func sameNumber(_ ours: JSONNumber, _ theirs: NSNumber) -> Bool {
    if let integer = ours.int64Value, String(cString: theirs.objCType) != "d" {
        return theirs.int64Value == integer
    }
    let mine = ours.doubleValue
    let other = theirs.doubleValue
    if mine == other { return true }
    return abs(mine - other) <= abs(mine) * 1e-15
}

/// Whether a value holds a number outside `Double`'s finite range, which Foundation refuses to parse
/// ("Number … is not representable in Swift") and WickJSON keeps verbatim.
func containsNonFiniteNumber(_ value: JSONValue) -> Bool {
    switch value {
    case .number(let number): !number.doubleValue.isFinite
    case .array(let elements): elements.contains(where: containsNonFiniteNumber)
    case .object(let object): object.contains { containsNonFiniteNumber($0.value) }
    default: false
    }
}
