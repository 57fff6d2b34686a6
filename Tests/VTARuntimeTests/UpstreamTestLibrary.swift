import Testing
import VTATestSupport
import VTA
import VTARuntime
import VTASimulator

// The upstream hardware test library (spec §8.2–8.4) re-expressed with the command-queue API:
// the same data ranges, tiling and micro-op shapes, with the hand-set dependency flags replaced by
// depPush/depPop calls and buffer-relative DRAM offsets replaced by element offsets. Every
// reference result is computed here on the CPU from the spec's formulas.

/// The ALU semantics of spec §3.5/§8.2 for the portable operand ranges the tests use.
func aluReference(_ op: AluOpcode, _ x: Int32, _ y: Int32) -> Int32 {
    switch op {
    case .min: return x < y ? x : y
    case .max: return x < y ? y : x
    case .add: return x &+ y
    case .shr: return y >= 0 ? x >> y : x << -y
    case .mul: return x &* y
    }
}

enum UpstreamTests {
    // MARK: alu_test (§8.2)

    /// `alu_test(opcode, use_imm, batch, vector_size, uop_compression)`. Returns the number of
    /// mismatching output values (0 = pass).
    static func aluTest(_ runtime: Runtime, op: AluOpcode, useImm: Bool, batch: Int, vectorSize: Int,
                        compression: Bool, seed: UInt64) throws -> Int {
        let c = runtime.config
        let (B, BO) = (c.batch, c.blockOut)
        precondition(batch % B == 0 && vectorSize % BO == 0)
        let tx = vectorSize / BO, sets = useImm ? 1 : 2
        var rng = SplitMix64(seed: seed)
        let immRange = op == .shr ? -8...7 : -16384...16383
        let inRange: ClosedRange<Int> = switch op {
        case .min, .max: -64...63
        case .add: -32...31
        default: -8...7
        }
        let tiles = batch / B
        let imms = (0..<tiles).map { _ in Int16(rng.int(immRange)) }
        let cols = vectorSize * sets
        let inputs = rng.int32s(batch * cols, in: inRange)       // [batch][vector_size * sets]

        let accBuf = try runtime.buffer(specTile(inputs, rows: batch, cols: cols, tr: B, tc: BO), label: "alu-biases")
        let outBuf = try runtime.allocate(bytes: batch * vectorSize, label: "alu-outputs")
        defer {
            try? runtime.free(accBuf)
            try? runtime.free(outBuf)
        }

        func kernel(_ imm: Int16?) throws -> UopKernel {
            try UopKernel.alu(config: c, op, immediate: imm) { r throws(RuntimeError) in
                if compression {
                    try r.loop(extent: tx, dstFactor: 1, srcFactor: 1)
                    try r.push(dst: 0, src: tx)
                } else {
                    for i in 0..<tx { try r.push(dst: i, src: tx + i) }
                }
            }
        }
        let vectorKernel: UopKernel? = try useImm ? nil : kernel(nil)

        let queue = try runtime.makeCommandQueue()
        for b in 0..<tiles {
            if b > 0 { try queue.depPop(from: .store, to: .compute) }
            try queue.loadBuffer2D(accBuf, elementOffset: b * tx * sets, xSize: tx * sets, ySize: 1, xStride: tx * sets,
                                   sramIndex: 0, memory: .acc)
            try queue.pushALU(vectorKernel ?? kernel(imms[b]))
            try queue.depPush(from: .compute, to: .store)
            try queue.depPop(from: .compute, to: .store)
            try queue.storeBuffer2D(sramIndex: 0, outBuf, elementOffset: b * tx, xSize: tx, ySize: 1, xStride: tx)
            if b < tiles - 1 { try queue.depPush(from: .store, to: .compute) }
        }
        let report = try queue.synchronize()
        #expect(report.leftoverTokens.isEmpty)
        // A vector kernel is shared by every tile: loaded once. Immediate kernels differ per tile.
        #expect(queue.statistics.kernelLoads == (useImm ? tiles : 1))

        let out = specUntile(try outBuf.read(Int8.self, count: batch * vectorSize), rows: batch, cols: vectorSize, tr: B, tc: BO)
        var mismatches = 0
        for r in 0..<batch {
            for col in 0..<vectorSize {
                let x = inputs[r * cols + col]
                let y = useImm ? Int32(imms[r / B]) : inputs[r * cols + vectorSize + col]
                if out[r * vectorSize + col] != Int8(truncatingIfNeeded: aluReference(op, x, y)) { mismatches += 1 }
            }
        }
        return mismatches
    }

    // MARK: GEMM data and reference (§8.3)

    struct GEMMData: Sendable {
        let batch: Int, inC: Int, outC: Int
        let inputs: [Int8]    // [batch][in]
        let weights: [Int8]   // [out][in]
        let biases: [Int32]   // [batch][out], in [0, 2^31 - 1]
        let expected: [Int8]  // [batch][out]

