import ArgumentParser
import Foundation
import VTA
import VTAHardware

/// `vtactl board`: the FPGA board behind `--backend fpga`.
struct BoardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "board",
        abstract: "Inspect, check and program the FPGA board: info, regs, selftest, program, descriptor.",
        subcommands: [Info.self, Regs.self, SelfTest.self, BoardProgramCommand.self, Descriptor.self])

    /// `vtactl board descriptor`.
    struct Descriptor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the board descriptor (NAME.vta.json) shipped beside a bitstream: its VTA configuration, target, HW_VER, clock and SHA-256.",
            discussion: "The configuration comes from --config or --target and must be what the bitstream implements; `vtactl board program` and `--descriptor` check it.")
        @Option(name: .long, help: "The bitstream file (.bit, .bit.bin, .bin, .rbf).") var bitstream: String
        @Option(name: .long, help: "Fabric clock in MHz (default: the target's).") var clock: Int?
        @OptionGroup var configOptions: ConfigOptions

        func run() throws {
            let config = try configOptions.load()
            guard config.targetProfile.isBoard else {
                throw CLIError("the configuration's target \(config.targetProfile.name) is not a board: give --target pynq|ultra96|zcu104|de10nano or a config with such a TARGET")
            }
            do {
                let (_, path) = try BoardDescriptor.write(for: config, bitstreamAt: bitstream, clockMHz: clock)
                print(path)
            } catch { throw CLIError(error.description) }
        }
    }

    /// `vtactl board info`.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what discovery found (and why other devices were not taken), the register flavour and windows, the DMA allocator and pool usage, the descriptor check and the self-test result.")
        @OptionGroup var board: BoardOptionGroup
        @OptionGroup var configOptions: ConfigOptions
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let config = try configOptions.load()
            // Discovery first, so a board that cannot be opened still shows what is there.
            let target = try board.target(for: config)
            let report: DiscoveryReport? = board.devmem == nil ? BoardDiscovery.discover(target: target, roots: board.roots) : nil
            if let report, !json { print(report.text) }
            let device: FPGADevice
            do { device = try board.open(config: config) } catch {
                if let report, json { print(JSONValue.object([("discovery", report.json), ("error", .string("\(error)"))]).serialized(pretty: true)) }
                throw error
            }
            let u = device.pool.usage
            let st = device.statistics
            let windows = device.control.windows.map { "\($0.name) 0x\(String($0.base, radix: 16)) (+0x\(String($0.size, radix: 16)))" }
            if json {
                let doc = JSONValue.object([
                    ("device", .string(device.name)), ("target", .string(device.target.name)),
                    ("flavour", .string(device.control.flavour.rawValue)), ("bitstream", .string(config.bitstreamName)),
                    ("windows", .array(windows.map { .string($0) })),
                    ("allocator", .string(device.pool.backend.summary)),
                    ("pool", .object([("regions", .int(Int64(u.regions))), ("bytes", .int(Int64(u.poolBytes))),
                                      ("used", .int(Int64(u.usedBytes))), ("largest_free", .int(Int64(u.largestFree))),
                                      ("buffers", .int(Int64(u.buffers)))])),
                    ("selftest", .string(st.lastSelfTest.map { ($0.passed ? "passed: " : "FAILED: ") + $0.detail } ?? "not run")),
                    ("descriptor", board.descriptor.map { .string("\($0): matches \(config.bitstreamName)") } ?? .null),
                    ("discovery", report?.json ?? .null),
                ])
                print(doc.serialized(pretty: true))
                return
            }
            print("device:     \(device.name)")
            print("target:     \(device.target.name) (\(device.target.family), \(device.target.clockMHz) MHz), bitstream \(config.bitstreamName)")
            print("registers:  \(device.control.flavour.rawValue): " + windows.joined(separator: ", "))
            print("allocator:  \(device.pool.backend.summary)")
            print("pool:       \(u.usedBytes) of \(u.poolBytes) bytes used in \(u.buffers) buffers, largest free block \(u.largestFree) bytes")
            print("self-test:  " + (st.lastSelfTest.map { ($0.passed ? "passed: " : "FAILED: ") + $0.detail } ?? "not run (--no-selftest)"))
            if let d = board.descriptor { print("descriptor: \(d): matches \(config.bitstreamName)") }
        }
    }

    /// `vtactl board regs`.
    struct Regs: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dump the accelerator's control registers.")
        @OptionGroup var board: BoardOptionGroup
        @OptionGroup var configOptions: ConfigOptions
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            let config = try configOptions.load()
            var b = board
            b.noSelfTest = true  // a dump must not change the registers it shows
            let device = try b.open(config: config)
            let regs = device.registerDump()
            if json {
                print(JSONValue.array(regs.map { r in
                    .object([("name", .string(r.name)), ("address", .string("0x" + String(r.address, radix: 16))),
                             ("value", r.value.map { .int(Int64($0)) } ?? .null)])
                }).serialized(pretty: true))
                return
            }
            for r in regs {
                let value = r.value.map { "0x" + String($0, radix: 16) } ?? "unmapped"
                print("\(r.name.padding(toLength: 22, withPad: " ", startingAt: 0)) 0x\(String(r.address, radix: 16))  \(value)")
            }
        }
    }

    /// `vtactl board selftest`.
    struct SelfTest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "selftest",
            abstract: "Run the power-on self-test (loads, GEMM, every ALU op, store) and compare with the simulator; exit 1 on mismatch.")
        @OptionGroup var board: BoardOptionGroup
        @OptionGroup var configOptions: ConfigOptions

        func run() throws {
            let config = try configOptions.load()
            var b = board
            b.noSelfTest = true
            let device = try b.open(config: config)
            do {
                let r = try device.selfTest()
                print("self-test passed: \(r.detail)")
            } catch {
                printError("self-test FAILED: \(error.description)")
                throw ExitCode(1)
            }
        }
    }
}
