import ServiceLifecycle
import WickStore

/// Keeps the store open while the daemon runs; on shutdown (after every service that writes to it
/// has stopped) commits, syncs and closes it.
struct StoreService: Service {
    let store: DataStore

    func run() async throws {
        try? await gracefulShutdown()
        store.close()
    }
}
