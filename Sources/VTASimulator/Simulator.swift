import CVTASimKernels
import VTA

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The functional VTA simulator: architectural state, the load/compute/store modules with their
/// four token queues, and bit-exact instruction semantics under a behaviour profile.
///
/// One instance models one accelerator: SRAM contents persist between runs, as on the board. It is
/// not thread-safe; `SimulatorDevice` serialises access to it.
public final class Simulator {
    public let config: HardwareConfig
    public let profile: SimulatorProfile
    public let memory: SimulatedMemory

    // SRAMs. INP and WGT are kept as sign-extended int16 in the layouts the GEMM kernel wants
    // (see vta_sim_kernels.h); nothing reads them back as bytes.
    let inp16: UnsafeMutablePointer<Int16>
    let wgt16: UnsafeMutablePointer<Int16>
    let acc: UnsafeMutablePointer<Int32>
    let out: UnsafeMutablePointer<Int8>
    let uopRaw: UnsafeMutablePointer<UInt32>
    let uopDst: UnsafeMutablePointer<UInt32>
    let uopSrc: UnsafeMutablePointer<UInt32>
    let uopWgt: UnsafeMutablePointer<UInt32>

    /// Values per element of each SRAM.
    let inpValues: Int
    let wgtValues: Int
    let accLanes: Int

    /// Behaviour switches derived from the profile once, read by the hot paths.
    let wraps: Bool
    let hasOutBuffer: Bool
    /// The SRAM pointers and shape as the C kernels take them (fixed for the simulator's life).
    let kernel: vta_sim_state
    /// Plain-data decoder (copying `config.isa` would retain its arrays on every instruction).
    let decoder: InstructionDecoder
    /// Queue storage kept between runs, so a run does not page-fault fresh memory for a long
    /// stream. Taken out (swapped) for the duration of a run.
    private var scratchQueues = ModuleQueues(capacity: 0)

    /// Creates a simulator with zeroed SRAMs.
    /// - Throws: `SimulationError.unsupportedConfiguration` for value widths other than int8
    ///   inputs/weights and int32 accumulators (the widths every VTA bitstream uses).
    public init(config: HardwareConfig, profile: SimulatorProfile, memory: SimulatedMemory = SimulatedMemory()) throws(SimulationError) {
        guard config.inpWidth == 8, config.wgtWidth == 8, config.accWidth == 32 else {
            throw .unsupportedConfiguration(
                "the simulator implements int8 inputs and weights with int32 accumulators "
                    + "(LOG_INP_WIDTH=3, LOG_WGT_WIDTH=3, LOG_ACC_WIDTH=5); this configuration has "
                    + "\(config.inpWidth)/\(config.wgtWidth)/\(config.accWidth) bits")
        }
        self.config = config
        self.profile = profile
        self.memory = memory
        inpValues = config.batch * config.blockIn
        wgtValues = config.blockOut * config.blockIn
        accLanes = config.batch * config.blockOut
        inp16 = .allocate(capacity: config.inpBuffDepth * inpValues)
        wgt16 = .allocate(capacity: config.wgtBuffDepth * wgtValues)
        acc = .allocate(capacity: config.accBuffDepth * accLanes)
        out = .allocate(capacity: config.accBuffDepth * accLanes)
        uopRaw = .allocate(capacity: config.uopBuffDepth)
        uopDst = .allocate(capacity: config.uopBuffDepth)
        uopSrc = .allocate(capacity: config.uopBuffDepth)
        uopWgt = .allocate(capacity: config.uopBuffDepth)
        wraps = profile == .hardware
        hasOutBuffer = profile == .hardware
        decoder = config.isa.decoder
        kernel = vta_sim_state(
            acc: acc, out: profile == .hardware ? out : nil, inp16: inp16, wgt16: wgt16,
            uop_dst: uopDst, uop_src: uopSrc, uop_wgt: uopWgt,
            acc_depth: UInt32(config.accBuffDepth), inp_depth: UInt32(config.inpBuffDepth),
            wgt_depth: UInt32(config.wgtBuffDepth), uop_depth: UInt32(config.uopBuffDepth),
            batch: UInt32(config.batch), block_in: UInt32(config.blockIn), block_out: UInt32(config.blockOut),
            deadline_ns: 0)
        scrub()
    }

    deinit {
        for p in [inp16, wgt16] as [UnsafeMutablePointer<Int16>] { p.deallocate() }
        acc.deallocate()
        out.deallocate()
        for p in [uopRaw, uopDst, uopSrc, uopWgt] { p.deallocate() }
    }

