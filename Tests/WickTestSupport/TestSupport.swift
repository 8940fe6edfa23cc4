import Foundation
public import Logging

/// A fresh directory under /tmp (short, so Unix socket paths inside it stay far below the 108 bytes
/// of sun_path), removed with everything in it when the test ends.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(_ prefix: String = "wick") {
        var bytes = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        let made = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: /tmp is not writable")
        path = String(decoding: bytes.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    public func file(_ name: String) -> String { path + "/" + name }
}

/// A logger that keeps quiet below critical, so test output shows the tests.
public let quietLogger: Logger = {
    var logger = Logger(label: "wick.test")
    logger.logLevel = .critical
    return logger
}()

/// A small, fast, seedable generator (SplitMix64), so every randomised test replays exactly.
public struct SplitMix: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
