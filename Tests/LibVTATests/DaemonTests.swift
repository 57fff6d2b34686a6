import Testing

@Suite("Through a real vtad (C)")
struct DaemonTests {
    @Test("Driver and runtime programs run as verified daemon jobs on shared memory")
    func driverAndRuntime() throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        let driver = try workspace.compile("driver_test.c")
        let runtime = try workspace.compile("runtime_test.c")
        let daemon = try DaemonProcess()
        let env = ["VTA_BACKEND": "daemon", "VTA_SOCKET": daemon.socketPath]

        let before = try daemon.jobsDone()
        let d = try workspace.execute(driver, ["all"], environment: env)
        expectDriverTestPassed(d, names: driverTestNames)
        let afterDriver = try daemon.jobsDone()
        // One job per program: 2 GEMM + 16 ALU + 4 blocked, and 4 threads x 4 rounds x 2.
        #expect(afterDriver - before == 22 + 32, "jobs done went from \(before) to \(afterDriver)")

        let r = try workspace.execute(runtime, ["--threads"], environment: env)
        #expect(r.status == 0 && r.stdout.contains("PASS runtime blocked gemm") && r.stdout.contains("PASS runtime threads"), "\(r)")
        #expect(r.libvtaErrors.isEmpty, "\(r.libvtaErrors)")
        // Two batches (one per block row), and 3 workers x 40 small programs.
        #expect(try daemon.jobsDone() - afterDriver == 2 + 3 * 40)
        #expect(daemon.stop() == 0, "vtad: \(daemon.log)")
    }

    @Test("VTA_BACKEND=auto uses the daemon on VTA_SOCKET when one answers, else the simulator")
    func auto() throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        let runtime = try workspace.compile("runtime_test.c")
        let daemon = try DaemonProcess()
        let before = try daemon.jobsDone()
        let r = try workspace.execute(runtime, environment: ["VTA_BACKEND": "auto", "VTA_SOCKET": daemon.socketPath])
        #expect(r.status == 0 && r.stdout.contains("PASS"), "\(r)")
        #expect(try daemon.jobsDone() - before == 2)
        #expect(daemon.stop() == 0)
        let alone = try workspace.execute(runtime, environment: ["VTA_SOCKET": daemon.socketPath + ".absent"])
        #expect(alone.status == 0 && alone.stdout.contains("PASS"), "\(alone)")
    }
}