    /// Zeroes every SRAM and token queue (used between tenants so no data leaks across jobs).
    public func scrub() {
        inp16.update(repeating: 0, count: config.inpBuffDepth * inpValues)
        wgt16.update(repeating: 0, count: config.wgtBuffDepth * wgtValues)
        acc.update(repeating: 0, count: config.accBuffDepth * accLanes)
        out.update(repeating: 0, count: config.accBuffDepth * accLanes)
        for p in [uopRaw, uopDst, uopSrc, uopWgt] { p.update(repeating: 0, count: config.uopBuffDepth) }
    }

    /// Reads an accumulator lane (for tests and diagnostics).
    public func accumulator(row: Int, lane: Int) -> Int32? {
        guard row >= 0, row < config.accBuffDepth, lane >= 0, lane < accLanes else { return nil }
        return acc[row * accLanes + lane]
    }

    // MARK: - Running

    /// Runs `count` instructions fetched from simulated DRAM at byte address `address`, as
    /// `VTADeviceRun` does, and returns the counters and timing of this run.
    /// - Parameter deadline: stop with `SimulationError.timeout` once this CLOCK_MONOTONIC time
    ///   (`vta_monotonic_ns`) has passed; nil runs to completion (every run still ends: the
    ///   simulator cannot hang).
    public func run(instructionsAt address: UInt64, count: Int, bases: DMABaseAddresses = .zero,
                    deadlineNanoseconds: Int64? = nil) throws(SimulationError) -> RunReport {
        let start = ContinuousClock.now
        let view = memory.snapshot()
        guard count > 0, count <= 1 << 27,
              let stream = view.pointer(physical: address, length: count * HardwareConfig.insnElemBytes)
        else { throw .instructionFetch(address: address, count: count) }

        // Fetch: route every instruction by its raw opcode and memory-type bits. Instructions are
        // decoded only when they execute, straight from DRAM: a decoded copy of a long stream
        // would not fit in cache.
        let program = RawProgram(base: UnsafeRawPointer(stream), count: count)
        var queues = ModuleQueues(capacity: 0)
        swap(&queues, &scratchQueues)
        queues.reset(capacity: count)
        defer { swap(&queues, &scratchQueues) }
        for i in 0..<count {
            let w = program[i]
            if profile == .fsim, let reason = fsimRejection(w) { throw .rejected(instruction: i, reason: reason) }
            queues.route(w, index: i)
        }

        var ctx = ExecutionContext(view: view, bases: bases)
        ctx.deadline = deadlineNanoseconds ?? 0
        ctx.report.fetched = count
        try schedule(program, &queues, &ctx)

        ctx.report.moduleInstructions = [.load: queues.executed[0], .compute: queues.executed[1], .store: queues.executed[2]]
        ctx.report.dropped = count - queues.executed.reduce(0, +)
        if ctx.report.dropped > 0 {
            ctx.report.warnings.append(
                "\(ctx.report.dropped) instructions after an earlier FINISH were not executed (the hardware stops at a FINISH that ends a dispatch round)")
        }
        for (q, n) in ctx.tokens.all where n != 0 {
            ctx.report.leftoverTokens[q] = n
            ctx.report.warnings.append("\(n) token(s) left in the \(q.rawValue) queue")
        }
        ctx.report.elapsedNanoseconds = UInt64(max(0, (ContinuousClock.now - start).nanoseconds))
        return ctx.report
    }

    /// The reference simulator aborts on these; reject them before anything executes. Reads raw
    /// bits (spec §2.3–2.6) so that validating a long stream costs almost nothing.
    private func fsimRejection(_ w: InstructionWord) -> String? {
        let deps = DependencyFlags(rawValue: UInt8(truncatingIfNeeded: w.low >> 3))
        let memoryType = UInt8(truncatingIfNeeded: (w.low >> 7) & 7)
        // fsim returns from any LOAD or STORE with x_size == 0 before looking at its type or
        // padding (the TVM runtime's store no-op is a STORE of type 0), so only flags matter then.
        let isNoop = (w.high >> 16) & 0xFFFF == 0
        switch w.opcodeBits {
        case 0:
            guard isNoop || (memoryType <= 5 && memoryType != MemoryType.out.rawValue) else {
                return "LOAD of memory type \(memoryType) is not defined (types: 0 UOP, 1 WGT, 2 INP, 3 ACC, 5 ACC_8BIT)"
            }
            if (memoryType == MemoryType.inp.rawValue || memoryType == MemoryType.wgt.rawValue)
                && !deps.isDisjoint(with: [.popPrev, .pushPrev]) {
                return "a load-module LOAD carries pop_prev/push_prev flags, which the load module does not have"
            }
        case 1:
            if !isNoop && memoryType != MemoryType.out.rawValue {
                return "STORE of memory type \(memoryType); the reference simulator only stores OUT (4)"
            }
            if !isNoop && w.high >> 48 != 0 { return "STORE with padding; stores cannot pad" }
            if !deps.isDisjoint(with: [.popNext, .pushNext]) {
                return "a STORE carries pop_next/push_next flags, which the store module does not have"
            }
        case 4:
            let op = decoder.aluOpcodeBits(w)
            if op > AluOpcode.mul.rawValue {
                return "undefined ALU opcode \(op) (defined: 0 MIN, 1 MAX, 2 ADD, 3 SHR, 4 MUL)"
            }
        case 2, 3:
            break
        default:
            return "undefined opcode \(w.opcodeBits) (the reference simulator aborts)"
        }
        return nil
    }

