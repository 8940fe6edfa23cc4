import Foundation
import Synchronization
import Testing

@testable import WickStore
import WickTestSupport

/// Faults a real disk cannot produce on demand (ENOSPC, EIO on the Nth fsync), injected through the
/// store's syscall layer in debug builds.
@Suite struct FaultInjectionTests {
    @Test func noSpaceIsBackPressureNotCorruption() async throws {
        let temp = TemporaryDirectory()
        let faults = FaultInjector()
        var configuration = testConfiguration()
        configuration.log.faults = faults
        configuration.log.diskFullRetryMilliseconds = 10
        configuration.log.maxPendingBytes = 4096
        let store = try DataStore.open(temp.dataDirectory, configuration: configuration, logger: quietLogger)
        _ = try await store.events.append(batch(0..<10))

        faults.add(.init(call: .write, pathContains: "/log/", times: .max, errno: .noSpace))
        let done = Atomic<Int>(0)
        var overloaded = false
        for chunk in 1..<6 {
            let result = store.events.append(batch(chunk * 10..<(chunk + 1) * 10)) { outcome in
                if case .success = outcome { done.add(1, ordering: .relaxed) }
            }
            overloaded = overloaded || result.overloaded
        }
        try await Task.sleep(for: .milliseconds(100))
        let completedWhileFull = done.load(ordering: .relaxed)
        #expect(completedWhileFull == 0, "nothing completes while the disk is full")
        #expect(store.events.isDiskFull)
        #expect(overloaded, "appends report overload so readers stop")
        let stalls = store.events.statistics.diskFullStalls.load(ordering: .relaxed)
        #expect(stalls > 0)

        faults.clear()
        let drained = Atomic<Bool>(false)
        store.events.whenDrained { drained.store(true, ordering: .relaxed) }
        for _ in 0..<200 where done.load(ordering: .relaxed) < 5 {
            try await Task.sleep(for: .milliseconds(10))
        }
        let completed = done.load(ordering: .relaxed)
        #expect(completed == 5)
        let wasDrained = drained.load(ordering: .relaxed)
        #expect(wasDrained)
        #expect(!store.events.isDiskFull)
        store.close()
        let records = try allRecords(temp.dataDirectory)
        #expect(records.compactMap(\.n) == Array(0..<60))
        #expect(try !Verification.make(StoreReader(temp.dataDirectory)).isDamaged)
    }

    @Test func failedFsyncFailsItsAppendsAndWritingMovesOn() async throws {
        let temp = TemporaryDirectory()
        let faults = FaultInjector()
        var configuration = testConfiguration()
        configuration.log.faults = faults
        let store = try DataStore.open(temp.dataDirectory, configuration: configuration, logger: quietLogger)
        _ = try await store.events.append(batch(0..<10))
        faults.add(.init(call: .fsync, pathContains: ".wseg", times: 1, errno: .io))
        do {
            _ = try await store.events.append(batch(10..<20))
            Issue.record("an append whose fsync failed reported success")
        } catch {
            #expect(error.code == .ioError)
        }
        let fsyncErrors = store.events.statistics.fsyncErrors.load(ordering: .relaxed)
        #expect(fsyncErrors == 1)
        let before = store.events.segments.count
        #expect(before == 2, "writing moved to a fresh segment")
        let after = try await store.events.append(batch(20..<30))
        #expect(after == 21..<31)
        store.close()

        // Start-up seals the abandoned segment; everything acknowledged is there.
        let reopened = try DataStore.open(temp.dataDirectory, configuration: testConfiguration(), logger: quietLogger)
        #expect(reopened.events.recovery.sealedOnRecovery == 1)
        reopened.close()
        let numbers = Set(try allRecords(temp.dataDirectory).compactMap(\.n))
        #expect(numbers.isSuperset(of: Set(0..<10)))
        #expect(numbers.isSuperset(of: Set(20..<30)))
        #expect(try !Verification.make(StoreReader(temp.dataDirectory)).isDamaged)
    }
}