        init(batch: Int, inC: Int, outC: Int, seed: UInt64) {
            self.batch = batch
            self.inC = inC
            self.outC = outC
            var rng = SplitMix64(seed: seed)
            let inputs = rng.int8s(batch * inC)
            let weights = rng.int8s(outC * inC)
            let biases = rng.int32s(batch * outC, in: 0...Int(Int32.max))
            self.inputs = inputs
            self.weights = weights
            self.biases = biases
            var exp = [Int8](repeating: 0, count: batch * outC)
            inputs.withUnsafeBufferPointer { a in
                weights.withUnsafeBufferPointer { w in
                    for i in 0..<batch {
                        for j in 0..<outC {
                            var s = biases[i * outC + j]
                            for k in 0..<inC { s &+= Int32(a[i * inC + k]) &* Int32(w[j * inC + k]) }
                            exp[i * outC + j] = Int8(truncatingIfNeeded: s)
                        }
                    }
                }
            }
            expected = exp
        }
    }

    /// The three data buffers of a GEMM test, tiled per §8.1 (inputs [B][BI], weights [BO][BI], biases [B][BO]).
    struct GEMMBuffers {
        let inp: any DMABuffer, wgt: any DMABuffer, acc: any DMABuffer, out: any DMABuffer
        let runtime: Runtime

        init(_ runtime: Runtime, _ d: GEMMData) throws {
            let c = runtime.config
            self.runtime = runtime
            inp = try runtime.buffer(specTile(d.inputs, rows: d.batch, cols: d.inC, tr: c.batch, tc: c.blockIn), label: "inputs")
            wgt = try runtime.buffer(specTile(d.weights, rows: d.outC, cols: d.inC, tr: c.blockOut, tc: c.blockIn), label: "weights")
            acc = try runtime.buffer(specTile(d.biases, rows: d.batch, cols: d.outC, tr: c.batch, tc: c.blockOut), label: "biases")
            out = try runtime.allocate(bytes: d.batch * d.outC, label: "outputs")
        }

        func result(_ d: GEMMData) throws -> [Int8] {
            let c = runtime.config
            return specUntile(try out.read(Int8.self, count: d.batch * d.outC), rows: d.batch, cols: d.outC, tr: c.batch, tc: c.blockOut)
        }

        func free() {
            for b in [inp, wgt, acc, out] { try? runtime.free(b) }
        }
    }

    /// The GEMM micro-ops of §8.1 for one (virtual) thread, as a kernel.
    /// Uncompressed: i < batch, j < in, k < out (k fastest): dst = i·out + k, src = i·in + j, wgt = k·in + j.
    /// Compressed: dst = i·out, src = i·in, wgt = 0 with loops (in: src+1, wgt+1) and (out: dst+1, wgt+in).
    static func gemmKernel(_ c: HardwareConfig, batchT: Int, inT: Int, outT: Int, compression: Bool,
                           srcBase: Int = 0, wgtBase: Int = 0) throws -> UopKernel {
        try UopKernel.gemm(config: c) { r throws(RuntimeError) in
            if compression {
                try r.loop(extent: inT, dstFactor: 0, srcFactor: 1, wgtFactor: 1)
                try r.loop(extent: outT, dstFactor: 1, srcFactor: 0, wgtFactor: inT)
                for i in 0..<batchT { try r.push(dst: i * outT, src: srcBase + i * inT, wgt: wgtBase) }
            } else {
                for i in 0..<batchT {
                    for j in 0..<inT {
                        for k in 0..<outT { try r.push(dst: i * outT + k, src: srcBase + i * inT + j, wgt: wgtBase + k * inT + j) }
                    }
                }
            }
        }
    }

    // MARK: gemm_test (§8.3)

    /// `gemm_test(batch, in_channels, out_channels, uop_compression)`; returns the output.
    static func gemmTest(_ runtime: Runtime, _ d: GEMMData, compression: Bool) throws -> [Int8] {
        let c = runtime.config
        let bT = d.batch / c.batch, iT = d.inC / c.blockIn, oT = d.outC / c.blockOut
        let bufs = try GEMMBuffers(runtime, d)
        defer { bufs.free() }
        let queue = try runtime.makeCommandQueue()
        try queue.loadBuffer2D(bufs.acc, elementOffset: 0, xSize: bT * oT, ySize: 1, xStride: bT * oT, sramIndex: 0, memory: .acc)
        try queue.depPush(from: .compute, to: .load)
        try queue.depPop(from: .compute, to: .load)
        try queue.loadBuffer2D(bufs.wgt, elementOffset: 0, xSize: iT * oT, ySize: 1, xStride: iT * oT, sramIndex: 0, memory: .wgt)
        try queue.loadBuffer2D(bufs.inp, elementOffset: 0, xSize: bT * iT, ySize: 1, xStride: bT * iT, sramIndex: 0, memory: .inp)
        try queue.depPush(from: .load, to: .compute)
        try queue.depPop(from: .load, to: .compute)
        try queue.pushGEMM(gemmKernel(c, batchT: bT, inT: iT, outT: oT, compression: compression))
        try queue.depPush(from: .compute, to: .store)
        try queue.depPop(from: .compute, to: .store)
        try queue.storeBuffer2D(sramIndex: 0, bufs.out, elementOffset: 0, xSize: bT * oT, ySize: 1, xStride: bT * oT)
        let report = try queue.synchronize()
        #expect(report.leftoverTokens.isEmpty)
        #expect(report.counters.gemmCounter == UInt64(bT * iT * oT))
        return try bufs.result(d)
    }

