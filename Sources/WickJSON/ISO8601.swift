// ISO-8601 timestamps as Langfuse accepts them.
//
// Langfuse validates every timestamp with zod `z.iso.datetime({ offset: true })`. In zod 4 (regexes.ts,
// `datetime()` with `timeSource()`), that is exactly:
//
//     YYYY-MM-DD "T" HH:MM [":" SS ["." digits+]] ("Z" | ("+"|"-") HH:MM)
//
// - the year is any four digits (0000–9999); month and day must form a real date, with the Gregorian leap
//   rule (so 2024-02-29 and 2000-02-29 pass, 2100-02-29 and 2026-02-30 fail);
// - hours 00–23, minutes and seconds 00–59 (no leap second 60, no 24:00);
// - seconds may be omitted (`2026-11-01T10:00Z`); a fraction needs seconds and may have any number of
//   digits (`.1`, `.123456789`, more);
// - the offset is required: `Z` (upper case only) or `±HH:MM` with HH 00–23 and MM 00–59. The basic forms
//   `+hhmm` and `+hh` are rejected (zod's documentation lists both as failing), as are lower-case `t`/`z`,
//   a space instead of `T`, and a missing offset.
//
// Wick keeps microseconds: fraction digits past the sixth are dropped (truncation, i.e. rounding toward the
// earlier instant, so the result never moves into the next second, minute or year). One deliberate
// difference from zod: an instant that lands outside 0000-01-01T00:00:00Z ... 9999-12-31T23:59:59.999999Z
// once its offset is applied (only possible on the first or last day of that range) is rejected, so every
// `Timestamp` can be formatted back as a four-digit year.

/// The parser and formatter behind ``Timestamp``, with the civil-date arithmetic done by hand (no Foundation).
enum ISO8601 {
    static let formattedLength = 27  // 2026-11-01T10:00:00.123456Z
    static let microsecondsPerSecond: Int64 = 1_000_000
    static let secondsPerDay: Int64 = 86_400

    /// Microseconds since the epoch, or nil. See the grammar at the top of this file.
    static func parse(_ text: UnsafeRawBufferPointer) -> Int64? {
        if text.count == 24, let common = parseMillisecondsUTC(text) { return common }
        return parseAnyForm(text)
    }

