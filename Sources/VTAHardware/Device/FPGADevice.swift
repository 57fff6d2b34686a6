import CVTAKernel
import Glibc
import Synchronization
import VTA

/// A VTA accelerator on an FPGA board, driven through its control registers.
///
/// One object owns the board: runs are serialised by a lock, buffers come from a sub-allocated
/// DMA pool, caches are maintained around every run, and completion is polled or signalled by
/// the UIO interrupt with a wall-clock deadline. When a run times out (or the self-test fails)
/// the device recovers in place: it resets the programmable logic where the board allows,
/// remaps the registers, self-tests, and only then takes the next run.
///
/// An emulated board (`vta-board-emu`) behind a plain file drives exactly this code.
public final class FPGADevice: Device, @unchecked Sendable {
    public let config: HardwareConfig
    public let target: TargetProfile
    public let options: BoardOptions
    public let control: ControlProtocol
    public let pool: DMAPool
    public var name: String {
        switch options.registers {
        case .devMem(let p): "\(target.name) at \(p)"
        case .uio(let d): "\(target.name) at \(d)"
        }
    }

    /// One mapping of the board's registers; replaced on recovery.
    struct Session {
        let registers: RegisterSpace
        let setup: [(RegisterSpace.Bound, RegisterValue)]
        let start: [(RegisterSpace.Bound, RegisterValue)]
        let completion: [(RegisterSpace.Bound, UInt32, UInt32)]
        let cycles: RegisterSpace.Bound?
        let interrupt: InterruptLine?
    }

    struct State {
        var session: Session?
        /// Why runs are refused (nil: usable).
        var unusable: String?
        /// Stream copy with the stale-done guard in front (HLS shells).
        var staging: BoardBuffer?
        /// Bumped by every successful (re)open: buffers and jobs can tell which board instance ran them.
        var generation = 0
        var stats = BoardStatistics()
        /// The UIO device found by the last rediscovery (numbers can change after a reload).
        var uioDevnode: String?
    }
    let state: Mutex<State>
    /// Completions signalled by the interrupt line (the rest were polled).
    private let interruptWakeups = Atomic<Int>(0)

    /// Opens the board: maps registers, sets up DMA memory, and runs the self-test.
    /// - Throws: `DeviceError.unavailable` naming what could not be opened and what to do.
    public init(options: BoardOptions) throws(DeviceError) {
        guard options.target.isBoard else {
            throw .board(.invalidOptions("\(options.target.name) is not a board target; use --board pynq|ultra96|zcu104|de10nano"))
        }
        self.options = options
        self.config = options.config
        self.target = options.target
        do { control = try ControlProtocol.forTarget(options.target, pointerBits: options.pointerBits) } catch { throw .board(error) }
        // The handshake: the loaded bitstream must be the configuration this runtime speaks.
        if let path = options.descriptorPath {
            do throws(BoardDescriptorError) {
                let (descriptor, _) = try BoardDescriptor.load(path: path)
                try descriptor.check(against: options.config, includeTarget: false)
                if descriptor.target != options.target.name {
                    throw .configMismatch(path: path, differences: [
                        ConfigDifference(key: "TARGET", expected: options.target.name, found: descriptor.target)])
                }
            } catch {
                throw .board(.mismatch("the loaded bitstream does not match: \(error.description)"))
            }
        }
        // The register device first: a missing one is the likelier mistake and says more.
        for path in Self.requiredPaths(options) where access(path, F_OK) != 0 {
            let e = errno
            throw .board(.open(path: path, operation: "open", errno: e, hint: BoardError.openHint(path, e)))
        }
        pool = DMAPool(backend: try Self.makeBackend(options), target: options.target)
        state = Mutex(State())
        let opened: Result<Void, DeviceError> = state.withLock { s in
            do throws(DeviceError) {
                s.session = try openSession(uioDevnode: nil)
                s.generation = 1
                // Memory problems (none found, unreachable, too small) are not the
                // accelerator's fault: report them as they are, before any self-test or reset.
                let probe = try pool.allocate(bytes: 64, alignment: 64, label: "probe")
                try pool.free(probe)
                if options.selfTest {
                    do throws(DeviceError) { try selfTestLocked(&s) } catch {
                        // A wedged accelerator from an earlier process: the same recovery as
                        // after a failed run (reset, remap, self-test again).
                        let outcome = recoverLocked(&s, reason: "self-test at open failed: \(error.description)")
                        if s.unusable != nil { throw .unavailable("\(error.description); \(outcome)") }
                    }
                }
                return .success(())
            } catch { return .failure(error) }
        }
        try opened.get()
    }

