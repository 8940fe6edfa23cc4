import WickModel
import WickPipeline
import WickReplay
import WickStore

/// The store's traces for the `otlp` sink: each folded as `wick trace` folds it, without prices
/// (the receiver prices usage itself; costs the clients provided travel as they are).
struct StoreTraces: ReplayTraceSource {
    let store: DataStore

    func trace(_ id: String, project: String) throws -> FoldedTrace? {
        try TraceLoader.load(id, project: project, from: store, prices: .none)?.folded
    }
}
