// libFuzzer harness for WickJSON. Build and run it as "Recipe A" of the build notes says (both sanitizer flags,
// or the Swift code is not coverage-instrumented and the fuzzer runs blind):
//
//     swift build --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address --product FuzzJSONScanner
//     mkdir -p Fuzz/corpus-scratch && cp -r Fuzz/corpus/json Fuzz/corpus-scratch/
//     SWIFT_BACKTRACE=enable=no .build/debug/FuzzJSONScanner -max_total_time=300 Fuzz/corpus-scratch/json
//
// libFuzzer writes new inputs into the first corpus directory, hence the scratch copy (ignored by git).
//
// Each input is checked for: no crash or out-of-bounds read (ASan); every range the scanner returns inside the
// input and in order; the scanner, the validator and JSONValue.parse agreeing on the verdict; and, for accepted
// inputs, writer output that re-parses to the same value. A plain `swift build` links this file into an
// executable that does nothing.

import WickJSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONScanner(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let buffer = UnsafeRawBufferPointer(start: data, count: size)
    // The first byte picks a depth limit now and then, so the depth checks get exercised at small depths too.
    let limits = size > 0 && data[0] == UInt8(ascii: " ") ? JSONLimits(maxDepth: 3) : JSONLimits()
    let scanner = JSONScanner(limits: limits)

    let validated = verdict { () throws(JSONScanError) in try scanner.validate(buffer) }
    var parsed: JSONValue?
    let parseVerdict = verdict { () throws(JSONScanError) in parsed = try JSONValue.parse(buffer, limits: limits) }
    precondition(validated == parseVerdict, "validate and JSONValue.parse disagree")

    var scannedLine: ScannedLine?
    let scanVerdict = verdict { () throws(JSONScanError) in scannedLine = try scanner.scan(buffer) }
    switch (validated, parsed) {
    case (nil, let value?):
        if case .object = value {
            precondition(scanVerdict == nil, "scan rejects a valid object")
        } else {
            precondition(scanVerdict?.code == .notAnObject, "scan accepts a valid non-object")
        }
        let written = value.serialized()
        let reparsed = try? JSONValue.parse(written, limits: JSONLimits(maxDepth: JSONLimits.maxDepthCeiling))
        precondition(reparsed == value, "writer output does not re-parse to the same value")
    default:
        precondition(scanVerdict == validated, "scan and validate disagree on an invalid input")
        precondition(validated.map { $0.offset >= 0 && $0.offset <= size } ?? false, "error offset out of range")
    }

    if let scannedLine { checkRanges(scannedLine, in: buffer) }
    return 0
}

/// The error a typed-throwing body throws, or nil.
func verdict(_ body: () throws(JSONScanError) -> Void) -> JSONScanError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

func checkRanges(_ line: ScannedLine, in buffer: UnsafeRawBufferPointer) {
    switch line {
    case .event(let event):
        checkEvent(event, in: buffer)
    case .batch(let elements):
        var previousEnd = 0
        for element in elements {
            let range: Range<Int>
            switch element {
            case .event(let event):
                checkEvent(event, in: buffer)
                range = event.range
            case .notAnObject(let field):
                checkField(field, within: 0..<buffer.count, in: buffer)
                range = field.range
            }
            precondition(range.lowerBound >= previousEnd, "batch elements out of order")
            previousEnd = range.upperBound
        }
    }
}

func checkEvent(_ event: EnvelopeFields, in buffer: UnsafeRawBufferPointer) {
    precondition(event.range.lowerBound >= 0 && event.range.upperBound <= buffer.count, "event range out of bounds")
    precondition(buffer[event.range.lowerBound] == UInt8(ascii: "{"), "event range does not start at {")
    precondition(buffer[event.range.upperBound - 1] == UInt8(ascii: "}"), "event range does not end at }")
    let envelope = [event.id, event.type, event.timestamp, event.body]
    for field in envelope.compactMap({ $0 }) { checkField(field, within: event.range, in: buffer) }
    let body = event.bodyFields
    let bodyFields = [body.id, body.traceId, body.observationId, body.sessionId, body.name, body.value, body.dataType]
    if bodyFields.contains(where: { $0 != nil }) {
        guard let bodyField = event.body, bodyField.kind == .object else {
            preconditionFailure("body fields without an object body")
        }
        for field in bodyFields.compactMap({ $0 }) { checkField(field, within: bodyField.range, in: buffer) }
    }
    if let timestamp = event.timestamp, let parsed = Timestamp(timestamp, in: buffer) {
        precondition(Timestamp(iso8601: parsed.iso8601) == parsed, "timestamp does not round-trip")
    }
}

func checkField(_ field: JSONField, within outer: Range<Int>, in buffer: UnsafeRawBufferPointer) {
    precondition(field.range.lowerBound >= outer.lowerBound && field.range.upperBound <= outer.upperBound, "field outside its container")
    precondition(field.range.lowerBound <= field.range.upperBound, "field range reversed")
    switch field.kind {
    case .string:
        precondition(field.range.lowerBound >= 1 && buffer[field.range.lowerBound - 1] == UInt8(ascii: "\""), "string without its quote")
        let string = field.string(in: buffer)
        let decoded = field.decodedBytes(in: buffer)
        precondition(Array(string.utf8) == decoded, "string(in:) and decodedBytes(in:) differ")
        precondition(field.equals(string, in: buffer), "a string field does not equal its own value")
        precondition(field.unicodeScalarCount(in: buffer) == string.unicodeScalars.count, "scalar count wrong")
        precondition(field.utf16Count(in: buffer) == string.utf16.count, "UTF-16 count wrong")
        precondition(field.containsCarriageReturn(in: buffer) == decoded.contains(0x0D), "CR check wrong")
        precondition(field.hasEscapes || field.rawBytes(in: buffer).elementsEqual(decoded), "unescaped field changed")
    case .object, .array:
        precondition(field.range.count >= 2, "container range too short")
        let value = try? JSONValue.parse(field.rawBytes(in: buffer), limits: JSONLimits(maxDepth: JSONLimits.maxDepthCeiling))
        precondition(value?.kind == field.kind, "container field does not parse as its kind")
    case .number, .true, .false, .null:
        let value = try? JSONValue.parse(field.rawBytes(in: buffer))
        precondition(value?.kind == field.kind, "scalar field does not parse as its kind")
    }
}
