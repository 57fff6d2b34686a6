import CVTAKernel
import Glibc
import Synchronization
import VTA
import VTAHardware
import VTASimulator

/// The board side of an emulated VTA: a file standing in for the board's physical memory, with
/// the accelerator's register windows at their physical addresses and a DMA carve-out. A thread
/// watches the control registers as the HLS modules (or the Chisel VCR) do, runs the simulator's
/// `hardware` profile on the instruction stream in that memory, and reports completion through
/// the same registers (and a FIFO standing in for the UIO interrupt).
///
/// Its register knowledge is written from the spec independently of the driver's
/// `ControlProtocol`, so a driver bug is not mirrored here.
public final class BoardEmulator: @unchecked Sendable {
    /// Injected misbehaviour (after `faultAfter` good runs).
    public enum Fault: String, Sendable, CaseIterable {
        /// The run never finishes; a PL reset brings the board back.
        case hang
        /// Every run finishes, but only after `lateBy`.
        case late
        /// The accelerator stops responding mid-run: fetch never completes, registers freeze, and
        /// not even a PL reset helps (the board needs reprogramming: restart the emulator).
        case dead
    }

    public struct Options: Sendable {
        public var config: HardwareConfig
        public var target: TargetProfile
        /// The file standing in for /dev/mem (created sparse, or reused).
        public var devmemPath: String
        public var irqFifo: String?
        public var fault: Fault?
        public var faultAfter: Int
        public var lateBy: Duration
        /// DMA carve-out (CPU physical); default: the target's.
        public var dmaBase: UInt64?
        public var dmaBytes: Int?
        /// Take the DMA memory from this file, from offset 0, instead of from the devmem file at
        /// `dmaBase` (a stand-in for a u-dma-buf device node, whose physical address is `dmaBase`).
        public var dmaFile: String?
        /// An FPGA manager directory (`.../fpga_manager/fpga0`, a fake one in tests): when its
        /// `state` turns to `operating` after anything else, the bitstream was (re)loaded and the
        /// board starts afresh, as the PL does after configuration.
        public var fpgaManagerDir: String?
        /// Put the register windows in this file instead, laid out as a UIO device maps them:
        /// window K (fetch, load, compute, store; or the one VCR window) at offset K x page size.
        public var uioRegisterFile: String?
        public init(config: HardwareConfig, target: TargetProfile, devmemPath: String, irqFifo: String? = nil, fault: Fault? = nil,
                    faultAfter: Int = 0, lateBy: Duration = .milliseconds(1500), dmaBase: UInt64? = nil, dmaBytes: Int? = nil,
                    uioRegisterFile: String? = nil, dmaFile: String? = nil, fpgaManagerDir: String? = nil) {
            self.fpgaManagerDir = fpgaManagerDir
            self.uioRegisterFile = uioRegisterFile
            self.dmaFile = dmaFile
            self.config = config
            self.target = target
            self.devmemPath = devmemPath
            self.irqFifo = irqFifo
            self.fault = fault
            self.faultAfter = faultAfter
            self.lateBy = lateBy
            self.dmaBase = dmaBase
            self.dmaBytes = dmaBytes
        }
    }

    public let options: Options
    private let registers: [RegisterWindow]
    private let dma: RegisterWindow
    private let resetPage: RegisterWindow?
    private let simulator: Simulator
    private let irqFD: Int32
    private let stopRequested = Atomic<Bool>(false)
    private let completedRuns = Atomic<Int>(0)
    private let resets = Atomic<Int>(0)
    private var thread: pthread_t?
    /// Whether the one-time hang fault has happened (watcher thread only).
    private var hangSpent = false
    private var log: @Sendable (String) -> Void

    /// The size of the stand-in file: the 32-bit physical address space (sparse).
    public static let fileBytes: Int64 = 1 << 32

