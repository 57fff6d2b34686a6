import Testing
import VTATestSupport
import VTA
import VTASimulator

/// Random ALU programs against the reference model, and the profile-specific ALU behaviour the
/// spec measured (§3.5, §3.8 D2/D3).
@Suite("ALU property")
struct AluPropertyTests {
    static let ops: [AluOpcode] = [.min, .max, .add, .shr]

    static func imm16(_ rng: inout SplitMix64) -> Int16 {
        switch rng.next() % 6 {
        case 0: return [Int16.min, Int16.max, 0, -1, 1][rng.int(0...4)]
        case 1: return Int16(rng.int(-40...40))
        default: return Int16(truncatingIfNeeded: rng.next())
        }
    }

    @Test("random MIN/MAX/ADD/SHR programs (immediate and vector) match the model of spec §3.5",
          arguments: TestConfig.all, SimulatorProfile.allCases)
    func randomAlu(testConfig: TestConfig, profile: SimulatorProfile) throws {
        let config = try testConfig.make()
        let lanes = config.batch * config.blockOut
        var rng = SplitMix64(seed: 0xA1 &+ UInt64(config.blockIn * 10 + config.batch) &+ (profile == .fsim ? 0 : 1000))
        // ACC rows 0..<32 hold data and are the only destinations; rows 32..<64 hold shift
        // amounts in [-16, 15] (the range where both profiles agree) and are only read.
        let nAcc = 64, nData = 32
        // Micro-ops 0..<8 read data rows 0..<16; micro-ops 8..<16 read shift rows 32..<40.
        // Indices stay below 7 + 2*4*3 = 31 (dst), 15 + 2*2*3 = 27 and 39 + 2*2*3 = 51 (src).
        var seenOps = Set<String>()
        for trial in 0..<12 {
            let uops = (0..<16).map { u in
                MicroOp(dst: UInt32(rng.int(0...7)), src: UInt32(u < 8 ? rng.int(0...15) : rng.int(32...39)))
            }
            let accData: [[Int32]] = (0..<nAcc).map { row in
                (0..<lanes).map { _ in row < nData ? rng.int32() : Int32(rng.int(-16...15)) }
            }
            var model = ReferenceMachine(config: config, inp: [], wgt: [], acc: accData, uops: uops)
            let h = try Harness(config: config, profile: profile)
            let uopAddr = try h.buffer(try uops.flatMap { MicroOpBytes.bytes(try config.isa.encode($0)) })
            let accAddr = try h.buffer(int32Bytes(accData.flatMap { $0 }))
            let outAddr = try h.buffer(rng.bytes(nData * config.outElemBytes))

            var alus: [AluInstruction] = []
            for j in 0..<rng.int(1...6) {
                // The first instruction of trial t is combination t % 8, so all eight are covered.
                let combo = j == 0 ? trial % 8 : rng.int(0...7)
                let op = Self.ops[combo % 4]
                let useImm = combo >= 4
                let begin = op == .shr && !useImm ? rng.int(8...15) : rng.int(0...15)
                let loop = LoopFields(
                    uopBegin: UInt32(begin), uopEnd: UInt32(rng.next() % 10 == 0 ? begin : rng.int(begin...16)),
                    iterOut: UInt32(rng.next() % 10 == 0 ? 0 : rng.int(1...4)), iterIn: UInt32(rng.int(1...4)),
                    dstFactorOut: UInt32(rng.int(0...4)), dstFactorIn: UInt32(rng.int(0...4)),
                    srcFactorOut: UInt32(rng.int(0...2)), srcFactorIn: UInt32(rng.int(0...2)))
                let imm = op == .shr ? Int16(rng.int(-16...15)) : Self.imm16(&rng)
                alus.append(AluInstruction(loop: loop, aluOpcode: op, useImm: useImm, imm: imm))
                seenOps.insert("\(op.name)/\(useImm ? "imm" : "vec")")
            }
            alus[alus.count - 1].deps = .pushNext
            var insns: [Instruction] = [
                load(.uop, dram: uopAddr, bytesPerElement: 4, x: 16),
                load(.acc, dram: accAddr, bytesPerElement: config.accElemBytes, x: nAcc),
            ]
            insns += alus.map { .alu($0) }
            insns += [store(dram: outAddr, bytesPerElement: config.outElemBytes, x: nData, deps: [.popPrev, .pushPrev]), .finish(.popNext)]
            for a in alus { model.alu(a) }

            let context = "\(testConfig) \(profile) trial \(trial)"
            let report: RunReport
            switch try h.run(insns) {
            case .success(let r): report = r
            case .failure(let e):
                Issue.record("\(context): \(e)")
                continue
            }
            var accMismatches = 0
            for row in 0..<nAcc {
                for lane in 0..<lanes where h.sim.accumulator(row: row, lane: lane) != model.acc[row][lane] {
                    accMismatches += 1
                }
            }
            #expect(accMismatches == 0, "\(context): \(accMismatches) accumulator lanes differ")
            let stored = try h.read(outAddr, nData * config.outElemBytes)
            var outMismatches = 0, rowsCompared = 0
            for row in 0..<nData {
                let got = stored[(row * lanes)..<((row + 1) * lanes)].map { Int8(bitPattern: $0) }
                let want: [Int8]? = profile == .fsim ? model.acc[row].map { Int8(truncatingIfNeeded: $0) } : model.out[row]
                if let want {
                    rowsCompared += 1
                    if Array(got) != want { outMismatches += 1 }
                }
            }
            #expect(outMismatches == 0, "\(context): \(outMismatches) of \(rowsCompared) stored rows differ")
            var counters = ProfilerCounters()
            counters.accLoadNbytes = UInt64(nAcc * config.accElemBytes)
            counters.uopLoadNbytes = 64
            counters.outStoreNbytes = UInt64(nData * lanes)
            counters.aluCounter = model.aluCounter
            #expect(report.counters == counters, "\(context)")
        }
        #expect(seenOps.count == 8, "\(seenOps)")
    }

