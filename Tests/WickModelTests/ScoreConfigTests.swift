import Testing
import WickJSON
@testable import WickModel

/// Score configs and the checks scores get when folded (reference §4).
@Suite struct ScoreConfigTests {
    static let configs = try! ScoreConfigs.parse(Array("""
        {"data":[
          {"id":"c-num","name":"accuracy","dataType":"NUMERIC","minValue":0,"maxValue":1},
          {"id":"c-cat","name":"tone","dataType":"CATEGORICAL","categories":[{"label":"calm","value":1},{"label":"rude","value":0}]},
          {"id":"c-bool","name":"correct","dataType":"BOOLEAN"},
          {"id":"c-text","name":"note","dataType":"TEXT"},
          {"id":"c-old","name":"legacy","dataType":"NUMERIC","isArchived":true}
        ]}
        """.utf8))

    static func score(_ body: JSONObject) -> IngestionEvent {
        var full = body
        if full["id"] == nil { full["id"] = "s1" }
        if full["name"] == nil { full["name"] = "given-name" }
        return event("e1", .scoreCreate, at: 0, full)
    }

    static func check(_ body: JSONObject) -> Result<IngestionEvent, LateReject> {
        configs.check(score(body))
    }

    @Test func aConfigNamesTheScoreAndSetsItsType() throws {
        let checked = try Self.check(["traceId": "t1", "configId": "c-num", "value": 0.5]).get()
        #expect(checked.body.name.value == "accuracy")
        #expect(checked.body.dataType == .numeric)
        let folded = TraceFold.fold(traceID: "t1", [checked])
        #expect(folded.scores.first?.name == "accuracy" && folded.scores.first?.value == 0.5)
    }

    @Test func aCategoryGivesItsValue() throws {
        let checked = try Self.check(["traceId": "t1", "configId": "c-cat", "value": "calm"]).get()
        let folded = TraceFold.fold(traceID: "t1", [checked])
        #expect(folded.scores.first?.dataType == .categorical)
        #expect(folded.scores.first?.stringValue == "calm" && folded.scores.first?.value == 1)
    }

    @Test(arguments: [
        (["traceId": "t1", "configId": "c-num", "value": 1.5], "above the maximum"),
        (["traceId": "t1", "configId": "c-num", "value": -0.1], "below the minimum"),
        (["traceId": "t1", "configId": "c-cat", "value": "angry"], "not a category"),
        (["traceId": "t1", "configId": "c-old", "value": 1], "archived"),
        (["traceId": "t1", "configId": "c-nope", "value": 1], "not known"),
        (["traceId": "t1", "configId": "c-num", "value": "high", "dataType": "CATEGORICAL"], "cannot use"),
        (["traceId": "t1", "configId": "c-bool", "value": 2], "0 or 1"),
        (["traceId": "t1", "configId": "c-text", "value": 3], "1 to 500 characters"),
        (["value": 1], "needs a traceId, sessionId or datasetRunId"),
        (["observationId": "o1", "sessionId": "s", "value": 1], "needs its traceId"),
        (["sessionId": "s", "value": "fixed", "dataType": "CORRECTION"], "targets a trace or observation"),
        (["traceId": "t1", "configId": "c-text", "value": "fixed", "dataType": "CORRECTION"], "has no config"),
    ] as [(JSONObject, String)])
    func scoresThatBreakTheRulesAreLateRejects(_ body: JSONObject, _ why: String) {
        guard case .failure(let reject) = Self.check(body) else {
            Issue.record("accepted: \(body)")
            return
        }
        #expect(reject.detail.contains(why), "\(reject.detail)")
        #expect([RejectReason.scoreConfigMismatch, .scoreInvalidTarget, .scoreInvalidValue].contains(reject.reason))
    }

    @Test func scoresWithoutAConfigAndOtherEventsPass() throws {
        #expect((try? Self.check(["traceId": "t1", "value": 0.3]).get()) != nil)
        #expect((try? Self.check(["sessionId": "s", "value": "good"]).get()) != nil)
        let span = event("e2", .spanCreate, at: 0, ["id": "o1", "traceId": "t1"])
        #expect((try? Self.configs.check(span).get()) === span)
    }

    @Test(arguments: [
        #"{"data":[{"id":"x","name":"n","dataType":"CORRECTION"}]}"#,
        #"[{"id":"x","name":"n","dataType":"CATEGORICAL"}]"#,
        #"[{"id":"x","name":"n","dataType":"NUMERIC","minValue":2,"maxValue":1}]"#,
        #"[{"name":"n","dataType":"NUMERIC"}]"#,
        #"{"configs":[]}"#,
        "not json",
    ])
    func brokenConfigFilesAreRefused(_ text: String) {
        #expect(throws: ScoreConfigs.ParseError.self) { try ScoreConfigs.parse(Array(text.utf8)) }
    }
}
