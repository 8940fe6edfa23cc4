import Foundation
import Synchronization
import Testing
import WickJSON
import WickModel
import WickStore

@testable import WickPipeline
import WickTestSupport

/// The assembler on a real store: settling, late events, restarts, the byte cap, bad input.
@Suite struct AssemblerTests {
    @Test func aTraceSettlesOnceIdleAndItsSummaryIsTheFoldOfItsEvents() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.stop() }
        try await fixture.append((0..<3).flatMap { Lines.trace($0) })
        #expect(await fixture.waitUntil { fixture.settled == 3 })

        let summary = try #require(try fixture.summary("t1"))
        #expect(summary.name == "chat")
        #expect(summary.userId == "u1")
        #expect(summary.tags == ["prod"])
        #expect(summary.events == 6)
        #expect(summary.observationCounts == [.span: 1, .generation: 1])
        #expect(summary.usage == ["input": 11, "output": 5, "total": 16])
        // gpt-4o-mini at 1.5e-7 and 6e-7 USD per token, from the embedded table.
        #expect(summary.totalCost?.text == "0.00000465")
        #expect(summary.latency == 0.949)
        #expect(summary.scores == [.init(name: "helpful", count: 1, average: 1)])
        for n in 0..<3 {
            #expect(try fixture.summary("t\(n)") == fixture.foldedFromStore("t\(n)"))
        }
        #expect(fixture.assembler.statistics.openTraces.load(ordering: .relaxed) == 0)
    }

    @Test func nothingSettlesBeforeTheIdleTimeout() async throws {
        let fixture = try PipelineFixture(settleMilliseconds: 60_000)
        defer { fixture.stop() }
        try await fixture.append(Lines.trace(1))
        #expect(await fixture.waitUntil { fixture.assembler.statistics.eventsRead.load(ordering: .relaxed) == 6 })
        try await Task.sleep(nanoseconds: 100_000_000)
        #expect(fixture.settled == 0)
        #expect(try fixture.summary("t1") == nil)
        #expect(fixture.assembler.statistics.openTraces.load(ordering: .relaxed) == 1)
    }

    @Test func aLateEventReopensTheTraceAndUpdatesItsSummary() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.stop() }
        try await fixture.append(Lines.trace(1))
        #expect(await fixture.waitUntil { fixture.settled == 1 })
        #expect(try fixture.summary("t1")?.errors == 0)

        // A tool call that failed, sent late, under the span.
        try await fixture.append([
            Lines.line("late-1", "tool-create", at: 2000,
                       #"{"id":"t1-tool","traceId":"t1","parentObservationId":"t1-s","startTime":"\#(Lines.iso(2000))","endTime":"\#(Lines.iso(2500))","level":"ERROR"}"#),
        ])
        #expect(await fixture.waitUntil { fixture.settled == 2 })
        let summary = try #require(try fixture.summary("t1"))
        #expect(summary.errors == 1)
        #expect(summary.events == 7)
        #expect(summary.observationCounts[.tool] == 1)
        #expect(summary.latency == 2.499)
        #expect(fixture.assembler.statistics.tracesReopened.load(ordering: .relaxed) == 1)
        #expect(summary == (try fixture.foldedFromStore("t1")))

        // Both settles are in the feed `wick tail --traces` follows.
        var feed: [[UInt8]] = []
        try fixture.store.walkDocuments(namespace: TraceDocuments.settled, descending: false) { _, _, value in
            feed.append(value)
            return true
        }
        #expect(feed == Array(repeating: TraceDocuments.key(project: "default", traceID: "t1"), count: 2))
    }

    /// A late event that comes after its trace settled but before the summary was committed still
    /// reopens the trace with all its events.
    @Test func aLateEventBeforeTheCommitStillReopens() async throws {
        let fixture = try PipelineFixture(settleMilliseconds: 40, commitMilliseconds: 1500)
        defer { fixture.stop() }
        try await fixture.append(Lines.trace(1))
        #expect(await fixture.waitUntil {
            fixture.assembler.statistics.eventsRead.load(ordering: .relaxed) == 6
                && fixture.assembler.statistics.openTraces.load(ordering: .relaxed) == 0
        })
        #expect(try fixture.summary("t1") == nil, "settled, not committed yet")
        try await fixture.append([Lines.line("late-1", "event-create", at: 3000, #"{"id":"ev","traceId":"t1"}"#)])
        #expect(await fixture.waitUntil { fixture.settled == 2 })
        #expect(try fixture.summary("t1")?.events == 7)
        #expect(fixture.assembler.statistics.tracesReopened.load(ordering: .relaxed) == 1)
    }

    @Test func anOrphanAttachesWhenItsParentArrivesLate() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.stop() }
        try await fixture.append([
            Lines.line("e1", "generation-create", at: 10, #"{"id":"g","traceId":"t7","parentObservationId":"s","startTime":"\#(Lines.iso(10))"}"#),
        ])
        #expect(await fixture.waitUntil { fixture.settled == 1 })
        let before = try #require(try fixture.summary("t7"))
        #expect(before.treeProblems == 1)
        #expect(!before.hasTraceEvent, "observations whose trace-create never came still form a trace")

        try await fixture.append([
            Lines.line("e2", "span-create", at: 5, #"{"id":"s","traceId":"t7","startTime":"\#(Lines.iso(5))"}"#),
            Lines.line("e3", "trace-create", at: 4, #"{"id":"t7","name":"late root"}"#),
        ])
        #expect(await fixture.waitUntil { fixture.settled == 2 })
        let after = try #require(try fixture.summary("t7"))
        #expect(after.treeProblems == 0)
        #expect(after.hasTraceEvent)
        #expect(after.name == "late root")
        let loaded = try #require(try TraceLoader.load("t7", from: fixture.store, prices: .defaults))
        #expect(loaded.tree.nodes.map { loaded.folded.observations[$0.observation].id } == ["s", "g"])
        #expect(loaded.tree.nodes.map(\.depth) == [0, 1])
    }

    /// Stopped part way (some traces settled, some open, some not read yet), restarted, the
    /// assembler ends with the summaries an uninterrupted run gives: each trace's full fold.
    @Test func aRestartMidAssemblyEndsWithTheSameSummaries() async throws {
        let temp = TemporaryDirectory()
        // Long enough that nothing of the second half settles between reading it and the stop, even
        // on a loaded machine.
        let fixture = try PipelineFixture(temp: temp, settleMilliseconds: 600)
        try await fixture.append((0..<20).flatMap { Lines.trace($0) })
        #expect(await fixture.waitUntil { fixture.settled == 20 })
        // Second half: traces 0–9 get late events (reopen), 20–39 are new; stop before all settle.
        try await fixture.append((0..<10).map {
            Lines.line("late-\($0)", "span-create", at: 5000, #"{"id":"late-\#($0)","traceId":"t\#($0)","startTime":"\#(Lines.iso(5000))"}"#)
        } + (20..<40).flatMap { Lines.trace($0) })
        #expect(await fixture.waitUntil { fixture.assembler.statistics.eventsRead.load(ordering: .relaxed) == 250 })
        let settledBeforeStop = fixture.settled
        fixture.stop()
        #expect(settledBeforeStop < 50, "the stop came mid-assembly (\(settledBeforeStop) settles)")
        try await fixture.append([])  // nothing: the store is closed; restart opens it again

        try fixture.restart()
        defer { fixture.stop() }
        #expect(await fixture.waitUntil { (try fixture.summaries().count) == 40 && fixture.assembler.statistics.openTraces.load(ordering: .relaxed) == 0 && fixture.settled > 0 })
        let summaries = try fixture.summaries()
        for n in 0..<40 {
            #expect(summaries["t\(n)"] == (try fixture.foldedFromStore("t\(n)")), "trace t\(n)")
        }
        #expect(summaries["t3"]?.events == 7)
        #expect(summaries["t30"]?.events == 6)
    }

    @Test func tracesOverTheByteCapAreSpilledAndNothingIsLost() async throws {
        let fixture = try PipelineFixture(settleMilliseconds: 300, maxOpenBytes: 4 << 10)
        defer { fixture.stop() }
        try await fixture.append((0..<30).flatMap { Lines.trace($0) })
        #expect(await fixture.waitUntil { fixture.settled == 30 })
        #expect(fixture.assembler.statistics.tracesSpilled.load(ordering: .relaxed) > 0)
        let summaries = try fixture.summaries()
        #expect(summaries.count == 30)
        for n in 0..<30 {
            #expect(summaries["t\(n)"] == (try fixture.foldedFromStore("t\(n)")))
            #expect(summaries["t\(n)"]?.events == 6)
        }
    }

    @Test func badInputStaysOutOfTreesAndGoesToTheDeadLetters() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.stop() }
        try await fixture.append(Lines.trace(1) + [
            // Valid envelopes the hot path takes, but bodies Langfuse's schema refuses.
            Lines.line("bad-1", "span-create", at: 5, #"{"id":"bad-span","traceId":"t1","name":5}"#),
            Lines.line("bad-2", "generation-create", at: 6, #"{"id":"bad-gen","traceId":"t1","level":"LOUD"}"#),
            Lines.line("bad-3", "score-create", at: 7, #"{"id":"bad-score","traceId":"t1","name":"q","value":3,"dataType":"BOOLEAN"}"#),
            // Not part of any trace, counted.
            Lines.line("log-1", "sdk-log", at: 8, #"{"log":"flush failed"}"#),
            Lines.line("session-score", "score-create", at: 9, #"{"id":"ss","sessionId":"sess","name":"q","value":1}"#),
        ])
        #expect(await fixture.waitUntil { fixture.settled == 1 })
        let summary = try #require(try fixture.summary("t1"))
        #expect(summary.events == 6)
        #expect(summary.observationCounts == [.span: 1, .generation: 1])
        #expect(summary.scores.map(\.name) == ["helpful"])

        #expect(await fixture.waitUntil { (try fixture.deadLetters().count) == 3 })
        let letters = try fixture.deadLetters()
        #expect(letters.map(\.source) == ["late", "late", "late"])
        #expect(letters.map(\.reason).sorted() == ["body_field_type", "body_field_value", "body_field_value"])
        #expect(letters.allSatisfy { String(decoding: $0.bytes, as: UTF8.self).hasPrefix(#"{"id":"bad-"#) })
        #expect(fixture.assembler.statistics.lateRejectsByReason == ["body_field_type": 1, "body_field_value": 2])
        #expect(fixture.assembler.statistics.sdkLogs.load(ordering: .relaxed) == 1)
        #expect(fixture.assembler.statistics.eventsWithoutTrace.load(ordering: .relaxed) == 1)
    }

    @Test func aLateRejectIsDeadLetteredOnceThoughItsTraceReopens() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.stop() }
        try await fixture.append(Lines.trace(1) + [Lines.line("bad-1", "span-create", at: 5, #"{"id":"x","traceId":"t1","name":5}"#)])
        #expect(await fixture.waitUntil { fixture.settled == 1 })
        try await fixture.append([Lines.line("more", "event-create", at: 3000, #"{"id":"ev","traceId":"t1"}"#)])
        #expect(await fixture.waitUntil { fixture.settled == 2 })
        await fixture.store.deadLetters.flush()
        #expect(try fixture.deadLetters().count == 1)
        #expect(try fixture.summary("t1")?.events == 7)
    }

    @Test func projectsKeepTheirOwnTraces() async throws {
        let fixture = try PipelineFixture()
        defer { fixture.stop() }
        try await fixture.append(Lines.trace(1, user: "alice"), project: "alpha")
        try await fixture.append(Lines.trace(1, user: "bob"), project: "beta")
        #expect(await fixture.waitUntil { fixture.settled == 2 })
        #expect(try fixture.summary("t1", project: "alpha")?.userId == "alice")
        #expect(try fixture.summary("t1", project: "beta")?.userId == "bob")
        #expect(try fixture.summary("t1", project: "alpha")?.events == 6)
    }
}
