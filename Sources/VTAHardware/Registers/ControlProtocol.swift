import VTA

/// A named device register at an absolute physical address.
public struct Register: Sendable, Hashable {
    public let name: String
    public let address: UInt64
    public init(_ name: String, _ address: UInt64) {
        self.name = name
        self.address = address
    }
}

/// What the driver writes into a register when it launches a run.
public enum RegisterValue: Sendable, Hashable {
    case constant(UInt32)
    /// Number of instructions in the stream.
    case instructionCount
    /// Low / high 32 bits of the stream's device address.
    case instructionAddressLow
    case instructionAddressHigh
}

/// One register write of the launch sequence.
public struct RegisterWrite: Sendable, Hashable {
    public let register: Register
    public let value: RegisterValue
    public init(_ register: Register, _ value: RegisterValue) {
        self.register = register
        self.value = value
    }
}

/// `(register & mask) == expected`.
public struct RegisterCondition: Sendable, Hashable {
    public let register: Register
    public let mask: UInt32
    public let expected: UInt32
}

/// A register window the driver maps: name, physical base, bytes.
public struct WindowSpec: Sendable, Hashable {
    public let name: String
    public let base: UInt64
    public let size: Int
}

/// How to drive one register flavour, as data (spec §5): which windows exist, what to write to
/// launch a run, what says it finished, and which registers a dump shows. Supporting another
/// shell means another value of this type, not another code path.
public struct ControlProtocol: Sendable {
    public let flavour: RegisterFlavour
    public let windows: [WindowSpec]
    /// Written first, in order (counts, addresses, DMA bases).
    public let setup: [RegisterWrite]
    /// Written after an I/O write barrier, in order (the doorbell).
    public let start: [RegisterWrite]
    /// All must hold for the run to be complete.
    public let completion: [RegisterCondition]
    /// The HLS `done` register keeps its value from the previous run until the first compute
    /// instruction of the next one executes (spec §5.1), and that instruction may wait on a token.
    /// When set, the driver puts a compute no-op without dependency flags in front of every
    /// stream, so `done` is cleared as the first compute action, and only trusts `done` once the
    /// fetch module reports the stream consumed (which happens after the no-op was dispatched).
    public let staleDoneGuard: Bool
    /// Registers shown in a dump (timeouts, `vtactl board regs`).
    public let dump: [Register]
    /// Cycle counter latched at finish, when the shell has one.
    public let cycleCounter: Register?

    /// The protocol of a board target.
    /// - Parameter pointerBits: 32 or 64 (Chisel shells with 64-bit pointers use register pairs).
    public static func forTarget(_ target: TargetProfile, pointerBits: Int = 32) throws(BoardError) -> ControlProtocol {
        switch target.flavour {
        case .xilinxHLS: return xilinxHLS(target)
        case .chiselVCR: return try chiselVCR(target, pointerBits: pointerBits)
        case .simulated:
            throw .invalidOptions("target \(target.name) is a simulator target with no registers; use --board pynq|ultra96|zcu104|de10nano")
        }
    }

    /// Four Vivado-HLS blocks, each with its own window (spec §5.1).
    static func xilinxHLS(_ t: TargetProfile) -> ControlProtocol {
        let size = Int(t.registerMapRange)
        let fetchControl = Register("fetch.control", t.fetchBase + 0x00)
        let fetchCount = Register("fetch.insn_count", t.fetchBase + 0x10)
        let fetchAddress = Register("fetch.insn_addr", t.fetchBase + 0x18)
        let loadControl = Register("load.control", t.loadBase + 0x00)
        let loadInp = Register("load.inp_addr", t.loadBase + 0x10)
        let loadWgt = Register("load.wgt_addr", t.loadBase + 0x18)
        let computeControl = Register("compute.control", t.computeBase + 0x00)
        let computeDoneIn = Register("compute.done_i", t.computeBase + 0x10)
        let computeDone = Register("compute.done_o", t.computeBase + 0x18)
        let computeUop = Register("compute.uop_addr", t.computeBase + 0x20)
        let computeAcc = Register("compute.biases_addr", t.computeBase + 0x28)
        let storeControl = Register("store.control", t.storeBase + 0x00)
        let storeOut = Register("store.outputs_addr", t.storeBase + 0x10)
        return ControlProtocol(
            flavour: .xilinxHLS,
            windows: [WindowSpec(name: "fetch", base: t.fetchBase, size: size), WindowSpec(name: "load", base: t.loadBase, size: size),
                      WindowSpec(name: "compute", base: t.computeBase, size: size), WindowSpec(name: "store", base: t.storeBase, size: size)],
            setup: [RegisterWrite(fetchCount, .instructionCount), RegisterWrite(fetchAddress, .instructionAddressLow),
                    RegisterWrite(loadInp, .constant(0)), RegisterWrite(loadWgt, .constant(0)),
                    RegisterWrite(computeUop, .constant(0)), RegisterWrite(computeAcc, .constant(0)),
                    RegisterWrite(storeOut, .constant(0))],
            // Fetch runs once over the stream; the other modules take one instruction per
            // activation, so they run with auto-restart (0x81) for the whole program. They are
            // started before fetch (upstream starts fetch first): compute is then already waiting
            // when fetch dispatches the stale-done guard, which narrows the guard's window.
            start: [RegisterWrite(loadControl, .constant(0x81)), RegisterWrite(computeControl, .constant(0x81)),
                    RegisterWrite(storeControl, .constant(0x81)), RegisterWrite(fetchControl, .constant(0x1))],
            completion: [RegisterCondition(register: fetchControl, mask: 0x4, expected: 0x4),
                         RegisterCondition(register: computeDone, mask: 0x1, expected: 0x1)],
            staleDoneGuard: true,
            dump: [fetchControl, fetchCount, fetchAddress, loadControl, loadInp, loadWgt, computeControl, computeDoneIn,
                   computeDone, computeUop, computeAcc, storeControl, storeOut],
            cycleCounter: nil)
    }

