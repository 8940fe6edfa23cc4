import ArgumentParser
import WickDaemon
import WickHTTP
import WickJSON
import WickStore

#if canImport(Glibc)
import Glibc
#endif

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "API keys for the Langfuse-compatible HTTP API.",
        subcommands: [KeysCreate.self, KeysList.self])
}

struct KeysCreate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Make a key pair for a project and print it (the secret is shown once; only its hash is kept).",
        discussion: """
            The pair goes into <data-dir>/api-keys.jsonl (public key, SHA-256 of the secret, project). \
            A running daemon picks it up at the next request. Point a Langfuse SDK at the daemon with \
            LANGFUSE_HOST=http://127.0.0.1:3000 and these as LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY.
            """)

    @Option(help: "The project the key writes to and reads from.") var project: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        mkdir(directory.root, 0o750)
        do {
            let (publicKey, secretKey) = try APIKeys.create(project: project, in: directory.apiKeysPath)
            if json {
                let value: JSONValue = .object(["project": .string(project), "publicKey": .string(publicKey),
                                                "secretKey": .string(secretKey)])
                print(String(decoding: value.serialized(), as: UTF8.self))
            } else {
                print("project:    \(project)\npublic key: \(publicKey)\nsecret key: \(secretKey)")
                print("(the secret key is not stored: keep it now)")
            }
        } catch {
            printError("wick keys create: \(error)")
            throw ExitCode(1)
        }
    }
}

struct KeysList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The public keys and their projects.")

    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        let directory = DataDirectory.resolve(explicit: data.dataDir, environment: ProcessEnvironment.current)
        for key in APIKeys(path: directory.apiKeysPath).all() {
            print("\(key.publicKey)  \(key.project)")
        }
    }
}
