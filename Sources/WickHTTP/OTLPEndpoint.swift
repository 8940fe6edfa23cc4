import HTTPTypes
import Hummingbird
import WickIngest
import WickJSON
import WickOTLP
import WickStore

/// `POST /api/public/otel/v1/traces` (reference §2.1): OTLP/HTTP trace exports, protobuf or JSON,
/// gzip or not, with the API's Basic auth. Spans become Langfuse events (`SpanMapper`) and go
/// through the same checks and log as a batch on `/api/public/ingestion`; the 200 is sent once they
/// are durable. Events the checks refuse are dead-lettered and reported as OTLP's partial success.
enum OTLPEndpoint {
    /// The newest `x-langfuse-ingestion-version` Langfuse accepts (the current SDKs send 4).
    static let maxIngestionVersion = 4

    static func addRoutes(to router: Router<BasicRequestContext>, api: LangfuseAPI.Endpoints, store: DataStore) {
        router.post("/api/public/otel/v1/traces") { request, _ -> Response in
            await api.respond {
                let project = try api.project(request)
                if let header = HTTPField.Name("x-langfuse-ingestion-version"), let value = request.headers[header],
                   let version = Int(value.trimmingSpaces), version > maxIngestionVersion {
                    throw failure("x-langfuse-ingestion-version \(version) is not supported (at most \(maxIngestionVersion))")
                }
                let contentType = request.headers[.contentType]?.lowercased() ?? ""
                let isProtobuf = contentType.contains("application/x-protobuf")
                guard isProtobuf || contentType.contains("application/json") else {
                    throw failure("Invalid content type", detail: "expected application/x-protobuf or application/json, got \(contentType.isEmpty ? "none" : contentType)")
                }
                let body = try await api.body(request)
                let export: OTLPExport
                do {
                    export = isProtobuf ? try OTLPExport(protobuf: body) : try OTLPExport(json: body, limits: api.processor.scanner.limits)
                } catch {
                    throw failure("Invalid OTLP export", detail: "\(error)")
                }
                guard export.spanCount > 0 else { return LangfuseAPI.json(.ok, .object([:])) }
                let now = store.events.configuration.clock.microseconds()
                let ingestion = try api.check(SpanMapper.batch(export, now: now), project: project, source: .otlp)
                try await api.persist(ingestion)
                let refused = ingestion.results.filter { $0.status >= 300 }
                guard let first = refused.first else { return LangfuseAPI.json(.ok, .object([:])) }
                return LangfuseAPI.json(.ok, .object(["partialSuccess": .object([
                    "rejectedSpans": .number(JSONNumber(refused.count)),
                    "errorMessage": .string("\(refused.count) events refused, the first \(first.id): \(first.reason ?? "") \(first.message ?? "")"),
                ])]))
            }
        }
        // Langfuse answers metrics exports and drops them; so does Wick, so an exporter configured
        // with one endpoint for everything does not log errors.
        router.post("/api/public/otel/v1/metrics") { request, _ -> Response in
            await api.respond {
                _ = try api.project(request)
                return LangfuseAPI.json(.ok, .object([:]))
            }
        }
    }

    private static func failure(_ error: String, detail: String? = nil) -> LangfuseAPI.ResponseFailure {
        LangfuseAPI.ResponseFailure(LangfuseAPI.json(.badRequest, .object(["error": .string(error), "message": .string(detail ?? error)])))
    }
}

