import Foundation
import NIOCore
import Synchronization
import Testing
import WickModel
import WickStore

@testable import WickIngest
import WickTestSupport

@Suite(.serialized) struct IngestEndToEndTests {
    @Test func corpusOverTheUnixSocketWithAcksIsStoredVerbatim() async throws {
        let fixture = try await IngestFixture()
        let input = try corpus(traces: 2000)
        let expected = lines(input)
        let summary = try Sender.send(input, options: SendOptions(target: .unixStream(path: fixture.unixPath), acknowledged: true))
        #expect(summary.lines == expected.count)
        #expect(summary.acknowledged == expected.count)
        #expect(summary.rejected == 0)
        let stored = try fixture.events()
        #expect(stored.count == expected.count)
        #expect(stored.map(\.payload) == expected, "payloads are the lines, byte for byte, in order")
        #expect(stored.allSatisfy { $0.project == "default" && $0.kind == .rawEvent })
        // Every event but sdk-logs carries its trace key: lookups find a whole trace.
        let first = try #require(stored.first)
        let trace = try #require(first.keys.first)
        let found = try fixture.store.records(for: trace)
        #expect(found.count >= 5)
        await fixture.shutdown()
    }

    @Test func badInputCostsNothingElse() async throws {
        let fixture = try await IngestFixture()
        let good = lines(try corpus(traces: 3))
        var input: [UInt8] = []
        var expectedReasons: [String] = []
        for (index, bad) in LineProcessorTests.badLines.enumerated() {
            input += good[index % good.count] + [0x0A]
            input += bad.1 + [0x0A]
            expectedReasons.append(bad.2)
        }
        // A 2 MiB line, then a good one: the stream resynchronises at the next newline.
        input += Array(repeating: UInt8(ascii: "x"), count: 2 << 20) + [0x0A]
        expectedReasons.append("line_too_long")
        input += good[0] + [0x0A]
        input += [0x0A, 0x0A]  // empty lines: ignored, no reject
        let summary = try Sender.send(input, options: SendOptions(target: .unixStream(path: fixture.unixPath), acknowledged: true))
        let total = LineProcessorTests.badLines.count * 2 + 1 + 1 + 2
        #expect(summary.lines == total)
        #expect(summary.acknowledged == total, "every line is acknowledged: durable, rejected or ignored")
        #expect(summary.rejected == expectedReasons.count)
        #expect(try fixture.events().count == LineProcessorTests.badLines.count + 1)
        _ = await fixture.waitUntil { (try? fixture.deadLetters().count) == expectedReasons.count }
        let letters = try fixture.deadLetters()
        #expect(letters.map(\.reason) == expectedReasons)
        #expect((letters.last?.originalLength ?? 0) > 1 << 20)
        #expect(letters.last?.isCut == true)
        #expect(fixture.counters.rejectedByReason["line_too_long"] == 1)
        #expect(fixture.counters.emptyLines.load(ordering: .relaxed) == 2)
        await fixture.shutdown()
    }

    @Test func lastLineWithoutNewlineCountsWhenTheClientCloses() async throws {
        let fixture = try await IngestFixture()
        let good = lines(try corpus(traces: 1))
        let connection = try RawConnection(fixture.unixPath)
        connection.send(good[0] + [0x0A] + good[1])
        connection.close()
        #expect(await fixture.waitUntil { (try? fixture.events().count) == 2 })
        #expect(try fixture.events().map(\.payload) == [good[0], good[1]])
        await fixture.shutdown()
    }

    @Test func udpAndUnixDatagramsAreStored() async throws {
        let fixture = try await IngestFixture()
        let input = try corpus(traces: 100)
        let expected = lines(input)
        let (host, port) = fixture.udp
        let udp = try Sender.send(input, options: SendOptions(target: .udp(host: host, port: port)))
        #expect(udp.datagrams == expected.count)
        let dgram = try Sender.send(input, options: SendOptions(target: .unixDatagram(path: fixture.datagramPath)))
        #expect(dgram.datagrams == expected.count)
        // UDP is best effort: every datagram is either stored or counted as dropped somewhere.
        let arrived = await fixture.waitUntil {
            let stored = (try? fixture.events().count) ?? 0
            let dropped = fixture.counters.droppedByReason.values.reduce(0, +)
            return stored + dropped >= 2 * expected.count
        }
        #expect(arrived)
        #expect(fixture.counters.droppedByReason.isEmpty, "nothing to drop at this load")
        let stored = try fixture.events().map(\.payload)
        #expect(Set(stored) == Set(expected))
        #expect(stored.count == 2 * expected.count)
        await fixture.shutdown()
    }

