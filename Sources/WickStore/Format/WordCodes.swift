#if canImport(Glibc)
import Glibc
#endif

/// A stream of text with its most frequent words each written as one byte the stream does not
/// otherwise use (docs/format.md §3, "word-coded streams").
///
/// zstd finds repeats by matching earlier bytes; a prompt's words repeat, but rarely in the same
/// order, so a 7-byte word costs it a match or seven literals. One byte per frequent word leaves
/// zstd less to match and a smaller alphabet to entropy-code. The table is chosen per stream from
/// a sample of its start, so it follows whatever language the stream is in; a byte that is a code
/// and also appears as itself is written behind an escape byte, so any bytes round-trip.
///
/// Layout: `escape (1) | N (1) | N × (code (1), length (1), bytes) | decoded length (u32 LE) | body`.
/// In the body a code byte stands for its entry, the escape byte for the byte after it, and any
/// other byte for itself.
enum WordCodes {
    /// The stream's start from which the table is chosen.
    static let sampleBytes = 64 * 1024
    /// Longest word worth an entry: longer ones are rare, and zstd matches them well.
    static let maxWordLength = 16

    /// Scratch space the encoder reuses from one stream to the next.
    struct Scratch {
        fileprivate var output: [UInt8] = []
        fileprivate var counts = [WordCount](repeating: WordCount(), count: countSlots)
        fileprivate var lookup = [Entry](repeating: Entry(), count: lookupSlots)
    }

    /// A word's bytes, up to 16, as two little-endian integers with the bytes past its end zero.
    /// Words hold no zero byte, so the key says the length too, and a zero `low` is no word.
    fileprivate struct Key: Equatable {
        var low: UInt64 = 0
        var high: UInt64 = 0

        @inline(__always)
        var hash: UInt64 { (low &* 0x9E37_79B9_7F4A_7C15) ^ (high &* 0xC2B2_AE3D_27D4_EB4F) }
    }

    fileprivate struct WordCount {
        var key = Key()
        var start: Int32 = 0
        var length: UInt8 = 0
        var count: UInt32 = 0
    }

    fileprivate struct Entry {
        var key = Key()
        var code: UInt8 = 0
    }

    private static let countSlots = 4096
    private static let lookupSlots = 1024

