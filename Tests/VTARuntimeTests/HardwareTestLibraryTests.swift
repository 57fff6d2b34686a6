import Testing
import VTATestSupport
import VTA
import VTARuntime
import VTASimulator

/// The upstream hardware test list (spec §8.2–8.5) run through the command queue on the
/// simulator, under both profiles, for the stock configuration and the 2x32 configuration of the
/// shared conformance data. The grid includes every call of both invocation lists of §8.5
/// (`metal_test`: batch 16, vector 128; `vta_test`: batch BLOCK_OUT, vector 128; blocked GEMM 256/256/4·BO).
@Suite("Upstream hardware test library on the command queue (spec §8)")
struct HardwareTestLibraryTests {
    static let targets = Target.standardBoth + Target.altBoth

    // MARK: alu_test

    @Test("alu_test: immediate and vector, sizes 16/64/128, batch BATCH/16/BLOCK_OUT, with and without compression",
          arguments: targets, [AluOpcode.min, .max, .add, .shr])
    func aluTest(target: Target, op: AluOpcode) throws {
        let c = target.config
        let runtime = try makeRuntime(c, target.profile)
        let batches = Array(Set([c.batch, 16, c.blockOut])).sorted()
        var seed: UInt64 = 0xA1_0000 + UInt64(op.rawValue) << 8
        var runs = 0
        for useImm in [true, false] {
            // Vector sizes must be multiples of BLOCK_OUT (§8.2 precondition): 16 is skipped for 2x32.
            for size in [16, 64, 128] where size % c.blockOut == 0 {
                for batch in batches {
                    for compression in [true, false] {
                        seed += 1
                        let bad = try UpstreamTests.aluTest(runtime, op: op, useImm: useImm, batch: batch, vectorSize: size,
                                                            compression: compression, seed: seed)
                        #expect(bad == 0, "alu_test(\(op.name), \(useImm ? "imm" : "vector"), batch \(batch), size \(size), \(compression ? "compressed" : "uncompressed")): \(bad) mismatches")
                        runs += 1
                    }
                }
            }
        }
        #expect(runs == (c.blockOut == 16 ? 2 * 3 * batches.count * 2 : 2 * 2 * batches.count * 2))
    }

    @Test("the ALU reference follows spec §3.5 on hand-computed values")
    func aluReferenceValues() {
        #expect(aluReference(.shr, -8, 2) == -2)          // arithmetic right shift
        #expect(aluReference(.shr, -8, -3) == -64)        // negative amount shifts left
        #expect(aluReference(.shr, 1000, 0) == 1000)
        #expect(aluReference(.min, -5, 3) == -5 && aluReference(.max, -5, 3) == 3)
        #expect(aluReference(.add, Int32.max, 1) == Int32.min)   // 32-bit wrap
        #expect(Int8(truncatingIfNeeded: aluReference(.add, 100, 100)) == -56)   // stored as the low 8 bits
    }

    // MARK: gemm_test

    static func gemmSizes(_ c: HardwareConfig) -> [(batch: Int, inC: Int, outC: Int)] {
        let (B, BI, BO) = (c.batch, c.blockIn, c.blockOut)
        // vta_test's gemm_test(4·B, 4·BO, 4·BI), plus non-square and larger shapes. The uncompressed
        // micro-op order needs out/BO ≥ 3 to satisfy the recorder's two-previous-dst rule (§6.4).
        return [(4 * B, 4 * BO, 4 * BI), (8 * B, 3 * BI, 3 * BO), (2 * B, 5 * BI, 3 * BO), (32 * B, 8 * BI, 8 * BO)]
    }

    @Test("gemm_test at several sizes, with and without compression",
          arguments: targets + [Target(config: Configs.batch2, profile: .hardware), Target(config: Configs.block32, profile: .fsim)])
    func gemmTest(target: Target) throws {
        let runtime = try makeRuntime(target.config, target.profile)
        for (n, s) in Self.gemmSizes(target.config).enumerated() {
            let data = UpstreamTests.GEMMData(batch: s.batch, inC: s.inC, outC: s.outC, seed: 0x6E_0000 + UInt64(n))
            for compression in [true, false] {
                let out = try UpstreamTests.gemmTest(runtime, data, compression: compression)
                let bad = zip(out, data.expected).filter { $0 != $1 }.count
                #expect(bad == 0, "gemm_test(\(s.batch), \(s.inC), \(s.outC), \(compression ? "compressed" : "uncompressed")): \(bad) mismatches")
            }
        }
    }

    // MARK: blocked_gemm_test

    struct BlockedCase: Sendable, CustomTestStringConvertible {
        let compression: Bool
        let vt: Int
        var testDescription: String { "\(compression ? "compressed" : "uncompressed"), vt=\(vt)" }
        static let all = [BlockedCase(compression: true, vt: 2), BlockedCase(compression: false, vt: 2),
                          BlockedCase(compression: true, vt: 1), BlockedCase(compression: false, vt: 1)]
    }

    /// Data and CPU reference of blocked_gemm_test(256, 256, ·), computed once per configuration.
    static let standardBlockedData = UpstreamTests.GEMMData(batch: 256, inC: 256, outC: 256, seed: 0xB10C)
    static let altBlockedData = UpstreamTests.GEMMData(batch: 256, inC: 256, outC: 256, seed: 0xB10D)

    @Test("blocked_gemm_test(256, 256, 4·BO) with and without compression, virtual threads 1 and 2",
          arguments: targets, BlockedCase.all)
    func blockedGEMM(target: Target, variant: BlockedCase) throws {
        let c = target.config
        let data = c == Configs.standard ? Self.standardBlockedData : Self.altBlockedData
        let runtime = try makeRuntime(c, target.profile)
        let out = try UpstreamTests.blockedGEMMTest(runtime, data, block: 4 * c.blockOut, compression: variant.compression, vt: variant.vt)
        let bad = zip(out, data.expected).filter { $0 != $1 }.count
        #expect(out.count == data.expected.count)
        #expect(bad == 0, "blocked_gemm_test(256, 256, \(4 * c.blockOut), \(variant.testDescription)): \(bad) mismatches")
    }
}
