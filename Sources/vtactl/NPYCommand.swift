import ArgumentParser
import Foundation
import VTARuntime

/// `vtactl npy`: small helpers for the .npy files `vtactl matmul` uses.
struct NPYCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "npy", abstract: "Create and inspect .npy files.", subcommands: [Random.self, Show.self])

    struct Random: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a random int8 or int32 array (reproducible from --seed).")
        @Option(name: .long, help: "Shape, e.g. 256,1024 or 1024.") var shape: String
        @Option(name: .long, help: "int8 or int32.") var dtype = "int8"
        @Option(name: .long, help: "Smallest value (default: the type's minimum, or -1000 for int32).") var min: Int?
        @Option(name: .long, help: "Largest value (default: the type's maximum, or 1000 for int32).") var max: Int?
        @Option(name: .long, help: "Random seed.") var seed: UInt64 = 1
        @Option(name: .long, help: "Output file.") var out: String

        func run() throws {
            let dims = shape.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !dims.isEmpty, dims.count <= 2, dims.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw CLIError("--shape takes one or two positive sizes, e.g. 256,1024")
            }
            let shape = dims.map { $0! }
            let count = shape.reduce(1, *)
            guard count <= 1 << 28 else { throw CLIError("--shape \(self.shape) is too large") }
            var state = seed &+ 0x9E37_79B9_7F4A_7C15
            func next() -> UInt64 {  // SplitMix64
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
            let values: NPYArray.Values
            switch dtype {
            case "int8":
                let lo = min ?? -128, hi = max ?? 127
                guard -128 <= lo, lo <= hi, hi <= 127 else { throw CLIError("int8 values need -128 <= min <= max <= 127") }
                values = .int8((0..<count).map { _ in Int8(lo + Int(next() % UInt64(hi - lo + 1))) })
            case "int32":
                let lo = min ?? -1000, hi = max ?? 1000
                guard Int(Int32.min) <= lo, lo <= hi, hi <= Int(Int32.max) else { throw CLIError("int32 values need min <= max within int32") }
                values = .int32((0..<count).map { _ in Int32(lo + Int(next() % UInt64(hi - lo + 1))) })
            default:
                throw CLIError("--dtype must be int8 or int32")
            }
            guard FileManager.default.createFile(atPath: out, contents: Data(NPY.write(NPYArray(shape: shape, values: values)))) else {
                throw CLIError("cannot write \(out)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an array's shape, type and first values.")
        @Argument(help: "The .npy file.") var file: String
        @Option(name: .long, help: "Values to print.") var count = 16

        func run() throws {
            let bytes = try readBinaryFile(file, what: ".npy")
            let a: NPYArray
            do { a = try NPY.read(bytes) } catch { throw CLIError("\(file): \(error.description)") }
            switch a.values {
            case .int8(let v): print("int8 \(a.shape): \(v.prefix(count).map(String.init).joined(separator: " "))\(v.count > count ? " ..." : "")")
            case .int32(let v): print("int32 \(a.shape): \(v.prefix(count).map(String.init).joined(separator: " "))\(v.count > count ? " ..." : "")")
            }
        }
    }
}
