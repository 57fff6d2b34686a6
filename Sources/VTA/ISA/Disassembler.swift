/// Turns instructions into one readable line each, for people who know VTA.
///
/// Example lines (default configuration):
/// ```
///    0  LOAD   INP  sram=0x0000 dram=0x00000100 y=1 x=15 stride=15 pad=y(0,0) x(0,0)
///    4  GEMM   uop=[0,1) out(iter=3 acc+1 inp+3 wgt+5) in(iter=5 acc+2 inp+4 wgt+6)  pop_prev push_next
///    7  ALU    SHR imm=-3 uop=[1,2) out(iter=1 dst+0 src+0) in(iter=8 dst+1 src+1)
///   14  FINISH                                                        pop_next
/// ```
public struct Disassembler: Sendable {
    public let layout: ISALayout

    public init(layout: ISALayout) { self.layout = layout }
    public init(config: HardwareConfig) { self.layout = config.isa }

    /// One line for the instruction at `index` (the index is printed first).
    public func line(_ word: InstructionWord, index: Int? = nil) -> String {
        let prefix = index.map { i -> String in
            let n = String(i)
            return String(repeating: " ", count: max(0, 5 - n.count)) + n + "  "
        } ?? ""
        return prefix + describe(layout.decode(word), raw: word)
    }

    /// Disassembles a whole stream, one line per 16 bytes.
    public func listing(_ words: [InstructionWord]) -> String {
        words.enumerated().map { line($0.element, index: $0.offset) }.joined(separator: "\n")
    }

    /// The text of one decoded instruction (without index).
    public func describe(_ insn: Instruction, raw: InstructionWord? = nil) -> String {
        var text: String
        switch insn {
        case .load(let m), .store(let m):
            let isStore = if case .store = insn { true } else { false }
            let type = m.memoryType?.name ?? "type\(m.memoryTypeBits)"
            let op = isStore ? "STORE" : "LOAD"
            if m.xSize == 0 && m.ySize == 0 && m.xPad0 == 0 && m.xPad1 == 0 && m.yPad0 == 0 && m.yPad1 == 0 {
                text = "\(pad(op, 6)) \(pad(type, 4)) nop"
            } else {
                text = "\(pad(op, 6)) \(pad(type, 4)) sram=0x\(hex(m.sramBase, 4)) dram=0x\(hex(m.dramBase, 8))"
                    + " y=\(m.ySize) x=\(m.xSize) stride=\(m.xStride)"
                if m.yPad0 | m.yPad1 | m.xPad0 | m.xPad1 != 0 {
                    text += " pad=y(\(m.yPad0),\(m.yPad1)) x(\(m.xPad0),\(m.xPad1))"
                }
            }
        case .gemm(let g):
            let l = g.loop
            text = "GEMM   " + (g.resetReg ? "reset " : "")
                + "uop=[\(l.uopBegin),\(l.uopEnd))"
                + " out(iter=\(l.iterOut) acc+\(l.dstFactorOut) inp+\(l.srcFactorOut) wgt+\(g.wgtFactorOut))"
                + " in(iter=\(l.iterIn) acc+\(l.dstFactorIn) inp+\(l.srcFactorIn) wgt+\(g.wgtFactorIn))"
        case .alu(let a):
            let l = a.loop
            let op = a.aluOpcode?.name ?? "op\(a.aluOpcodeBits)"
            let operand = a.useImm ? "imm=\(a.imm)" : "vec"
            text = "ALU    \(op) \(operand)" + (a.resetReg ? " reset" : "")
                + " uop=[\(l.uopBegin),\(l.uopEnd))"
                + " out(iter=\(l.iterOut) dst+\(l.dstFactorOut) src+\(l.srcFactorOut))"
                + " in(iter=\(l.iterIn) dst+\(l.dstFactorIn) src+\(l.srcFactorIn))"
        case .finish:
            text = "FINISH"
        case .undefined(let opcode, let w):
            text = "UNDEF  opcode=\(opcode) raw=\((raw ?? w).hex)"
        }
        let deps = insn.deps.names
        if !deps.isEmpty { text += "  [" + deps.joined(separator: " ") + "]" }
        return text
    }

    private func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s : s + String(repeating: " ", count: n - s.count)
    }

    private func hex(_ v: UInt32, _ digits: Int) -> String {
        let s = String(v, radix: 16)
        return s.count >= digits ? s : String(repeating: "0", count: digits - s.count) + s
    }

    /// A micro-op as `dst=5 src=6 wgt=7`.
    public func describe(uop word: UInt32) -> String {
        let u = layout.decode(uop: word)
        return "dst=\(u.dst) src=\(u.src) wgt=\(u.wgt)"
    }
}
