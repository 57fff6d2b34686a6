import Foundation
import Testing
import VTATestSupport
import VTA
import VTAClient
import VTAProtocol
import VTARuntime

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Clients that die, daemons that stop

extension VTADaemonTests {
    /// Writes an int8 matrix as .npy.
    static func writeMatrix(_ path: String, rows: Int, cols: Int, seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let bytes = NPY.write(NPYArray(shape: [rows, cols], values: .int8(rng.int8s(rows * cols))))
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test("a client SIGKILLed mid-job has its buffers and jobs released; other clients are unaffected")
    func killedClientIsCleanedUp() throws {
        let vtad = try VTAD()
        defer { vtad.stop() }
        let other = try TinyALUClient(socketPath: vtad.socketPath)
        let x0 = other.input(client: 9, job: 0)
        #expect(try other.run(x0, add: 1).out == TinyALUClient.expected(x0, add: 1))
        let otherBuffers = try #require(try other.device.status().int("buffers"))
        let otherBytes = try #require(try other.device.status().int("pool_bytes_in_use"))
        #expect(otherBuffers == 4)  // the queue's two staging buffers, input, output

        // One job of about 2^34 multiply-accumulates: long enough to be caught running.
        let (m, k, n) = (4096, 2048, 2048)
        let a = vtad.dir.file("a.npy"), b = vtad.dir.file("b.npy")
        try Self.writeMatrix(a, rows: m, cols: k, seed: 1)
        try Self.writeMatrix(b, rows: n, cols: k, seed: 2)
        let victim = try FoundationChild(
            executable: try Binaries.path("vtactl"),
            arguments: ["matmul", "--backend", "daemon", "--socket", vtad.socketPath, "--a", a, "--b", b, "--out", vtad.dir.file("c.npy")],
            environment: VTAD.baseEnvironment(), log: vtad.dir.file("vtactl.log"))
        defer { if !victim.hasExited { kill(victim.pid, SIGKILL); _ = victim.waitForExit(timeout: .seconds(10)) } }

        // Wait until the daemon runs the victim's job (status has no event to wait on).
        var seen = JSONValue.null
        let running = try waitUntil(timeout: .seconds(180)) {
            seen = try other.device.status()
            let mine = seen.clients.contains { $0.int("pid") == Int64(victim.pid) && ($0.int("buffers") ?? 0) >= 3 }
            return (mine && (seen.int("queue_depth") ?? 0) >= 1) || victim.hasExited
        }
        try #require(running && !victim.hasExited,
                     "vtactl's job was never seen running (exited: \(victim.hasExited))\n\(seen.serialized())\n\((try? String(contentsOfFile: vtad.dir.file("vtactl.log"), encoding: .utf8)) ?? "")")
        #expect(kill(victim.pid, SIGKILL) == 0)
        #expect(victim.waitForExit(timeout: .seconds(10)))
        #expect(victim.terminationSignal == SIGKILL)
        let killedAt = ContinuousClock.now

        // The session goes at once; its buffers once the job it left behind has finished.
        var after = JSONValue.null
        let released = try waitUntil(timeout: .seconds(60)) {
            after = try other.device.status()
            return !after.clients.contains { $0.int("pid") == Int64(victim.pid) }
                && after.int("queue_depth") == 0 && after.int("buffers") == otherBuffers && after.int("pool_bytes_in_use") == otherBytes
        }
        #expect(released, "the killed client's resources were not released:\n\(after.serialized())")
        print("[vtad] killed client's resources released \(String(format: "%.2f", (ContinuousClock.now - killedAt).seconds)) s after SIGKILL")
        #expect(after.int("jobs", "failed") == 0)
        #expect(after.int("jobs", "done") == 2, "the orphaned job runs to completion: \(after.serialized())")
        #expect(vtad.isRunning)

        // The other client is unaffected: its buffers are intact and it keeps working.
        for j in 1...5 {
            let x = other.input(client: 9, job: j)
            #expect(try other.run(x, add: 2).out == TinyALUClient.expected(x, add: 2))
        }
        let (withOther, statusPID) = try VTACtl.status(vtad.socketPath)
        #expect(withOther.int("buffers") == otherBuffers)
        #expect(Set(withOther.clients.compactMap { $0.int("pid") }) == [Int64(getpid()), Int64(statusPID)], "\(withOther.serialized())")

        // Once the other client is gone too, vtactl status shows no clients but itself and no buffers.
        _ = consume other
        var final = JSONValue.null
        let empty = try waitUntil(timeout: .seconds(30), every: 50) {
            let (s, pid) = try VTACtl.status(vtad.socketPath)
            final = s
            return s.int("clients") == 1 && s.clients.first?.int("pid") == Int64(pid) && s.int("buffers") == 0 && s.int("pool_bytes_in_use") == 0
        }
        #expect(empty, "\(final.serialized())")
    }