    @Test func aStalledStoreStopsReadingAndResumes() async throws {
        let faults = FaultInjector()
        let fixture = try await IngestFixture { configuration in
            configuration.log.faults = faults
            configuration.log.maxPendingBytes = 64 * 1024
            configuration.log.diskFullRetryMilliseconds = 5
        }
        faults.add(.init(call: .write, pathContains: "/log/", times: .max, errno: .noSpace))
        let input = try corpus(traces: 300)
        let expected = lines(input)
        let path = fixture.unixPath
        let sender = Task.detached {
            try Sender.send(input, options: SendOptions(target: .unixStream(path: path), acknowledged: true))
        }
        #expect(await fixture.waitUntil { fixture.counters.backPressurePauses.load(ordering: .relaxed) > 0 })
        let pending = fixture.store.events.pendingBytes
        #expect(pending < 64 * 1024 + (1 << 20) + 256 * 1024, "memory stays bounded while the disk is full: \(pending)")
        faults.clear()
        let summary = try await sender.value
        #expect(summary.acknowledged == expected.count)
        #expect(try fixture.events().map(\.payload) == expected)
        await fixture.shutdown()
    }

    @Test func udpIsDroppedAndCountedWhileTheStoreIsBehind() async throws {
        let faults = FaultInjector()
        let fixture = try await IngestFixture { configuration in
            configuration.log.faults = faults
            configuration.log.maxPendingBytes = 16 * 1024
            configuration.log.diskFullRetryMilliseconds = 5
        }
        faults.add(.init(call: .write, pathContains: "/log/", times: .max, errno: .noSpace))
        let input = try corpus(traces: 100)
        let (host, port) = fixture.udp
        let summary = try Sender.send(input, options: SendOptions(target: .udp(host: host, port: port)))
        #expect(await fixture.waitUntil { fixture.counters.datagramsReceived.load(ordering: .relaxed) >= summary.datagrams - 50 })
        #expect((fixture.counters.droppedByReason["overloaded"] ?? 0) > 0)
        faults.clear()
        // The last datagrams may still be on their way (each stored or dropped as it comes): the
        // counts are compared once none has come for 200 ms.
        var received = fixture.counters.datagramsReceived.load(ordering: .relaxed)
        for _ in 0..<50 {
            try await Task.sleep(nanoseconds: 200_000_000)
            let now = fixture.counters.datagramsReceived.load(ordering: .relaxed)
            if now == received { break }
            received = now
        }
        await fixture.store.events.flush()
        #expect(await fixture.waitUntil {
            (try? fixture.events().count) == fixture.counters.eventsAccepted.load(ordering: .relaxed)
        })
        let dropped = fixture.counters.droppedByReason["overloaded"] ?? 0
        #expect(try fixture.events().count + dropped == received, "every datagram received is stored or counted as dropped")

        // Once the store has caught up, datagrams are taken again. Paced: a burst of 50 lines is more
        // than this store's 16 KiB of pending bytes, and would be dropped as overload, rightly.
        #expect(await fixture.waitUntil { !fixture.store.events.isOverloaded })
        let before = try fixture.events().count
        let more = Array(lines(input).prefix(50).joined(separator: [0x0A]))
        _ = try Sender.send(more, options: SendOptions(target: .udp(host: host, port: port), rate: 250))
        #expect(await fixture.waitUntil { (try? fixture.events().count) == before + 50 })
        #expect(fixture.counters.droppedByReason["overloaded"] == dropped)
        await fixture.shutdown()
    }

    @Test func shutdownDrainsAndKeepsEverythingAcknowledged() async throws {
        let fixture = try await IngestFixture()
        let input = try corpus(traces: 2000)
        let path = fixture.unixPath
        let sender = Task.detached {
            try Sender.send(input, options: SendOptions(target: .unixStream(path: path), acknowledged: true, rate: 4_000))
        }
        // Stop once some of the load is in, and long before all of it (16k lines at 4k/s).
        #expect(await fixture.waitUntil { fixture.store.events.durableSequence > 500 })
        await fixture.server.stop()
        let summary = try await sender.value
        let acknowledged = summary.acknowledged ?? 0
        #expect(summary.lines < lines(input).count, "the shutdown came before the sender finished")
        #expect(acknowledged <= summary.lines)
        fixture.store.close()
        let reader = LogReader(directory: fixture.temp.path + "/data/log")
        var stored = 0
        try reader.read(from: 0) { _, _ in stored += 1 }
        #expect(acknowledged > 0)
        #expect(stored >= acknowledged, "acknowledged \(acknowledged), stored \(stored)")
        try? await fixture.group.shutdownGracefully()
    }
}
