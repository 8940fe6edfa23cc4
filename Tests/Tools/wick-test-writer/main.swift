// A writer for the crash test: appends records to a data directory as fast as it can and prints
// "durable <sequence>" each time an append is reported durable. The test kills it with SIGKILL at a
// random moment and then checks that every sequence it printed is in the log.
//
// Usage: wick-test-writer DATA_DIR always|interval|never SEED

import CWickLinux
import Foundation
import Glibc
import Logging
import WickStore

// Die with the test that started us, even if it is killed before it can kill us.
CWickLinux_die_with_parent()

let arguments = CommandLine.arguments
guard arguments.count == 4, let mode = SegmentLog.Configuration.FsyncMode(rawValue: arguments[2]),
      let seed = UInt64(arguments[3])
else {
    print("usage: wick-test-writer DATA_DIR always|interval|never SEED")
    exit(2)
}

var configuration = DataStore.Configuration()
configuration.log.fsync = mode
configuration.log.commitIntervalMilliseconds = 3
// Small sizes on request, to make fuzzing seeds of a few KiB.
let environment = ProcessInfo.processInfo.environment
configuration.log.frameBytes = environment["WICK_TEST_FRAME_BYTES"].flatMap { Int($0) } ?? 8192
configuration.log.maxSegmentBytes = environment["WICK_TEST_SEGMENT_BYTES"].flatMap { Int64($0) } ?? 256 << 10
configuration.log.minFreeBytes = 0
let store = try DataStore.open(DataDirectory(arguments[1]), configuration: configuration, logger: Logger(label: "writer"))

/// One line per durable append; write(2) of a short line is atomic, so lines from the writer thread
/// never interleave.
@Sendable func report(_ sequence: UInt64) {
    let line = Array("durable \(sequence)\n".utf8)
    _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

struct XorShift {
    var state: UInt64
    mutating func next(_ bound: UInt64) -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state % bound
    }
}
var rng = XorShift(state: seed | 1)

let letters = Array("abcdefghijklmnopqrstuvwxyz".utf8)
while true {
    let first = store.events.nextSequence
    let count = 1 + Int(rng.next(40))
    var batch = RecordBatch()
    for offset in 0..<count {
        // The payload names its own sequence number; the test checks it.
        let n = Int(first) + offset - 1
        var payload = Array("{\"n\":\(n),\"pad\":\"".utf8)
        for _ in 0..<(50 + rng.next(400)) { payload.append(letters[Int(rng.next(26))]) }
        payload.append(contentsOf: Array("\"}".utf8))
        batch.append(kind: .rawEvent, receiveTime: Int64(n), project: "crash",
                     keys: [IndexKey(space: KeySpace(rawValue: 1), "trace-\(n / 10)")], payload: payload)
    }
    let result = store.events.append(batch) { result in
        if case .success(let range) = result { report(range.upperBound - 1) }
    }
    if result.overloaded {
        // Respect back-pressure like a real client, so that memory stays bounded.
        var drained = sem_t()
        sem_init(&drained, 0, 0)
        withUnsafeMutablePointer(to: &drained) { pointer in
            let semaphore = UnsafeSendablePointer(pointer)
            store.events.whenDrained { sem_post(semaphore.pointer) }
            sem_wait(pointer)
        }
    }
    if rng.next(4) == 0 { usleep(UInt32(rng.next(2000))) }
}

/// A pointer handed to the writer thread that signals it; the semaphore outlives the wait.
struct UnsafeSendablePointer: @unchecked Sendable {
    // @unchecked: the pointee is a semaphore, which is made for use across threads.
    let pointer: UnsafeMutablePointer<sem_t>
    init(_ pointer: UnsafeMutablePointer<sem_t>) { self.pointer = pointer }
}
