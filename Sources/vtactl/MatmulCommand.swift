import ArgumentParser
import Foundation
import VTA
import VTARuntime
import VTASimulator

/// `vtactl matmul`: C = clip((A x B^T + bias) >> shift, lo, hi) on a backend.
struct MatmulCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matmul",
        abstract: "Multiply int8 matrices on VTA: C = clip((A x B^T + bias) >> shift, lo, hi).",
        discussion: """
            A is M x K int8, B is N x K int8 (one row per output column), BIAS is N int32, all .npy
            in C order. C is written as M x N int8 .npy. The work is tiled to the SRAMs of the
            configuration and double-buffered with dependency tokens.
            """)

    @Option(name: .customLong("a"), help: "A: M x K int8 .npy") var aPath: String
    @Option(name: .customLong("b"), help: "B: N x K int8 .npy") var bPath: String
    @Option(name: .customLong("bias"), help: "bias: N int32 .npy") var biasPath: String?
    @Option(name: .long, help: "Arithmetic right shift of the int32 sums (0...31).") var shift = 0
    @Option(name: .long, parsing: .unconditional, help: "Saturation bounds LO,HI within -128..127 (default -128,127).") var clip: String?
    @Option(name: .customLong("out"), help: "Where to write C (M x N int8 .npy).") var outPath: String
    @Option(name: .long, help: "Backend: sim, daemon or fpga.") var backend = "sim"
    @OptionGroup var socket: SocketOption
    @OptionGroup var board: BoardOptionGroup
    @Option(name: .long, help: "Simulator profile: fsim or hardware (default: by target).") var profile: SimulatorProfile?
    @OptionGroup var configOptions: ConfigOptions
    @Flag(name: .long, help: "Also compute C on the CPU and fail if any value differs.") var check = false
    @Flag(name: .long, help: "Print the summary as JSON.") var json = false

    func run() throws {
        let config = try configOptions.load()
        guard ["sim", "daemon", "fpga"].contains(backend) else {
            throw CLIError("unknown backend \"\(backend)\"; use sim, daemon or fpga")
        }
        let a = try loadMatrix(aPath, name: "A")
        let b = try loadMatrix(bPath, name: "B")
        guard a.cols == b.cols else {
            throw CLIError("A is \(a.rows)x\(a.cols) and B is \(b.rows)x\(b.cols): both need K columns (B is N x K)")
        }
        var bias: [Int32]?
        if let biasPath {
            let arr = try readNPY(biasPath)
            guard case .int32(let v) = arr.values, arr.shape.count == 1 || (arr.shape.count == 2 && arr.shape[0] == 1) else {
                throw CLIError("\(biasPath): bias must be a 1-D int32 array of N = \(b.rows) values")
            }
            guard v.count == b.rows else { throw CLIError("\(biasPath): bias has \(v.count) values, N is \(b.rows)") }
            bias = v
        }
        var clipRange = -128...127
        if let clip {
            let parts = clip.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let lo = parts[0], let hi = parts[1], lo <= hi else {
                throw CLIError("--clip takes LO,HI with LO <= HI, e.g. --clip 0,127")
            }
            clipRange = lo...hi
        }
        let mm: MatrixMultiply
        do { mm = try MatrixMultiply(m: a.rows, k: a.cols, n: b.rows, shift: shift, clip: clipRange) } catch { throw CLIError("\(error)") }
        let runtime: Runtime
        if backend == "daemon" {
            // The daemon's device decides the configuration unless one was given explicitly.
            let device = try socket.connect()
            if (configOptions.config != nil || configOptions.target != nil) && !device.config.sameHardware(as: config) {
                throw CLIError("the daemon runs \(device.config.bitstreamName), not the requested \(config.bitstreamName)")
            }
            runtime = Runtime(device: device)
        } else if backend == "fpga" {
            runtime = Runtime(device: try board.open(config: config))
        } else {
            do { runtime = try Runtime.open(.simulator(profile: profile), config: config) } catch { throw CLIError("\(error)") }
        }
        let result: MatrixMultiply.Result
        do { result = try mm.run(on: runtime, a: a.values, b: b.values, bias: bias) } catch { throw CLIError("\(error)") }
        let bytes = NPY.write(NPYArray(shape: [a.rows, b.rows], values: .int8(result.c)))
        guard FileManager.default.createFile(atPath: outPath, contents: Data(bytes)) else {
            throw CLIError("cannot write \(outPath)")
        }
        var mismatches = 0
        if check {
            let ref = mm.reference(a: a.values, b: b.values, bias: bias)
            mismatches = zip(ref, result.c).filter { $0 != $1 }.count
        }
        let device = Double(result.deviceTime.components.seconds) + Double(result.deviceTime.components.attoseconds) / 1e18
        let wall = Double(result.wallTime.components.seconds) + Double(result.wallTime.components.attoseconds) / 1e18
        let macs = Double(a.rows) * Double(a.cols) * Double(b.rows)
        if json {
            var members: [(String, JSONValue)] = [
                ("shape", .object([("m", .int(Int64(a.rows))), ("k", .int(Int64(a.cols))), ("n", .int(Int64(b.rows)))])),
                ("backend", .string(runtime.device.name)), ("instructions", .int(Int64(result.instructions))),
                ("synchronizations", .int(Int64(result.synchronizations))), ("profiler", result.counters.json),
                ("device_seconds", .double(device)), ("wall_seconds", .double(wall)), ("out", .string(outPath)),
            ]
            if check { members.append(("mismatches", .int(Int64(mismatches)))) }
            print(JSONValue.object(members).serialized(pretty: true))
        } else {
            print("shape:        A \(a.rows)x\(a.cols) x B^T \(b.cols)x\(b.rows) -> C \(a.rows)x\(b.rows) (shift \(shift), clip \(clipRange.lowerBound),\(clipRange.upperBound)\(bias == nil ? "" : ", bias"))")
            print("backend:      \(runtime.device.name)")
            print("blocking:     \(result.blocking)")
            print("instructions: \(result.instructions) in \(result.synchronizations) synchronisation(s)")
            for (name, value) in zip(ProfilerCounters.names, result.counters.values) {
                print("  \(name.padding(toLength: 17, withPad: " ", startingAt: 0)) \(value)")
            }
            print(String(format: "time:         %.3f ms on the device, %.3f ms in total (%.2f GMAC/s device)",
                         device * 1e3, wall * 1e3, device > 0 ? macs / device / 1e9 : 0))
            print("output:       \(outPath)")
            if check { print(mismatches == 0 ? "check:        identical to the CPU reference" : "check:        \(mismatches) values differ from the CPU reference") }
        }
        if mismatches > 0 { throw ExitCode(1) }
    }

    struct Matrix {
        let rows: Int, cols: Int
        let values: [Int8]
    }

    private func loadMatrix(_ path: String, name: String) throws -> Matrix {
        let arr = try readNPY(path)
        guard case .int8(let v) = arr.values else { throw CLIError("\(path): \(name) must be int8") }
        switch arr.shape.count {
        case 2: return Matrix(rows: arr.shape[0], cols: arr.shape[1], values: v)
        case 1: return Matrix(rows: 1, cols: arr.shape[0], values: v)
        default: throw CLIError("\(path): \(name) must be a 2-D matrix, it has shape \(arr.shape)")
        }
    }

    private func readNPY(_ path: String) throws -> NPYArray {
        let bytes = try readBinaryFile(path, what: ".npy")
        do { return try NPY.read(bytes) } catch { throw CLIError("\(path): \(error.description)") }
    }
}
