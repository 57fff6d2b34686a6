import Foundation
import Testing
import VTA
import VTABoardEmulator
import VTAClient
import VTARuntime
import VTASimulator
import VTATestSupport

/// vtad on a board (the emulated one: same registers, same DMA path): client buffers are memfds,
/// the board works on DMA twins the daemon fills and copies back around every job.
extension VTADaemonTests {
    @Test("vtad --backend fpga: matmul through the daemon equals the simulator's hardware profile; a hung job is recovered in place")
    func boardBackedDaemon() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let devmem = dir.file("devmem")
        // Opening: self-test + scrub (2 runs); first job: tenant scrub + the job (runs 3, 4).
        // The fault hangs run 5: the second job.
        let emulator = try BoardEmulator(options: .init(config: .standard, target: .pynq, devmemPath: devmem, fault: .hang, faultAfter: 4))
        emulator.start()
        defer { emulator.stop() }
        let vtad = try VTAD(["--backend", "fpga", "--target", "pynq", "--devmem", devmem])
        defer { vtad.stop() }
        let remote = Runtime(device: try vtad.connect())
        #expect(remote.device.name.contains(vtad.socketPath))
        let local = try Runtime.open(.simulator(profile: .hardware), config: remote.config)
        var rng = SplitMix64(seed: 0xB0A4D)
        // Buffer sizes in whole pages: the DMA twins sit back to back, so the spans of A, B and C
        // coalesce across buffers (each must still get its own part copied).
        let (m, k, n) = (64, 256, 128)
        let a = rng.int8s(m * k), b = rng.int8s(n * k)
        let mm = try MatrixMultiply(m: m, k: k, n: n, shift: 5, clip: -128...127)
        let first = try mm.run(on: remote, a: a, b: b, bias: nil)
        #expect(first.c == (try mm.run(on: local, a: a, b: b, bias: nil)).c)
        #expect(first.c == mm.reference(a: a, b: b, bias: nil))
        // The second job hangs on the board: it fails with a timeout...
        var options = CommandQueue.Options()
        options.timeout = .milliseconds(500)
        #expect(throws: RuntimeError.self) { _ = try mm.run(on: remote, a: a, b: b, bias: nil, options: options) }
        #expect(emulator.resetCount == 1)
        // ...and the next one, same daemon process, is correct again.
        let third = try mm.run(on: remote, a: a, b: b, bias: nil)
        #expect(third.c == mm.reference(a: a, b: b, bias: nil))
    }
}
