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

    public init(_ observations: [Observation]) {
        // Few observations: a scan finds a parent faster than a hash; many: a dictionary.
        let index: [String: Int]? = observations.count > 24
            ? Dictionary(observations.indices.map { (observations[$0].id, $0) }, uniquingKeysWith: { first, _ in first })
            : nil
        func find(_ id: String) -> Int? {
            if let index { return index[id] }
            return observations.indices.first { observations[$0].id == id }
        }
        var parent = [Int?](repeating: nil, count: observations.count)
        var flags = [Flags](repeating: [], count: observations.count)
        for position in observations.indices {
            guard let parentID = observations[position].parentObservationId else { continue }
            if parentID == observations[position].id {
                flags[position].insert(.selfParent)
            } else if let found = find(parentID) {
                parent[position] = found
            } else {
                flags[position].insert(.orphan)
            }
        }
        // Cut every loop: walking up from each node, a node met twice closes a loop; the edge out of
        // the loop's earliest observation (the input is sorted by start time) is removed.
        var state = [UInt8](repeating: 0, count: observations.count)  // 0 new, 1 on the current path, 2 done
        var path: [Int] = []
        for start in observations.indices where state[start] == 0 {
            path.removeAll(keepingCapacity: true)
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
        // Children in one array, each node's run located by a prefix sum, in start order.
        let count = observations.count
        var firstChild = [Int](repeating: 0, count: count + 1)
        for position in 0..<count { if let up = parent[position] { firstChild[up + 1] += 1 } }
        for position in 0..<count { firstChild[position + 1] += firstChild[position] }
        var fill = firstChild
        var children = [Int](repeating: 0, count: count)
        var stack: [(Int, Int)] = []
        stack.reserveCapacity(count)
        for position in 0..<count {
            if let up = parent[position] {
                children[fill[up]] = position
                fill[up] += 1
            }
        }
        for position in (0..<count).reversed() where parent[position] == nil { stack.append((position, 0)) }
        var nodes: [Node] = []
        nodes.reserveCapacity(count)
        while let (position, depth) = stack.popLast() {
            nodes.append(Node(observation: position, depth: depth, flags: flags[position]))
            for child in children[firstChild[position]..<firstChild[position + 1]].reversed() { stack.append((child, depth + 1)) }
        }
        self.nodes = nodes
    }
}