    public init(options: Options, log: @escaping @Sendable (String) -> Void = { _ in }) throws(BoardError) {
        guard options.target.isBoard else { throw .invalidOptions("\(options.target.name) is not a board target") }
        self.options = options
        self.log = log
        let path = options.devmemPath
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { let e = errno; throw .open(path: path, operation: "create", errno: e, hint: "") }
        var st = stat()
        fstat(fd, &st)
        if Int64(st.st_size) < Self.fileBytes, ftruncate(fd, off_t(Self.fileBytes)) != 0 {
            let e = errno
            close(fd)
            throw .open(path: path, operation: "extend (sparse, 4 GiB)", errno: e, hint: "use a file system with sparse files (tmpfs, ext4)")
        }
        close(fd)
        let t = options.target
        var windows: [RegisterWindow] = []
        let bases = Set([t.fetchBase, t.loadBase, t.computeBase, t.storeBase]).sorted()
        for (k, base) in bases.enumerated() {
            if let uio = options.uioRegisterFile {
                let ufd = open(uio, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
                guard ufd >= 0 else { let e = errno; throw .open(path: uio, operation: "create", errno: e, hint: "") }
                let need = off_t(bases.count * RegisterWindow.pageSize)
                var ust = stat()
                fstat(ufd, &ust)
                if ust.st_size < need { _ = ftruncate(ufd, need) }
                close(ufd)
                windows.append(try RegisterWindow.map(path: uio, fileOffset: UInt64(k * RegisterWindow.pageSize), length: Int(t.registerMapRange),
                                                      physicalBase: base, sync: false))
            } else {
                windows.append(try RegisterWindow.map(path: path, fileOffset: base, length: Int(t.registerMapRange), physicalBase: base, sync: false))
            }
        }
        registers = windows
        let dmaBase = options.dmaBase ?? t.carveOutBase
        let dmaBytes = options.dmaBytes ?? Int(t.carveOutSize)
        if let file = options.dmaFile {
            let dfd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard dfd >= 0 else { let e = errno; throw .open(path: file, operation: "create", errno: e, hint: "") }
            var dst = stat()
            fstat(dfd, &dst)
            if Int(dst.st_size) < dmaBytes { _ = ftruncate(dfd, off_t(dmaBytes)) }
            close(dfd)
            dma = try RegisterWindow.map(path: file, fileOffset: 0, length: dmaBytes, physicalBase: dmaBase, sync: false)
        } else {
            dma = try RegisterWindow.map(path: path, fileOffset: dmaBase, length: dmaBytes, physicalBase: dmaBase, sync: false)
        }
        resetPage = try Self.resetRegisterPage(t).map { page throws(BoardError) in
            try RegisterWindow.map(path: path, fileOffset: page, length: 4096, physicalBase: page, sync: false)
        }
        do {
            simulator = try Simulator(config: options.config, profile: .hardware)
            try simulator.memory.map(dma.cpuAddress, physical: dmaBase &+ t.physicalAddressOffset, bytes: dmaBytes)
        } catch {
            throw .invalidOptions("emulator: \(error)")
        }
        if let fifo = options.irqFifo {
            if access(fifo, F_OK) != 0, mkfifo(fifo, 0o600) != 0 {
                let e = errno
                throw .open(path: fifo, operation: "mkfifo", errno: e, hint: "")
            }
            // Read-write so writes never fail for want of a reader; stale counts are drained by
            // the driver before each launch.
            irqFD = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)
            if irqFD < 0 { let e = errno; throw .open(path: fifo, operation: "open", errno: e, hint: "") }
        } else {
            irqFD = -1
        }
        powerOn()
    }

    deinit {
        stop()
        if irqFD >= 0 { close(irqFD) }
    }

    /// Runs completed so far.
    public var runs: Int { completedRuns.load(ordering: .relaxed) }
    /// PL resets seen so far.
    public var resetCount: Int { resets.load(ordering: .relaxed) }

    // MARK: - Registers (spec §5, written independently of the driver)

    private func window(_ address: UInt64) -> (RegisterWindow, Int)? {
        for w in registers where w.contains(address) { return (w, Int(address - w.physicalBase)) }
        if let r = resetPage, r.contains(address) { return (r, Int(address - r.physicalBase)) }
        return nil
    }
    private func read(_ address: UInt64) -> UInt32 {
        guard let (w, o) = window(address) else { return 0 }
        return w.read32(offset: o)
    }
    private func write(_ address: UInt64, _ value: UInt32) {
        guard let (w, o) = window(address) else { return }
        w.write32(offset: o, value)
    }

    private var hls: Bool { options.target.flavour == .xilinxHLS }
    private var t: TargetProfile { options.target }

    /// Zynq-7000 SLCR (FPGA_RST_CTRL, lock) or ZynqMP GPIO bank 5 (pl_resetn0).
    static func resetRegisterPage(_ t: TargetProfile) -> UInt64? {
        switch t.family {
        case "zynq-7000": 0xF800_0000
        case "zynq-ultrascale+": 0xFF0A_0000
        default: nil
        }
    }

    /// Whether the PL is held in reset right now.
    private var inReset: Bool {
        switch t.family {
        case "zynq-7000": return read(0xF800_0240) & 0x1 != 0
        case "zynq-ultrascale+": return read(0xFF0A_0054) & 0x8000_0000 == 0
        default: return false
        }
    }

