import VTA

/// A recorded micro-op kernel: up to two loop levels around a list of micro-ops, for one GEMM
/// or one ALU operation (spec §6.4). Immutable once built; its identity is what the command
/// queue's micro-op cache tracks.
public final class UopKernel: Sendable {
    public enum Mode: Sendable, Hashable {
        case gemm(reset: Bool)
        case alu(AluOpcode, immediate: Int16?)
    }

    /// One loop level: an extent and the index step of each operand per iteration.
    public struct Loop: Sendable, Hashable {
        public let extent: UInt32
        public let dstFactor: UInt32
        public let srcFactor: UInt32
        public let wgtFactor: UInt32
    }

    public let mode: Mode
    /// Outermost first.
    public let loops: [Loop]
    public let uops: [MicroOp]
    /// The configuration the kernel was recorded (and its micro-ops encoded) for.
    public let config: HardwareConfig
    /// The micro-ops encoded for the configuration the kernel was built for.
    let words: [UInt32]

    init(config: HardwareConfig, mode: Mode, loops: [Loop], uops: [MicroOp], words: [UInt32]) {
        self.config = config
        self.mode = mode
        self.loops = loops
        self.uops = uops
        self.words = words
    }

    /// Records a GEMM kernel.
    /// - Parameter reset: zero the accumulator rows instead of accumulating.
    public static func gemm(config: HardwareConfig, reset: Bool = false,
                            _ body: (inout Recorder) throws -> Void) throws(RuntimeError) -> UopKernel {
        try record(Recorder(config: config, mode: .gemm(reset: reset)), body)
    }

    /// Records an ALU kernel. `immediate` nil means the second operand is the source row.
    public static func alu(config: HardwareConfig, _ op: AluOpcode, immediate: Int16? = nil,
                           _ body: (inout Recorder) throws -> Void) throws(RuntimeError) -> UopKernel {
        try record(Recorder(config: config, mode: .alu(op, immediate: immediate)), body)
    }

    /// Runs a recording body; the recorder's own errors pass through, anything else the body
    /// throws is reported as a kernel error.
    private static func record(_ recorder: Recorder, _ body: (inout Recorder) throws -> Void) throws(RuntimeError) -> UopKernel {
        var r = recorder
        do { try body(&r) } catch let e as RuntimeError { throw e } catch { throw .kernel("recording failed: \(error)") }
        return try r.finish()
    }

    /// Records loops and micro-ops, enforcing the runtime's rules (each violation is an error).
    public struct Recorder {
        let config: HardwareConfig
        let mode: Mode
        var loops: [Loop] = []
        var uops: [MicroOp] = []
        var words: [UInt32] = []

        /// Declares a loop level (before the first micro-op; at most two; outermost first).
        public mutating func loop(extent: Int, dstFactor: Int, srcFactor: Int, wgtFactor: Int = 0) throws(RuntimeError) {
            guard uops.isEmpty else { throw .kernel("loops must be declared before the first micro-op") }
            guard loops.count < 2 else { throw .kernel("at most two loop levels") }
            guard (1...16383).contains(extent) else { throw .kernel("loop extent \(extent) is outside 1...16383") }
            for (name, v) in [("dst", dstFactor), ("src", srcFactor), ("wgt", wgtFactor)] where v < 0 || v > Int(UInt32.max) {
                throw .kernel("loop \(name) factor \(v) is negative or too large")
            }
            if case .alu = mode, wgtFactor != 0 { throw .kernel("ALU loops have no weight factor") }
            loops.append(Loop(extent: UInt32(extent), dstFactor: UInt32(dstFactor), srcFactor: UInt32(srcFactor), wgtFactor: UInt32(wgtFactor)))
        }

        /// Appends a micro-op. `dst` must differ from the previous two micro-ops' `dst` (the
        /// hardware pipelines accumulator writes without a read-after-write check).
        public mutating func push(dst: Int, src: Int, wgt: Int = 0) throws(RuntimeError) {
            guard dst >= 0, src >= 0, wgt >= 0 else { throw .kernel("micro-op indices must be non-negative") }
            let n = uops.count
            for back in 1...2 where n >= back && uops[n - back].dst == UInt32(clamping: dst) {
                throw .kernel("micro-op \(n) writes accumulator row \(dst), as micro-op \(n - back) does; "
                              + "consecutive micro-ops within two of each other must write different rows")
            }
            let u = MicroOp(dst: UInt32(clamping: dst), src: UInt32(clamping: src), wgt: UInt32(clamping: wgt))
            do { words.append(try config.isa.encode(u)) } catch { throw .encoding(error) }
            uops.append(u)
        }

        func finish() throws(RuntimeError) -> UopKernel {
            guard !uops.isEmpty else { throw .kernel("a kernel needs at least one micro-op") }
            guard uops.count <= config.uopBuffDepth else {
                throw .kernel("\(uops.count) micro-ops do not fit the \(config.uopBuffDepth)-entry micro-op SRAM")
            }
            return UopKernel(config: config, mode: mode, loops: loops, uops: uops, words: words)
        }
    }

    /// A readable dump (the reference's DUMP_UOP format).
    public var dump: String {
        var s = "There are \(uops.count) uops\n"
        for (i, u) in uops.enumerated() {
            let idx = String(i)
            s += "[\(String(repeating: "0", count: max(0, 4 - idx.count)) + idx)]\t acc=\(u.dst), inp=\(u.src), wgt=\(u.wgt)\n"
        }
        return s
    }
}

/// Kernels by key, so a kernel is recorded once and reused (spec §6.4). Owned by whoever
/// creates it; a command queue has one.
public final class KernelCache {
    private var kernels: [AnyHashable: UopKernel] = [:]
    public init() {}

    /// The kernel for `key`, recording it with `build` the first time.
    public func kernel(_ key: AnyHashable, build: () throws(RuntimeError) -> UopKernel) throws(RuntimeError) -> UopKernel {
        if let k = kernels[key] { return k }
        let k = try build()
        kernels[key] = k
        return k
    }

    public var count: Int { kernels.count }
}
