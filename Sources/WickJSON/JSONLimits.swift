/// Bounds the scanner and the value parser enforce on every input (TigerStyle: a limit on everything).
public struct JSONLimits: Sendable, Hashable {
    /// The largest ``maxDepth`` accepted. ``JSONValue`` is a recursive enum whose equality, hashing,
    /// writing and deallocation recurse, so a bound keeps those well inside a secondary thread's stack.
    public static let maxDepthCeiling = 1024

    /// How deeply objects and arrays may nest; every object and every array counts one level.
    /// With the default of 64, 64 nested arrays are accepted and 65 are rejected with
    /// ``JSONScanError/Code/tooDeep``.
    public let maxDepth: Int

    /// The defaults: depth 64.
    @inlinable
    public init(maxDepth: Int = 64) {
        precondition(maxDepth >= 1 && maxDepth <= JSONLimits.maxDepthCeiling, "maxDepth must be in 1...1024")
        self.maxDepth = maxDepth
    }
}