    /// Power-on (and post-reset) register state. During a reset the reset line itself is left
    /// as the driver drives it.
    private func powerOn(keepResetLine: Bool = false) {
        for w in registers { for o in stride(from: 0, to: min(w.length, 0x40), by: 4) { w.write32(offset: o, 0) } }
        if hls {
            for base in [t.fetchBase, t.loadBase, t.computeBase, t.storeBase] { write(base, 0x4) }  // ap_idle
        }
        if keepResetLine { return }
        switch t.family {
        case "zynq-7000": write(0xF800_0240, 0)
        case "zynq-ultrascale+":
            // As the boot loader leaves it: pl_resetn0 an output, driven high.
            write(0xFF0A_0344, read(0xFF0A_0344) | 0x8000_0000)
            write(0xFF0A_0348, read(0xFF0A_0348) | 0x8000_0000)
            write(0xFF0A_0054, read(0xFF0A_0054) | 0x8000_0000)
        default: break
        }
    }

    // MARK: - Watching

    /// Starts watching the registers on a thread of its own.
    public func start() {
        guard thread == nil else { return }
        let box = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { raw in
            let emulator = Unmanaged<BoardEmulator>.fromOpaque(raw!).takeRetainedValue()
            emulator.loop()
            return nil
        }, box.toOpaque())
        if rc == 0 { thread = tid } else { box.release() }
    }

    /// Stops the watcher and waits for it.
    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
        if let t = thread, pthread_equal(t, pthread_self()) == 0 {
            pthread_join(t, nil)
        }
        thread = nil
    }

    private enum Phase { case idle, hung, dead }

    private func loop() {
        var phase = Phase.idle
        /// When the SLCR unlock key was last seen (a reset sequence started), until the reset is.
        var unlockSeenAt: Int64?
        var quietSince = BoardClock.now()
        var managerState = options.fpgaManagerDir.flatMap { SysfsAttribute.read($0 + "/state") }
        while !stopRequested.load(ordering: .relaxed) {
            if let dir = options.fpgaManagerDir {
                let now = SysfsAttribute.read(dir + "/state")
                if now == "operating", managerState != "operating" {
                    // Configuration: every register, SRAM and fault state starts afresh.
                    log("bitstream loaded through the FPGA manager: the board starts afresh")
                    powerOn()
                    hangSpent = true
                    resets.add(1, ordering: .relaxed)
                    phase = .idle
                }
                managerState = now
            }
            // The Zynq-7000 sequence unlocks the SLCR first. The unlock register reads 0 on the
            // hardware, so the emulator consumes the key: it marks a reset in progress even if
            // this thread was not scheduled during the pulse itself (a loaded test machine).
            if t.family == "zynq-7000", read(0xF800_0008) == 0xDF0D {
                write(0xF800_0008, 0)
                unlockSeenAt = BoardClock.now()
            }
            if phase != .dead, inReset {
                // Registers take their reset values while reset is asserted, so whatever the
                // driver writes after releasing it stays.
                log("PL reset: aborting the current run, registers back to power-on state")
                powerOn(keepResetLine: true)
                while inReset && !stopRequested.load(ordering: .relaxed) { pause(50_000) }
                resets.add(1, ordering: .relaxed)
                phase = .idle
                unlockSeenAt = nil
                continue
            }
            if phase != .dead, let at = unlockSeenAt, BoardClock.now() - at > 100_000_000 {
                // The pulse came and went unseen. Apply it now; registers the driver has written
                // since (a launch pending) are what it wrote after the reset, so they stay.
                log("PL reset pulse missed while descheduled: applying it now")
                if read(t.fetchBase) & 0x1 == 0 { powerOn(keepResetLine: true) }
                resets.add(1, ordering: .relaxed)
                phase = .idle
                unlockSeenAt = nil
                continue
            }
            if phase == .idle, let launch = pendingLaunch() {
                phase = execute(launch)
                quietSince = BoardClock.now()
                continue
            }
            // Fast polling right after activity, slower when idle (a reset pulse lasts 20 ms).
            pause(BoardClock.now() - quietSince < 50_000_000 ? 20_000 : 200_000)
        }
    }

    private struct Launch {
        var count: Int
        var address: UInt64
        var bases: DMABaseAddresses
    }

    /// A launch written by the driver, if any; consumes the start bit as the hardware does.
    private func pendingLaunch() -> Launch? {
        if hls {
            let fetch = read(t.fetchBase)
            guard fetch & 0x1 != 0 else { return nil }
            // The other modules must be running (auto-restart) for the program to progress; the
            // driver starts them right after fetch.
            var waited = 0
            while [t.loadBase, t.computeBase, t.storeBase].contains(where: { read($0) & 0x81 == 0 }) {
                if waited > 200 { return nil }  // not started: the program stalls, like hardware
                pause(20_000)
                waited += 1
            }
            write(t.fetchBase, 0x0)  // busy: ap_start consumed, not idle
            let bases = DMABaseAddresses(inp: UInt64(read(t.loadBase + 0x10)), wgt: UInt64(read(t.loadBase + 0x18)),
                                         acc: UInt64(read(t.computeBase + 0x28)), uop: UInt64(read(t.computeBase + 0x20)),
                                         out: UInt64(read(t.storeBase + 0x10)))
            return Launch(count: Int(read(t.fetchBase + 0x10)), address: UInt64(read(t.fetchBase + 0x18)), bases: bases)
        } else {
            let b = t.fetchBase
            let control = read(b)
            guard control & 0x1 != 0 else { return nil }
            write(b, 0x0)  // running: launch seen, finish clear
            let bases = DMABaseAddresses(inp: UInt64(read(b + 0x14)), wgt: UInt64(read(b + 0x18)), acc: UInt64(read(b + 0x1C)),
                                         uop: UInt64(read(b + 0x10)), out: UInt64(read(b + 0x20)))
            return Launch(count: Int(read(b + 0x08)), address: UInt64(read(b + 0x0C)), bases: bases)
        }
    }

    /// Runs one launch; returns the phase the board is in afterwards.
    private func execute(_ launch: Launch) -> Phase {
        let runIndex = completedRuns.load(ordering: .relaxed)
        var fault = runIndex >= options.faultAfter ? options.fault : nil
        // A hang happens once: after the PL reset that clears it the board works again.
        if fault == .hang {
            if hangSpent { fault = nil } else { hangSpent = true }
        }
        if hls {
            // The compute module writes done=0 when its first instruction executes. If that
            // instruction waits for a token, the previous run's done=1 stays visible meanwhile.
            if let first = firstComputeDependencies(launch), first & 0x3 == 0 { write(t.computeBase + 0x18, 0) }
            if fault == .dead {
                log("fault dead: run \(runIndex + 1) stops mid-stream; the board no longer responds")
                return .dead
            }
            write(t.fetchBase, 0x6)  // fetch: whole stream dispatched (ap_done | ap_idle)
        } else if fault == .dead {
            log("fault dead: run \(runIndex + 1) stops mid-stream; the board no longer responds")
            return .dead
        }
        if fault == .hang {
            log("fault hang: run \(runIndex + 1) never finishes (until a PL reset)")
            return .hung
        }
        if fault == .late {
            let until = BoardClock.now() + BoardClock.nanoseconds(options.lateBy)
            while BoardClock.now() < until {
                if stopRequested.load(ordering: .relaxed) || inReset { return .idle }
                pause(200_000)
            }
        }
        let report: RunReport
        do {
            report = try simulator.run(instructionsAt: launch.address, count: launch.count, bases: launch.bases,
                                       deadlineNanoseconds: BoardClock.now() + 60_000_000_000)
        } catch {
            // Real hardware would hang on a bad program: so does the emulated board.
            log("run \(runIndex + 1) cannot complete (the board would hang): \(error)")
            return .hung
        }
        if hls {
            write(t.computeBase + 0x18, 1)
        } else {
            let cycles = UInt64(report.elapsedNanoseconds) * UInt64(t.clockMHz) / 1000
            write(t.fetchBase + 0x04, UInt32(truncatingIfNeeded: cycles))
            write(t.fetchBase + 0x24, UInt32(truncatingIfNeeded: report.counters.gemmCounter &+ report.counters.aluCounter))
            write(t.fetchBase, 0x2)  // finish; launch cleared
        }
        let n = completedRuns.add(1, ordering: .relaxed).newValue
        if irqFD >= 0 {
            var count = UInt32(truncatingIfNeeded: n)
            _ = Glibc.write(irqFD, &count, 4)
        }
        return .idle
    }

    /// Dependency flags of the first compute-queue instruction of the stream.
    private func firstComputeDependencies(_ launch: Launch) -> UInt8? {
        guard launch.count > 0, let p = simulator.memory.pointer(physical: launch.address, length: launch.count * 16) else { return nil }
        for i in 0..<launch.count {
            let low = p.loadUnaligned(fromByteOffset: i * 16, as: UInt64.self)
            let opcode = low & 7
            let deps = UInt8((low >> 3) & 0xF)
            let memoryType = (low >> 7) & 7
            switch opcode {
            case 0 where memoryType == 0 || memoryType == 3 || memoryType == 5: return deps  // LOAD UOP/ACC/ACC_8BIT
            case 2, 3, 4: return deps
            default: continue
            }
        }
        return nil
    }

    private func pause(_ ns: Int) {
        var ts = timespec(tv_sec: 0, tv_nsec: ns)
        nanosleep(&ts, nil)
    }
}
