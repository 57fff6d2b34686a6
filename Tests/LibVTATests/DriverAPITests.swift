import Testing

/// The test names driver_test.c prints for `all`.
let driverTestNames: [String] = {
    var names = ["gemm uncompressed", "gemm compressed"]
    for op in ["min", "max", "add", "shr"] {
        for kind in ["imm", "vector"] {
            for c in ["compressed", "uncompressed"] { names.append("alu \(op) \(kind) \(c)") }
        }
    }
    for vt in [2, 1] {
        for c in ["compressed", "uncompressed"] { names.append("blocked gemm \(c) vt=\(vt)") }
    }
    return names + ["threads"]
}()

/// Checks a driver_test run: every expected test passed and nothing was reported.
func expectDriverTestPassed(_ r: ProgramResult, names: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == 0, "driver_test failed: \(r)", sourceLocation: sourceLocation)
    let lines = Set(r.stdout.split(separator: "\n").map(String.init))
    for name in names {
        #expect(lines.contains("PASS \(name)"), "no PASS for \(name): \(r)", sourceLocation: sourceLocation)
    }
    #expect(lines.contains("0 failures"), sourceLocation: sourceLocation)
    #expect(r.libvtaErrors.isEmpty, "libvta reported errors: \(r.libvtaErrors)", sourceLocation: sourceLocation)
}

@Suite("Driver API: hand-built instruction streams (C)")
struct DriverAPITests {
    @Test("GEMM, ALU, blocked GEMM and concurrent threads on the simulator", arguments: ["fsim", "hardware"])
    func simulator(profile: String) throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        let program = try workspace.compile("driver_test.c")
        let r = try workspace.execute(program, ["all"], environment: ["VTA_BACKEND": "sim", "VTA_SIM_PROFILE": profile])
        expectDriverTestPassed(r, names: driverTestNames)
    }

    @Test("With USE_VTA64 the same names bind to the 64-bit entry points, which work")
    func wideAddresses() throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        let program = try workspace.compile("driver_test.c", output: "driver_test64", defines: ["USE_VTA64"])
        let nm = try workspace.execute("/usr/bin/nm", ["-u", program], environment: [:])
        for name in ["VTADeviceRun64", "VTAMemGetPhyAddr64", "VTAFlushCache64", "VTAInvalidateCache64"] {
            #expect(nm.stdout.contains(name), "the USE_VTA64 build does not call \(name)")
        }
        #expect(!nm.stdout.split(separator: "\n").contains { $0.hasSuffix(" VTADeviceRun") })
        let r = try workspace.execute(program, ["gemm", "alu"], environment: ["VTA_BACKEND": "sim"])
        expectDriverTestPassed(r, names: Array(driverTestNames.prefix(18)))
    }
}