    @Test("SIGTERM drains in-flight jobs, notifies STOPPING=1, exits 0 and removes its socket")
    func sigtermDrainsInFlightJobs() throws {
        let vtad = try VTAD()
        defer { vtad.stop() }
        let observer = try TinyALUClient(socketPath: vtad.socketPath)
        // Calibrate a busy job of about a second on this machine.
        let calibration = try observer.run(observer.input(client: 0, job: 0), add: 1, busyOuter: 20)
        let perOuter = max(1.0, Double(calibration.report.elapsedNanoseconds) / 20)
        let outer = min(16383, max(1, Int(1.5e9 / perOuter)))
        print("[vtad] busy job: \(outer) x \(TinyALUClient.busyInner) GEMM micro-ops, about \(String(format: "%.2f", Double(outer) * perOuter / 1e9)) s each")
        let clients = 3
        let path = vtad.socketPath
        let results = Locked<[Int: String]>([:])  // client -> "ok" or what went wrong
        let group = ThreadGroup(clients) { c in
            do {
                let client = try TinyALUClient(socketPath: path)
                let x = client.input(client: c, job: 1)
                let (out, report) = try client.run(x, add: Int16(c + 1), busyOuter: outer)
                let ok = out == TinyALUClient.expected(x, add: Int16(c + 1))
                    && report.counters.gemmCounter == UInt64(outer * TinyALUClient.busyInner)
                results.mutate { $0[c] = ok ? "ok" : "wrong result or counters" }
                print("[vtad] drained job of client \(c): \(String(format: "%.2f", Double(report.elapsedNanoseconds) / 1e9)) s on the device")
            } catch {
                results.mutate { $0[c] = "\(error)" }
            }
        }
        // Every client's job is queued or running.
        var seen = JSONValue.null
        let allIn = try waitUntil(timeout: .seconds(60)) {
            seen = try observer.device.status()
            return seen.int("queue_depth") == Int64(clients)
        }
        #expect(allIn, "not all jobs were in flight before SIGTERM: \(seen.serialized())")

        vtad.signal(SIGTERM)
        #expect(vtad.notify.waitFor(line: "STOPPING=1", timeout: .seconds(30)), "no STOPPING=1; got \(vtad.notify.messages)")
        // While draining: status says so, and new jobs are refused.
        if let s = try? observer.device.status() {
            #expect(s["stopping"] == .bool(true), "\(s.serialized())")
        }
        expectFailure("a job submitted while stopping", mentioning: ["stopping"]) {
            _ = try observer.run(observer.input(client: 0, job: 2), add: 1)
        }
        let joined = group.join(timeout: .seconds(120), onTimeout: { vtad.signal(SIGKILL) })
        #expect(joined)
        #expect(results.value.count == clients)
        for (c, r) in results.value.sorted(by: { $0.key < $1.key }) { #expect(r == "ok", "client \(c): \(r)") }

        #expect(vtad.waitForExit(timeout: .seconds(60)), "vtad did not exit after draining")
        #expect(vtad.exitStatus == 0, "exit status \(vtad.exitStatus.map(String.init) ?? "-"), signal \(vtad.terminationSignal.map(String.init) ?? "-")\n\(vtad.log)")
        #expect(!FileManager.default.fileExists(atPath: vtad.socketPath), "the socket file was left behind")
        expectFailure("a request after the daemon exited", mentioning: ["device unavailable"]) { _ = try observer.device.status() }
        #expect(vtad.log.contains("draining \(clients) job(s)"), "\(vtad.log)")
    }
}

// MARK: - systemd

extension VTADaemonTests {
    /// A listening SOCK_SEQPACKET socket bound to `path`, close-on-exec, on a descriptor above 10
    /// (so it can be dup2'ed to 3 in a child without colliding with 3 itself).
    static func listeningSocket(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0, listen(fd, 16) == 0 else { throw HarnessError("bind/listen \(path): \(String(cString: strerror(errno)))") }
        let high = fcntl(fd, F_DUPFD_CLOEXEC, 20)
        guard high >= 0 else { throw HarnessError("F_DUPFD_CLOEXEC: \(String(cString: strerror(errno)))") }
        return high
    }

