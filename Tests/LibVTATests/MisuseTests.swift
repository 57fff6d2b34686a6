import Foundation
import Testing

@Suite("Misuse fails cleanly (C)")
struct MisuseTests {
    /// Checks a misuse.c run: every expected failure was reported by the function that got the
    /// bad call, nothing else was reported, and the process finished normally.
    func check(_ r: ProgramResult) {
        #expect(r.signal == nil, "misuse crashed: \(r)")
        #expect(r.status == 0, "a misuse call did not fail as it should: \(r)")
        #expect(r.stdout.contains("misuse: every call failed cleanly"))
        var expected: [String: Int] = [:]
        for line in r.stdout.split(separator: "\n") where line.hasPrefix("EXPECT ") {
            expected[String(line.dropFirst(7)), default: 0] += 1
        }
        var reported: [String: Int] = [:]
        for line in r.libvtaErrors {
            // "libvta: <function>: <message>"
            let parts = line.split(separator: ":", maxSplits: 2)
            if parts.count == 3 { reported[parts[1].trimmingCharacters(in: .whitespaces), default: 0] += 1 }
        }
        #expect(expected.values.reduce(0, +) > 80, "misuse.c expected only \(expected.values.reduce(0, +)) failures")
        // Exactly the expected reports: every misuse is reported once, and no valid call is.
        for function in Set(expected.keys).union(reported.keys).sorted() {
            #expect(reported[function] == expected[function],
                    "\(function): \(expected[function] ?? 0) failures expected, \(reported[function] ?? 0) reported\n\(r.stderr)")
        }
        // Runs that outlast wait_cycles are stopped and reported, by the driver and the runtime.
        #expect(r.libvtaErrors.contains { $0.hasPrefix("libvta: VTADeviceRun: timed out") }, "\(r.stderr)")
        #expect(r.libvtaErrors.contains { $0.hasPrefix("libvta: VTASynchronize: synchronize: timed out") }, "\(r.stderr)")
        // Nothing but libvta's one-line reports on standard error.
        let other = r.stderr.split(separator: "\n").filter { !$0.hasPrefix("libvta: ") }
        #expect(other.isEmpty, "unexpected output on stderr: \(other)")
    }

    @Test("NULL and unknown handles, double frees, bad sizes, ids and kernels on the simulator")
    func simulator() throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        let program = try workspace.compile("misuse.c")
        check(try workspace.execute(program, environment: ["VTA_BACKEND": "sim"]))
    }

    @Test("The same through vtad (the daemon's verifier rejects the broken programs)")
    func daemon() throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        let program = try workspace.compile("misuse.c")
        let daemon = try DaemonProcess()
        let r = try workspace.execute(program, environment: ["VTA_BACKEND": "daemon", "VTA_SOCKET": daemon.socketPath])
        check(r)
        #expect(r.stderr.contains("rejected"), "the daemon's verifier did not reject the deadlocking program: \(r.stderr)")
        #expect(daemon.stop() == 0, "vtad: \(daemon.log)")
    }
}
