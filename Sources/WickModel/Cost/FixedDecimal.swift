public import WickJSON

/// An exact decimal with 20 digits after the point, for prices and costs: `2.5e-06` × 1000 is
/// `0.0025`, not `0.0025000000000000005`. Prices in use have at most 10 decimal places and token
/// counts are integers, so products of the two are exact; sums stay exact. The range (±1.7e18) is
/// far beyond any cost.
public struct FixedDecimal: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let places = 20
    static let scale: Int128 = 100_000_000_000_000_000_000

    /// The value × 10^20.
    public let units: Int128

    public static let zero = FixedDecimal(units: 0)

    init(units: Int128) {
        self.units = units
    }

    public init(_ value: UInt64) {
        units = Int128(value) * Self.scale
    }

    public init(_ value: Int) {
        units = Int128(value) * Self.scale
    }

    /// A count, clamped to the largest value past the range (counts above 1.7e18 exceed it; any
    /// such count is more than every threshold a price table names).
    init(saturating count: UInt64) {
        let (product, overflow) = Int128(count).multipliedReportingOverflow(by: Self.scale)
        units = overflow ? .max : product
    }

    /// From a JSON number's text (`0.000003`, `2.5e-06`, `12`), exactly; digits past the 20th
    /// decimal place round half to even. Nil when it is not a number or out of range.
    public init?(_ text: String) {
        var negative = false
        var digits: Int128 = 0
        var significant = 0
        var exponent = 0
        var seenDigit = false
        var afterPoint = false
        var bytes = Array(text.utf8)[...]
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        }
        // The digits past what Int128 holds only matter for rounding: keep whether any was non-zero.
        var droppedNonZero = false
        var firstDropped: UInt8?
        while let byte = bytes.first, byte != UInt8(ascii: "e"), byte != UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if byte == UInt8(ascii: ".") {
                guard !afterPoint else { return nil }
                afterPoint = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            seenDigit = true
            let digit = Int128(byte - UInt8(ascii: "0"))
            if significant < 36 {
                digits = digits * 10 + digit
                if digits != 0 { significant += 1 }
                if afterPoint { exponent -= 1 }
            } else {
                if firstDropped == nil { firstDropped = byte } else if byte != UInt8(ascii: "0") { droppedNonZero = true }
                if !afterPoint { exponent += 1 }
            }
        }
        guard seenDigit else { return nil }
        if let byte = bytes.first, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            var exponentNegative = false
            if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
                exponentNegative = sign == UInt8(ascii: "-")
                bytes = bytes.dropFirst()
            }
            guard !bytes.isEmpty else { return nil }
            var value = 0
            for byte in bytes {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = min(value * 10 + Int(byte - UInt8(ascii: "0")), 10_000)
            }
            exponent += exponentNegative ? -value : value
        }
        // digits × 10^exponent, scaled by 10^20.
        let shift = exponent + Self.places
        var magnitude: Int128 = 0
        if digits == 0 {
            magnitude = 0
        } else if shift >= 0 {
            guard shift <= 38 else { return nil }
            let (product, overflow) = digits.multipliedReportingOverflow(by: Self.power(shift))
            guard !overflow else { return nil }
            magnitude = product
        } else if -shift > 38 {
            magnitude = 0  // far below the last place
        } else {
            let divisor = Self.power(-shift)
            var quotient = digits / divisor
            let remainder = digits % divisor
            // Digits dropped past the 36th count only when the rest is exactly a half.
            let sticky = droppedNonZero || (firstDropped.map { $0 != UInt8(ascii: "0") } ?? false)
            if remainder > divisor / 2 || (remainder == divisor / 2 && (sticky || quotient % 2 == 1)) {
                quotient += 1
            }
            magnitude = quotient
        }
        units = negative ? -magnitude : magnitude
    }

    public init?(_ number: JSONNumber) {
        self.init(number.text)
    }

    static func power(_ exponent: Int) -> Int128 {
        var result: Int128 = 1
        for _ in 0..<exponent { result *= 10 }
        return result
    }

    public static func + (a: FixedDecimal, b: FixedDecimal) -> FixedDecimal {
        FixedDecimal(units: a.units &+ b.units)
    }

    /// The exact product, rounded half to even at the 20th place; nil past the range.
    public func multiplied(by other: FixedDecimal) -> FixedDecimal? {
        let negative = (units < 0) != (other.units < 0)
        let full = units.magnitude.multipliedFullWidth(by: other.units.magnitude)
        let divisor = UInt128(Self.scale)
        guard full.high < divisor else { return nil }
        let (quotient, remainder) = divisor.dividingFullWidth(full)
        var rounded = quotient
        if remainder > divisor / 2 || (remainder == divisor / 2 && quotient % 2 == 1) { rounded += 1 }
        guard rounded <= UInt128(Int128.max) else { return nil }
        return FixedDecimal(units: negative ? -Int128(rounded) : Int128(rounded))
    }

    /// × a whole count (usage × price): one 128-bit multiplication, exact; nil past the range.
    public func multiplied(byCount count: UInt64) -> FixedDecimal? {
        let (product, overflow) = units.multipliedReportingOverflow(by: Int128(count))
        return overflow ? nil : FixedDecimal(units: product)
    }

    /// Whether it has more than `places` decimal places.
    public func hasMorePlaces(than places: Int) -> Bool {
        places < Self.places && units % Self.power(Self.places - places) != 0
    }

    /// Rounded half to even at `places` decimal places (Langfuse keeps 12).
    public func rounded(toPlaces places: Int) -> FixedDecimal {
        guard places < Self.places else { return self }
        let step = Self.power(Self.places - places)
        var quotient = units.magnitude / UInt128(step)
        let remainder = units.magnitude % UInt128(step)
        if remainder > UInt128(step) / 2 || (remainder == UInt128(step) / 2 && quotient % 2 == 1) { quotient += 1 }
        let magnitude = Int128(quotient) * step
        return FixedDecimal(units: units < 0 ? -magnitude : magnitude)
    }

    public static func < (a: FixedDecimal, b: FixedDecimal) -> Bool { a.units < b.units }

    /// Plain decimal notation without trailing zeros: `0.00045`, `12`, `-0.5`.
    public var description: String {
        let magnitude = units.magnitude
        let whole = magnitude / UInt128(Self.scale)
        var fraction = magnitude % UInt128(Self.scale)
        var text = (units < 0 ? "-" : "") + String(whole)
        if fraction != 0 {
            var places = Self.places
            while fraction % 10 == 0 {
                fraction /= 10
                places -= 1
            }
            let digits = String(fraction)
            text += "." + String(repeating: "0", count: places - digits.count) + digits
        }
        return text
    }

    /// Appends ``description`` as UTF-8, without building a string (compaction writes one per cost).
    public func write(to bytes: inout [UInt8]) {
        var magnitude = units.magnitude
        if units < 0 { bytes.append(UInt8(ascii: "-")) }
        let scale = UInt128(Self.scale)
        var whole = UInt64(magnitude / scale)  // the range (±1.7e18) fits
        magnitude %= scale
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { out in
            var count = 0
            repeat {
                out[23 - count] = UInt8(ascii: "0") + UInt8(whole % 10)
                whole /= 10
                count += 1
            } while whole > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: out[(24 - count)...]))
            guard magnitude != 0 else { return }
            // The 20 places, trailing zeros left out: two halves of ten, in 64-bit arithmetic.
            var low = UInt64(magnitude % 10_000_000_000)
            var high = UInt64(magnitude / 10_000_000_000)
            for place in 0..<10 {
                out[19 - place] = UInt8(ascii: "0") + UInt8(low % 10)
                low /= 10
                out[9 - place] = UInt8(ascii: "0") + UInt8(high % 10)
                high /= 10
            }
            var last = Self.places
            while out[last - 1] == UInt8(ascii: "0") { last -= 1 }
            bytes.append(UInt8(ascii: "."))
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: out[0..<last]))
        }
    }

    /// As a JSON number (plain notation, exact).
    public var json: JSONNumber {
        JSONNumber(description) ?? JSONNumber(0)
    }
}