    /// Starts vtad as systemd would for a socket unit: the listening socket as fd 3,
    /// LISTEN_FDS=1 and LISTEN_PID = the daemon's own pid. Foundation.Process can only set up
    /// stdin/out/err, so this uses posix_spawn with posix_spawn_file_actions_adddup2(fd, 3); the
    /// pid is not known before the spawn, so a shell exports LISTEN_PID=$$ and then execs vtad
    /// (exec keeps the pid).
    static func socketActivated(listenPID: String = "$$", extra: [String] = []) throws -> VTAD {
        try VTAD(socketName: "activated.sock") { dir, notify in
            let listener = try listeningSocket(dir.file("activated.sock"))
            defer { close(listener) }  // the child has its own copy as fd 3
            var env = VTAD.baseEnvironment()
            env["NOTIFY_SOCKET"] = notify.path
            env["LISTEN_FDS"] = "1"
            env["LISTEN_FDNAMES"] = "vtad.socket"
            let script = "export LISTEN_PID=\(listenPID); exec \"$0\" \"$@\""
            let argv = ["/bin/sh", "-c", script, try Binaries.path("vtad"),
                        "--socket", dir.file("own.sock"), "--log-level", "debug"] + extra
            return try SpawnedChild(argv: argv, environment: env, log: dir.file("vtad.log"), dup2s: [(listener, 3)])
        }
    }

    @Test("socket activation: vtad serves on the listening socket passed as fd 3")
    func socketActivation() throws {
        let vtad = try Self.socketActivated()
        defer { vtad.stop() }
        #expect(vtad.log.contains("using the socket passed by systemd"), "\(vtad.log)")
        #expect(!FileManager.default.fileExists(atPath: vtad.dir.file("own.sock")), "vtad created its own socket instead of using fd 3")
        let client = try TinyALUClient(socketPath: vtad.socketPath)
        let x = client.input(client: 4, job: 4)
        #expect(try client.run(x, add: 9).out == TinyALUClient.expected(x, add: 9))
        let status = try client.device.status()
        #expect(status.clients.first?.int("pid") == Int64(getpid()))
        _ = consume client
        #expect(vtad.stop() == 0, "\(vtad.log)")
        // systemd owns the socket file: the daemon must leave it in place.
        #expect(FileManager.default.fileExists(atPath: vtad.socketPath), "vtad removed the socket systemd owns")
    }

    @Test("socket activation meant for another process (LISTEN_PID mismatch) is ignored")
    func socketActivationForAnotherPID() throws {
        let vtad = try Self.socketActivated(listenPID: "1")
        defer { vtad.stop() }
        #expect(!vtad.log.contains("using the socket passed by systemd"), "\(vtad.log)")
        let own = vtad.dir.file("own.sock")
        #expect(FileManager.default.fileExists(atPath: own))
        let client = try TinyALUClient(socketPath: own)
        let x = client.input(client: 5, job: 5)
        #expect(try client.run(x, add: 3).out == TinyALUClient.expected(x, add: 3))
        _ = consume client
        #expect(vtad.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: own), "vtad left its own socket behind")
    }

