/// Observations linked into a tree by `parentObservationId`. Never fails: an observation whose
/// parent has not been seen (yet) is a root flagged as an orphan; one that is its own parent, or sits
/// on a cycle, becomes a root flagged as such, so every observation appears exactly once.
public struct TraceTree: Sendable, Hashable {
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Its parent is not among the trace's observations.
        public static let orphan = Flags(rawValue: 1)
        /// It names itself as its parent.
        public static let selfParent = Flags(rawValue: 2)
        /// Its parent chain loops; the loop was cut here.
        public static let cycle = Flags(rawValue: 4)
    }

    public struct Node: Sendable, Hashable {
        /// Index into the folded trace's `observations`.
        public var observation: Int
        public var depth: Int
        public var flags: Flags
    }

    /// Depth-first, children by start time: the order a timeline prints in.
    public private(set) var nodes: [Node]
    public private(set) var children: [[Int]]
    public private(set) var roots: [Int]

    public init(_ observations: [Observation]) {
        var index: [String: Int] = [:]
        for (position, observation) in observations.enumerated() { index[observation.id] = position }
        var parent = [Int?](repeating: nil, count: observations.count)
        var flags = [Flags](repeating: [], count: observations.count)
        for (position, observation) in observations.enumerated() {
            guard let parentID = observation.parentObservationId else { continue }
            if parentID == observation.id {
                flags[position].insert(.selfParent)
            } else if let found = index[parentID] {
                parent[position] = found
            } else {
                flags[position].insert(.orphan)
            }
        }
        // Cut every loop: walking up from each node, a node met twice closes a loop; the edge out of
        // the loop's earliest observation (the input is sorted by start time) is removed.
        var state = [UInt8](repeating: 0, count: observations.count)  // 0 new, 1 on the current path, 2 done
        for start in observations.indices where state[start] == 0 {
            var path: [Int] = []
            var node: Int? = start
            while let current = node, state[current] != 2 {
                if state[current] == 1 {
                    let loop = path[(path.firstIndex(of: current) ?? 0)...]
                    let cut = loop.min() ?? current
                    parent[cut] = nil
                    flags[cut].insert(.cycle)
                    break
                }
                state[current] = 1
                path.append(current)
                node = parent[current]
            }
            for visited in path { state[visited] = 2 }
        }
        var children = [[Int]](repeating: [], count: observations.count)
        var roots: [Int] = []
        for position in observations.indices {
            if let up = parent[position] { children[up].append(position) } else { roots.append(position) }
        }
        var nodes: [Node] = []
        nodes.reserveCapacity(observations.count)
        var stack = roots.reversed().map { ($0, 0) }
        while let (position, depth) = stack.popLast() {
            nodes.append(Node(observation: position, depth: depth, flags: flags[position]))
            for child in children[position].reversed() { stack.append((child, depth + 1)) }
        }
        self.nodes = nodes
        self.children = children
        self.roots = roots
    }
}
