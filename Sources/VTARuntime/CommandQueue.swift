import VTA

/// The JIT command queue: builds VTA instruction streams and micro-op kernels directly into
/// device memory, tracks dependency tokens between the load, compute and store stages, and runs
/// the stream on `synchronize` (spec §6.3–6.7).
///
/// A queue belongs to whoever created it. It is a class so that it has one identity, and it is
/// not `Sendable`, so the compiler keeps it inside one task or thread. Any number of queues may
/// share a device.
public final class CommandQueue {
    /// Queue sizes and behaviour.
    public struct Options: Sendable {
        /// Instructions that fit the instruction buffer (upstream: 2^25 bytes = 2,097,152).
        public var instructionCapacity: Int = 1 << 21
        /// Micro-ops that fit the micro-op staging buffer (upstream: 2^25 bytes = 8,388,608).
        public var uopStagingCapacity: Int = 1 << 23
        /// How long `synchronize()` waits for FINISH by default.
        public var timeout: Duration = .seconds(30)
        public var debug: DebugFlags = []
        public init() {}
    }

    /// Debug flags, with the reference's values (spec §6.8).
    public struct DebugFlags: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// Print every instruction (disassembled) at synchronisation.
        public static let dumpInstructions = DebugFlags(rawValue: 2)
        /// Print each kernel the first time this queue loads it.
        public static let dumpMicroOps = DebugFlags(rawValue: 4)
        public static let skipReadBarrier = DebugFlags(rawValue: 8)
        public static let skipWriteBarrier = DebugFlags(rawValue: 16)
        /// Rewrite dependencies so that modules never overlap.
        public static let forceSerial = DebugFlags(rawValue: 32)
    }

    /// Totals since the queue was created.
    public struct Statistics: Sendable {
        public var instructions = 0
        public var synchronizations = 0
        public var kernelLoads = 0
        public var uopsLoaded = 0
        public var automaticSynchronizations = 0
    }

    public let device: any Device
    public let config: HardwareConfig
    public let options: Options
    public var debug: DebugFlags
    /// Where debug dumps go (standard output by default).
    public var debugSink: (String) -> Void = { print($0) }
    public private(set) var statistics = Statistics()
    /// The report of the last successful synchronisation.
    public private(set) var lastReport: RunReport?

    let isa: ISALayout
    let instructionBuffer: any DMABuffer
    let uopBuffer: any DMABuffer

    /// Instructions queued since the last synchronisation.
    public private(set) var count = 0
    /// Stage of the last queued instruction (nil: none, or a LOAD with x_size 0, which never
    /// absorbs a later push).
    var lastStage: Stage?
    /// Pending pops per stage (index = Stage.rawValue).
    var pendingPrev = [false, false, false, false]
    var pendingNext = [false, false, false, false]
    var uopCache = UopPlacement()
    var dumpedKernels = Set<ObjectIdentifier>()
    /// Set when a synchronisation failed; the queue refuses work until `reset()`.
    var failure: String?

    /// Creates a queue on a device, allocating its instruction and micro-op staging buffers (the
    /// micro-op buffer first, as upstream does, so a fresh simulator gives upstream's addresses).
    public init(device: any Device, options: Options = Options()) throws(RuntimeError) {
        guard options.instructionCapacity >= 16, options.uopStagingCapacity >= 1 else {
            throw .invalidArgument("queue capacities must be at least 16 instructions and 1 micro-op")
        }
        self.device = device
        self.config = device.config
        self.options = options
        self.debug = options.debug
        self.isa = device.config.isa
        do {
            uopBuffer = try device.allocate(bytes: options.uopStagingCapacity * 4, label: "uop-staging")
            instructionBuffer = try device.allocate(bytes: options.instructionCapacity * 16, label: "instruction-queue")
        } catch {
            throw .device(error)
        }
    }

    deinit {
        try? device.free(instructionBuffer)
        try? device.free(uopBuffer)
    }

    // MARK: - Appending instructions

    private func checkUsable() throws(RuntimeError) {
        if let f = failure { throw .queueFailed(previous: f) }
    }

    /// The pop flags a new instruction of `stage` takes over from the pending pops.
    private func takePendingPops(_ stage: Stage) -> DependencyFlags {
        var d: DependencyFlags = []
        if pendingPrev[stage.rawValue] { d.insert(.popPrev) }
        if pendingNext[stage.rawValue] { d.insert(.popNext) }
        pendingPrev[stage.rawValue] = false
        pendingNext[stage.rawValue] = false
        return d
    }

    /// Encodes and writes one instruction at the end of the stream.
    private func append(_ insn: Instruction, stage: Stage?) throws(RuntimeError) {
        guard count < options.instructionCapacity else {
            throw .invalidArgument("the instruction queue is full (\(options.instructionCapacity) instructions)")
        }
        let w: InstructionWord
        do { w = try isa.encode(insn) } catch { throw .encoding(error) }
        let p = instructionBuffer.hostAddress + count * 16
        p.storeBytes(of: w.low.littleEndian, as: UInt64.self)
        (p + 8).storeBytes(of: w.high.littleEndian, as: UInt64.self)
        count += 1
        statistics.instructions += 1
        lastStage = stage
    }

    private func word(at i: Int) -> InstructionWord {
        let p = instructionBuffer.hostAddress + i * 16
        return InstructionWord(low: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)),
                               high: UInt64(littleEndian: (p + 8).loadUnaligned(as: UInt64.self)))
    }

    private func setWord(_ w: InstructionWord, at i: Int) {
        let p = instructionBuffer.hostAddress + i * 16
        p.storeBytes(of: w.low.littleEndian, as: UInt64.self)
        (p + 8).storeBytes(of: w.high.littleEndian, as: UInt64.self)
    }

    /// The no-op of a stage (spec §6.3): a LOAD INP, a LOAD UOP or a STORE with every size zero.
    private func noop(_ stage: Stage, deps: DependencyFlags) -> (Instruction, Stage?) {
        switch stage {
        case .load: return (.load(MemoryInstruction(deps: deps, memoryType: .inp)), nil)
        case .compute: return (.load(MemoryInstruction(deps: deps, memoryType: .uop)), nil)
        case .store: return (.store(MemoryInstruction(deps: deps, memoryType: .uop)), .store)
        }
    }

    private func commitPendingPops(_ stage: Stage) throws(RuntimeError) {
        let pops = takePendingPops(stage)
        if !pops.isEmpty {
            let (insn, s) = noop(stage, deps: pops)
            try append(insn, stage: s)
        }
    }

    // MARK: - Dependencies

    private func checkPair(_ from: Stage, _ to: Stage) throws(RuntimeError) {
        if from == to { throw .invalidDependency(from: from, to: to, reason: "a stage cannot send a token to itself") }
        if abs(from.rawValue - to.rawValue) != 1 {
            throw .invalidDependency(from: from, to: to, reason: "tokens only travel between neighbouring stages (load-compute, compute-store)")
        }
    }

    /// Pushes a token from stage `from` to its neighbour `to`, after everything `from` has queued.
    public func depPush(from: Stage, to: Stage) throws(RuntimeError) {
        try checkUsable()
        try checkPair(from, to)
        try commitPendingPops(from)
        let flag: DependencyFlags = from.rawValue < to.rawValue ? .pushNext : .pushPrev
        if lastStage == from, count > 0 {
            var w = word(at: count - 1)
            let deps = DependencyFlags(rawValue: UInt8(truncatingIfNeeded: w.low >> 3))
            if !deps.contains(flag) {
                w.low |= UInt64(flag.rawValue) << 3
                setWord(w, at: count - 1)
                return
            }
        }
        let (insn, s) = noop(from, deps: flag)
        try append(insn, stage: s)
    }

    /// Makes stage `to`'s next instruction wait for a token from `from`.
    public func depPop(from: Stage, to: Stage) throws(RuntimeError) {
        try checkUsable()
        try checkPair(from, to)
        if from.rawValue < to.rawValue {
            if pendingPrev[to.rawValue] { try commitPendingPops(to) }
            pendingPrev[to.rawValue] = true
        } else {
            if pendingNext[to.rawValue] { try commitPendingPops(to) }
            pendingNext[to.rawValue] = true
        }
    }

    // MARK: - Loads and stores

    /// Queues a 2-D load from a DMA buffer into an on-chip memory (`VTALoadBuffer2D`).
    ///
    /// Sizes count elements of `memory` (e.g. 16-byte INP tiles in the default configuration);
    /// `elementOffset` and `xStride` count them in the buffer. Padding is zero.
    public func loadBuffer2D(
        _ buffer: any DMABuffer, elementOffset: Int, xSize: Int, ySize: Int, xStride: Int,
        xPadBefore: Int = 0, yPadBefore: Int = 0, xPadAfter: Int = 0, yPadAfter: Int = 0,
        sramIndex: Int, memory: MemoryType
    ) throws(RuntimeError) {
        try checkUsable()
        let stage: Stage
        switch memory {
        case .inp, .wgt: stage = .load
        case .acc, .acc8Bit, .uop: stage = .compute
        case .out: throw .invalidArgument("LOAD cannot target OUT; load INP, WGT, ACC, ACC_8BIT or UOP")
        }
        try checkRange("loadBuffer2D", "xSize", xSize, 0xFFFF)
        try checkRange("loadBuffer2D", "ySize", ySize, 0xFFFF)
        try checkRange("loadBuffer2D", "xStride", xStride, 0xFFFF)
        try checkRange("loadBuffer2D", "xPadBefore", xPadBefore, 15)
        try checkRange("loadBuffer2D", "yPadBefore", yPadBefore, 15)
        try checkRange("loadBuffer2D", "xPadAfter", xPadAfter, 15)
        try checkRange("loadBuffer2D", "yPadAfter", yPadAfter, 15)
        let rowLength = xPadBefore + xSize + xPadAfter
        let rows = yPadBefore + ySize + yPadAfter
        let depth = config.sramDepth(memory)
        if xSize > 0 && (sramIndex < 0 || sramIndex + rowLength * rows > depth) {
            throw .sramRange(memory: memory.name, operation: "loadBuffer2D", first: sramIndex, end: sramIndex + rowLength * rows, depth: depth)
        }
        let dramBase = try dramElement(buffer, elementOffset: elementOffset, xSize: xSize, ySize: ySize, xStride: xStride,
                                       memory: memory, operation: "loadBuffer2D(\(memory.name))")
        let m = MemoryInstruction(
            deps: takePendingPops(stage), memoryType: memory, sramBase: UInt32(sramIndex), dramBase: dramBase,
            ySize: UInt32(ySize), xSize: UInt32(xSize), xStride: UInt32(xStride),
            yPad0: UInt32(yPadBefore), yPad1: UInt32(yPadAfter), xPad0: UInt32(xPadBefore), xPad1: UInt32(xPadAfter))
        try append(.load(m), stage: xSize == 0 ? nil : stage)
        try autoSynchronizeIfFull()
    }

    /// Queues a 2-D store from the output buffer to a DMA buffer (`VTAStoreBuffer2D`).
    /// Rows are consecutive in SRAM and `xStride` elements apart in the buffer.
    public func storeBuffer2D(
        sramIndex: Int, memory: MemoryType = .out, _ buffer: any DMABuffer, elementOffset: Int,
        xSize: Int, ySize: Int, xStride: Int
    ) throws(RuntimeError) {
        try checkUsable()
        guard memory == .out else { throw .invalidArgument("STORE reads the OUT buffer; memory must be .out") }
        try checkRange("storeBuffer2D", "xSize", xSize, 0xFFFF)
        try checkRange("storeBuffer2D", "ySize", ySize, 0xFFFF)
        try checkRange("storeBuffer2D", "xStride", xStride, 0xFFFF)
        let depth = config.accBuffDepth
        if xSize > 0 && (sramIndex < 0 || sramIndex + xSize * ySize > depth) {
            throw .sramRange(memory: "OUT", operation: "storeBuffer2D", first: sramIndex, end: sramIndex + xSize * ySize, depth: depth)
        }
        let dramBase = try dramElement(buffer, elementOffset: elementOffset, xSize: xSize, ySize: ySize, xStride: xStride,
                                       memory: .out, operation: "storeBuffer2D")
        let m = MemoryInstruction(
            deps: takePendingPops(.store), memoryType: .out, sramBase: UInt32(sramIndex), dramBase: dramBase,
            ySize: UInt32(ySize), xSize: UInt32(xSize), xStride: UInt32(xStride))
        try append(.store(m), stage: .store)
        try autoSynchronizeIfFull()
    }

    /// Argument range check without allocating on the success path (this runs per instruction).
    @inline(__always)
    private func checkRange(_ operation: StaticString, _ name: StaticString, _ value: Int, _ maxValue: Int) throws(RuntimeError) {
        if value < 0 || value > maxValue {
            throw .invalidArgument("\(operation): \(name) = \(value) is outside 0...\(maxValue)")
        }
    }

    /// `dram_base` for a transfer, after checking alignment and that every byte is inside the buffer.
    private func dramElement(_ buffer: any DMABuffer, elementOffset: Int, xSize: Int, ySize: Int, xStride: Int,
                             memory: MemoryType, operation: @autoclosure () -> String) throws(RuntimeError) -> UInt32 {
        let e = config.dramElementBytes(memory)
        guard buffer.deviceAddress % UInt64(e) == 0 else {
            throw .misaligned(buffer: buffer.label, address: buffer.deviceAddress, elementBytes: e)
        }
        guard elementOffset >= 0 else { throw .invalidArgument("\(operation()): elementOffset \(elementOffset) is negative") }
        if xSize > 0 && ySize > 0 {
            let first = elementOffset * e
            let end = (elementOffset + (ySize - 1) * xStride + xSize) * e
            if end > buffer.size {
                throw .bufferRange(buffer: buffer.label, operation: operation(), firstByte: first, endByte: end, size: buffer.size)
            }
        }
        let base = buffer.deviceAddress / UInt64(e) + UInt64(elementOffset)
        guard base <= UInt64(UInt32.max) else {
            throw .invalidArgument("\(operation()): buffer \(buffer.label) is above the 32-bit element address range of VTA")
        }
        return UInt32(base)
    }

    // MARK: - GEMM and ALU

    /// Queues a GEMM kernel (`VTAPushGEMMOp`).
    public func pushGEMM(_ kernel: UopKernel) throws(RuntimeError) {
        guard case .gemm = kernel.mode else { throw .kernel("pushGEMM was given an ALU kernel") }
        try push(kernel)
    }

    /// Queues an ALU kernel (`VTAPushALUOp`).
    public func pushALU(_ kernel: UopKernel) throws(RuntimeError) {
        guard case .alu = kernel.mode else { throw .kernel("pushALU was given a GEMM kernel") }
        try push(kernel)
    }

    private func push(_ kernel: UopKernel) throws(RuntimeError) {
        try checkUsable()
        guard kernel.config.sameHardware(as: config) else {
            // Its micro-op words use another configuration's field layout.
            throw .kernel("the kernel was recorded for \(kernel.config.bitstreamName), but this queue drives \(config.bitstreamName); record it with the queue's configuration")
        }
        guard kernel.uops.count <= options.uopStagingCapacity else {
            throw .kernel("the kernel has \(kernel.uops.count) micro-ops, more than the \(options.uopStagingCapacity) the micro-op staging buffer holds (Options.uopStagingCapacity)")
        }
        if !uopCache.isResident(kernel) && uopCache.stagedUops + kernel.uops.count > options.uopStagingCapacity {
            // The staging buffer is append-only within a batch; start a new batch.
            statistics.automaticSynchronizations += 1
            try synchronize()
        }
        if let load = uopCache.place(kernel, depth: config.uopBuffDepth) {
            // New micro-ops: write them to the staging buffer now, at an offset that never changes
            // within the batch (this is the fix for upstream's in-batch eviction bug, spec §6.5).
            let dst = uopBuffer.hostAddress + load.stagingOffset * 4
            for (i, w) in kernel.words.enumerated() { (dst + 4 * i).storeBytes(of: w.littleEndian, as: UInt32.self) }
            statistics.kernelLoads += 1
            statistics.uopsLoaded += kernel.words.count
            if debug.contains(.dumpMicroOps), dumpedKernels.insert(ObjectIdentifier(kernel)).inserted { debugSink(kernel.dump) }
            let dramBase = uopBuffer.deviceAddress / 4 + UInt64(load.stagingOffset)
            guard dramBase <= UInt64(UInt32.max) else { throw .invalidArgument("micro-op staging buffer is above the 32-bit address range") }
            let m = MemoryInstruction(
                deps: takePendingPops(.compute), memoryType: .uop, sramBase: UInt32(load.sramBase),
                dramBase: UInt32(dramBase), ySize: 1, xSize: UInt32(load.count), xStride: UInt32(load.count))
            try append(.load(m), stage: .compute)
        }
        guard let range = uopCache.range(of: kernel) else { throw .kernel("kernel is not resident after placement") }
        var loop = LoopFields(uopBegin: UInt32(range.lowerBound), uopEnd: UInt32(range.upperBound))
        var wgtOut: UInt32 = 0, wgtIn: UInt32 = 0
        // Loop mapping (spec §6.6): two loops -> out, in; one GEMM loop -> out; one ALU loop -> in.
        let isALU: Bool = if case .alu = kernel.mode { true } else { false }
        let loops = kernel.loops
        let outer: UopKernel.Loop? = loops.count == 2 || (loops.count == 1 && !isALU) ? loops[0] : nil
        let inner: UopKernel.Loop? = loops.count == 2 ? loops[1] : (loops.count == 1 && isALU ? loops[0] : nil)
        if let l = outer {
            loop.iterOut = l.extent; loop.dstFactorOut = l.dstFactor; loop.srcFactorOut = l.srcFactor; wgtOut = l.wgtFactor
        }
        if let l = inner {
            loop.iterIn = l.extent; loop.dstFactorIn = l.dstFactor; loop.srcFactorIn = l.srcFactor; wgtIn = l.wgtFactor
        }
        let deps = takePendingPops(.compute)
        switch kernel.mode {
        case .gemm(let reset):
            try append(.gemm(GemmInstruction(deps: deps, resetReg: reset, loop: loop, wgtFactorOut: wgtOut, wgtFactorIn: wgtIn)), stage: .compute)
        case .alu(let op, let imm):
            try append(.alu(AluInstruction(deps: deps, loop: loop, aluOpcode: op, useImm: imm != nil, imm: imm ?? 0)), stage: .compute)
        }
        try autoSynchronizeIfFull()
    }

    // MARK: - Synchronisation

    /// Room for the no-ops and FINISH that a synchronisation may add (the reference's 6).
    private func autoSynchronizeIfFull() throws(RuntimeError) {
        if count + 6 > options.instructionCapacity {
            statistics.automaticSynchronizations += 1
            try synchronize()
        }
    }

    /// Finishes the stream (dependency round trip and FINISH), runs it on the device and waits.
    ///
    /// On failure the queue keeps the error and refuses new work until `reset()`, so a caller
    /// cannot build on a stream whose predecessor never ran.
    @discardableResult
    public func synchronize(timeout: Duration? = nil) throws(RuntimeError) -> RunReport {
        try checkUsable()
        do throws(RuntimeError) {
            if debug.contains(.forceSerial) {
                try rewriteSerial()
            } else {
                try depPush(from: .store, to: .compute)
                try depPush(from: .load, to: .compute)
                try depPop(from: .store, to: .compute)
                try depPop(from: .load, to: .compute)
                try commitPendingPops(.compute)
            }
            try append(.finish([]), stage: nil)
            for s in Stage.allCases where pendingPrev[s.rawValue] || pendingNext[s.rawValue] {
                throw RuntimeError.invalidDependency(from: s, to: s, reason: "a pop on the \(s) stage has no instruction to carry it")
            }
            do {
                try uopBuffer.flush(offset: 0, length: uopCache.stagedUops * 4)
                try instructionBuffer.flush(offset: 0, length: count * 16)
            } catch {
                throw RuntimeError.device(error)
            }
            if debug.contains(.dumpInstructions) {
                let dis = Disassembler(layout: isa)
                debugSink("There are \(count) instructions\n" + dis.listing((0..<count).map(word(at:))))
            }
            let wait = timeout ?? options.timeout
            let report: RunReport
            do {
                report = try device.run(instructionsAt: instructionBuffer.deviceAddress, count: count, timeout: wait)
            } catch {
                if case .timeout = error {
                    throw RuntimeError.timeout("synchronize: \(error.description) (queue: \(count) instructions, \(uopCache.stagedUops) staged micro-ops, device \(device.name))")
                }
                throw RuntimeError.device(error)
            }
            statistics.synchronizations += 1
            lastReport = report
            clearBatch()
            return report
        } catch {
            failure = error.description
            clearBatch()
            throw error
        }
    }

    /// Forgets queued work and a previous failure, so the queue can be used again.
    public func reset() {
        failure = nil
        clearBatch()
    }

    private func clearBatch() {
        count = 0
        lastStage = nil
        pendingPrev = [false, false, false, false]
        pendingNext = [false, false, false, false]
        uopCache = UopPlacement()
    }

    /// FORCE_SERIAL (spec §6.7): replace every dependency so that each instruction waits for the
    /// previous one across modules.
    private func rewriteSerial() throws(RuntimeError) {
        func stage(_ w: InstructionWord) -> Stage {
            switch w.opcodeBits {
            case 1: return .store
            case 0:
                let t = (w.low >> 7) & 7
                return t == UInt64(MemoryType.inp.rawValue) || t == UInt64(MemoryType.wgt.rawValue) ? .load : .compute
            default: return .compute
            }
        }
        let depMask: UInt64 = 0xF << 3
        for i in 0..<count {
            var w = word(at: i)
            w.low &= ~depMask
            setWord(w, at: i)
        }
        func add(_ i: Int, _ flags: DependencyFlags) {
            var w = word(at: i)
            w.low |= UInt64(flags.rawValue) << 3
            setWord(w, at: i)
        }
        if count >= 2 {
            for i in 0..<(count - 1) {
                switch (stage(word(at: i)), stage(word(at: i + 1))) {
                case (.load, .compute): add(i, .pushNext); add(i + 1, .popPrev)
                case (.compute, .load): add(i, .pushPrev); add(i + 1, .popNext)
                case (.store, .compute): add(i, .pushPrev); add(i + 1, .popNext)
                case (.compute, .store): add(i, .pushNext); add(i + 1, .popPrev)
                default: break
                }
            }
        }
        pendingPrev = [false, false, false, false]
        pendingNext = [false, false, false, false]
        if count > 0, stage(word(at: count - 1)) == .store {
            add(count - 1, .pushPrev)
            try append(noop(.compute, deps: .popNext).0, stage: nil)
        }
        try append(noop(.compute, deps: .pushPrev).0, stage: nil)
        try append(noop(.load, deps: [.popNext, .pushNext]).0, stage: nil)
        try append(noop(.compute, deps: .popPrev).0, stage: nil)
    }

    /// The queued instructions, decoded (for inspection and tests).
    public var queuedInstructions: [Instruction] { (0..<count).map { isa.decode(word(at: $0)) } }
}
