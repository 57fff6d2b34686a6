import Foundation
import Testing
import VTA
import VTABoardEmulator
import VTAHardware
import VTARuntime
import VTASimulator
import VTATestSupport

/// Runs the self-test program as a job (any program that exercises loads, GEMM, ALU and a store).
private func job(on device: FPGADevice, timeout: Duration = .seconds(5)) throws -> [UInt8] {
    let program = try ProgramFile(json: try SharedTestData.json("programs/gemm_basic_3x4x5.json"))
    let outcome = try ProgramExecution.run(program, on: device, hardwareExpectations: true, timeout: timeout)
    #expect(outcome.mismatches.isEmpty, "\(outcome.mismatches)")
    return outcome.buffers.values.flatMap { $0 }
}

@Suite("Faults, timeouts and recovery on the emulated board")
struct FaultAndRecoveryTests {
    @Test("a hung run is detected within its deadline with a register dump; the next job succeeds after in-place recovery")
    func hangRecovery() throws {
        // Opening runs the self-test and a scrub (2 runs); the job after them hangs.
        let board = try EmulatedBoard(fault: .hang, faultAfter: 2)
        let device = try board.open()
        let generation = device.generation
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try job(on: device, timeout: .milliseconds(400))
            Issue.record("the hung job returned")
        } catch let error as RuntimeError {
            guard case .device(.timeout(let waited, let detail)) = error else { Issue.record("unexpected error \(error)"); return }
            #expect(waited >= .milliseconds(400) && waited < .milliseconds(1500))
            #expect(detail.contains("fetch.control=") && detail.contains("compute.done_o="), "no register dump: \(detail)")
            #expect(detail.contains("PL reset") && detail.contains("usable again"), "\(detail)")
        }
        // Timeout plus recovery (reset pulse, self-test, scrub) stays well within seconds.
        #expect(clock.now - start < .seconds(5))
        #expect(board.emulator.resetCount == 1)
        #expect(device.generation == generation + 1)
        #expect(device.unusableReason == nil)
        #expect(device.statistics.timeouts == 1 && device.statistics.recoveries == 1)
        _ = try job(on: device)  // correct results again, same process, same FPGADevice
    }

    @Test("a late completion within the deadline is a success; past it, a timeout")
    func lateCompletion() throws {
        let board = try EmulatedBoard(fault: .late, faultAfter: 2, lateBy: .milliseconds(300))
        let device = try board.open()
        let clock = ContinuousClock()
        let start = clock.now
        _ = try job(on: device, timeout: .seconds(5))
        #expect(clock.now - start >= .milliseconds(300))
        #expect(throws: RuntimeError.self) { _ = try job(on: device, timeout: .milliseconds(100)) }
    }

    @Test("a dead board fails the job, then refuses work with the reason instead of hanging")
    func deadBoard() throws {
        let board = try EmulatedBoard(fault: .dead, faultAfter: 2)
        let device = try board.open()
        #expect(throws: RuntimeError.self) { _ = try job(on: device, timeout: .milliseconds(300)) }
        let reason = try #require(device.unusableReason)
        #expect(reason.contains("recovery") && reason.contains("failed"), "\(reason)")
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try device.run(instructionsAt: 0x1C00_0000, count: 1, timeout: .seconds(10))
            Issue.record("a dead board accepted a run")
        } catch {
            #expect(error.description.contains("not usable"), "\(error)")
        }
        #expect(clock.now - start < .milliseconds(100))
    }

    @Test("opening a board whose accelerator is wedged recovers it before use")
    func wedgedAtOpen() throws {
        let board = try EmulatedBoard(fault: .hang, faultAfter: 0)
        let device = try board.open()  // self-test hangs, PL reset, self-test passes
        #expect(board.emulator.resetCount == 1)
        _ = try job(on: device)
    }

    @Test("DMA exhaustion says what was asked, the largest free block, the pool and what to change")
    func poolExhaustion() throws {
        let board = try EmulatedBoard(dmaBytes: 1 << 20)
        let device = try FPGADevice(options: BoardOptions(config: board.config, board: board.target, registers: .devMem(path: board.devmem),
                                                          memory: .carveOut(path: nil, base: nil, bytes: 1 << 20)))
        let before = device.pool.usage
        let small = try device.allocate(bytes: 256 << 10, label: "a")
        do {
            _ = try device.allocate(bytes: 2 << 20, label: "too big")
            Issue.record("allocation beyond the pool succeeded")
        } catch {
            let text = error.description
            #expect(text.contains("2097152 bytes"), "\(text)")
            #expect(text.contains("largest free block"), "\(text)")
            #expect(text.contains("1048576-byte pool"), "\(text)")
            #expect(text.contains("reserved-memory"), "\(text)")
        }
        try device.free(small)
        // Freed memory merges back: usage returns to what it was before.
        let u = device.pool.usage
        #expect(u.usedBytes == before.usedBytes && u.largestFree == before.largestFree && u.buffers == before.buffers)
        #expect(throws: DeviceError.self) { try device.free(small) }  // double free is refused
    }

    @Test("completion through the interrupt FIFO")
    func interruptPath() throws {
        let board = try EmulatedBoard(irqFifo: true)
        let device = try board.open(completion: .fifo(path: board.irqFifo))
        _ = try job(on: device)
        // Self-test, scrub and job: a run that is already done when the wait starts needs no
        // interrupt, so at least one of them (not necessarily all) was woken by the FIFO.
        #expect(device.statistics.interruptWakeups >= 1)
    }

    @Test("an interrupt line that never fires (a bitstream without the IRQ wired) costs milliseconds, not the deadline")
    func silentInterruptLine() throws {
        let board = try EmulatedBoard()
        let silent = board.directory.path + "/silent-irq"
        #expect(mkfifo(silent, 0o600) == 0)
        let device = try board.open(completion: .fifo(path: silent))
        let clock = ContinuousClock()
        let start = clock.now
        _ = try job(on: device, timeout: .seconds(20))
        #expect(clock.now - start < .seconds(3))
        #expect(device.statistics.interruptWakeups == 0)
    }

    @Test("registers through a UIO device: maps from sysfs, map K at offset K x page size")
    func uioRegisters() throws {
        let board = try EmulatedBoard(uio: true)
        let root = board.directory.path
        let t = board.target
        for (k, base) in [t.fetchBase, t.loadBase, t.computeBase, t.storeBase].enumerated() {
            let dir = "\(root)/sys/class/uio/uio0/maps/map\(k)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            // Zero-padded %pa as ZynqMP kernels print it, to exercise the parser.
            try "0x\(String(repeating: "0", count: 8))\(String(base, radix: 16))\n".write(toFile: dir + "/addr", atomically: true, encoding: .utf8)
            try "0x00001000\n".write(toFile: dir + "/size", atomically: true, encoding: .utf8)
            try "0x0\n".write(toFile: dir + "/offset", atomically: true, encoding: .utf8)
            try ["fetch", "load", "compute", "store"][k].write(toFile: dir + "/name", atomically: true, encoding: .utf8)
        }
        // Through the udev rule's symlink (/dev/vta/vta -> ../uio0): the sysfs name is the target's.
        try FileManager.default.createDirectory(atPath: root + "/dev/vta", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/dev/vta/vta", withDestinationPath: "../uio0")
        let options = BoardOptions(config: board.config, board: t, registers: .uio(devnode: root + "/dev/vta/vta"),
                                   memory: .carveOut(path: board.devmem, base: nil, bytes: nil), roots: SystemRoots.under(root))
        let device = try FPGADevice(options: options)
        _ = try job(on: device)
        #expect(device.registerDump().first { $0.name == "compute.done_o" }?.value == 1)
    }
}
