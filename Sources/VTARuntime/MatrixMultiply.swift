import VTA

/// A real workload built only from the command-queue API: an int8 matrix multiply with
/// requantisation, `C = clip((A x B^T + bias) >> shift, lo, hi)`, for any M, K, N.
///
/// The matrices are padded to whole tiles and cut into blocks that fit the active
/// configuration's SRAMs. Input and weight chunks are double-buffered: while the compute stage
/// multiplies one chunk, the load stage fetches the next into the other half, with dependency
/// tokens guarding both directions (TVM's "virtual threads"). Results are stored from the output
/// buffer after ALU requantisation, so they are right on the hardware profile too.
public struct MatrixMultiply: Sendable {
    public let m: Int
    public let k: Int
    public let n: Int
    /// Arithmetic right shift applied to the int32 sums (0...31).
    public var shift: Int
    /// Saturation bounds of the int8 result.
    public var clip: ClosedRange<Int>

    /// What a run did.
    public struct Result: Sendable {
        /// M x N int8, row-major.
        public var c: [Int8]
        public var instructions: Int
        public var synchronizations: Int
        public var counters = ProfilerCounters()
        /// Time the device spent running streams.
        public var deviceTime: Duration = .zero
        /// Wall time of the whole call, including packing and queue building.
        public var wallTime: Duration = .zero
        public var blocking: Blocking
    }

    /// Cache key of the kernels this workload records (kind, then shape parameters).
    struct KernelKey: Hashable {
        var kind: Int, a = 0, b = 0, c = 0, d = 0
    }

    /// How the problem was tiled (in elements: INP rows, WGT rows, K tiles per chunk).
    public struct Blocking: Sendable, CustomStringConvertible {
        public let rowTiles: Int, colTiles: Int, kTiles: Int
        public let bm: Int, bn: Int, bk: Int
        public var description: String { "tiles \(rowTiles)x\(kTiles)x\(colTiles), blocks bm=\(bm) bn=\(bn) bk=\(bk)" }
    }

    public init(m: Int, k: Int, n: Int, shift: Int = 0, clip: ClosedRange<Int> = -128...127) throws(RuntimeError) {
        guard m > 0, k > 0, n > 0 else { throw .invalidArgument("matrix sizes must be positive (got M=\(m) K=\(k) N=\(n))") }
        guard (0...31).contains(shift) else { throw .invalidArgument("shift \(shift) is outside 0...31") }
        guard clip.lowerBound >= -128, clip.upperBound <= 127 else {
            throw .invalidArgument("clip \(clip.lowerBound),\(clip.upperBound) must lie within the int8 range -128...127")
        }
        self.m = m
        self.k = k
        self.n = n
        self.shift = shift
        self.clip = clip
    }