    @Test("READY=1 arrives on NOTIFY_SOCKET; the metrics file exists by then and follows every job")
    func readyAndMetricsFile() throws {
        let vtad = try VTAD(metricsFile: true)
        defer { vtad.stop() }
        #expect(vtad.notify.hasLine("READY=1"), "\(vtad.notify.messages)")
        #expect(vtad.notify.messages.contains { $0.contains("STATUS=serving on simulator") }, "\(vtad.notify.messages)")
        let path = try #require(vtad.metricsPath)
        // Written before READY=1, so it is there as soon as the daemon says it is ready. The file
        // is for node_exporter's textfile collector, so it is in the Prometheus text format
        // (TYPE lines name the samples, no `# EOF`), unlike `vtactl metrics` (OpenMetrics);
        // it is complete because vtad writes FILE.tmp and renames it.
        let initial = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        #expect(initial.contains("vtad_jobs_total{result=\"done\"} 0\n"), "metrics file at READY: \(initial.isEmpty ? "(missing)" : initial)")
        #expect(MetricsText.problems(initial, .prometheus).isEmpty, "\(MetricsText.problems(initial, .prometheus))\n\(initial)")
        #expect(MetricsText.types(initial)["vtad_jobs_total"] == "counter", "\(initial)")

        let client = try TinyALUClient(socketPath: vtad.socketPath)
        for j in 0..<3 {
            let x = client.input(client: 6, job: j)
            #expect(try client.run(x, add: 4).out == TinyALUClient.expected(x, add: 4))
        }
        // Rewritten after each job, after JOB_DONE reaches the client: poll for it.
        var text = ""
        let updated = waitUntil(timeout: .seconds(20)) {
            text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return text.contains("vtad_jobs_total{result=\"done\"} 3\n")
        }
        #expect(updated, "the metrics file did not count the jobs:\n\(text)")
        #expect(MetricsText.problems(text, .prometheus).isEmpty, "\(MetricsText.problems(text, .prometheus))\n\(text)")
        #expect(MetricsText.samples(text)["vtad_profiler_total{counter=\"alu_counter\"}"] == Double(3 * client.rows))
        #expect(!FileManager.default.fileExists(atPath: path + ".tmp"), "the temporary file was left behind")
        #expect(vtad.stop() == 0)
    }

    @Test("vtactl metrics prints OpenMetrics text: TYPE lines, counters, # EOF")
    func vtactlMetricsFormat() throws {
        let vtad = try VTAD()
        defer { vtad.stop() }
        let client = try TinyALUClient(socketPath: vtad.socketPath)
        for j in 0..<2 {
            let x = client.input(client: 7, job: j)
            _ = try client.run(x, add: 1)
        }
        expectFailure("a rejected job", mentioning: ["rejected"]) {
            _ = try client.device.run(instructionsAt: client.input.deviceAddress, count: 1, timeout: .seconds(5))
        }
        let r = try VTACtl.run(["metrics", "--socket", vtad.socketPath])
        #expect(r.status == 0, "\(r)")
        let text = r.stdout
        #expect(text.hasSuffix("# EOF\n"), "\(text)")
        #expect(MetricsText.problems(text, .openMetrics).isEmpty, "\(MetricsText.problems(text, .openMetrics))\n\(text)")
        let samples = MetricsText.samples(text)
        for family in ["vtad_jobs", "vtad_clients", "vtad_queue_depth", "vtad_pool_bytes", "vtad_device_seconds",
                       "vtad_instructions", "vtad_profiler", "vtad_uptime_seconds"] {
            #expect(MetricsText.types(text)[family] != nil, "no TYPE line for \(family)")
        }
        #expect(MetricsText.types(text)["vtad_jobs"] == "counter")
        #expect(MetricsText.types(text)["vtad_clients"] == "gauge")
        #expect(samples["vtad_jobs_total{result=\"done\"}"] == 2)
        #expect(samples["vtad_jobs_total{result=\"rejected\"}"] == 1)
        #expect(samples["vtad_jobs_total{result=\"failed\"}"] == 0)
        #expect(samples["vtad_clients"] == 2, "the test's client and vtactl")
        #expect((samples["vtad_instructions_total"] ?? 0) > 0)
        #expect((samples["vtad_profiler_total{counter=\"alu_counter\"}"] ?? 0) == Double(2 * client.rows))
        #expect((samples["vtad_device_seconds_total"] ?? 0) > 0)
    }
}

/// A checker for the metrics text formats, as far as vtad uses them.
enum MetricsText {
    enum Flavor {
        /// OpenMetrics 1.0: a counter family `x` has samples `x_total`; ends with `# EOF`.
        case openMetrics
        /// Prometheus text 0.0.4 (node_exporter's textfile collector): TYPE names the sample;
        /// other `#` lines are comments.
        case prometheus
    }

