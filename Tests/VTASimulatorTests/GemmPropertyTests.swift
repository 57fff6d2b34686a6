import Testing
import VTATestSupport
import VTA
import VTASimulator

/// A naive model of the architectural state and of spec §3.4 (GEMM) and §3.5 (ALU), written
/// from the spec for these tests. All arithmetic is int32 with wrap-around.
struct ReferenceMachine {
    let batch, blockIn, blockOut: Int
    var inp: [[Int8]]          // [row][b * BI + k]
    var wgt: [[Int8]]          // [row][c * BI + k]
    var acc: [[Int32]]         // [row][b * BO + c]
    var uops: [MicroOp]
    /// The hardware profile's separate OUT buffer; nil for rows no GEMM/ALU has written.
    var out: [[Int8]?]
    var gemmCounter: UInt64 = 0
    var aluCounter: UInt64 = 0

    init(config: HardwareConfig, inp: [[Int8]], wgt: [[Int8]], acc: [[Int32]], uops: [MicroOp]) {
        batch = config.batch
        blockIn = config.blockIn
        blockOut = config.blockOut
        self.inp = inp
        self.wgt = wgt
        self.acc = acc
        self.uops = uops
        out = Array(repeating: nil, count: acc.count)
    }

    mutating func gemm(_ g: GemmInstruction) {
        let l = g.loop
        guard l.uopEnd > l.uopBegin else { return }
        for o in 0..<Int(l.iterOut) {
            for i in 0..<Int(l.iterIn) {
                for u in Int(l.uopBegin)..<Int(l.uopEnd) {
                    let m = uops[u]
                    let a = Int(m.dst) + o * Int(l.dstFactorOut) + i * Int(l.dstFactorIn)
                    let x = Int(m.src) + o * Int(l.srcFactorOut) + i * Int(l.srcFactorIn)
                    let w = Int(m.wgt) + o * Int(g.wgtFactorOut) + i * Int(g.wgtFactorIn)
                    var row = acc[a]
                    var outRow = [Int8](repeating: 0, count: batch * blockOut)
                    for b in 0..<batch {
                        for c in 0..<blockOut {
                            var dot: Int32 = 0
                            for k in 0..<blockIn {
                                dot &+= Int32(inp[x][b * blockIn + k]) &* Int32(wgt[w][c * blockIn + k])
                            }
                            let res = row[b * blockOut + c] &+ dot
                            outRow[b * blockOut + c] = Int8(truncatingIfNeeded: res)
                            row[b * blockOut + c] = g.resetReg ? 0 : res
                        }
                    }
                    acc[a] = row
                    out[a] = outRow  // HW: OUT <- low 8 bits of the un-reset sum
                }
            }
        }
        if !g.resetReg { gemmCounter += UInt64(l.iterOut) * UInt64(l.iterIn) * UInt64(l.uopEnd - l.uopBegin) }
    }

    mutating func alu(_ a: AluInstruction, hardwareShift: Bool = false) {
        let l = a.loop
        guard l.uopEnd > l.uopBegin else { return }
        aluCounter += UInt64(l.iterOut) * UInt64(l.iterIn) * UInt64(l.uopEnd - l.uopBegin)
        for o in 0..<Int(l.iterOut) {
            for i in 0..<Int(l.iterIn) {
                for u in Int(l.uopBegin)..<Int(l.uopEnd) {
                    let d = Int(uops[u].dst) + o * Int(l.dstFactorOut) + i * Int(l.dstFactorIn)
                    let s = Int(uops[u].src) + o * Int(l.srcFactorOut) + i * Int(l.srcFactorIn)
                    let src = acc[s]
                    var row = acc[d]
                    for k in 0..<row.count {
                        let x = row[k]
                        let y = a.useImm ? Int32(a.imm) : src[k]
                        switch a.aluOpcode {
                        case .min: row[k] = x < y ? x : y
                        case .max: row[k] = x < y ? y : x
                        case .add: row[k] = x &+ y
                        case .shr:
                            precondition((-16...15).contains(y), "shift amounts outside [-16, 15] are not modelled")
                            row[k] = y >= 0 ? x >> y : Int32(bitPattern: UInt32(bitPattern: x) << UInt32(-y))
                        case .mul: row[k] = x &* y
                        case nil: break
                        }
                    }
                    acc[d] = row
                    out[d] = row.map { Int8(truncatingIfNeeded: $0) }
                }
            }
        }
    }
}

extension SplitMix64 {
    /// A random int32 with a bias towards the edges of the range.
    mutating func int32() -> Int32 {
        switch next() % 10 {
        case 0: return Int32.max - Int32(next() % 4)
        case 1: return Int32.min + Int32(next() % 4)
        case 2: return Int32(int(-300...300))
        default: return Int32(truncatingIfNeeded: next())
        }
    }

    mutating func int8s(_ n: Int) -> [Int8] { bytes(n).map { Int8(bitPattern: $0) } }
}

