import Hummingbird
import Synchronization
import WickJSON

/// The paths a router answers and the methods of each, recorded as the routes are added, so that
/// another method on a known path is a 405 with `Allow` (as Langfuse answers it, and as RFC 9110
/// asks) rather than a 404 that says the path does not exist.
final class RouteTable: Sendable {
    private let routes = Mutex<[(segments: [Substring], methods: [HTTPRequest.Method])]>([])

    func add(_ path: String, _ method: HTTPRequest.Method) {
        let segments = path.split(separator: "/")
        routes.withLock { routes in
            if let index = routes.firstIndex(where: { $0.segments == segments }) {
                routes[index].methods.append(method)
            } else {
                routes.append((segments, [method]))
            }
        }
    }

    /// The methods of the route `path` matches (a `:name` segment matches any one segment); nil
    /// when it matches none.
    func methods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/")
        return routes.withLock { routes in
            routes.first { route in
                route.segments.count == segments.count
                    && zip(route.segments, segments).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
            }?.methods
        }
    }
}

/// A router's `get` and `post` that also record the route in a `RouteTable`.
struct RecordingRouter {
    let router: Router<BasicRequestContext>
    let table: RouteTable

    func get(_ path: String, use handler: @Sendable @escaping (Request, BasicRequestContext) async throws -> Response) {
        table.add(path, .get)
        router.get(RouterPath(path), use: handler)
    }

    func post(_ path: String, use handler: @Sendable @escaping (Request, BasicRequestContext) async throws -> Response) {
        table.add(path, .post)
        router.post(RouterPath(path), use: handler)
    }
}

/// Answers a method a known path does not take with 405 and the methods it does take. OPTIONS is
/// left alone (a CORS preflight is no request for the resource).
struct MethodNotAllowed: RouterMiddleware {
    typealias Context = BasicRequestContext
    let table: RouteTable

    @concurrent func handle(_ request: Request, context: Context,
                            next: @concurrent (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method != .options, let methods = table.methods(for: request.uri.path), !methods.contains(request.method) else {
            return try await next(request, context)
        }
        var response = LangfuseAPI.json(.methodNotAllowed, .object(["message": .string("Method \(request.method) not allowed")]))
        response.headers[.allow] = methods.map(\.rawValue).joined(separator: ", ")
        return response
    }
}