    // MARK: - Scheduling (spec §4)

    private func schedule(_ program: RawProgram, _ q: inout ModuleQueues, _ ctx: inout ExecutionContext) throws(SimulationError) {
        var lastExecuted: Int? = nil
        var lastFinish: Int? = nil
        switch profile {
        case .fsim:
            // fsim runs every module until it blocks, waking modules that received tokens, until
            // nothing can run; the run is complete only if the last instruction was a FINISH.
            var progress = true
            while progress {
                progress = false
                for m in Self.fsimOrder {
                    while let i = try step(m, program, &q, &ctx) {
                        progress = true
                        lastExecuted = i
                        if program[i].opcodeBits == Opcode.finish.rawValue { lastFinish = i }
                    }
                }
            }
            guard q.allEmpty else { throw .deadlock(blocked: blocked(program, q, ctx.tokens), executed: q.executed.reduce(0, +)) }
            guard let last = lastExecuted, program[last].opcodeBits == Opcode.finish.rawValue else {
                if let f = lastFinish, let last = lastExecuted { throw .finishNotLast(finish: f, lastExecuted: last) }
                throw .noFinish(executed: q.executed.reduce(0, +), lastExecuted: lastExecuted)
            }
        case .hardware:
            // The HLS top level: rounds of load, compute, store, each until blocked; it stops after
            // a round whose last compute instruction was a FINISH.
            var done = false
            while true {
                var progress = false
                while let i = try step(.load, program, &q, &ctx) { progress = true; lastExecuted = i }
                while let i = try step(.compute, program, &q, &ctx) {
                    progress = true
                    lastExecuted = i
                    done = program[i].opcodeBits == Opcode.finish.rawValue
                }
                while let i = try step(.store, program, &q, &ctx) { progress = true; lastExecuted = i }
                if done { return }
                if !progress {
                    if q.allEmpty { throw .noFinish(executed: q.executed.reduce(0, +), lastExecuted: lastExecuted) }
                    throw .deadlock(blocked: blocked(program, q, ctx.tokens), executed: q.executed.reduce(0, +))
                }
            }
        }
    }

    private static let fsimOrder: [PipelineModule] = [.compute, .load, .store]

    /// Executes the head of a module's queue if its tokens are available; returns its index.
    @inline(__always)
    private func step(_ m: PipelineModule, _ program: RawProgram, _ q: inout ModuleQueues, _ ctx: inout ExecutionContext) throws(SimulationError) -> Int? {
        guard let i = q.head(m) else { return nil }
        if ctx.deadline != 0 {
            ctx.steps &+= 1
            if ctx.steps & 255 == 0 && vta_monotonic_ns() > ctx.deadline {
                throw .timeout(instruction: nil, executed: q.executed.reduce(0, +))
            }
        }
        let word = program[i]
        let deps = DependencyFlags(rawValue: UInt8(truncatingIfNeeded: word.low >> 3))
        if ctx.tokens.blocker(m, deps) != nil { return nil }
        ctx.tokens.pop(m, deps)
        try execute(word, index: i, &ctx)
        ctx.tokens.push(m, deps)
        q.advance(m)
        return i
    }

    private func blocked(_ program: RawProgram, _ q: ModuleQueues, _ tokens: TokenCounts) -> [SimulationError.BlockedModule] {
        PipelineModule.allCases.compactMap { m in
            guard let i = q.head(m),
                  let queue = tokens.blocker(m, DependencyFlags(rawValue: UInt8(truncatingIfNeeded: program[i].low >> 3)))
            else { return nil }
            return SimulationError.BlockedModule(module: m, instruction: i, queue: queue)
        }
    }
}

/// Token counts of the four queues, with each module's view of the flags (spec §4.2).
struct TokenCounts {
    var l2g = 0, g2l = 0, g2s = 0, s2g = 0

    var all: [(TokenQueue, Int)] { [(.l2g, l2g), (.g2l, g2l), (.g2s, g2s), (.s2g, s2g)] }