/// Random GEMM programs against the reference model.
@Suite("GEMM property")
struct GemmPropertyTests {
    @Test("random GEMM programs match the model of spec §3.4", arguments: TestConfig.all, SimulatorProfile.allCases)
    func randomGemm(testConfig: TestConfig, profile: SimulatorProfile) throws {
        let config = try testConfig.make()
        var rng = SplitMix64(seed: 0x6E33 &+ UInt64(config.blockIn * 10 + config.batch) &+ (profile == .fsim ? 0 : 1000))
        let B = config.batch, BI = config.blockIn, BO = config.blockOut
        let nInp = 32, nWgt = 16, nAcc = 64
        var gemmsRun = 0
        for trial in 0..<12 {
            let nUop = rng.int(1...8)
            let uops = (0..<nUop).map { _ in MicroOp(dst: UInt32(rng.int(0...7)), src: UInt32(rng.int(0...7)), wgt: UInt32(rng.int(0...3))) }
            let inpData = (0..<nInp).map { _ in rng.int8s(B * BI) }
            let wgtData = (0..<nWgt).map { _ in rng.int8s(BO * BI) }
            let accData = (0..<nAcc).map { _ in (0..<(B * BO)).map { _ in rng.int32() } }
            var model = ReferenceMachine(config: config, inp: inpData, wgt: wgtData, acc: accData, uops: uops)

            let h = try Harness(config: config, profile: profile)
            let inp = try h.buffer(inpData.flatMap { $0.map { UInt8(bitPattern: $0) } })
            let wgt = try h.buffer(wgtData.flatMap { $0.map { UInt8(bitPattern: $0) } })
            let bias = try h.buffer(int32Bytes(accData.flatMap { $0 }))
            let uop = try h.buffer(try uops.flatMap { MicroOpBytes.bytes(try config.isa.encode($0)) })
            let sentinel = rng.bytes(nAcc * config.outElemBytes)
            let out = try h.buffer(sentinel)

            // Loop nests: indices stay below 7 + 3*4 + 3*4 = 31 (ACC, INP) and 3 + 3*2*2 = 15 (WGT).
            var gemms: [GemmInstruction] = []
            for n in 0..<rng.int(1...4) {
                let begin = rng.int(0...(nUop - 1))
                let loop = LoopFields(
                    uopBegin: UInt32(begin), uopEnd: UInt32(rng.next() % 8 == 0 ? begin : rng.int(begin...nUop)),
                    iterOut: UInt32(rng.next() % 10 == 0 ? 0 : rng.int(1...4)), iterIn: UInt32(rng.int(1...4)),
                    dstFactorOut: UInt32(rng.int(0...4)), dstFactorIn: UInt32(rng.int(0...4)),
                    srcFactorOut: UInt32(rng.int(0...4)), srcFactorIn: UInt32(rng.int(0...4)))
                gemms.append(GemmInstruction(deps: n == 0 ? .popPrev : [], resetReg: n > 0 && rng.next() % 4 == 0, loop: loop,
                                             wgtFactorOut: UInt32(rng.int(0...2)), wgtFactorIn: UInt32(rng.int(0...2))))
            }
            gemms[gemms.count - 1].deps.insert(.pushNext)
            var insns: [Instruction] = [
                load(.inp, dram: inp, bytesPerElement: config.inpElemBytes, x: nInp),
                load(.wgt, dram: wgt, bytesPerElement: config.wgtElemBytes, x: nWgt, deps: .pushNext),
                load(.uop, dram: uop, bytesPerElement: 4, x: nUop),
                load(.acc, dram: bias, bytesPerElement: config.accElemBytes, x: nAcc),
            ]
            insns += gemms.map { .gemm($0) }
            insns += [store(dram: out, bytesPerElement: config.outElemBytes, x: nAcc, deps: [.popPrev, .pushPrev]), .finish(.popNext)]
            for g in gemms { model.gemm(g) }
            gemmsRun += gemms.count

            let report: RunReport
            switch try h.run(insns) {
            case .success(let r): report = r
            case .failure(let e):
                Issue.record("\(testConfig) \(profile) trial \(trial): \(e)")
                continue
            }
            let context = "\(testConfig) \(profile) trial \(trial)"
            // Accumulators, read back through the simulator.
            var accMismatches = 0
            for row in 0..<nAcc {
                for lane in 0..<(B * BO) where h.sim.accumulator(row: row, lane: lane) != model.acc[row][lane] {
                    accMismatches += 1
                }
            }
            #expect(accMismatches == 0, "\(context): \(accMismatches) accumulator lanes differ")
            // The stored bytes: fsim narrows every ACC row; hardware stores the OUT rows GEMM wrote.
            let stored = try h.read(out, nAcc * config.outElemBytes)
            let lanes = B * BO
            var outMismatches = 0
            for row in 0..<nAcc {
                let got = stored[(row * lanes)..<((row + 1) * lanes)].map { Int8(bitPattern: $0) }
                let want: [Int8]? = profile == .fsim ? model.acc[row].map { Int8(truncatingIfNeeded: $0) } : model.out[row]
                if let want, Array(got) != want { outMismatches += 1 }
            }
            #expect(outMismatches == 0, "\(context): \(outMismatches) stored rows differ")
            // Profiler counters (spec §7.3).
            var counters = ProfilerCounters()
            counters.inpLoadNbytes = UInt64(nInp * config.inpElemBytes)
            counters.wgtLoadNbytes = UInt64(nWgt * config.wgtElemBytes)
            counters.accLoadNbytes = UInt64(nAcc * config.accElemBytes)
            counters.uopLoadNbytes = UInt64(nUop * 4)
            counters.outStoreNbytes = UInt64(nAcc * B * BO)
            counters.gemmCounter = model.gemmCounter
            #expect(report.counters == counters, "\(context)")
        }
        #expect(gemmsRun >= 12)
    }
}
