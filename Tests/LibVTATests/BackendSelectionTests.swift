import Foundation
import Testing
import VTA
@testable import VTACABI

@Suite("Backend selection from the environment")
struct BackendSelectionTests {
    @Test("Defaults: auto, the stock socket, no configuration file, the target's profile")
    func defaults() throws {
        let c = try BackendChoice(environment: [:])
        #expect(c.kind == .auto && c.configPath == nil && c.socketPath == "/run/vta/vtad.sock" && c.profile == nil)
        #expect(try BackendChoice(environment: ["VTA_BACKEND": "", "VTA_SOCKET": ""]) == c)
    }

    @Test("Every variable is read")
    func variables() throws {
        let c = try BackendChoice(environment: ["VTA_BACKEND": "daemon", "VTA_SOCKET": "/tmp/s", "VTA_CONFIG": "/tmp/c.json", "VTA_SIM_PROFILE": "hardware"])
        #expect(c.kind == .daemon && c.socketPath == "/tmp/s" && c.configPath == "/tmp/c.json" && c.profile == .hardware)
        #expect(try BackendChoice(environment: ["VTA_BACKEND": "sim"]).kind == .simulator)
        #expect(try BackendChoice(environment: ["VTA_BACKEND": "fpga"]).kind == .fpga)
    }

    @Test("Unknown values are errors that name the variable and the choices")
    func unknownValues() {
        #expect(throws: CABIError.self) { try BackendChoice(environment: ["VTA_BACKEND": "gpu"]) }
        do {
            _ = try BackendChoice(environment: ["VTA_SIM_PROFILE": "tsim"])
            Issue.record("accepted VTA_SIM_PROFILE=tsim")
        } catch {
            let text = String(describing: error)
            #expect(text.contains("VTA_SIM_PROFILE=tsim") && text.contains("fsim or hardware"))
        }
    }

    @Test("fpga without a board or registers fails cleanly, saying which variable to set")
    func fpga() throws {
        for (env, needle) in [(["VTA_BACKEND": "fpga"], "VTA_BOARD"), (["VTA_BACKEND": "fpga", "VTA_BOARD": "pynq"], "VTA_UIO"),
                              (["VTA_BACKEND": "fpga", "VTA_BOARD": "tpu", "VTA_UIO": "/dev/uio0"], "VTA_BOARD=tpu"),
                              (["VTA_BACKEND": "fpga", "VTA_BOARD": "pynq", "VTA_UIO": "/dev/uio96"], "/dev/uio96")] {
            do {
                _ = try BackendChoice(environment: env).open()
                Issue.record("the fpga backend opened with \(env)")
            } catch {
                #expect(String(describing: error).contains(needle), "\(env): \(error)")
            }
        }
    }

    @Test("VTA_CONFIG selects the simulator's configuration; a broken file is an error naming it")
    func configFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("libvta-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var keys = HardwareConfig.standard.keyValues
        for i in keys.indices where keys[i].0 == "LOG_BLOCK" { keys[i].1 = .int(5) }
        let good = dir.appendingPathComponent("block32.json").path
        try JSONValue.object(keys).serialized().write(toFile: good, atomically: true, encoding: .utf8)
        let device = try BackendChoice(environment: ["VTA_BACKEND": "sim", "VTA_CONFIG": good]).open()
        #expect(device.config.blockIn == 32)
        let bad = dir.appendingPathComponent("bad.json").path
        try "{\"LOG_BLOCK\": 4}".write(toFile: bad, atomically: true, encoding: .utf8)
        for path in [bad, dir.appendingPathComponent("missing.json").path] {
            do {
                _ = try BackendChoice(environment: ["VTA_BACKEND": "sim", "VTA_CONFIG": path]).open()
                Issue.record("opened with VTA_CONFIG=\(path)")
            } catch {
                #expect(String(describing: error).contains(path))
            }
        }
    }

    @Test("wait_cycles: microseconds, at least one second")
    func waitCycles() {
        #expect(WaitCycles.timeout(0) == .seconds(1))
        #expect(WaitCycles.timeout(10_000_000) == .seconds(10))
        #expect(WaitCycles.timeout(1 << 31) == .microseconds(Int64(1) << 31))
    }

    @Test("A C program reports a bad backend on its first call and exits cleanly")
    func reportedToC() throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        let program = try workspace.compile("driver_test.c")
        for (env, text) in [
            (["VTA_BACKEND": "gpu"], "libvta: VTADeviceAlloc: VTA_BACKEND=gpu is not a backend"),
            (["VTA_BACKEND": "fpga"], "libvta: VTADeviceAlloc: VTA_BACKEND=fpga needs VTA_BOARD"),
            (["VTA_BACKEND": "daemon", "VTA_SOCKET": workspace.dir + "/no.sock"], "libvta: VTADeviceAlloc: cannot use vtad at \(workspace.dir)/no.sock"),
        ] {
            let r = try workspace.execute(program, ["gemm"], environment: env)
            #expect(r.status == 2 && r.stderr.contains(text), "\(env): \(r)")
        }
    }
}
