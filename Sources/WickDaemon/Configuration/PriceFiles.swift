import SystemPackage
public import WickModel

extension WickConfiguration {
    /// The price book the settings name: the files of `prices.files` (the first file's entries
    /// winning), then Wick's embedded table unless `prices.defaults` is false.
    public func loadPrices() throws -> PriceBook {
        var files: [(path: String, bytes: [UInt8])] = []
        for path in priceFiles {
            do {
                files.append((path, try Self.readWholeFile(path)))
            } catch {
                throw ConfigurationError(key: "prices.files", message: "cannot read \(path): \(error)")
            }
        }
        do {
            return try PriceBook.load(files, includeDefaults: priceDefaults)
        } catch {
            throw ConfigurationError(key: "prices.files", message: "\(error)")
        }
    }

    /// The score configs `scores.configs-file` names (none when it names no file).
    public func loadScoreConfigs() throws -> ScoreConfigs {
        guard !scoreConfigsFile.isEmpty else { return .none }
        let bytes: [UInt8]
        do {
            bytes = try Self.readWholeFile(scoreConfigsFile)
        } catch {
            throw ConfigurationError(key: "scores.configs-file", message: "cannot read \(scoreConfigsFile): \(error)")
        }
        do {
            return try ScoreConfigs.parse(bytes)
        } catch {
            throw ConfigurationError(key: "scores.configs-file", message: "\(scoreConfigsFile): \(error)")
        }
    }

    static func readWholeFile(_ path: String) throws -> [UInt8] {
        let fd = try FileDescriptor.open(FilePath(path), .readOnly)
        defer { try? fd.close() }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= 64 << 20 else { throw Errno.fileTooLarge }
        }
        return bytes
    }
}
