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
    /// The stream's start whose coding decides whether the rest is coded.
    static let trialBytes = 16 * 1024
    /// Longest word worth an entry: longer ones are rare, and zstd matches them well.
    static let maxWordLength = 16

    /// Scratch space the encoder reuses from one stream to the next.
    struct Scratch {
        fileprivate var output: [UInt8] = []
        fileprivate var counts = [WordCount](repeating: WordCount(), count: countSlots)
        /// Keys and codes of the table's words, apart, so that the keys probed take 8 KiB of cache.
        fileprivate var lookupKeys = [Key](repeating: Key(), count: lookupSlots)
        fileprivate var lookupCodes = [UInt8](repeating: 0, count: lookupSlots)
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

    private static let countSlots = 4096
    private static let lookupSlots = 512

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

    /// The high bit of the first byte of `word` that is a letter, a control byte or above 0x7F (any
    /// byte that may be a code), and maybe of bytes after it; zero when there is none.
    @inline(__always)
    static func stopsPlainRun(_ word: UInt64) -> UInt64 {
        let high: UInt64 = 0x8080_8080_8080_8080
        // Below 0x20: the subtraction borrows only out of such a byte, so the lowest one flagged is one.
        let control = (word &- 0x2020_2020_2020_2020) & ~word & high
        return (~nonLetters(word) & high) | (word & high) | control
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

    /// Appends the coded form of `input` to `output` when it is worth it; otherwise appends nothing
    /// and returns false. It is worth it when a table chosen from the first `trialBytes` codes them
    /// to two thirds of their bytes or less, and the whole, with a table chosen from the first
    /// `sampleBytes`, to fifteen sixteenths or less. English prose codes to about 0.55–0.6 in the
    /// trial and compresses 8% smaller for it; source code to about 0.7, where zstd gains 2–3% from
    /// the codes for a sixth more time (BENCHMARKS.md, `bench compact-text`).
    static func encode(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], scratch: inout Scratch) -> Bool {
        guard input.count >= 256, input.count < Int(Int32.max), let base = input.baseAddress else { return false }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        var used = [Bool](repeating: false, count: 256)
        var distinct = 0
        scratch.counts.withUnsafeMutableBufferPointer { counts in
            for slot in counts.indices { counts[slot].count = 0 }
        }
        let trialCount = min(input.count, trialBytes)
        countWords(bytes, 0..<trialCount, counts: &scratch.counts, used: &used, distinct: &distinct)
        guard var table = chooseTable(bytes, used: used, scratch: &scratch) else { return false }
        if scratch.output.count < input.count + 16 { scratch.output = [UInt8](repeating: 0, count: input.count + 16) }
        guard code(bytes, count: trialCount, table: table, limit: trialCount * 2 / 3, scratch: &scratch) != nil else { return false }
        if input.count > trialCount {
            countWords(bytes, trialCount..<min(input.count, sampleBytes), counts: &scratch.counts, used: &used, distinct: &distinct)
            guard let chosen = chooseTable(bytes, used: used, scratch: &scratch) else { return false }
            table = chosen
        }
        let tableStart = output.count
        output.append(table.escape)
        output.append(UInt8(table.words.count))
        for word in table.words {
            output.append(word.code)
            output.append(UInt8(word.bytes.count))
            output.append(contentsOf: UnsafeRawBufferPointer(start: bytes + word.bytes.lowerBound, count: word.bytes.count))
        }
        output.appendLE(UInt32(input.count))
        let limit = input.count - input.count / 16 - (output.count - tableStart)
        guard let written = code(bytes, count: input.count, table: table, limit: limit, scratch: &scratch) else {
            output.removeSubrange(tableStart...)
            return false
        }
        output.append(contentsOf: scratch.output[0..<written])
        return true
    }

    /// Counts the words of `bytes[range]` and notes which other bytes it uses.
    private static func countWords(_ bytes: UnsafePointer<UInt8>, _ range: Range<Int>, counts: inout [WordCount],
                                   used: inout [Bool], distinct: inout Int) {
        counts.withUnsafeMutableBufferPointer { counts in
            let shift = UInt64(64 - countSlots.trailingZeroBitCount)
            var index = range.lowerBound
            while index < range.upperBound {
                guard let end = wordEnd(bytes, index, range.upperBound) else {
                    used[Int(bytes[index])] = true
                    index += 1
                    continue
                }
                let length = end - index
                defer { index = end }
                guard length >= 2, length <= maxWordLength else { continue }
                let key = key(bytes, index, length, range.upperBound)
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
    }

    private struct WordTable {
        var escape: UInt8
        var words: [(code: UInt8, bytes: Range<Int>)]
        var isCode: [Bool]
    }

    /// The words counted that save most, each with a code, and the lookup from a word's key to its
    /// code in `scratch`; nil when no word saves anything or no byte is free for a code.
    private static func chooseTable(_ bytes: UnsafePointer<UInt8>, used: [Bool], scratch: inout Scratch) -> WordTable? {
        // Codes: control bytes and bytes above 0x7F that the sample does not use, never zero (the
        // streams' separator). Text in JSON holds no control byte, and ASCII text no byte above
        // 0x7F; printable ASCII is left alone, so a run of it needs no check for codes.
        var codes: [UInt8] = []
        for byte in 1...255 where !used[byte] && (byte < 0x20 || byte > 0x7F) { codes.append(UInt8(byte)) }
        guard codes.count >= 2 else { return nil }
        let escape = codes.removeFirst()
        // Each occurrence saves length - 1 bytes; the entry costs length + 2.
        var candidates: [(saving: Int, slot: Int)] = []
        for (slot, entry) in scratch.counts.enumerated() where entry.count > 0 {
            let saving = Int(entry.count) * (Int(entry.length) - 1) - (Int(entry.length) + 2)
            if saving > 0 { candidates.append((saving, slot)) }
        }
        guard !candidates.isEmpty else { return nil }
        candidates.sort { $0.saving > $1.saving }
        var table = WordTable(escape: escape, words: [], isCode: [Bool](repeating: false, count: 256))
        table.isCode[Int(escape)] = true
        let shift = UInt64(64 - lookupSlots.trailingZeroBitCount)
        for slot in scratch.lookupKeys.indices { scratch.lookupKeys[slot].low = 0 }
        for (code, candidate) in zip(codes, candidates) {
            let entry = scratch.counts[candidate.slot]
            table.words.append((code, Int(entry.start)..<(Int(entry.start) + Int(entry.length))))
            table.isCode[Int(code)] = true
            var slot = Int(truncatingIfNeeded: entry.key.hash >> shift)
            while scratch.lookupKeys[slot].low != 0 { slot = (slot + 1) & (lookupSlots - 1) }
            scratch.lookupKeys[slot] = entry.key
            scratch.lookupCodes[slot] = code
        }
        return table
    }

    /// Codes the first `count` bytes with `table` into `scratch.output` (which holds `count` + 16);
    /// the bytes written, or nil once that would be more than `limit`.
    private static func code(_ bytes: UnsafePointer<UInt8>, count: Int, table: WordTable, limit: Int, scratch: inout Scratch) -> Int? {
        guard limit > 0 else { return nil }
        return scratch.output.withUnsafeMutableBufferPointer { out in
            scratch.lookupKeys.withUnsafeBufferPointer { keys in
                scratch.lookupCodes.withUnsafeBufferPointer { codes in
                    table.isCode.withUnsafeBufferPointer { isCode in
                        codeBody(bytes, count: count, keys: keys, codes: codes, isCode: isCode, escape: table.escape,
                                 into: out.baseAddress!, limit: limit)
                    }
                }
            }
        }
    }

    /// Writes `bytes` coded with the table (`keys` and `codes`, by the key's hash) to `out`, which
    /// has room for `limit` bytes and 16 more; the bytes written, or nil once that would be more.
    @inline(__always)
    private static func codeBody(_ bytes: UnsafePointer<UInt8>, count: Int, keys: UnsafeBufferPointer<Key>,
                                 codes: UnsafeBufferPointer<UInt8>, isCode: UnsafeBufferPointer<Bool>, escape: UInt8,
                                 into out: UnsafeMutablePointer<UInt8>, limit: Int) -> Int? {
        let shift = UInt64(64 - lookupSlots.trailingZeroBitCount)
        var written = 0
        var index = 0
        while index < count {
            // A word of up to 15 bytes with sixteen bytes to read: its end and its key from two
            // loads, where the general path below finds the end and then loads the key.
            if index + 16 <= count {
                let raw = UnsafeRawPointer(bytes + index)
                let low = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
                let first = UInt8(truncatingIfNeeded: low)
                if isLetter(first) || (first == 0x20 && isLetter(UInt8(truncatingIfNeeded: low &>> 8))) {
                    // The first byte is a letter or the space before one: it never ends the word.
                    let lowOthers = nonLetters(low) & ~0x80
                    var key = Key()
                    var length = 16
                    if lowOthers != 0 {
                        length = lowOthers.trailingZeroBitCount &>> 3
                        key.low = low & ((1 &<< (UInt64(length) &* 8)) &- 1)
                    } else {
                        let high = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                        let highOthers = nonLetters(high)
                        if highOthers != 0 {
                            length = 8 + highOthers.trailingZeroBitCount &>> 3
                            key.low = low
                            key.high = high & ((1 &<< (UInt64(length - 8) &* 8)) &- 1)
                        }
                    }
                    if length < 16 {
                        guard written + length <= limit else { return nil }
                        if length >= 2 {
                            var slot = Int(truncatingIfNeeded: key.hash >> shift)
                            while keys[slot].low != 0 && keys[slot] != key { slot = (slot + 1) & (lookupSlots - 1) }
                            if keys[slot].low != 0 {
                                out[written] = codes[slot]
                                written += 1
                                index += length
                                continue
                            }
                        }
                        let target = UnsafeMutableRawPointer(out + written)
                        target.storeBytes(of: raw.loadUnaligned(as: UInt64.self), as: UInt64.self)
                        target.storeBytes(of: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self), toByteOffset: 8, as: UInt64.self)
                        written += length
                        index += length
                        continue
                    }
                }
            }
            guard let end = wordEnd(bytes, index, count) else {
                guard written + 2 <= limit else { return nil }
                let byte = bytes[index]
                if isCode[Int(byte)] {
                    out[written] = escape
                    written += 1
                }
                out[written] = byte
                written += 1
                index += 1
                // Then the bytes up to the next letter or the next byte that may be a code,
                // eight at a time (punctuation, digits, indentation), each eight stored whole
                // and the position moved on by as many as belong.
                while index + 8 <= count {
                    let chunk = UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self)
                    let stops = stopsPlainRun(UInt64(littleEndian: chunk))
                    var plain = stops == 0 ? 8 : stops.trailingZeroBitCount / 8
                    // A space before a letter belongs to the word.
                    if plain > 0, bytes[index + plain - 1] == 0x20, index + plain < count, isLetter(bytes[index + plain]) {
                        plain -= 1
                    }
                    guard plain > 0 else { break }
                    guard written + plain <= limit else { return nil }
                    UnsafeMutableRawPointer(out + written).storeBytes(of: chunk, as: UInt64.self)
                    written += plain
                    index += plain
                    if plain < 8 { break }
                }
                continue
            }
            let length = end - index
            guard written + length <= limit else { return nil }
            defer { index = end }
            if length >= 2, length <= maxWordLength {
                let key = key(bytes, index, length, count)
                var slot = Int(truncatingIfNeeded: key.hash >> shift)
                while keys[slot].low != 0 && keys[slot] != key { slot = (slot + 1) & (lookupSlots - 1) }
                if keys[slot].low != 0 {
                    out[written] = codes[slot]
                    written += 1
                    continue
                }
            }
            // Letters and spaces are never codes. A word of up to 16 bytes is stored as two
            // eights (the output has room past its limit for what is stored beyond).
            if length <= 16 && index + 16 <= count {
                let raw = UnsafeRawPointer(bytes + index)
                let target = UnsafeMutableRawPointer(out + written)
                target.storeBytes(of: raw.loadUnaligned(as: UInt64.self), as: UInt64.self)
                target.storeBytes(of: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self), toByteOffset: 8, as: UInt64.self)
            } else {
                (out + written).update(from: bytes + index, count: length)
            }
            written += length
        }
        return written
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