    /// The same formula on the CPU: int32 wrapping sums, arithmetic shift, clip.
    public func reference(a: [Int8], b: [Int8], bias: [Int32]?) -> [Int8] {
        var c = [Int8](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc: Int32 = bias?[j] ?? 0
                for t in 0..<k { acc = acc &+ Int32(a[i * k + t]) &* Int32(b[j * k + t]) }
                let shifted = acc >> Int32(shift)
                c[i * n + j] = Int8(min(max(Int(shifted), clip.lowerBound), clip.upperBound))
            }
        }
        return c
    }

    /// Chooses block sizes that fit the SRAMs with two input/weight slots.
    public func blocking(for config: HardwareConfig) throws(RuntimeError) -> Blocking {
        let mT = TensorLayout.tiles(m, config.batch), kT = TensorLayout.tiles(k, config.blockIn), nT = TensorLayout.tiles(n, config.blockOut)
        var bk = min(kT, 16)
        while bk > 1 && (2 * bk > config.inpBuffDepth || 2 * bk > config.wgtBuffDepth) { bk /= 2 }
        let bn = min(nT, config.wgtBuffDepth / (2 * bk))
        let bm = min(mT, config.inpBuffDepth / (2 * bk), config.accBuffDepth / max(1, bn))
        guard bk >= 1, bn >= 1, bm >= 1 else {
            throw .invalidArgument("the SRAMs of \(config.bitstreamName) are too small to double-buffer one tile")
        }
        return Blocking(rowTiles: mT, colTiles: nT, kTiles: kT, bm: bm, bn: bn, bk: bk)
    }

    /// Runs on a runtime's device. `a` is M x K, `b` is N x K (both row-major int8), `bias` has N values.
    public func run(on runtime: Runtime, a: [Int8], b: [Int8], bias: [Int32]?,
                    options: CommandQueue.Options = .init()) throws(RuntimeError) -> Result {
        let start = ContinuousClock.now
        guard a.count == m * k else { throw .invalidArgument("A has \(a.count) values, expected M*K = \(m * k)") }
        guard b.count == n * k else { throw .invalidArgument("B has \(b.count) values, expected N*K = \(n * k)") }
        if let bias, bias.count != n { throw .invalidArgument("bias has \(bias.count) values, expected N = \(n)") }
        let config = runtime.config
        let layout = TensorLayout(config: config)
        let blk = try blocking(for: config)
        let (mT, nT, kT) = (blk.rowTiles, blk.colTiles, blk.kTiles)

        // Device buffers, packed into VTA's tile layouts.
        let aBuf = try runtime.allocate(bytes: max(1, mT * kT * config.inpElemBytes), label: "A")
        let bBuf = try runtime.allocate(bytes: max(1, nT * kT * config.wgtElemBytes), label: "B")
        let cBuf = try runtime.allocate(bytes: max(1, mT * nT * config.outElemBytes), label: "C")
        var biasBuf: (any DMABuffer)?
        defer {
            try? runtime.free(aBuf)
            try? runtime.free(bBuf)
            try? runtime.free(cBuf)
            if let biasBuf { try? runtime.free(biasBuf) }
        }
        do {
            try aBuf.write(layout.packInput(a, rows: m, cols: k))
            try bBuf.write(layout.packWeights(b, rows: n, cols: k))
            if let bias {
                // One ACC element row per output-column tile, every batch row holding the bias.
                let rows = [Int32](repeating: 0, count: config.batch * n).enumerated().map { bias[$0.offset % n] }
                let buf = try runtime.allocate(bytes: nT * config.accElemBytes, label: "bias")
                biasBuf = buf
                try buf.write(layout.packAccumulator(rows, rows: config.batch, cols: n))
            }
        } catch let e as DeviceError {
            throw .device(e)
        } catch let e as RuntimeError {
            throw e
        } catch {
            throw .invalidArgument("\(error)")
        }

        let queue = try runtime.makeCommandQueue(options: options)
        let kernels = KernelCache()
        var result = Result(c: [], instructions: 0, synchronizations: 0, blocking: blk)
        let inpSlot = blk.bm * blk.bk, wgtSlot = blk.bn * blk.bk
        var chunk = 0          // chunks issued since the last synchronisation (slot = chunk % 2)
        var blocksInBatch = 0

        func sync() throws(RuntimeError) {
            // Consume the tokens still in flight so every batch is balanced, then run it.
            if blocksInBatch > 0 { try queue.depPop(from: .store, to: .compute) }
            for _ in 0..<min(chunk, 2) { try queue.depPop(from: .compute, to: .load) }
            let report = try queue.synchronize()
            result.counters += report.counters
            result.deviceTime += .nanoseconds(Int64(report.elapsedNanoseconds))
            result.instructions += report.fetched
            result.synchronizations += 1
            chunk = 0
            blocksInBatch = 0
        }

        // Most instructions one block queues: ACC load or reset (2), per K chunk two loads, a
        // micro-op load and a GEMM (4), per requantisation op a micro-op load and the ALU op (2),
        // the store (1). An automatic synchronisation inside a block would split its tokens across
        // two runs (a deadlock), so a block starts a new batch when it might not fit; 8 leaves
        // room for the no-ops and FINISH that sync() adds.
        let blockInstructions = 3 + 4 * ((kT + blk.bk - 1) / blk.bk) + 2 * ((shift + 14) / 15 + 2)
        guard blockInstructions + 8 <= options.instructionCapacity else {
            throw .invalidArgument("an instruction queue of \(options.instructionCapacity) instructions is too small: one block of this problem needs up to \(blockInstructions + 8)")
        }

        for i in stride(from: 0, to: mT, by: blk.bm) {
            let bm = min(blk.bm, mT - i)
            for j in stride(from: 0, to: nT, by: blk.bn) {
                let bn = min(blk.bn, nT - j)
                if blocksInBatch > 0 && queue.count + blockInstructions + 8 > options.instructionCapacity { try sync() }
                if blocksInBatch > 0 { try queue.depPop(from: .store, to: .compute) }  // ACC free again
                if let biasBuf {
                    // x_stride 0 repeats the bias row for every output row.
                    try queue.loadBuffer2D(biasBuf, elementOffset: j, xSize: bn, ySize: bm, xStride: 0, sramIndex: 0, memory: .acc)
                } else {
                    let reset = try kernels.kernel(KernelKey(kind: 0, a: bm, b: bn)) { () throws(RuntimeError) in
                        try UopKernel.gemm(config: config, reset: true) { r in
                            try r.loop(extent: bm, dstFactor: bn, srcFactor: 0)
                            for c in 0..<bn { try r.push(dst: c, src: 0, wgt: 0) }
                        }
                    }
                    try queue.pushGEMM(reset)
                }
                for kc in stride(from: 0, to: kT, by: blk.bk) {
                    let bk = min(blk.bk, kT - kc)
                    let slot = chunk % 2
                    if chunk >= 2 { try queue.depPop(from: .compute, to: .load) }  // slot released by compute
                    try queue.loadBuffer2D(aBuf, elementOffset: i * kT + kc, xSize: bk, ySize: bm, xStride: kT,
                                           sramIndex: slot * inpSlot, memory: .inp)
                    try queue.loadBuffer2D(bBuf, elementOffset: j * kT + kc, xSize: bk, ySize: bn, xStride: kT,
                                           sramIndex: slot * wgtSlot, memory: .wgt)
                    try queue.depPush(from: .load, to: .compute)
                    try queue.depPop(from: .load, to: .compute)
                    let gemm = try kernels.kernel(KernelKey(kind: 1, a: bm, b: bn, c: bk, d: slot)) { () throws(RuntimeError) in
                        try UopKernel.gemm(config: config) { r in
                            try r.loop(extent: bm, dstFactor: bn, srcFactor: bk, wgtFactor: 0)
                            try r.loop(extent: bk, dstFactor: 0, srcFactor: 1, wgtFactor: 1)
                            for c in 0..<bn { try r.push(dst: c, src: slot * inpSlot, wgt: slot * wgtSlot + c * bk) }
                        }
                    }
                    try queue.pushGEMM(gemm)
                    try queue.depPush(from: .compute, to: .load)
                    chunk += 1
                }
                // Requantise: shifts of at most 15 (portable to the hardware), then clip.
                var ops: [(AluOpcode, Int16)] = []
                var remaining = shift
                while remaining > 0 { ops.append((.shr, Int16(min(remaining, 15)))); remaining -= min(remaining, 15) }
                ops.append((.max, Int16(clip.lowerBound)))
                ops.append((.min, Int16(clip.upperBound)))
                for (op, imm) in ops {
                    let alu = try kernels.kernel(KernelKey(kind: 2 + Int(op.rawValue), a: bm, b: bn, c: Int(imm))) { () throws(RuntimeError) in
                        try UopKernel.alu(config: config, op, immediate: imm) { r in
                            try r.loop(extent: bm, dstFactor: bn, srcFactor: bn)
                            for c in 0..<bn { try r.push(dst: c, src: c) }
                        }
                    }
                    try queue.pushALU(alu)
                }
                try queue.depPush(from: .compute, to: .store)
                try queue.depPop(from: .compute, to: .store)
                try queue.storeBuffer2D(sramIndex: 0, cBuf, elementOffset: i * nT + j, xSize: bn, ySize: bm, xStride: nT)
                try queue.depPush(from: .store, to: .compute)
                blocksInBatch += 1
                // Synchronise at a block boundary well before the instruction queue fills.
                if queue.count > options.instructionCapacity / 2 { try sync() }
            }
        }
        if blocksInBatch > 0 || queue.count > 0 { try sync() }

        do {
            let tiles = try cBuf.read(Int8.self, count: mT * nT * config.batch * config.blockOut)
            result.c = layout.unpackOutput(tiles, rows: m, cols: n)
        } catch {
            throw .device(error)
        }
        result.wallTime = ContinuousClock.now - start
        return result
    }
}