    // MARK: - Opening

    static func requiredPaths(_ o: BoardOptions) -> [String] {
        var paths: [String] = []
        switch o.registers {
        case .devMem(let p): paths.append(p)
        case .uio(let d): paths.append(d)
        }
        if case .fifo(let f) = o.completion { paths.append(f) }
        return paths
    }

    static func makeBackend(_ o: BoardOptions) throws(DeviceError) -> any DMABackend {
        switch o.memory {
        case .backend(let b): return b
        case let .carveOut(path, base, bytes):
            return try carveOut(o, path: path, base: base, bytes: bytes)
        case .udmabuf, .zocl, .auto:
            if let b = try kernelBackend(o) { return b }
            if case .devMem = o.registers { return try carveOut(o, path: nil, base: nil, bytes: nil) }
            throw .board(.invalidOptions("no DMA memory found for \(o.target.name): no u-dma-buf pool under \(o.roots.sys)/class/u-dma-buf, "
                + "no zocl render node; load u-dma-buf (kernel-interface/devicetree) or XRT's zocl, or give a carve-out"))
        }
    }

    static func carveOut(_ o: BoardOptions, path: String?, base: UInt64?, bytes: Int?) throws(DeviceError) -> any DMABackend {
        var file = path
        if file == nil, case .devMem(let p) = o.registers { file = p }
        return CarveOutBackend(path: file ?? "/dev/mem", physicalBase: base ?? o.target.carveOutBase,
                               bytes: bytes ?? Int(o.target.carveOutSize))
    }

    /// The kernel allocators (u-dma-buf, zocl), when the options ask for them or `.auto` finds one.
    static func kernelBackend(_ o: BoardOptions) throws(DeviceError) -> (any DMABackend)? {
        try KernelDMABackends.select(o)
    }

    /// Maps the registers and binds the protocol's registers to them.
    private func openSession(uioDevnode: String?) throws(DeviceError) -> Session {
        do throws(BoardError) {
            var windows: [RegisterWindow] = []
            switch options.registers {
            case .devMem(let path):
                for w in control.windows {
                    windows.append(try RegisterWindow.map(path: path, fileOffset: w.base, length: w.size, physicalBase: w.base, sync: true,
                                                          label: "\(w.name) window \(path) @ 0x\(String(w.base, radix: 16))"))
                }
            case .uio(let configured):
                let devnode = uioDevnode ?? configured
                var index = 0
                let name = RegisterWindow.uioName(devnode)
                while index < 5 {
                    guard SysfsAttribute.read("\(options.roots.sys)/class/uio/\(name)/maps/map\(index)/addr") != nil else { break }
                    windows.append(try RegisterWindow.uio(devnode: devnode, map: index, roots: options.roots))
                    index += 1
                }
                if windows.isEmpty {
                    throw .sysfs(path: "\(options.roots.sys)/class/uio", problem: "\(devnode) has no maps (is it the VTA UIO device? see vtactl board info)")
                }
            }
            let space = RegisterSpace(windows: windows)
            var setup: [(RegisterSpace.Bound, RegisterValue)] = []
            for w in control.setup { setup.append((try space.bind(w.register), w.value)) }
            var start: [(RegisterSpace.Bound, RegisterValue)] = []
            for w in control.start { start.append((try space.bind(w.register), w.value)) }
            var completion: [(RegisterSpace.Bound, UInt32, UInt32)] = []
            for c in control.completion { completion.append((try space.bind(c.register), c.mask, c.expected)) }
            let cycles = try control.cycleCounter.map { r throws(BoardError) in try space.bind(r) }
            let interrupt: InterruptLine?
            switch options.completion {
            case .poll: interrupt = nil
            case .fifo(let path): interrupt = try InterruptLine(kind: .fifo, path: path)
            case .uioInterrupt:
                guard case .uio(let devnode) = options.registers else {
                    throw .invalidOptions("the UIO interrupt needs --uio; with --devmem use polling or --irq-fifo")
                }
                interrupt = try InterruptLine(kind: .uio, path: devnode)
            }
            return Session(registers: space, setup: setup, start: start, completion: completion, cycles: cycles, interrupt: interrupt)
        } catch {
            throw .board(error)
        }
    }

    // MARK: - Device

    public func allocate(bytes: Int, alignment: Int, label: String) throws(DeviceError) -> any DMABuffer {
        try pool.allocate(bytes: bytes, alignment: alignment, label: label)
    }