    /// Runs one ALU instruction over ACC rows 0 and 1 (micro-ops (0,0) and (1,1)).
    static func runAlu(_ profile: SimulatorProfile, rows: [Int32], src: [Int32]? = nil, op: AluOpcode, useImm: Bool, imm: Int16) throws -> [Int32]? {
        let config = HardwareConfig.standard
        let h = try Harness(config: config, profile: profile)
        let uops = [MicroOp(dst: 0, src: src == nil ? 0 : 2), MicroOp(dst: 1, src: src == nil ? 1 : 3)]
        let uopAddr = try h.buffer(try uops.flatMap { MicroOpBytes.bytes(try config.isa.encode($0)) })
        var values = rows + (src ?? [])
        values = values.flatMap { v in [Int32](repeating: v, count: 16) }
        let accAddr = try h.buffer(int32Bytes(values))
        let n = rows.count + (src?.count ?? 0)
        let insns: [Instruction] = [
            load(.uop, dram: uopAddr, bytesPerElement: 4, x: 2),
            load(.acc, dram: accAddr, bytesPerElement: 64, x: n),
            .alu(AluInstruction(loop: LoopFields(uopBegin: 0, uopEnd: UInt32(rows.count)), aluOpcode: op, useImm: useImm, imm: imm)),
            .finish([]),
        ]
        guard case .success = try h.run(insns) else { Issue.record("\(profile) \(op.name) \(imm) failed"); return nil }
        return (0..<rows.count).map { r in
            let lanes = (0..<16).compactMap { h.sim.accumulator(row: r, lane: $0) }
            #expect(Set(lanes).count == 1, "lanes of row \(r) differ: \(lanes)")
            return lanes[0]
        }
    }

    @Test("SHR amounts outside [-16, 15]: the measured HW and fsim results of spec §3.5")
    func shiftTable() throws {
        let x: Int32 = 0x1234_5678
        let table: [(Int16, UInt32, UInt32)] = [   // immediate, hardware, fsim
            (16, 0x5678_0000, 0x0000_1234), (17, 0x2B3C_0000, 0x0000_091A), (24, 0x3456_7800, 0x0000_0012),
            (31, 0x2468_ACF0, 0), (32, 0x1234_5678, 0), (33, 0x091A_2B3C, 0), (-17, 0x0000_2468, 0xACF0_0000),
            (-20, 0x0001_2345, 0x6780_0000), (-31, 0x091A_2B3C, 0), (-32, 0x1234_5678, 0), (-33, 0x2468_ACF0, 0),
            (3, 0x0246_8ACF, 0x0246_8ACF), (-3, 0x91A2_B3C0, 0x91A2_B3C0),
        ]
        for (imm, hw, fsim) in table {
            let h = try Self.runAlu(.hardware, rows: [x, -x], op: .shr, useImm: true, imm: imm)
            let f = try Self.runAlu(.fsim, rows: [x, -x], op: .shr, useImm: true, imm: imm)
            #expect(h?[0] == Int32(bitPattern: hw), "hardware SHR \(imm)")
            #expect(f?[0] == Int32(bitPattern: fsim), "fsim SHR \(imm)")
        }
        // fsim: an immediate shift of 32 or more fills negative lanes with the sign.
        #expect(try Self.runAlu(.fsim, rows: [x, -x], op: .shr, useImm: true, imm: 32) == [0, -1])
        #expect(try Self.runAlu(.hardware, rows: [x, -x], op: .shr, useImm: true, imm: 32) == [x, -x])
    }

    @Test("MUL multiplies under fsim and leaves ACC unchanged under hardware (spec §3.8 D3)")
    func mul() throws {
        let rows: [Int32] = [100_000, -7]
        #expect(try Self.runAlu(.fsim, rows: rows, op: .mul, useImm: true, imm: -30_000) == [rows[0] &* -30_000, 210_000])
        #expect(try Self.runAlu(.fsim, rows: rows, src: [50_000, Int32.min], op: .mul, useImm: false, imm: 0)
            == [rows[0] &* 50_000, -7 &* Int32.min])
        #expect(try Self.runAlu(.hardware, rows: rows, op: .mul, useImm: true, imm: -30_000) == rows)
        #expect(try Self.runAlu(.hardware, rows: rows, src: [50_000, 3], op: .mul, useImm: false, imm: 0) == rows)
    }
}
