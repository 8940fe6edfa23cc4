import Testing
import WickJSON
import WickModel
import WickStore
@testable import WickPipeline
import WickTestSupport

/// A score that its config refuses was accepted on the hot path (it looked like a score); when its
/// trace settles it becomes a late reject, kept with its reason, and stays out of the summary.
@Suite struct ScoreConfigAssemblyTests {
    @Test func aScoreItsConfigRefusesIsALateRejectWithItsReason() async throws {
        let fixture = try PipelineFixture(settleMilliseconds: 40)
        defer { fixture.stop() }
        fixture.assembler.scoreConfigs = try ScoreConfigs.parse(Array(
            #"[{"id":"c-num","name":"accuracy","dataType":"NUMERIC","minValue":0,"maxValue":1}]"#.utf8))
        try await fixture.append(Lines.trace(1) + [
            Lines.line("t1-e7", "score-create", at: 970, #"{"id":"t1-ok","traceId":"t1","name":"x","value":0.4,"configId":"c-num"}"#),
            Lines.line("t1-e8", "score-create", at: 980, #"{"id":"t1-bad","traceId":"t1","name":"y","value":7,"configId":"c-num"}"#),
        ])
        #expect(await fixture.waitUntil { try fixture.summary("t1") != nil })
        let summary = try #require(try fixture.summary("t1"))
        #expect(summary.scores.map(\.name) == ["accuracy", "helpful"])
        #expect(await fixture.waitUntil { try fixture.deadLetters().count == 1 })
        let reject = try #require(try fixture.deadLetters().first)
        #expect(reject.reason == "score_config_mismatch" && reject.source == "late")
        #expect(reject.detail.contains("above the maximum"))
    }
}