    public func free(_ buffer: any DMABuffer) throws(DeviceError) { try pool.free(buffer) }

    public func run(instructionsAt address: UInt64, count: Int, timeout: Duration) throws(DeviceError) -> RunReport {
        let result: Result<RunReport, DeviceError> = state.withLock { s in
            do throws(DeviceError) { return .success(try runLocked(&s, address: address, count: count, timeout: timeout, recover: true)) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The compute no-op put in front of streams on HLS shells: a GEMM with no micro-ops, no
    /// loop iterations and no dependency flags. It cannot block, so it clears `done` first.
    static let staleDoneGuardWord = InstructionWord(low: UInt64(Opcode.gemm.rawValue), high: 0)

    func runLocked(_ s: inout State, address: UInt64, count: Int, timeout: Duration, recover: Bool) throws(DeviceError) -> RunReport {
        if let why = s.unusable { throw .unavailable("\(name) is not usable: \(why)") }
        guard let session = s.session else { throw .unavailable("\(name) is not open") }
        guard count > 0, count <= 1 << 24 else { throw .runFailed("instruction count \(count) is not in 1...\(1 << 24)") }
        let insnBytes = HardwareConfig.insnElemBytes
        guard let source = pool.cpuPointer(deviceAddress: address, length: count * insnBytes) else {
            throw .runFailed("the instruction stream at 0x\(String(address, radix: 16)) (\(count) instructions) is not in \(name)'s DMA memory")
        }
        var launchAddress = address
        var launchCount = count
        if control.staleDoneGuard {
            let need = (count + 1) * insnBytes
            if (s.staging?.size ?? 0) < need {
                if let old = s.staging { try? pool.free(old) }
                s.staging = nil
                s.staging = try pool.allocate(bytes: max(need, 4096), alignment: 64, label: "instruction staging")
            }
            guard let staging = s.staging else { throw .unavailable("no staging buffer") }
            staging.hostAddress.storeBytes(of: Self.staleDoneGuardWord.low, toByteOffset: 0, as: UInt64.self)
            staging.hostAddress.storeBytes(of: Self.staleDoneGuardWord.high, toByteOffset: 8, as: UInt64.self)
            (staging.hostAddress + insnBytes).copyMemory(from: source, byteCount: count * insnBytes)
            launchAddress = staging.deviceAddress
            launchCount = count + 1
        }
        if launchAddress > 0xFFFF_FFFF && options.pointerBits == 32 {
            throw .runFailed("instruction address 0x\(String(launchAddress, radix: 16)) does not fit the 32-bit address register")
        }

        // Cache maintenance over exactly what this run touches: its stream, what it reads, and
        // what it writes (cleaned first, so no dirty line can be evicted over the device's data).
        // Coherent memory needs none, and then the stream is not decoded at all.
        let footprint = pool.needsMaintenance
            ? DRAMFootprint(stream: UnsafeRawBufferPointer(start: source, count: count * insnBytes), config: config) : nil
        if let footprint {
            try pool.syncForDevice([launchAddress..<(launchAddress + UInt64(launchCount * insnBytes))] + footprint.reads + footprint.writes)
        }
        if let irq = session.interrupt { do { try irq.arm() } catch { throw .board(error) } }
        for (reg, value) in session.setup { reg.write(Self.value(value, count: launchCount, address: launchAddress)) }
        vta_io_wmb()
        for (reg, value) in session.start { reg.write(Self.value(value, count: launchCount, address: launchAddress)) }
        let started = BoardClock.now()
        let budget = BoardClock.nanoseconds(timeout)
        let deadline = started &+ budget

        let finished = wait(session, until: deadline)
        let elapsed = BoardClock.now() - started
        s.stats.runs += 1
        guard finished else {
            s.stats.timeouts += 1
            let dump = session.registers.dump(control.dump)
            var detail = "registers: \(dump)"
            if recover { detail += "; " + recoverLocked(&s, reason: "run timed out after \(Duration.nanoseconds(elapsed))") }
            throw .timeout(waited: .nanoseconds(elapsed), detail: detail)
        }
        vta_io_rmb()
        if let footprint { try pool.syncForCPU(footprint.writes) }
        var report = RunReport()
        report.fetched = count
        report.elapsedNanoseconds = UInt64(max(0, elapsed))
        if let c = session.cycles { report.cycles = UInt64(c.read()) }
        s.stats.busyNanoseconds += UInt64(max(0, elapsed))
        return report
    }

    /// Waits for every completion condition, by interrupt or by polling with backoff.
    private func wait(_ session: Session, until deadline: Int64) -> Bool {
        @inline(__always) func done() -> Bool {
            for (reg, mask, expected) in session.completion where reg.read() & mask != expected { return false }
            return true
        }
        if let irq = session.interrupt {
            while true {
                if done() { return true }
                // Wake at least every 2 ms to check the registers as well: a bitstream without the
                // interrupt wired (the stock ones) must not make every run wait out its deadline.
                switch irq.wait(until: min(deadline, BoardClock.now() + 2_000_000)) {
                case .fired:
                    interruptWakeups.add(1, ordering: .relaxed)
                    continue  // confirm with the registers: the interrupt is only a hint
                case .timedOut:
                    if BoardClock.now() >= deadline { return done() }
                case .gone:
                    // The line is gone (EIO/POLLERR): fall back to polling for this run.
                    return pollUntil(deadline, done)
                }
            }
        }
        return pollUntil(deadline, done)
    }

    /// Spins briefly (short runs finish in microseconds), then yields, then sleeps with a
    /// growing interval capped at 100 µs, until `done` or the deadline.
    private func pollUntil(_ deadline: Int64, _ done: () -> Bool) -> Bool {
        var spins = 0
        var sleepNs = 2_000
        while true {
            if done() { return true }
            if BoardClock.now() >= deadline { return done() }
            spins += 1
            if spins < 64 { continue }
            if spins < 128 { sched_yield(); continue }
            var ts = timespec(tv_sec: 0, tv_nsec: sleepNs)
            nanosleep(&ts, nil)
            sleepNs = min(sleepNs * 2, 100_000)
        }
    }

    static func value(_ v: RegisterValue, count: Int, address: UInt64) -> UInt32 {
        switch v {
        case .constant(let c): c
        case .instructionCount: UInt32(truncatingIfNeeded: count)
        case .instructionAddressLow: UInt32(truncatingIfNeeded: address)
        case .instructionAddressHigh: UInt32(truncatingIfNeeded: address >> 32)
        }
    }


    // MARK: - Status

    /// A register dump (`vtactl board regs`).
    public func registerDump() -> [(name: String, address: UInt64, value: UInt32?)] {
        state.withLock { s in
            control.dump.map { r in (r.name, r.address, (try? s.session?.registers.bind(r))?.read()) }
        }
    }

    /// What the device has done so far.
    public var statistics: BoardStatistics {
        var st = state.withLock { $0.stats }
        st.interruptWakeups = interruptWakeups.load(ordering: .relaxed)
        return st
    }
    /// Incremented by every successful open or recovery.
    public var generation: Int { state.withLock { $0.generation } }
    /// Why the device refuses runs, or nil.
    public var unusableReason: String? { state.withLock { $0.unusable } }

    /// Runs the self-test now (`vtactl board selftest`); marks the device unusable on failure.
    public func selfTest() throws(DeviceError) -> SelfTestResult {
        let r: Result<SelfTestResult, DeviceError> = state.withLock { s in
            do throws(DeviceError) { try selfTestLocked(&s); return .success(s.stats.lastSelfTest ?? SelfTestResult(passed: true, detail: "")) } catch {
                return .failure(error)
            }
        }
        return try r.get()
    }

    /// Resets and re-opens the board after a failure (see `recoverLocked`).
    @discardableResult
    public func recover(reason: String) -> String {
        state.withLock { s in recoverLocked(&s, reason: reason) }
    }

    // MARK: - Recovery

    /// The one recovery path, called from every failure site (timeout, self-test failure, bus
    /// error): stop issuing, reset the programmable logic where the board allows, remap the
    /// registers, self-test, resume. Returns what happened, for the failed job's error.
    func recoverLocked(_ s: inout State, reason: String) -> String {
        s.stats.recoveries += 1
        s.unusable = "recovering from: \(reason)"
        var steps: [String] = []
        // Unmap before touching the PL (an access to a resetting PL can stall the bus).
        s.session = nil
        // First the PL reset; if there is none, it cannot be done, or the board still fails its
        // self-test after it, reload the bitstream (where the process may).
        var reset = false
        if let sequence = PLResetSequence.forTarget(target) {
            do {
                try Self.pulseReset(sequence, path: options.effectiveResetPath)
                steps.append("PL reset (\(sequence.description)) done")
                reset = true
            } catch {
                steps.append("PL reset not possible (it writes \(options.effectiveResetPath), which needs root): \(error.description)")
            }
        } else {
            steps.append("\(target.name) has no PL reset")
        }
        if reset, reopenLocked(&s, steps: &steps) { return "recovery: " + steps.joined(separator: "; ") }
        if let bitstream = options.bitstreamPath {
            do {
                _ = try BoardProgrammer(roots: options.roots).program(
                    BoardProgramRequest(bitstream: bitstream, overlay: Self.overlay(besides: bitstream), board: target.name))
                steps.append("bitstream \(bitstream) reloaded through the FPGA manager")
                _ = reopenLocked(&s, steps: &steps)
            } catch {
                steps.append("reloading \(bitstream) failed: \(error.description)")
                // Without a reset or a reload, the board may still have come back by itself.
                if !reset, reopenLocked(&s, steps: &steps) { return "recovery: " + steps.joined(separator: "; ") }
                s.unusable = "recovery after \"\(reason)\" failed: " + steps.joined(separator: "; ")
            }
        } else {
            if !reset { _ = reopenLocked(&s, steps: &steps) }
            if s.unusable != nil {
                steps.append("no bitstream to reload (open with one, or run vtactl board program as root)")
                s.unusable = "recovery after \"\(reason)\" failed: " + steps.joined(separator: "; ")
            }
        }
        if let why = s.unusable, !why.hasPrefix("recovery") { s.unusable = "recovery after \"\(reason)\" failed: \(why)" }
        return "recovery: " + steps.joined(separator: "; ")
    }

    /// Finds the accelerator again (device numbers may change after a reload), remaps its
    /// registers and self-tests it. Returns whether the board is usable.
    private func reopenLocked(_ s: inout State, steps: inout [String]) -> Bool {
        if case .uio = options.registers {
            let report = BoardDiscovery.discover(target: target, roots: options.roots)
            if let found = report.acceptedUIO?.devnode {
                s.uioDevnode = found
            } else {
                steps.append("rediscovery found no accepted VTA UIO device")
            }
        }
        do {
            s.session = try openSession(uioDevnode: s.uioDevnode)
            s.unusable = nil
            if options.selfTest { try selfTestLocked(&s) }
            s.generation += 1
            steps.append("registers remapped, self-test \(options.selfTest ? "passed" : "skipped"), board usable again")
            return true
        } catch {
            s.session = nil
            s.unusable = error.description
            steps.append("board unusable: \(error.description)")
            return false
        }
    }

    /// `design.dtbo` beside `design.bit` / `design.bit.bin` / `design.bin` / `design.rbf`, if any.
    static func overlay(besides bitstream: String) -> String? {
        var stem = bitstream
        for ext in [".bit.bin", ".bit", ".bin", ".rbf"] where stem.hasSuffix(ext) {
            stem.removeLast(ext.count)
            break
        }
        let candidate = stem + ".dtbo"
        return access(candidate, R_OK) == 0 ? candidate : nil
    }

    /// Writes a PL-reset sequence through the devmem path (root on a real board).
    static func pulseReset(_ sequence: PLResetSequence, path: String) throws(BoardError) {
        var windows: [UInt64: RegisterWindow] = [:]
        for page in sequence.pages {
            windows[page] = try RegisterWindow.map(path: path, fileOffset: page, length: 4096, physicalBase: page, sync: true)
        }
        for step in sequence.steps {
            switch step {
            case let .write(a, v): windows[a & ~0xFFF]?.write32(offset: Int(a & 0xFFF), v)
            case let .setBits(a, m):
                if let w = windows[a & ~0xFFF] { w.write32(offset: Int(a & 0xFFF), w.read32(offset: Int(a & 0xFFF)) | m) }
            case let .clearBits(a, m):
                if let w = windows[a & ~0xFFF] { w.write32(offset: Int(a & 0xFFF), w.read32(offset: Int(a & 0xFFF)) & ~m) }
            case .pauseMicroseconds(let us):
                vta_io_mb()
                var ts = timespec(tv_sec: us / 1_000_000, tv_nsec: (us % 1_000_000) * 1000)
                nanosleep(&ts, nil)
            }
        }
        vta_io_mb()
        // Give the logic time to come out of reset before the registers are touched again.
        var settle = timespec(tv_sec: 0, tv_nsec: 1_000_000)
        nanosleep(&settle, nil)
    }
}

/// Counts for `vtactl board info` and metrics.
public struct BoardStatistics: Sendable {
    public var runs = 0
    public var timeouts = 0
    public var recoveries = 0
    public var busyNanoseconds: UInt64 = 0
    /// Waits ended by the interrupt line.
    public var interruptWakeups = 0
    public var lastSelfTest: SelfTestResult?
}