    /// `parse` without the shortcut for the common form.
    static func parseAnyForm(_ text: UnsafeRawBufferPointer) -> Int64? {
        var reader = Reader(bytes: text)
        guard let year = reader.digits(4), reader.skip("-"),
            let month = reader.digits(2), reader.skip("-"),
            let day = reader.digits(2), reader.skip("T"),
            let hour = reader.digits(2), reader.skip(":"),
            let minute = reader.digits(2)
        else { return nil }
        var second = 0
        var microsecond = 0
        if reader.skip(":") {
            guard let value = reader.digits(2) else { return nil }
            second = value
            if reader.skip(".") {
                var count = 0
                while let digit = reader.digit() {
                    // Digits past the sixth are valid but dropped (truncation toward the earlier instant).
                    if count < 6 { microsecond = microsecond * 10 + digit }
                    count += 1
                }
                guard count > 0 else { return nil }
                for _ in min(count, 6)..<6 { microsecond *= 10 }
            }
        }
        var offsetSeconds = 0
        if reader.skip("Z") {
            offsetSeconds = 0
        } else {
            guard let sign = reader.next(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"),
                let offsetHour = reader.digits(2), reader.skip(":"), let offsetMinute = reader.digits(2),
                offsetHour <= 23, offsetMinute <= 59
            else { return nil }
            offsetSeconds = (offsetHour * 3600 + offsetMinute * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        }
        guard reader.atEnd, month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 59
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let localSeconds = days * secondsPerDay + Int64(hour * 3600 + minute * 60 + second)
        let microseconds = (localSeconds - Int64(offsetSeconds)) * microsecondsPerSecond + Int64(microsecond)
        guard microseconds >= Timestamp.minimum.microsecondsSinceEpoch,
            microseconds <= Timestamp.maximum.microsecondsSinceEpoch
        else { return nil }
        return microseconds
    }

    /// `YYYY-MM-DDTHH:MM:SS.sssZ`, the form most clients write (every event has two or three), read
    /// from three loads with the same checks as `parse`; nil for anything else, which `parse` then
    /// reads (and rejects if it must).
    @inline(__always)
    static func parseMillisecondsUTC(_ text: UnsafeRawBufferPointer) -> Int64? {
        let base = text.baseAddress!
        let a = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))  // YYYY-MM-
        let b = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self))  // DDTHH:MM
        let c = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 16, as: UInt64.self))  // :SS.sssZ
        // Each word: its separators where the form has them, digits in the other lanes.
        func matches(_ word: UInt64, separators: UInt64, mask: UInt64) -> Bool {
            let digits = ~mask
            let threes: UInt64 = 0x3030_3030_3030_3030 & digits
            return word & mask == separators && word & 0xF0F0_F0F0_F0F0_F0F0 & digits == threes
                && (word &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0 & digits == threes
        }
        guard matches(a, separators: 0x2D00_002D_0000_0000, mask: 0xFF00_00FF_0000_0000),
              matches(b, separators: 0x0000_3A00_0054_0000, mask: 0x0000_FF00_00FF_0000),
              matches(c, separators: 0x5A00_0000_2E00_003A, mask: 0xFF00_0000_FF00_00FF)
        else { return nil }
        func digit(_ word: UInt64, _ lane: UInt64) -> Int { Int(truncatingIfNeeded: (word &>> (lane &* 8)) & 0x0F) }
        func two(_ word: UInt64, _ lane: UInt64) -> Int { digit(word, lane) * 10 + digit(word, lane + 1) }
        let year = two(a, 0) * 100 + two(a, 2)
        let month = two(a, 5), day = two(b, 0), hour = two(b, 3), minute = two(b, 6), second = two(c, 1)
        let millisecond = two(c, 4) * 10 + digit(c, 6)
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month), hour <= 23, minute <= 59,
              second <= 59
        else { return nil }
        let seconds = daysFromCivil(year: year, month: month, day: day) * secondsPerDay + Int64(hour * 3600 + minute * 60 + second)
        let microseconds = seconds * microsecondsPerSecond + Int64(millisecond * 1000)
        guard microseconds >= Timestamp.minimum.microsecondsSinceEpoch, microseconds <= Timestamp.maximum.microsecondsSinceEpoch
        else { return nil }
        return microseconds
    }

    /// Writes `YYYY-MM-DDTHH:MM:SS.ffffffZ` into the first ``formattedLength`` bytes of `out`.
    static func format(_ microseconds: Int64, into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= formattedLength, "buffer too small for a timestamp")
        precondition(
            microseconds >= Timestamp.minimum.microsecondsSinceEpoch
                && microseconds <= Timestamp.maximum.microsecondsSinceEpoch,
            "timestamp outside the four-digit-year range"
        )
        // Floor division, so instants before 1970 land on the right day and second.
        let (secondsTotal, fraction) = floorDivide(microseconds, microsecondsPerSecond)
        let (days, secondOfDay) = floorDivide(secondsTotal, secondsPerDay)
        let (year, month, day) = civilFromDays(days)
        let base = out.baseAddress!
        // Two digits at a time (compaction writes a few million of these).
        func pair(_ value: Int, at offset: Int) {
            base.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 + value / 10), toByteOffset: offset, as: UInt8.self)
            base.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 + value % 10), toByteOffset: offset + 1, as: UInt8.self)
        }
        func mark(_ character: Unicode.Scalar, at offset: Int) {
            base.storeBytes(of: UInt8(ascii: character), toByteOffset: offset, as: UInt8.self)
        }
        let seconds = Int(secondOfDay)
        let micros = Int(fraction)
        pair(year / 100, at: 0)
        pair(year % 100, at: 2)
        mark("-", at: 4)
        pair(month, at: 5)
        mark("-", at: 7)
        pair(day, at: 8)
        mark("T", at: 10)
        pair(seconds / 3600, at: 11)
        mark(":", at: 13)
        pair(seconds / 60 % 60, at: 14)
        mark(":", at: 16)
        pair(seconds % 60, at: 17)
        mark(".", at: 19)
        pair(micros / 10_000, at: 20)
        pair(micros / 100 % 100, at: 22)
        pair(micros % 100, at: 24)
        mark("Z", at: 26)
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`, which counts
    /// in 400-year eras starting on March 1 so that the leap day is the last day of its year).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthFromMarch = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of ``daysFromCivil(year:month:day:)`` (Hinnant's `civil_from_days`).
    static func civilFromDays(_ days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    /// A cursor over the timestamp's bytes.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func next() -> UInt8? {
            guard index < bytes.count else { return nil }
            defer { index += 1 }
            return bytes[index]
        }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        mutating func digit() -> Int? {
            guard index < bytes.count, JSONScanner.isDigit(bytes[index]) else { return nil }
            defer { index += 1 }
            return Int(bytes[index] &- UInt8(ascii: "0"))
        }

        mutating func digits(_ count: Int) -> Int? {
            var value = 0
            for _ in 0..<count {
                guard let digit = digit() else { return nil }
                value = value * 10 + digit
            }
            return value
        }
    }
}
