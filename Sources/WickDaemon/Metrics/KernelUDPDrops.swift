#if canImport(Glibc)
import Glibc
#endif

/// Datagrams the kernel dropped before Wick could read them (a full receive buffer), from the
/// `drops` column of /proc/net/udp and /proc/net/udp6 for the socket bound to our port.
public enum KernelUDPDrops: Sendable {
    /// Drops for the UDP socket bound to `port`, nil when no such socket is listed.
    public static func drops(port: Int) -> Int? {
        var total: Int? = nil
        // /proc/self/net, not /proc/net: it stays visible under systemd's ProcSubset=pid.
        for file in ["/proc/self/net/udp", "/proc/self/net/udp6"] {
            guard let text = readFile(file) else { continue }
            if let drops = parse(text, port: port) { total = (total ?? 0) + drops }
        }
        return total
    }

    /// Sums the drops of lines whose local port is `port` in /proc/net/udp text.
    static func parse(_ text: String, port: Int) -> Int? {
        var total: Int? = nil
        for line in text.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
            guard columns.count >= 13, let colon = columns[1].lastIndex(of: ":"),
                  let localPort = Int(columns[1][columns[1].index(after: colon)...], radix: 16),
                  localPort == port, let drops = Int(columns[12])
            else { continue }
            total = (total ?? 0) + drops
        }
        return total
    }

    private static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
