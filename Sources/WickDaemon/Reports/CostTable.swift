import WickModel
public import WickPipeline

/// `wick costs` as a table: one row per key, costs in USD to the cent (to the micro-dollar below a cent).
public struct CostTable: Sendable {
    let breakdown: CostBreakdown

    public init(_ breakdown: CostBreakdown) {
        self.breakdown = breakdown
    }

    public func render() -> String {
        let title = breakdown.dimension.rawValue.uppercased()
        var rows: [[String]] = [[title, "TRACES", "OBSERVATIONS", "INPUT", "OUTPUT", "COST (USD)"]]
        for row in breakdown.ordered + [breakdown.total] {
            let key = row.key.isEmpty ? "(none)" : row.key
            rows.append([key, String(row.traces), String(row.usage.observations), String(row.usage.input),
                         String(row.usage.output), row.usage.cost.map(Self.money) ?? "-"])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        var out = ""
        for (index, row) in rows.enumerated() {
            if index == rows.count - 1 { out += String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)) + "\n" }
            out += row.enumerated().map { column, cell in
                column == 0 ? cell.padding(widths[column]) : cell.leftPadding(widths[column])
            }.joined(separator: "  ") + "\n"
        }
        return out
    }

    /// Rounded to what a reader needs: cents, or six places below a cent.
    static func money(_ value: FixedDecimal) -> String {
        let places = value < FixedDecimal("0.01")! ? 6 : 2
        let text = value.rounded(toPlaces: places).description
        let parts = text.split(separator: ".", maxSplits: 1)
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        return String(parts[0]) + "." + fraction + String(repeating: "0", count: max(0, places - fraction.count))
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    func leftPadding(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
