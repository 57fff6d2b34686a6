import Testing
import VTATestSupport
import VTA
import VTARuntime
import VTASimulator

/// `C = clip((A x B^T + bias) >> shift, lo, hi)` computed independently of `MatrixMultiply`:
/// 64-bit sums reduced modulo 2^32 (the accumulator's wrap), shift as floor division by 2^shift,
/// then clamping.
func independentMatmul(a: [Int8], b: [Int8], bias: [Int32]?, m: Int, k: Int, n: Int,
                       shift: Int, clip: ClosedRange<Int>) -> [Int8] {
    var c = [Int8](repeating: 0, count: m * n)
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            for i in 0..<m {
                for j in 0..<n {
                    var s: Int64 = 0
                    for t in 0..<k { s += Int64(pa[i * k + t]) * Int64(pb[j * k + t]) }
                    s += Int64(bias?[j] ?? 0)
                    let wrapped = Int64(Int32(truncatingIfNeeded: s))
                    let d = Int64(1) << Int64(shift)
                    let q = wrapped >= 0 ? wrapped / d : -((-wrapped + d - 1) / d)
                    c[i * n + j] = Int8(Swift.min(Swift.max(q, Int64(clip.lowerBound)), Int64(clip.upperBound)))
                }
            }
        }
    }
    return c
}

@Suite("MatrixMultiply against CPU references")
struct MatrixMultiplyTests {
    struct Problem: Sendable {
        let m: Int, k: Int, n: Int
        let a: [Int8], b: [Int8], bias: [Int32]

        init(m: Int, k: Int, n: Int, seed: UInt64, bRange: ClosedRange<Int> = -128...127, biasRange: ClosedRange<Int> = -50_000...50_000) {
            self.m = m
            self.k = k
            self.n = n
            var rng = SplitMix64(seed: seed)
            a = rng.int8s(m * k)
            b = rng.int8s(n * k, in: bRange)
            bias = rng.int32s(n, in: biasRange)
        }
    }

    struct Variant: Sendable, CustomTestStringConvertible {
        let bias: Bool, shift: Int, clip: ClosedRange<Int>
        var testDescription: String { "bias=\(bias) shift=\(shift) clip=\(clip.lowerBound)...\(clip.upperBound)" }
    }

    static let clips: [ClosedRange<Int>] = [-128...127, 0...127, -20...20, 7...7]

