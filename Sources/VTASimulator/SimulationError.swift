import VTA

/// The two behaviour profiles of the simulator (spec §3.8–3.9, docs/simulator.md).
public enum SimulatorProfile: String, Sendable, Hashable, CaseIterable {
    /// Exactly TVM's functional simulator (`TARGET=sim`).
    case fsim
    /// Exactly the Xilinx HLS bitstreams (pynq, ultra96, zcu104).
    case hardware

    /// The default profile for a target: `hardware` for boards, `fsim` for simulators.
    public static func `default`(for target: TargetProfile) -> SimulatorProfile {
        target.isBoard ? .hardware : .fsim
    }
}

/// Why a simulated run failed. Every case names the instruction (index in the stream) and what
/// was wrong; nothing in a program can crash or hang the simulator.
public enum SimulationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration uses value widths the simulator does not implement.
    case unsupportedConfiguration(String)
    /// The instruction stream itself is not in simulated DRAM.
    case instructionFetch(address: UInt64, count: Int)
    /// A LOAD/STORE touches DRAM outside one live allocation.
    case dmaOutOfRange(instruction: Int, operation: String, start: UInt64, end: UInt64)
    /// An SRAM index is out of range (fsim traps where the hardware wraps).
    case sramOutOfRange(instruction: Int, operation: String, memory: String, index: UInt64, depth: Int)
    /// Something the reference simulator aborts on.
    case rejected(instruction: Int, reason: String)
    /// No module can make progress and the program has not finished.
    case deadlock(blocked: [BlockedModule], executed: Int)
    /// The program ran out of instructions without a FINISH ending it.
    case noFinish(executed: Int, lastExecuted: Int?)
    /// An instruction ran after the final FINISH (fsim would spin forever).
    case finishNotLast(finish: Int, lastExecuted: Int)
    /// The run passed its deadline (the instruction that was executing, if any).
    case timeout(instruction: Int?, executed: Int)

    /// A module stuck at an instruction, waiting on an empty token queue.
    public struct BlockedModule: Sendable, Equatable, CustomStringConvertible {
        public let module: PipelineModule
        public let instruction: Int
        public let queue: TokenQueue
        public var description: String {
            "\(module.rawValue) module at instruction \(instruction) waits on an empty \(queue.rawValue) queue"
        }
    }

    public var description: String {
        switch self {
        case .unsupportedConfiguration(let why):
            return "unsupported configuration: \(why)"
        case .instructionFetch(let a, let n):
            return "cannot fetch \(n) instructions at 0x\(String(a, radix: 16)): the range is not inside one allocated buffer"
        case .dmaOutOfRange(let i, let op, let s, let e):
            return "instruction \(i) (\(op)): DMA range 0x\(String(s, radix: 16))..<0x\(String(e, radix: 16)) is outside allocated memory (or crosses the end of its buffer)"
        case .sramOutOfRange(let i, let op, let mem, let idx, let depth):
            return "instruction \(i) (\(op)): \(mem) SRAM index \(idx) is out of range (depth \(depth))"
        case .rejected(let i, let reason):
            return "instruction \(i): \(reason)"
        case .deadlock(let blocked, let executed):
            return "deadlock after \(executed) instructions: " + blocked.map(\.description).joined(separator: "; ")
                + ". A pop has no matching push; check the dependency flags."
        case .noFinish(let executed, let last):
            return "the program ended without a FINISH as the last executed instruction (\(executed) executed"
                + (last.map { ", last was instruction \($0)" } ?? "") + "); append a FINISH that waits for the store and load modules"
        case .timeout(let i, let executed):
            return "the run passed its deadline after \(executed) instructions" + (i.map { ", inside instruction \($0)" } ?? "")
        case .finishNotLast(let f, let last):
            return "instruction \(last) executed after the FINISH at instruction \(f); the reference simulator would never return. Make the FINISH wait for it with tokens"
        }
    }
}