    /// The first queue this instruction would wait on, or nil if it can run. Flags a module does
    /// not have are ignored (the hardware does; fsim programs with them are rejected earlier).
    @inline(__always)
    func blocker(_ m: PipelineModule, _ d: DependencyFlags) -> TokenQueue? {
        switch m {
        case .load: return d.contains(.popNext) && g2l == 0 ? .g2l : nil
        case .compute:
            if d.contains(.popPrev) && l2g == 0 { return .l2g }
            if d.contains(.popNext) && s2g == 0 { return .s2g }
            return nil
        case .store: return d.contains(.popPrev) && g2s == 0 ? .g2s : nil
        }
    }

    @inline(__always)
    mutating func pop(_ m: PipelineModule, _ d: DependencyFlags) {
        switch m {
        case .load: if d.contains(.popNext) { g2l -= 1 }
        case .compute:
            if d.contains(.popPrev) { l2g -= 1 }
            if d.contains(.popNext) { s2g -= 1 }
        case .store: if d.contains(.popPrev) { g2s -= 1 }
        }
    }

    @inline(__always)
    mutating func push(_ m: PipelineModule, _ d: DependencyFlags) {
        switch m {
        case .load: if d.contains(.pushNext) { l2g += 1 }
        case .compute:
            if d.contains(.pushPrev) { g2l += 1 }
            if d.contains(.pushNext) { g2s += 1 }
        case .store: if d.contains(.pushPrev) { s2g += 1 }
        }
    }
}

/// The three command queues: instruction indices in program order, with a head each. Flat
/// arrays and plain integers, because the scheduler touches them for every instruction.
struct ModuleQueues {
    var load: [Int32] = [], compute: [Int32] = [], store: [Int32] = []
    var loadHead = 0, computeHead = 0, storeHead = 0

    init(capacity: Int) {
        load.reserveCapacity(capacity)
        compute.reserveCapacity(capacity)
        store.reserveCapacity(capacity)
    }

    /// Empties the queues, keeping their storage.
    mutating func reset(capacity: Int) {
        load.removeAll(keepingCapacity: true)
        compute.removeAll(keepingCapacity: true)
        store.removeAll(keepingCapacity: true)
        load.reserveCapacity(capacity)
        compute.reserveCapacity(capacity)
        store.reserveCapacity(capacity)
        loadHead = 0
        computeHead = 0
        storeHead = 0
    }

    /// Fetch's routing (spec §4.1): STORE -> store; LOAD INP/WGT -> load; everything else -> compute.
    @inline(__always)
    mutating func route(_ w: InstructionWord, index: Int) {
        let memoryType = UInt8(truncatingIfNeeded: (w.low >> 7) & 7)
        switch w.opcodeBits {
        case 1: store.append(Int32(index))
        case 0 where memoryType == MemoryType.inp.rawValue || memoryType == MemoryType.wgt.rawValue:
            load.append(Int32(index))
        default: compute.append(Int32(index))
        }
    }

    @inline(__always) func head(_ m: PipelineModule) -> Int? {
        switch m {
        case .load: loadHead < load.count ? Int(load[loadHead]) : nil
        case .compute: computeHead < compute.count ? Int(compute[computeHead]) : nil
        case .store: storeHead < store.count ? Int(store[storeHead]) : nil
        }
    }

    @inline(__always) mutating func advance(_ m: PipelineModule) {
        switch m {
        case .load: loadHead += 1
        case .compute: computeHead += 1
        case .store: storeHead += 1
        }
    }

    /// Instructions executed by each module so far (load, compute, store).
    var executed: [Int] { [loadHead, computeHead, storeHead] }

    var allEmpty: Bool { loadHead == load.count && computeHead == compute.count && storeHead == store.count }
}

/// The instruction stream in simulated DRAM, read word by word.
struct RawProgram {
    let base: UnsafeRawPointer
    let count: Int

    @inline(__always) subscript(i: Int) -> InstructionWord {
        let p = base + i * 16
        return InstructionWord(low: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)),
                               high: UInt64(littleEndian: (p + 8).loadUnaligned(as: UInt64.self)))
    }
}

/// What one run carries through execution.
struct ExecutionContext {
    let view: MemoryView
    let bases: DMABaseAddresses
    var report = RunReport()
    /// Token queues start empty every run (see docs/simulator.md: no tokens leak between jobs).
    var tokens = TokenCounts()
    /// CLOCK_MONOTONIC deadline in ns (0: none), and instructions stepped (for cheap checks).
    var deadline: Int64 = 0
    var steps = 0

    init(view: MemoryView, bases: DMABaseAddresses) {
        self.view = view
        self.bases = bases
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let c = components
        return c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000
    }
}