    /// Family name -> type, from `# TYPE` lines.
    static func types(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            if parts.count == 4 { out[String(parts[2])] = String(parts[3]) }
        }
        return out
    }

    /// Sample (name with labels) -> value.
    static func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = v
        }
        return out
    }

    /// What is wrong with the text (empty: nothing).
    static func problems(_ text: String, _ flavor: Flavor) -> [String] {
        var problems: [String] = []
        guard text.hasSuffix("\n") else { return ["does not end with a newline"] }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()  // after the final newline
        if flavor == .openMetrics {
            guard text.hasSuffix("# EOF\n") else { return ["does not end with \"# EOF\\n\""] }
            if lines.filter({ $0 == "# EOF" }).count != 1 { problems.append("# EOF appears more than once") }
        }
        var family: (name: String, type: String)?
        var seenFamilies = Set<String>(), seenSamples = Set<String>()
        let name = /[a-zA-Z_:][a-zA-Z0-9_:]*/
        let sample = /([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})? (\S+)/
        for (i, line) in lines.enumerated() {
            if line == "# EOF" && flavor == .openMetrics {
                if i != lines.count - 1 { problems.append("line \(i + 1): # EOF is not the last line") }
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, (try? name.wholeMatch(in: parts[2])) != nil,
                      ["counter", "gauge", "histogram", "summary", "info", "stateset", "gaugehistogram", "unknown"].contains(String(parts[3])) else {
                    problems.append("line \(i + 1): bad TYPE line: \(line)")
                    continue
                }
                if !seenFamilies.insert(String(parts[2])).inserted { problems.append("line \(i + 1): family \(parts[2]) declared twice") }
                family = (String(parts[2]), String(parts[3]))
            } else if line.hasPrefix("# HELP ") || line.hasPrefix("# UNIT ") {
                let parts = line.split(separator: " ", maxSplits: 3)
                if parts.count < 3 || String(parts[2]) != family?.name {
                    problems.append("line \(i + 1): HELP/UNIT for a family other than the current one: \(line)")
                }
            } else if line.isEmpty || (line.hasPrefix("#") && flavor == .openMetrics) {
                problems.append("line \(i + 1): unexpected line: \"\(line)\"")
            } else if line.hasPrefix("#") {
                continue  // a comment in the Prometheus format
            } else {
                guard let m = try? sample.wholeMatch(in: line) else { problems.append("line \(i + 1): not a sample: \(line)"); continue }
                let sampleName = String(m.output.1)
                guard let f = family else { problems.append("line \(i + 1): sample before any TYPE line"); continue }
                let expected = f.type == "counter" && flavor == .openMetrics ? f.name + "_total" : f.name
                if sampleName != expected { problems.append("line \(i + 1): sample \(sampleName) in family \(f.name) (\(f.type)) should be \(expected)") }
                guard let v = Double(m.output.4) else { problems.append("line \(i + 1): value \(m.output.4) is not a number"); continue }
                if f.type == "counter" && v < 0 { problems.append("line \(i + 1): negative counter") }
                if !seenSamples.insert(sampleName + String(m.output.2 ?? "")).inserted { problems.append("line \(i + 1): duplicate sample") }
            }
        }
        return problems
    }
}

// MARK: - Refusing to start

