import WickReplay
import Synchronization
public import WickIngest
public import WickPipeline
public import WickStore

/// The daemon's metrics in Prometheus text: ingest counters, both logs, the index, retention,
/// recovery, and the kernel's UDP drops.
public struct DaemonMetrics: Sendable {
    let store: DataStore
    let counters: IngestCounters
    let assembler: AssemblerStatistics
    /// What compaction has done since the daemon started.
    var compaction = Compactor.Report()
    var compactionBacklog: (segments: Int, bytes: UInt64) = (0, 0)
    var replayers: [Replayer] = []
    /// Local UDP ports, for the kernel's drop counters.
    let udpPorts: [Int]
    let startTime: Int64

    public init(store: DataStore, counters: IngestCounters, assembler: AssemblerStatistics, udpPorts: [Int], startTime: Int64) {
        self.store = store
        self.counters = counters
        self.assembler = assembler
        self.udpPorts = udpPorts
        self.startTime = startTime
    }

    public func render() -> String {
        var out = PrometheusText()
        out.gauge("wick_start_time_seconds", "When the daemon started (Unix time).", Double(startTime) / 1_000_000)

        // Ingest
        out.counter("wick_ingest_lines_total", "Lines (and datagram lines) received.", counters.linesReceived.load(ordering: .relaxed))
        out.counter("wick_ingest_bytes_total", "Bytes received on all listeners.", counters.bytesReceived.load(ordering: .relaxed))
        out.counter("wick_ingest_events_accepted_total", "Events accepted and appended to the log.", counters.eventsAccepted.load(ordering: .relaxed))
        out.counter("wick_ingest_empty_lines_total", "Empty lines, ignored.", counters.emptyLines.load(ordering: .relaxed))
        out.counter("wick_ingest_rejected_total", "Inputs rejected into the dead-letter log, by reason.",
                    counters.rejectedByReason.sorted { $0.key < $1.key }.map { ([("reason", $0.key)], Double($0.value)) })
        out.counter("wick_ingest_dropped_total", "Datagrams dropped by the daemon (store behind), by reason.",
                    counters.droppedByReason.sorted { $0.key < $1.key }.map { ([("reason", $0.key)], Double($0.value)) })
        out.counter("wick_ingest_datagrams_total", "Datagrams received (UDP and Unix datagram).", counters.datagramsReceived.load(ordering: .relaxed))
        out.counter("wick_ingest_connections_total", "Stream connections accepted.", counters.connectionsAccepted.load(ordering: .relaxed))
        out.gauge("wick_ingest_connections_open", "Stream connections open.", Double(counters.connectionsOpen.load(ordering: .relaxed)))
        out.counter("wick_ingest_acks_total", "Ack lines sent.", counters.acksSent.load(ordering: .relaxed))
        out.counter("wick_ingest_backpressure_pauses_total", "Times a connection stopped being read because the store was behind.",
                    counters.backPressurePauses.load(ordering: .relaxed))
        out.counter("wick_udp_kernel_drops_total", "Datagrams the kernel dropped on our UDP sockets (/proc/net/udp).",
                    udpPorts.map { ([("port", String($0))], Double(KernelUDPDrops.drops(port: $0) ?? 0)) })

        // Logs
        let logs = [("events", store.events), ("dead-letter", store.deadLetters)]
        func perLog(_ value: (SegmentLog) -> Double) -> [([(String, String)], Double)] {
            logs.map { ([("log", $0.0)], value($0.1)) }
        }
        out.counter("wick_store_appended_records_total", "Records appended.", perLog { Double($0.statistics.appendedRecords.load(ordering: .relaxed)) })
        out.counter("wick_store_appended_bytes_total", "Record bytes appended.", perLog { Double($0.statistics.appendedBytes.load(ordering: .relaxed)) })
        out.counter("wick_store_committed_records_total", "Records made durable.", perLog { Double($0.statistics.committedRecords.load(ordering: .relaxed)) })
        out.counter("wick_store_commits_total", "Group commits.", perLog { Double($0.statistics.commits.load(ordering: .relaxed)) })
        out.counter("wick_store_frames_total", "Frames written.", perLog { Double($0.statistics.framesWritten.load(ordering: .relaxed)) })
        out.counter("wick_store_uncompressed_bytes_total", "Record bytes before compression.", perLog { Double($0.statistics.uncompressedBytes.load(ordering: .relaxed)) })
        out.counter("wick_store_compressed_bytes_total", "Frame bytes written to disk.", perLog { Double($0.statistics.compressedBytes.load(ordering: .relaxed)) })
        out.counter("wick_store_fsyncs_total", "fdatasync calls.", perLog { Double($0.statistics.fsyncs.load(ordering: .relaxed)) })
        out.counter("wick_store_write_errors_total", "Failed writes (other than a full disk).", perLog { Double($0.statistics.writeErrors.load(ordering: .relaxed)) })
        out.counter("wick_store_fsync_errors_total", "Failed fsyncs.", perLog { Double($0.statistics.fsyncErrors.load(ordering: .relaxed)) })
        out.counter("wick_store_disk_full_stalls_total", "Times writing waited for disk space.", perLog { Double($0.statistics.diskFullStalls.load(ordering: .relaxed)) })
        out.gauge("wick_store_disk_full", "1 while the writer waits for disk space.", perLog { $0.isDiskFull ? 1 : 0 })
        out.gauge("wick_store_pending_bytes", "Appended bytes not yet committed.", perLog { Double($0.pendingBytes) })
        out.gauge("wick_store_segments", "Segment files.", perLog { Double($0.segments.count) })
        out.gauge("wick_store_disk_bytes", "Bytes of segment files on disk.", perLog { Double($0.diskBytes) })
        out.gauge("wick_store_durable_sequence", "Every record below this sequence number is durable.", perLog { Double($0.durableSequence) })
        out.gauge("wick_recovery_truncated_bytes", "Bytes cut from a torn tail at the last start.", perLog { Double($0.recovery.truncatedBytes) })
        out.gauge("wick_recovery_dropped_frames", "Frames dropped from a torn tail at the last start.", perLog { Double($0.recovery.droppedFrames) })
        for (name, log) in logs {
            let snapshot = log.statistics.fsyncLatency.snapshot()
            out.histogram("wick_store_fsync_seconds", "fdatasync latency.", labels: [("log", name)],
                          bounds: LatencyHistogram.bounds.map { Double($0) / 1_000_000 }, cumulative: snapshot.cumulative,
                          count: snapshot.count, sum: Double(snapshot.sumMicroseconds) / 1_000_000)
        }

        // Index and retention
        let index = store.indexStatistics
        out.gauge("wick_index_high_water_mark", "Every event record below this sequence number is indexed.", Double(index.highWaterMark))
        let lag = store.events.durableSequence > index.highWaterMark ? store.events.durableSequence - index.highWaterMark : 0
        out.gauge("wick_index_lag_records", "Durable records not yet indexed.", Double(lag))
        out.counter("wick_index_commits_total", "Group commits applied to the index.", index.commits)
        out.counter("wick_index_errors_total", "Index transactions that failed (the log stays the truth).", index.errors)
        out.gauge("wick_index_map_bytes", "LMDB map size.", Double(index.mapBytes))
        out.counter("wick_retention_deleted_segments_total", "Segments removed by retention.", index.retentionDeletedSegments)
        out.counter("wick_retention_lost_records_total", "Records removed by the disk budget before every cursor had read them.", index.retentionLostRecords)
        out.counter("wick_retention_blocked_total", "Retention runs that kept an old segment because a cursor had not passed it.", index.retentionBlocked)

        // Assembler
        out.counter("wick_assembler_events_total", "Events the assembler has read.", assembler.eventsRead.load(ordering: .relaxed))
        out.counter("wick_assembler_traces_settled_total", "Trace summaries written.", assembler.tracesSettled.load(ordering: .relaxed))
        out.counter("wick_assembler_traces_reopened_total", "Settled traces that got late events and were folded again.",
                    assembler.tracesReopened.load(ordering: .relaxed))
        out.counter("wick_assembler_reopen_frames_read_total", "Frames of sealed segments decompressed to reopen settled traces.",
                    assembler.reopenFramesRead.load(ordering: .relaxed))
        out.counter("wick_assembler_traces_spilled_total", "Open traces whose events left memory (the byte cap); read back at settle.",
                    assembler.tracesSpilled.load(ordering: .relaxed))
        out.gauge("wick_assembler_open_traces", "Traces not yet settled.", Double(assembler.openTraces.load(ordering: .relaxed)))
        out.gauge("wick_assembler_open_bytes", "Bytes of events held for open traces.", Double(assembler.openBytes.load(ordering: .relaxed)))
        out.counter("wick_assembler_late_rejects_total", "Events that failed full decoding, by reason (kept in the dead-letter log).",
                    assembler.lateRejectsByReason.sorted { $0.key < $1.key }.map { ([("reason", $0.key)], Double($0.value)) })
        out.counter("wick_assembler_sdk_logs_total", "sdk-log events (kept, never part of a trace).", assembler.sdkLogs.load(ordering: .relaxed))
        out.counter("wick_assembler_events_without_trace_total", "Events that name no trace (session and dataset-run scores).",
                    assembler.eventsWithoutTrace.load(ordering: .relaxed))
        out.counter("wick_assembler_errors_total", "Assembler turns that failed (retried).", assembler.errors.load(ordering: .relaxed))
        let position = assembler.position.load(ordering: .relaxed)
        out.gauge("wick_assembler_lag_records", "Durable events the assembler has not read yet.",
                  Double(store.events.durableSequence > position ? store.events.durableSequence - position : 0))
        let assemblyLag = assembler.lag.snapshot()
        out.histogram("wick_assembler_lag_seconds", "From an event being durable to the assembler reading it.", labels: [],
                      bounds: LagHistogram.boundsMilliseconds.map { $0 / 1000 }, cumulative: assemblyLag.cumulative, count: assemblyLag.count,
                      sum: assemblyLag.sumMilliseconds / 1000)
        // Exact percentiles of the recent samples (the buckets above are coarse).
        if let p50 = assemblyLag.p50, let p99 = assemblyLag.p99 {
            out.gauge("wick_assembler_lag_recent_seconds", "Percentiles of the most recent assembler lag samples.",
                      [([("quantile", "0.5")], p50 / 1000), ([("quantile", "0.99")], p99 / 1000)])
        }
        out.counter("wick_compaction_segments_total", "Raw segments compacted.", compaction.segments)
        out.counter("wick_compaction_raw_bytes_total", "Raw segment bytes (on disk) compacted.", Int(compaction.rawFileBytes))
        out.counter("wick_compaction_raw_payload_bytes_total", "Raw NDJSON bytes (events as sent) compacted.", Int(compaction.rawPayloadBytes))
        out.counter("wick_compaction_compacted_bytes_total", "Compacted segment bytes written.", Int(compaction.compactedFileBytes))
        out.counter("wick_compaction_documents_total", "Trace documents written.", compaction.documents)
        out.counter("wick_compaction_merged_total", "Documents merged with late events.", compaction.merged)
        out.counter("wick_compaction_merge_frames_read_total", "Frames of earlier compacted segments read to merge late events.",
                    compaction.mergeFramesRead)
        out.counter("wick_compaction_carried_total", "Events carried over as they were (no trace, or not decodable).", compaction.carried)
        out.counter("wick_compaction_seconds_total", "Time spent compacting.", [([], compaction.seconds)])
        out.gauge("wick_compaction_backlog_segments", "Sealed raw segments the assembler has passed, not compacted yet.",
                  Double(compactionBacklog.segments))
        if !replayers.isEmpty {
            func each(_ value: (Replayer) -> Double) -> [([(String, String)], Double)] {
                replayers.map { ([("sink", $0.sink.name)], value($0)) }
            }
            let durable = store.events.durableSequence
            out.gauge("wick_replay_sink_info", "Each replay sink, with its kind.",
                      replayers.map { ([("kind", $0.sink.kind.name), ("sink", $0.sink.name)], 1) })
            out.counter("wick_replay_events_total", "Events the sink delivered (or refused for good).",
                        each { Double($0.statistics.events.load(ordering: .relaxed)) })
            out.counter("wick_replay_batches_total", "Batches delivered.", each { Double($0.statistics.batches.load(ordering: .relaxed)) })
            out.counter("wick_replay_raw_bytes_total", "NDJSON bytes of the events delivered.",
                        each { Double($0.statistics.rawBytes.load(ordering: .relaxed)) })
            out.counter("wick_replay_wire_bytes_total", "Bytes the delivered batches took on the wire (after gzip) or on disk.",
                        each { Double($0.statistics.wireBytes.load(ordering: .relaxed)) })
            out.counter("wick_replay_retries_total", "Batches tried again (network errors, 429, 5xx, file errors).",
                        each { Double($0.statistics.retries.load(ordering: .relaxed)) })
            out.counter("wick_replay_dead_letters_total", "Events the sink refused for good (kept in the dead-letter log).",
                        each { Double($0.statistics.deadLetters.load(ordering: .relaxed)) })
            out.gauge("wick_replay_lag_records", "Durable events the sink has not delivered yet.", each {
                let position = $0.statistics.position.load(ordering: .relaxed)
                return Double(durable > position ? durable - position : 0)
            })
        }
        return out.text
    }
}
