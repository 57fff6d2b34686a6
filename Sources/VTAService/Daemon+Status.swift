import Glibc
import VTA

/// What `vtactl status` and `vtactl metrics` show, and the metrics file.
extension Daemon {
    func statusJSON(for viewer: UInt32 = 0) -> JSONValue {
        let st = stats.withLock { $0 }
        let uptime = ContinuousClock.now - startTime
        // Only root sees every client's pid and uid; others see their own connections.
        let visible = sessions.values.filter { viewer == 0 || $0.uid == viewer }
        let clients: [JSONValue] = visible.sorted { $0.id < $1.id }.map { s in
            .object([("session", .int(Int64(s.id))), ("pid", .int(Int64(s.pid))), ("uid", .int(Int64(s.uid))),
                     ("buffers", .int(Int64(s.buffers.count))), ("buffer_bytes", .int(Int64(s.bufferBytes))),
                     ("queued_jobs", .int(Int64(scheduler.queued(session: s.id))))])
        }
        return .object([
            ("device", .string(device.name)),
            ("config", device.config.json),
            ("bitstream", .string(device.config.bitstreamName)),
            ("uptime_seconds", .int(uptime.components.seconds)),
            ("clients", .int(Int64(sessions.count))),
            ("client_list", .array(clients)),
            ("queue_depth", .int(Int64(scheduler.depth))),
            ("buffers", .int(Int64(sessions.values.reduce(0) { $0 + $1.buffers.count }))),
            ("pool_bytes_in_use", .int(Int64(accelerator.bytesInUse))),
            ("jobs", .object([("done", .int(Int64(st.jobsDone))), ("failed", .int(Int64(st.jobsFailed))),
                              ("rejected", .int(Int64(st.jobsRejected))), ("cancelled", .int(Int64(st.jobsCancelled)))])),
            ("connections", .object([("total", .int(Int64(st.connectionsTotal))), ("refused", .int(Int64(st.connectionsRefused)))])),
            ("stopping", .bool(shuttingDown)),
        ])
    }

    /// Metrics as OpenMetrics text (`prometheus: false`, the socket's METRICS reply) or in the
    /// Prometheus text format node_exporter's textfile collector parses (`prometheus: true`).
    func openMetrics(prometheus: Bool = false) -> String {
        let st = stats.withLock { $0 }
        let uptime = ContinuousClock.now - startTime
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
            let sample = type == "counter" ? name + "_total" : name
            let family = prometheus ? sample : name
            out += "# TYPE \(family) \(type)\n# HELP \(family) \(help)\n"
            for (labels, value) in samples { out += "\(sample)\(labels) \(value)\n" }
        }
        metric("vtad_jobs", "counter", "Jobs by outcome.", [
            ("{result=\"done\"}", "\(st.jobsDone)"), ("{result=\"failed\"}", "\(st.jobsFailed)"),
            ("{result=\"rejected\"}", "\(st.jobsRejected)"), ("{result=\"cancelled\"}", "\(st.jobsCancelled)"),
        ])
        metric("vtad_clients", "gauge", "Connected clients.", [("", "\(sessions.count)")])
        metric("vtad_queue_depth", "gauge", "Jobs queued or running.", [("", "\(scheduler.depth)")])
        metric("vtad_pool_bytes", "gauge", "Device memory in use.", [("", "\(accelerator.bytesInUse)")])
        metric("vtad_device_seconds", "counter", "Time the device spent running jobs.", [("", "\(Double(st.deviceNanoseconds) / 1e9)")])
        metric("vtad_instructions", "counter", "Instructions run.", [("", "\(st.instructions)")])
        metric("vtad_profiler", "counter", "Reference profiler counters summed over jobs.",
               zip(ProfilerCounters.names, st.counters.values).map { ("{counter=\"\($0.0)\"}", "\($0.1)") })
        metric("vtad_uptime_seconds", "gauge", "Seconds since start.", [("", "\(uptime.components.seconds)")])
        if !prometheus { out += "# EOF\n" }
        return out
    }

    func writeMetricsFile() {
        guard let path = configuration.metricsFile else { return }
        let tmp = path + ".tmp"
        let text = openMetrics(prometheus: true)
        guard let f = fopen(tmp, "w") else {
            logger.warning("cannot write metrics file \(tmp): \(String(cString: strerror(errno)))")
            return
        }
        let ok = fputs(text, f) >= 0
        if fclose(f) != 0 || !ok || rename(tmp, path) != 0 {
            logger.warning("cannot write metrics file \(path): \(String(cString: strerror(errno)))")
        }
    }
}