extension VTADaemonTests {
    /// Runs a vtad that is expected to refuse to start: it must exit non-zero within the bound,
    /// without READY=1, saying why.
    func expectStartupFailure(_ what: String, mentioning needle: String, sourceLocation: SourceLocation = #_sourceLocation,
                              start: (TempDir, NotifySocket) throws -> any ChildProcess) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let notify = try NotifySocket(path: dir.file("notify"))
        let child = try start(dir, notify)
        defer { if !child.hasExited { kill(child.pid, SIGKILL); _ = child.waitForExit(timeout: .seconds(10)) } }
        let exited = child.waitForExit(timeout: .seconds(60))
        let log = (try? String(contentsOfFile: dir.file("vtad.log"), encoding: .utf8)) ?? ""
        #expect(exited, "\(what): vtad is still running", sourceLocation: sourceLocation)
        #expect(child.exitStatus.map { $0 != 0 } == true, "\(what): exit status \(child.exitStatus.map(String.init) ?? "-")\n\(log)",
                sourceLocation: sourceLocation)
        #expect(log.contains(needle), "\(what): the log does not say \"\(needle)\":\n\(log)", sourceLocation: sourceLocation)
        #expect(notify.receive(timeout: .zero) == nil && !notify.hasLine("READY=1"), "\(what): READY=1 sent", sourceLocation: sourceLocation)
        #expect(!log.contains("Fatal error") && child.terminationSignal == nil, "\(what): crashed\n\(log)", sourceLocation: sourceLocation)
    }

    @Test("vtad refuses to start, clearly, on a bad backend, bad config, a served socket, or a stream socket as fd 3")
    func startupFailures() throws {
        let vtad = try Binaries.path("vtad")
        func foundation(_ args: [String]) -> (TempDir, NotifySocket) throws -> any ChildProcess {
            { dir, notify in
                var env = VTAD.baseEnvironment()
                env["NOTIFY_SOCKET"] = notify.path
                return try FoundationChild(executable: vtad, arguments: ["--socket", dir.file("vtad.sock")] + args, environment: env,
                                           log: dir.file("vtad.log"))
            }
        }
        try expectStartupFailure("--backend fpga without a board target", mentioning: "needs the board's registers", start: foundation(["--backend", "fpga"]))
        // No UIO device on this machine: discovery says so instead of guessing.
        try expectStartupFailure("--backend fpga, nothing discovered", mentioning: "no VTA UIO device for pynq found",
                                 start: foundation(["--backend", "fpga", "--target", "pynq"]))
        try expectStartupFailure("--backend fpga on a missing UIO device", mentioning: "/dev/uio97",
                                 start: foundation(["--backend", "fpga", "--target", "pynq", "--uio", "/dev/uio97"]))
        try expectStartupFailure("--backend tpu", mentioning: "unknown backend", start: foundation(["--backend", "tpu"]))
        try expectStartupFailure("--log-level loud", mentioning: "unknown log level loud", start: foundation(["--log-level", "loud"]))
        try expectStartupFailure("unknown config key", mentioning: "unknown key \"colour\"") { dir, notify in
            try Data(#"{"colour": "blue"}"#.utf8).write(to: URL(fileURLWithPath: dir.file("vtad.json")))
            return try foundation(["--daemon-config", dir.file("vtad.json")])(dir, notify)
        }
        // A second daemon must not take over the socket of one that is serving.
        let running = try VTAD()
        defer { running.stop() }
        try expectStartupFailure("a second daemon on a served socket", mentioning: "already listening") { dir, notify in
            var env = VTAD.baseEnvironment()
            env["NOTIFY_SOCKET"] = notify.path
            return try FoundationChild(executable: vtad, arguments: ["--socket", running.socketPath], environment: env, log: dir.file("vtad.log"))
        }
        let client = try TinyALUClient(socketPath: running.socketPath)
        let x = client.input(client: 8, job: 8)
        #expect(try client.run(x, add: 2).out == TinyALUClient.expected(x, add: 2), "the first daemon no longer serves")
        // Socket activation with a SOCK_STREAM socket: refused, not served wrongly.
        try expectStartupFailure("a stream socket as fd 3", mentioning: "not SOCK_SEQPACKET") { dir, notify in
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            try #require(fd >= 0)
            let high = fcntl(fd, F_DUPFD_CLOEXEC, 20)
            close(fd)
            defer { close(high) }
            var env = VTAD.baseEnvironment()
            env["NOTIFY_SOCKET"] = notify.path
            env["LISTEN_FDS"] = "1"
            return try SpawnedChild(argv: ["/bin/sh", "-c", "export LISTEN_PID=$$; exec \"$0\" \"$@\"", vtad, "--socket", dir.file("own.sock")],
                                    environment: env, log: dir.file("vtad.log"), dup2s: [(high, 3)])
        }
    }
}
