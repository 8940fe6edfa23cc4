import ArgumentParser
import WickDaemon
import WickJSON
import WickStore

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a data directory's segments: sizes, records, compression, receive-time ranges, the index.")

    @OptionGroup var data: DataDirectoryOption
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        do {
            let inspection = try Inspection.make(StoreReader(directory))
            print(json ? String(decoding: inspection.json.serialized(), as: UTF8.self) : inspection.text, terminator: json ? "\n" : "")
        } catch {
            printError("wick inspect: \(error)")
            throw ExitCode(1)
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every frame of every segment; exit 1 when anything is damaged.",
        discussion: "Safe beside a running daemon: the segment it is writing is judged only up to its last complete frame.")

    @OptionGroup var data: DataDirectoryOption
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        let verification: Verification
        do {
            verification = try Verification.make(StoreReader(directory))
        } catch {
            printError("wick verify: \(error)")
            throw ExitCode(2)
        }
        print(json ? String(decoding: verification.json.serialized(), as: UTF8.self) : verification.text, terminator: json ? "\n" : "")
        if verification.isDamaged { throw ExitCode(1) }
    }
}

struct Reindex: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild the LMDB index from the segments (refuses while the daemon runs).")

    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        do {
            let result = try WickStore.Reindex.run(directory)
            print("reindexed \(result.segments) segments: \(result.framesIndexed) frames, \(result.entries) index entries, high-water mark \(result.highWaterMark)")
        } catch let error where error.code == .locked {
            printError("wick reindex: \(error.message)")
            throw ExitCode(2)
        } catch {
            printError("wick reindex: \(error)")
            throw ExitCode(1)
        }
    }
}
