// libFuzzer target over the segment reader: whatever bytes a segment file holds, reading it must not
// crash or hang, and must never return a record that is not in a frame whose checksum holds.
// Build and run as docs/fuzzing.md says (both sanitizer flags; either alone gives a fuzzer that
// does nothing).

import Glibc
import WickStore

/// One scratch directory per process (libFuzzer runs inputs one after another in one thread).
private let scratch: String = {
    var template = Array("/dev/shm/wick-fuzz-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil, "mkdtemp failed")
    let root = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    mkdir(root + "/log", 0o700)
    return root
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSegmentReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = scratch + "/log/00000000000000000001.wseg"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(fd >= 0, "cannot write the scratch segment")
    var written = 0
    while written < size {
        let n = write(fd, data + written, size - written)
        precondition(n > 0, "short write to the scratch segment")
        written += n
    }
    close(fd)

    let info = SegmentInfo(id: 1, path: path, firstSequence: 1, sealed: false)
    if let verification = try? Verification.verify(info, log: "events", nextFirstSequence: nil, beingWritten: false) {
        precondition(verification.frames >= 0)
    }
    let reader = LogReader(directory: scratch + "/log")
    var previous: UInt64 = 0
    _ = try? reader.read(from: 0) { sequence, record in
        precondition(sequence > previous || previous == 0, "sequence numbers went backwards")
        previous = sequence
        precondition(record.payload.count <= size * 64 + 1 << 20, "a record larger than the input could decompress to")
    }
    if let store = try? StoreReader(DataDirectory(scratch)) {
        _ = try? Inspection.make(store)
    }
    return 0
}
