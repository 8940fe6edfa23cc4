import Testing
@testable import WickJSON

/// ISO-8601 parsing in zod's `z.iso.datetime({ offset: true })` grammar, and formatting.
@Suite struct TimestampTests {
    static let valid: [(String, Int64)] = [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.000001Z", 1),
        ("1970-01-01T00:00Z", 0),
        ("1969-12-31T23:59:59.999999Z", -1),
        ("2026-11-01T10:00:00.123456Z", 1_793_527_200_123_456),
        ("2026-11-01T10:00:00.123Z", 1_793_527_200_123_000),
        ("2026-11-01T10:00:00.1Z", 1_793_527_200_100_000),
        ("2026-11-01T10:00:00.123456789Z", 1_793_527_200_123_456),  // truncated, not rounded
        ("2026-11-01T10:00:00.9999999Z", 1_793_527_200_999_999),
        ("2026-11-01T10:00:00.12345678901234Z", 1_793_527_200_123_456),
        ("2026-11-01T12:00:00+02:00", 1_793_527_200_000_000),
        ("2026-11-01T05:30:00-04:30", 1_793_527_200_000_000),
        ("2026-11-01T10:00+00:00", 1_793_527_200_000_000),
        ("2026-11-01T10:00:00-00:00", 1_793_527_200_000_000),
        ("2026-11-02T09:59:00+23:59", 1_793_527_200_000_000),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000_000),
        ("2000-02-29T00:00:00Z", 951_782_400_000_000),
        ("1600-02-29T00:00:00Z", -11_670_998_400_000_000),
        ("0000-02-29T00:00:00Z", -62_162_121_600_000_000),
        ("0000-01-01T00:00:00Z", -62_167_219_200_000_000),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000_000),
        ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
        ("2026-12-31T23:59:59Z", 1_798_761_599_000_000),
    ]

    static let invalid: [String] = [
        "", "2026", "2026-11-01", "2026-11-01T", "2026-11-01T10", "2026-11-01T10:00",  // no offset
        "2026-11-01T10:00:00", "2026-11-01T10:00:00.123",
        "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z",
        "2026-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-02-30T00:00:00Z", "2026-04-31T00:00:00Z",
        "2026-11-01T24:00:00Z", "2026-11-01T10:60:00Z", "2026-11-01T10:00:60Z", "2026-11-01T10:00:61Z",
        "2026-11-01T10:00:00.Z", "2026-11-01T10:00.5Z", "2026-11-01T10:00:00,5Z",
        "2026-11-01t10:00:00Z", "2026-11-01T10:00:00z", "2026-11-01 10:00:00Z", "2026-11-01T10:00:00 Z",
        "2026-11-01T10:00:00+0200", "2026-11-01T10:00:00+02", "2026-11-01T10:00:00+2:00", "2026-11-01T10:00:00+24:00",
        "2026-11-01T10:00:00+02:60", "2026-11-01T10:00:00+02:00Z", "2026-11-01T10:00:00Z+02:00",
        "2026-11-01T10:00:00ZZ", "2026-11-01T10:00:00Z ", " 2026-11-01T10:00:00Z", "26-11-01T10:00:00Z",
        "02026-11-01T10:00:00Z", "2026-1-01T10:00:00Z", "2026-11-1T10:00:00Z", "2026-11-01T1:00:00Z",
        "+2026-11-01T10:00:00Z", "-2026-11-01T10:00:00Z", "20261101T100000Z", "2026-11-01T10:00:00UTC",
        "2026-11-01T10:00:00.123+02", "2026-１1-01T10:00:00Z",
        // Valid for zod, but outside the four-digit-year range once the offset is applied (documented).
        "0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59-00:01",
    ]

    @Test(arguments: valid)
    func parsesValid(_ text: String, _ microseconds: Int64) {
        #expect(Timestamp(iso8601: text)?.microsecondsSinceEpoch == microseconds)
    }

    /// The shortcut for `YYYY-MM-DDTHH:MM:SS.sssZ` gives what the general reader gives, or leaves
    /// the text to it: on that form with every byte changed to each of the bytes that matter, and
    /// on random dates (the last days of months, leap years, the ends of the range).
    @Test func theCommonFormReadsAsEveryForm() {
        var state: UInt64 = 20261206
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        var texts = ["0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z", "2024-02-29T12:00:00.000Z", "2100-02-29T12:00:00.000Z"]
        for _ in 0..<3000 {
            let year = [0, 1970, 2000, 2024, 2100, 9999][Int(next() % 6)]
            let date = String(format4: year) + "-" + String(twoDigits: Int(next() % 13)) + "-" + String(twoDigits: 28 + Int(next() % 4))
            texts.append(date + "T" + String(twoDigits: Int(next() % 25)) + ":" + String(twoDigits: Int(next() % 61)) + ":"
                         + String(twoDigits: Int(next() % 61)) + "." + String(twoDigits: Int(next() % 100)) + String(next() % 10) + "Z")
        }
        let base = Array("2026-11-01T10:00:00.123Z".utf8)
        for index in base.indices {
            for byte in Array("0123456789-T:.Z+ z/\u{7F}".utf8) + [0x2F, 0x3A, 0xFF, 0x06] {
                var changed = base
                changed[index] = byte
                texts.append(String(decoding: changed, as: UTF8.self))
            }
        }
        var shortcut = 0
        for text in texts {
            var copy = text
            copy.withUTF8 { utf8 in
                let bytes = UnsafeRawBufferPointer(utf8)
                guard bytes.count == 24, let fast = ISO8601.parseMillisecondsUTC(bytes) else { return }
                shortcut += 1
                #expect(fast == ISO8601.parseAnyForm(bytes), "\(text)")
            }
            #expect(Timestamp(iso8601: text)?.microsecondsSinceEpoch == copy.withUTF8 { ISO8601.parseAnyForm(UnsafeRawBufferPointer($0)) },
                    "\(text)")
        }
        #expect(shortcut > 1000)
    }

    @Test(arguments: invalid)
    func rejectsInvalid(_ text: String) {
        #expect(Timestamp(iso8601: text) == nil)
    }

    @Test(arguments: valid)
    func formatsAndRoundTrips(_ text: String, _ microseconds: Int64) throws {
        let timestamp = try #require(Timestamp(microsecondsSinceEpoch: microseconds))
        let formatted = timestamp.iso8601
        #expect(formatted.utf8.count == 27)
        #expect(Timestamp(iso8601: formatted) == timestamp)
        var bytes: [UInt8] = [0x7B]
        timestamp.writeISO8601(to: &bytes)
        #expect(bytes == [0x7B] + Array(formatted.utf8))
    }

    @Test func formatsKnownInstants() throws {
        #expect(Timestamp(microsecondsSinceEpoch: 0)?.iso8601 == "1970-01-01T00:00:00.000000Z")
        #expect(Timestamp(microsecondsSinceEpoch: -1)?.iso8601 == "1969-12-31T23:59:59.999999Z")
        #expect(Timestamp(iso8601: "2026-11-01T10:00:00.123456Z")?.iso8601 == "2026-11-01T10:00:00.123456Z")
        #expect(Timestamp(iso8601: "2026-11-01T12:00+02:00")?.description == "2026-11-01T10:00:00.000000Z")
        #expect(Timestamp.minimum.iso8601 == "0000-01-01T00:00:00.000000Z")
        #expect(Timestamp.maximum.iso8601 == "9999-12-31T23:59:59.999999Z")
        #expect(Timestamp(microsecondsSinceEpoch: Timestamp.maximum.microsecondsSinceEpoch + 1) == nil)
        #expect(Timestamp(microsecondsSinceEpoch: Timestamp.minimum.microsecondsSinceEpoch - 1) == nil)
    }

    @Test func everyDayOfFourHundredYearsRoundTrips() throws {
        // A full Gregorian cycle, one instant per day at a varying time, checked against a naive day count.
        var day: Int64 = -719_528  // 0000-01-01
        var year = 0
        var month = 1
        var dayOfMonth = 1
        func daysIn(_ year: Int, _ month: Int) -> Int {
            [31, year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        }
        while year < 401 {
            let micros = day * 86_400_000_000 + (day & 0xFFFF) * 1_234_567 % 86_400_000_000
            let timestamp = try #require(Timestamp(microsecondsSinceEpoch: micros))
            let text = timestamp.iso8601
            let expectedDate = String(format4(year)) + "-" + two(month) + "-" + two(dayOfMonth)
            #expect(text.hasPrefix(expectedDate), "\(text) vs \(expectedDate)")
            #expect(Timestamp(iso8601: text) == timestamp)
            day += 1
            dayOfMonth += 1
            if dayOfMonth > daysIn(year, month) {
                dayOfMonth = 1
                month += 1
                if month > 12 {
                    month = 1
                    year += 1
                }
            }
        }
    }

    @Test func parsesFromScannedFields() throws {
        let (event, bytes) = try scanEvent(#"{"timestamp":"2026-11-01T10:00:00.5Z","body":{"name":"2026\u002d11-01T10:00:00Z","id":7}}"#)
        bytes.withUnsafeBytes { buffer in
            #expect(event.timestamp.flatMap { Timestamp($0, in: buffer) }?.iso8601 == "2026-11-01T10:00:00.500000Z")
            #expect(event.bodyFields.name.flatMap { Timestamp($0, in: buffer) }?.iso8601 == "2026-11-01T10:00:00.000000Z")
            #expect(event.bodyFields.id.flatMap { Timestamp($0, in: buffer) } == nil)
        }
    }

    @Test func ordering() throws {
        let early = try #require(Timestamp(iso8601: "2026-11-01T10:00:00Z"))
        let late = try #require(Timestamp(iso8601: "2026-11-01T10:00:00.000001Z"))
        #expect(early < late)
    }
}

private func two(_ value: Int) -> String {
    value < 10 ? "0\(value)" : "\(value)"
}

private func format4(_ value: Int) -> String {
    String(repeating: "0", count: 4 - String(value).count) + String(value)
}

extension String {
    fileprivate init(twoDigits value: Int) { self = value < 10 ? "0\(value)" : "\(value)" }
    fileprivate init(format4 value: Int) { self = String(repeating: "0", count: 4 - String(value).count) + String(value) }
}