    /// Whether `byte` is an ASCII letter (branch-free: letters are 0x41–0x5A and 0x61–0x7A).
    @inline(__always)
    static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) &- 0x61 < 26 }

    /// The key of the word at `start` of `length` (2–16) bytes in `bytes` of `count`.
    @inline(__always)
    private static func key(_ bytes: UnsafePointer<UInt8>, _ start: Int, _ length: Int, _ count: Int) -> Key {
        if start + 16 <= count {
            let raw = UnsafeRawPointer(bytes + start)
            let low = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
            let high = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            if length >= 8 {
                return Key(low: low, high: length == 16 ? high : high & ((1 << (8 * UInt64(length - 8))) - 1))
            }
            return Key(low: low & ((1 << (8 * UInt64(length))) - 1), high: 0)
        }
        var key = Key()
        for index in 0..<length {
            let byte = UInt64(bytes[start + index])
            if index < 8 { key.low |= byte << (8 * UInt64(index)) } else { key.high |= byte << (8 * UInt64(index - 8)) }
        }
        return key
    }

    /// Where the word starting at `index` ends, or nil when no word starts there (a word is a run
    /// of ASCII letters with the space before it, if any).
    @inline(__always)
    private static func wordEnd(_ bytes: UnsafePointer<UInt8>, _ index: Int, _ count: Int) -> Int? {
        let byte = bytes[index]
        guard isLetter(byte) || (byte == 0x20 && index + 1 < count && isLetter(bytes[index + 1])) else { return nil }
        var end = index + 1
        // Eight bytes at a time: where a word ends is different for every word, so a byte-by-byte
        // loop's exit is a branch the processor cannot predict.
        while end + 8 <= count {
            let others = nonLetters(UInt64(littleEndian: UnsafeRawPointer(bytes + end).loadUnaligned(as: UInt64.self)))
            if others != 0 { return end + others.trailingZeroBitCount / 8 }
            end += 8
        }
        while end < count, isLetter(bytes[end]) { end += 1 }
        return end
    }

    /// The high bit of each byte of `word` that is not an ASCII letter.
    @inline(__always)
    static func nonLetters(_ word: UInt64) -> UInt64 {
        let high: UInt64 = 0x8080_8080_8080_8080
        // Lower case, without the high bit (so no byte's sum below carries into the next).
        let folded = (word | 0x2020_2020_2020_2020) & 0x7F7F_7F7F_7F7F_7F7F
        // The high bit of folded + 0x1F is set from 0x61 ('a') up, that of folded + 0x05 from 0x7B up.
        let letters = (folded &+ 0x1F1F_1F1F_1F1F_1F1F) & ~(folded &+ 0x0505_0505_0505_0505) & ~word & high
        return ~letters & high
    }

    /// Appends the coded form of `input` to `output` when it is at least a sixteenth smaller than
    /// `input`; otherwise appends nothing and returns false.
    static func encode(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], scratch: inout Scratch) -> Bool {
        guard input.count >= 256, input.count < Int(Int32.max), let base = input.baseAddress else { return false }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        let sampleCount = min(input.count, sampleBytes)

        // Count the sample's words and note which other bytes it uses.
        var used = [Bool](repeating: false, count: 256)
        var distinct = 0
        scratch.counts.withUnsafeMutableBufferPointer { counts in
            for slot in counts.indices { counts[slot].count = 0 }
            let shift = UInt64(64 - countSlots.trailingZeroBitCount)
            var index = 0
            while index < sampleCount {
                guard let end = wordEnd(bytes, index, sampleCount) else {
                    used[Int(bytes[index])] = true
                    index += 1
                    continue
                }
                let length = end - index
                defer { index = end }
                guard length >= 2, length <= maxWordLength else { continue }
                let key = key(bytes, index, length, sampleCount)
                var slot = Int(truncatingIfNeeded: key.hash >> shift)
                while counts[slot].count != 0 && counts[slot].key != key { slot = (slot + 1) & (countSlots - 1) }
                if counts[slot].count != 0 {
                    counts[slot].count += 1
                } else if distinct < countSlots * 3 / 4 {
                    // Past three quarters full, new words are not counted (the sample's frequent
                    // words come early and often).
                    counts[slot] = WordCount(key: key, start: Int32(index), length: UInt8(length), count: 1)
                    distinct += 1
                }
            }
        }

        // Codes: bytes the sample does not use, never zero (the streams' separator), a letter or a space.
        var codes: [UInt8] = []
        for byte in 1...255 where !used[byte] && !isLetter(UInt8(byte)) && byte != 0x20 { codes.append(UInt8(byte)) }
        guard codes.count >= 2 else { return false }
        let escape = codes.removeFirst()

        // The entries that save most: each occurrence saves length - 1 bytes; the entry costs length + 2.
        var candidates: [(saving: Int, slot: Int)] = []
        for (slot, entry) in scratch.counts.enumerated() where entry.count > 0 {
            let saving = Int(entry.count) * (Int(entry.length) - 1) - (Int(entry.length) + 2)
            if saving > 0 { candidates.append((saving, slot)) }
        }
        guard !candidates.isEmpty else { return false }
        candidates.sort { $0.saving > $1.saving }
        let chosen = candidates.prefix(codes.count)

        // The table, and a lookup from a word's key to its code.
        let tableStart = output.count
        output.append(escape)
        output.append(UInt8(chosen.count))
        let lookupShift = UInt64(64 - lookupSlots.trailingZeroBitCount)
        for slot in scratch.lookup.indices { scratch.lookup[slot].key.low = 0 }
        var isCode = [Bool](repeating: false, count: 256)
        isCode[Int(escape)] = true
        for (index, candidate) in chosen.enumerated() {
            let entry = scratch.counts[candidate.slot]
            output.append(codes[index])
            output.append(entry.length)
            output.append(contentsOf: UnsafeRawBufferPointer(start: bytes + Int(entry.start), count: Int(entry.length)))
            var slot = Int(truncatingIfNeeded: entry.key.hash >> lookupShift)
            while scratch.lookup[slot].key.low != 0 { slot = (slot + 1) & (lookupSlots - 1) }
            scratch.lookup[slot] = Entry(key: entry.key, code: codes[index])
            isCode[Int(codes[index])] = true
        }
        output.appendLE(UInt32(input.count))

        // The body, given up as soon as it is not a sixteenth smaller than the input.
        let limit = input.count - input.count / 16 - (output.count - tableStart)
        if scratch.output.count < limit + 2 { scratch.output = [UInt8](repeating: 0, count: limit + 2) }
        var written = 0
        let complete = scratch.output.withUnsafeMutableBufferPointer { out in
            scratch.lookup.withUnsafeBufferPointer { lookup in
                isCode.withUnsafeBufferPointer { isCode in
                    let count = input.count
                    var index = 0
                    while index < count {
                        guard let end = wordEnd(bytes, index, count) else {
                            guard written + 2 <= limit else { return false }
                            let byte = bytes[index]
                            if isCode[Int(byte)] {
                                out[written] = escape
                                written += 1
                            }
                            out[written] = byte
                            written += 1
                            index += 1
                            continue
                        }
                        let length = end - index
                        guard written + length <= limit else { return false }
                        defer { index = end }
                        if length >= 2, length <= maxWordLength {
                            let key = key(bytes, index, length, count)
                            var slot = Int(truncatingIfNeeded: key.hash >> lookupShift)
                            while lookup[slot].key.low != 0 && lookup[slot].key != key { slot = (slot + 1) & (lookupSlots - 1) }
                            if lookup[slot].key.low != 0 {
                                out[written] = lookup[slot].code
                                written += 1
                                continue
                            }
                        }
                        // Letters and spaces are never codes.
                        (out.baseAddress! + written).update(from: bytes + index, count: length)
                        written += length
                    }
                    return true
                }
            }
        }
        guard complete else {
            output.removeSubrange(tableStart...)
            return false
        }
        output.append(contentsOf: scratch.output[0..<written])
        return true
    }

    /// The length `coded` decodes to, with its table checked; nil when it is not a well-formed coded
    /// stream.
    static func decodedLength(_ coded: UnsafeRawBufferPointer) -> Int? {
        table(coded)?.decodedLength
    }

    private struct Table {
        /// Per byte value: the entry's offset in the coded stream and its length; length 0 for a
        /// byte that stands for itself, -1 for the escape.
        var entries: [(offset: Int, length: Int)]
        var decodedLength: Int
        var bodyStart: Int
    }

    private static func table(_ coded: UnsafeRawBufferPointer) -> Table? {
        guard coded.count >= 6 else { return nil }
        let escape = Int(coded[0])
        let count = Int(coded[1])
        guard escape != 0 else { return nil }
        var entries = [(offset: Int, length: Int)](repeating: (0, 0), count: 256)
        entries[escape] = (0, -1)
        var position = 2
        for _ in 0..<count {
            guard position + 2 <= coded.count else { return nil }
            let code = Int(coded[position])
            let length = Int(coded[position + 1])
            position += 2
            guard code != 0, entries[code].length == 0, length > 0, length <= coded.count - position else { return nil }
            entries[code] = (position, length)
            position += length
        }
        guard position + 4 <= coded.count else { return nil }
        let decodedLength = Int(coded.loadLE(UInt32.self, at: position))
        // No byte of the body stands for more than 255 (so a damaged length cannot ask for more).
        guard decodedLength <= 255 * (coded.count - position - 4) else { return nil }
        return Table(entries: entries, decodedLength: decodedLength, bodyStart: position + 4)
    }

    /// Decodes `coded` into `out`, which holds exactly its decoded length; false when `coded` is not
    /// a well-formed coded stream or does not decode to that length.
    static func decode(_ coded: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Bool {
        guard let table = table(coded), table.decodedLength == out.count, let source = coded.baseAddress else { return false }
        guard let destination = out.baseAddress else { return table.bodyStart == coded.count }
        var written = 0
        var index = table.bodyStart
        return table.entries.withUnsafeBufferPointer { entries in
            while index < coded.count {
                let byte = coded[index]
                let entry = entries[Int(byte)]
                index += 1
                if entry.length == 0 {
                    guard written < out.count else { return false }
                    out[written] = byte
                    written += 1
                } else if entry.length < 0 {
                    guard index < coded.count, written < out.count else { return false }
                    out[written] = coded[index]
                    index += 1
                    written += 1
                } else {
                    guard entry.length <= out.count - written else { return false }
                    (destination + written).copyMemory(from: source + entry.offset, byteCount: entry.length)
                    written += entry.length
                }
            }
            return written == out.count
        }
    }
}