    // MARK: blocked_gemm_test (§8.4)

    /// `blocked_gemm_test(batch, channels, block, uop_compression, virtual_threads)`: blocks of
    /// `block` rows/columns, the K dimension in chunks of `block`, and `vt` input/weight slots
    /// guarded by compute->load tokens (double buffering when vt = 2). Returns the output.
    static func blockedGEMMTest(_ runtime: Runtime, _ d: GEMMData, block: Int, compression: Bool, vt: Int) throws -> [Int8] {
        let c = runtime.config
        let (B, BI, BO) = (c.batch, c.blockIn, c.blockOut)
        precondition(d.inC == d.outC && block % BI == 0 && block % BO == 0 && block % B == 0)
        precondition(d.batch % block == 0 && d.inC % (block * vt) == 0)
        let channels = d.inC
        let bB = block / B, bI = block / BI, bO = block / BO
        let inpSlot = bB * bI, wgtSlot = bO * bI
        let kernels = try (0..<vt).map { s in
            try gemmKernel(c, batchT: bB, inT: bI, outT: bO, compression: compression, srcBase: s * inpSlot, wgtBase: s * wgtSlot)
        }
        let uopsPerThread = compression ? bB : bB * bI * bO
        #expect(kernels.map(\.uops.count) == Array(repeating: uopsPerThread, count: vt))

        let bufs = try GEMMBuffers(runtime, d)
        defer { bufs.free() }
        let queue = try runtime.makeCommandQueue()
        var chunk = 0
        var blocks = 0
        for i in stride(from: 0, to: d.batch, by: block) {
            for j in stride(from: 0, to: channels, by: block) {
                if blocks > 0 { try queue.depPop(from: .store, to: .compute) }   // previous store has read the rows
                let accOffset = (i / B) * (channels / BO) + j / BO
                try queue.loadBuffer2D(bufs.acc, elementOffset: accOffset, xSize: bO, ySize: bB, xStride: channels / BO,
                                       sramIndex: 0, memory: .acc)
                for k in stride(from: 0, to: channels, by: block * vt) {
                    for l in stride(from: 0, to: block * vt, by: block) {
                        let slot = l / block
                        if chunk >= vt { try queue.depPop(from: .compute, to: .load) }   // slot released by compute
                        try queue.loadBuffer2D(bufs.wgt, elementOffset: (j / BO) * (channels / BI) + (k + l) / BI, xSize: bI,
                                               ySize: bO, xStride: channels / BI, sramIndex: slot * wgtSlot, memory: .wgt)
                        try queue.loadBuffer2D(bufs.inp, elementOffset: (i / B) * (channels / BI) + (k + l) / BI, xSize: bI,
                                               ySize: bB, xStride: channels / BI, sramIndex: slot * inpSlot, memory: .inp)
                        try queue.depPush(from: .load, to: .compute)
                        try queue.depPop(from: .load, to: .compute)
                        try queue.pushGEMM(kernels[slot])
                        try queue.depPush(from: .compute, to: .load)
                        chunk += 1
                    }
                }
                try queue.depPush(from: .compute, to: .store)
                try queue.depPop(from: .compute, to: .store)
                try queue.storeBuffer2D(sramIndex: 0, bufs.out, elementOffset: accOffset, xSize: bO, ySize: bB, xStride: channels / BO)
                try queue.depPush(from: .store, to: .compute)
                blocks += 1
            }
        }
        // Consume the tokens still in flight so the stream is balanced.
        try queue.depPop(from: .store, to: .compute)
        for _ in 0..<min(chunk, vt) { try queue.depPop(from: .compute, to: .load) }
        let report = try queue.synchronize()
        #expect(report.leftoverTokens.isEmpty)
        // Every slot kernel is loaded once per batch, however often it runs.
        #expect(queue.statistics.kernelLoads == vt)
        #expect(queue.statistics.uopsLoaded == vt * uopsPerThread)
        let macsPerUop = UInt64(B * BI * BO)
        #expect(report.macs == UInt64(d.batch / B) * UInt64(channels / BI) * UInt64(channels / BO) * macsPerUop)
        return try bufs.result(d)
    }
}
