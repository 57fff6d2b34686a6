import Testing

@Suite("Runtime API: blocked GEMM with requantisation (C)")
struct RuntimeAPITests {
    @Test("On the simulator, both profiles, with and without FORCE_SERIAL", arguments: [
        ("fsim", false), ("hardware", false), ("fsim", true),
    ])
    func simulator(profile: String, serial: Bool) throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        let program = try workspace.compile("runtime_test.c")
        let r = try workspace.execute(program, serial ? ["--serial"] : [], environment: ["VTA_BACKEND": "sim", "VTA_SIM_PROFILE": profile])
        #expect(r.status == 0 && r.stdout.contains("PASS runtime blocked gemm"), "\(r)")
        #expect(r.libvtaErrors.isEmpty, "libvta reported errors: \(r.libvtaErrors)")
    }

    @Test("Threads allocate, copy and free buffers and take turns on the shared queue")
    func threads() throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        let program = try workspace.compile("runtime_test.c")
        let r = try workspace.execute(program, ["--threads"], environment: ["VTA_BACKEND": "sim"])
        #expect(r.status == 0 && r.stdout.contains("PASS runtime threads") && r.stdout.contains("PASS runtime blocked gemm"), "\(r)")
        #expect(r.libvtaErrors.isEmpty, "libvta reported errors: \(r.libvtaErrors)")
    }

    @Test("The debug dump prints every kernel once and each batch's instructions")
    func dump() throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        let program = try workspace.compile("runtime_test.c")
        let r = try workspace.execute(program, ["--dump"], environment: ["VTA_BACKEND": "sim"])
        #expect(r.status == 0 && r.stdout.contains("PASS runtime blocked gemm"), "\(r)")
        // The GEMM kernel has 3 micro-ops (one per N tile); the three ALU kernels one each.
        #expect(r.stdout.contains("There are 3 uops\n[0000]\t acc=0, inp=0, wgt=0\n[0001]\t acc=1, inp=0, wgt=4\n[0002]\t acc=2, inp=0, wgt=8"))
        // One synchronisation per block row (MT / BM = 2 batches).
        let batches = r.stdout.split(separator: "\n").filter { $0.hasPrefix("There are ") && $0.hasSuffix(" instructions") }
        #expect(batches.count == 2, "\(batches)")
        #expect(r.stdout.contains("ALU    SHR imm=6"))
    }
}