    /// One Chisel VCR window (spec §5.2).
    static func chiselVCR(_ t: TargetProfile, pointerBits: Int) throws(BoardError) -> ControlProtocol {
        guard pointerBits == 32 || pointerBits == 64 else { throw .invalidOptions("VCR pointers are 32 or 64 bits, not \(pointerBits)") }
        let b = t.fetchBase
        let wide = pointerBits == 64
        let control = Register("vcr.control", b + 0x00)
        let cycles = Register("vcr.cycles", b + 0x04)
        let count = Register("vcr.insn_count", b + 0x08)
        var setup = [RegisterWrite(cycles, .constant(0)), RegisterWrite(count, .instructionCount)]
        var dump = [control, cycles, count]
        let names = ["insn", "uop", "inp", "wgt", "acc", "out"]
        for (i, name) in names.enumerated() {
            let lo = Register("vcr.\(name)_addr" + (wide ? "_lo" : ""), b + 0x0C + UInt64(i * (wide ? 8 : 4)))
            dump.append(lo)
            setup.append(RegisterWrite(lo, i == 0 ? .instructionAddressLow : .constant(0)))
            if wide {
                let hi = Register("vcr.\(name)_addr_hi", lo.address + 4)
                dump.append(hi)
                setup.append(RegisterWrite(hi, i == 0 ? .instructionAddressHigh : .constant(0)))
            }
        }
        let accWrites = Register("vcr.acc_writes", b + (wide ? 0x3C : 0x24))
        dump.append(accWrites)
        return ControlProtocol(
            flavour: .chiselVCR,
            windows: [WindowSpec(name: "vcr", base: b, size: Int(t.registerMapRange))],
            setup: setup,
            // Writing launch also clears the finish bit left by the previous run, so the VCR has
            // no stale-completion problem.
            start: [RegisterWrite(control, .constant(0x1))],
            completion: [RegisterCondition(register: control, mask: 0x2, expected: 0x2)],
            staleDoneGuard: false,
            dump: dump,
            cycleCounter: cycles)
    }
}

/// A board's way to reset the programmable logic without reprogramming it, as register steps on
/// physical addresses (through /dev/mem: root only).
public struct PLResetSequence: Sendable {
    public enum Step: Sendable, Hashable {
        case write(UInt64, UInt32)
        case setBits(UInt64, UInt32)
        case clearBits(UInt64, UInt32)
        case pauseMicroseconds(Int)
    }
    public let description: String
    public let steps: [Step]
    /// Pages to map (physical base, bytes).
    public var pages: [UInt64] { Array(Set(steps.compactMap { s -> UInt64? in
        switch s {
        case .write(let a, _), .setBits(let a, _), .clearBits(let a, _): return a & ~0xFFF
        case .pauseMicroseconds: return nil
        }
    })).sorted() }

    /// Zynq-7000: FCLK_RESET0..3 in SLCR FPGA_RST_CTRL (0xF8000240) after unlocking the SLCR.
    /// The SLCR is left unlocked, as Linux leaves it at boot: re-locking it would make the
    /// kernel's own later SLCR writes (clocks, FPGA manager) fail silently.
    public static let zynq7000 = PLResetSequence(
        description: "Zynq-7000 SLCR FPGA_RST_CTRL (0xF8000240) FCLK_RESET0-3 pulse",
        steps: [.write(0xF800_0008, 0xDF0D), .setBits(0xF800_0240, 0xF), .pauseMicroseconds(20_000),
                .clearBits(0xF800_0240, 0xF)])
    /// Zynq UltraScale+: pl_resetn0 is an EMIO GPIO (bank 5, bit 31 = EMIO 95 per UG1085; verify on
    /// the board): drive it low, then high.
    public static let zynqMP = PLResetSequence(
        description: "ZynqMP pl_resetn0 (GPIO bank 5 bit 31, 0xFF0A0054) pulse",
        steps: [.setBits(0xFF0A_0344, 0x8000_0000), .setBits(0xFF0A_0348, 0x8000_0000),
                .clearBits(0xFF0A_0054, 0x8000_0000), .pauseMicroseconds(20_000), .setBits(0xFF0A_0054, 0x8000_0000)])

    /// The PL reset of a target, or nil when the board has none (de10nano: reprogram instead).
    public static func forTarget(_ t: TargetProfile) -> PLResetSequence? {
        switch t.family {
        case "zynq-7000": return zynq7000
        case "zynq-ultrascale+": return zynqMP
        default: return nil
        }
    }
}