    /// Runs one problem on both profiles; checks both references and byte-identical results.
    static func check(_ p: Problem, _ v: Variant, config: HardwareConfig, options: CommandQueue.Options = .init(),
                      profiles: [SimulatorProfile] = SimulatorProfile.allCases) throws {
        let mm = try MatrixMultiply(m: p.m, k: p.k, n: p.n, shift: v.shift, clip: v.clip)
        let bias = v.bias ? p.bias : nil
        let mine = independentMatmul(a: p.a, b: p.b, bias: bias, m: p.m, k: p.k, n: p.n, shift: v.shift, clip: v.clip)
        let theirs = mm.reference(a: p.a, b: p.b, bias: bias)
        #expect(theirs == mine, "MatrixMultiply.reference disagrees with the independent reference (\(v.testDescription))")
        var results: [[Int8]] = []
        for profile in profiles {
            let runtime = try makeRuntime(config, profile)
            let r = try mm.run(on: runtime, a: p.a, b: p.b, bias: bias, options: options)
            let bad = zip(r.c, mine).filter { $0 != $1 }.count
            #expect(r.c.count == p.m * p.n)
            #expect(bad == 0, "\(p.m)x\(p.k)x\(p.n) \(v.testDescription) on \(config.bitstreamName) \(profile.rawValue): \(bad) of \(mine.count) values differ")
            #expect(r.synchronizations >= 1)
            results.append(r.c)
        }
        if results.count == 2 { #expect(mismatches(results[0], results[1]) == 0, "fsim and hardware profiles differ") }
    }

    static var smallVariants: [Variant] {
        var v: [Variant] = []
        for bias in [false, true] {
            for shift in [0, 8, 20] {
                for clip in clips { v.append(Variant(bias: bias, shift: shift, clip: clip)) }
            }
        }
        return v
    }

    @Test("1x1x1, every bias/shift/clip combination", arguments: smallVariants)
    func oneByOne(variant: Variant) throws {
        // Large values so that shift 8 and 20 keep signal: bias up to ±2^27.
        let p = Problem(m: 1, k: 1, n: 1, seed: 11, biasRange: -(1 << 27)...(1 << 27))
        try Self.check(p, variant, config: Configs.standard)
    }

    @Test("17x33x65, every bias/shift/clip combination", arguments: smallVariants)
    func oddShape(variant: Variant) throws {
        let p = Problem(m: 17, k: 33, n: 65, seed: 1733, biasRange: -(1 << 22)...(1 << 22))
        try Self.check(p, variant, config: Configs.standard)
    }

    @Test("bias sums that wrap the 32-bit accumulator")
    func accumulatorWrap() throws {
        // Biases near ±2^31 make A·B + bias leave the int32 range; both sides wrap modulo 2^32.
        let p = Problem(m: 5, k: 40, n: 20, seed: 77, biasRange: Int(Int32.max) - 100_000...Int(Int32.max))
        for shift in [0, 8, 20] { try Self.check(p, Variant(bias: true, shift: shift, clip: -128...127), config: Configs.standard) }
    }

    static let big = Problem(m: 256, k: 1024, n: 128, seed: 0xB16, bRange: -4...4, biasRange: -20_000...20_000)

    @Test("256x1024x128 (K = 1024)", arguments: [
        Variant(bias: true, shift: 8, clip: -128...127),
        Variant(bias: false, shift: 0, clip: 0...127),
        Variant(bias: true, shift: 20, clip: -128...127),
    ])
    func large(variant: Variant) throws {
        try Self.check(Self.big, variant, config: Configs.standard)
    }

    @Test("the 2x32 configuration", arguments: [Variant(bias: true, shift: 8, clip: -100...100), Variant(bias: false, shift: 0, clip: -128...127)])
    func altConfig(variant: Variant) throws {
        try Self.check(Problem(m: 17, k: 33, n: 65, seed: 4242, biasRange: -(1 << 20)...(1 << 20)), variant, config: Configs.alt)
        try Self.check(Problem(m: 70, k: 300, n: 90, seed: 4243, bRange: -8...8), variant, config: Configs.alt)
    }

    @Test("batch2 and block32 configurations")
    func otherConfigs() throws {
        let p = Problem(m: 33, k: 70, n: 47, seed: 5, bRange: -16...16)
        try Self.check(p, Variant(bias: true, shift: 8, clip: -128...127), config: Configs.batch2)
        try Self.check(p, Variant(bias: false, shift: 0, clip: 0...127), config: Configs.block32)
    }

    @Test("a small instruction queue forces several synchronisations and stays correct")
    func manyBatches() throws {
        var options = CommandQueue.Options()
        options.instructionCapacity = 64
        let p = Problem(m: 256, k: 1024, n: 128, seed: 0xB16, bRange: -4...4, biasRange: -20_000...20_000)
        let v = Variant(bias: true, shift: 8, clip: -128...127)
        let mm = try MatrixMultiply(m: p.m, k: p.k, n: p.n, shift: v.shift, clip: v.clip)
        let runtime = try makeRuntime(Configs.standard, .fsim)
        let r = try mm.run(on: runtime, a: p.a, b: p.b, bias: p.bias, options: options)
        #expect(r.synchronizations > 1)
        let mine = independentMatmul(a: p.a, b: p.b, bias: p.bias, m: p.m, k: p.k, n: p.n, shift: v.shift, clip: v.clip)
        #expect(mismatches(r.c, mine) == 0)
    }

    @Test("the independent reference on hand-computed values")
    func referenceByHand() {
        // [1 2; 3 4] x [5 6; 7 8]^T = [17 23; 39 53]; +bias [1, -100]; >>2 (floor); clip -10...10.
        let c = independentMatmul(a: [1, 2, 3, 4], b: [5, 6, 7, 8], bias: [1, -100], m: 2, k: 2, n: 2, shift: 2, clip: -10...10)
        // 18>>2=4, -77>>2=-20 -> -10, 40>>2=10, -47>>2=-12 -> -10
        #expect(c == [4, -10, 10, -10])
        #expect(independentMatmul(a: [-1], b: [1], bias: nil, m: 1, k: 1, n: 1, shift: 1, clip: -128...127) == [-1])
    }
}
