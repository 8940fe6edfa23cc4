import Foundation

/// The property names and required fields of the schemas in Langfuse's OpenAPI spec (beside the
/// repository, in `shared/reference/langfuse/openapi.yml`), following `allOf` references. Reads the
/// spec's regular layout by indentation: schemas at 4 spaces, their keys at 6, fields at 8.
struct OpenAPISchemas {
    struct Schema {
        var properties: Set<String> = []
        var required: Set<String> = []
        var bases: [String] = []
    }

    private var schemas: [String: Schema] = [:]

    static func load() throws -> OpenAPISchemas {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let spec = repository.deletingLastPathComponent().appendingPathComponent("shared/reference/langfuse/openapi.yml")
        return OpenAPISchemas(try String(contentsOf: spec, encoding: .utf8))
    }

    init(_ text: String) {
        var inSchemas = false
        var current: String?
        var section = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let indent = line.prefix { $0 == " " }.count
            let content = line.dropFirst(indent)
            if indent == 2 { inSchemas = content == "schemas:" }
            guard inSchemas, !content.isEmpty else { continue }
            if indent == 4, content.hasSuffix(":") {
                current = String(content.dropLast())
                schemas[current!] = Schema()
            } else if indent == 6, let current {
                section = String(content.prefix { $0 != ":" })
                _ = current
            } else if indent == 8, let name = current {
                switch section {
                case "properties" where content.hasSuffix(":"):
                    schemas[name]!.properties.insert(String(content.dropLast()))
                case "required" where content.hasPrefix("- "):
                    schemas[name]!.required.insert(String(content.dropFirst(2)))
                case "allOf" where content.hasPrefix("- $ref: "):
                    schemas[name]!.bases.append(String(content.split(separator: "/").last!.dropLast()))
                default:
                    break
                }
            }
        }
    }

    /// Properties and required fields of `name` with those of its `allOf` bases.
    func resolved(_ name: String) -> Schema? {
        guard var schema = schemas[name] else { return nil }
        for base in schema.bases {
            guard let inherited = resolved(base) else { continue }
            schema.properties.formUnion(inherited.properties)
            schema.required.formUnion(inherited.required)
        }
        return schema
    }
}
