import ArgumentParser
import Foundation
import VTA
import VTARuntime
import VTASimulator

extension SimulatorProfile: ExpressibleByArgument {}

/// Loads a program file, naming the file in every error.
func loadProgram(_ path: String) throws -> ProgramFile {
    let json = try readJSONFile(path, what: "program")
    do { return try ProgramFile(json: json) } catch { throw CLIError("\(path): \(error.description)") }
}

/// Options shared by `run` and `sim run`.
struct RunOptions: ParsableArguments {
    @Argument(help: "Program file (conformance format: config, allocations, segments_before, instructions).")
    var program: String

    @Option(name: .long, help: "Simulator behaviour: fsim or hardware (default: by the program's TARGET).")
    var profile: SimulatorProfile?

    @Flag(name: .long, help: "Print the output buffers and counters as JSON.")
    var json = false

    @Flag(name: .long, help: "Also compare the outputs with the program's expectations; exit 1 on mismatch.")
    var check = false
}

/// The `--json` result of a run: every output buffer (at the program's own addresses) and the
/// profiler counters.
func printRunJSON(_ program: ProgramFile, buffers: [String: [UInt8]], counters: ProfilerCounters) {
    let after: [JSONValue] = program.allocations.filter { $0.role == .output }.map { seg in
        .object([
            ("name", .string(seg.name)), ("phys_addr", .int(Int64(seg.physicalAddress))),
            ("size", .int(Int64(seg.size))), ("hex", .string(Hex.encode(buffers[seg.name] ?? []))),
        ])
    }
    print(JSONValue.object([("after", .array(after)), ("profiler", counters.json)]).serialized(pretty: true))
}

/// Runs a program on the in-process simulator and prints the result.
func runOnSimulator(_ options: RunOptions) throws {
    let program = try loadProgram(options.program)
    let profile = options.profile ?? SimulatorProfile.default(for: program.config.targetProfile)
    let runner = ProgramRunner(program: program, profile: profile)
    let outcome: ProgramRunner.Outcome
    do { outcome = try runner.run() } catch { throw CLIError("\(options.program): \(error)") }
    let report = outcome.report
    if options.json {
        printRunJSON(program, buffers: outcome.buffers, counters: report.counters)
    } else {
        let seconds = Double(report.elapsedNanoseconds) / 1e9
        print("program:      \(program.name) (\(program.config.bitstreamName), profile \(profile.rawValue))")
        print("instructions: \(report.fetched) fetched, load \(report.moduleInstructions[.load] ?? 0), compute \(report.moduleInstructions[.compute] ?? 0), store \(report.moduleInstructions[.store] ?? 0)")
        for (name, value) in zip(ProfilerCounters.names, report.counters.values) {
            print("  \(name.padding(toLength: 17, withPad: " ", startingAt: 0)) \(value)")
        }
        print(String(format: "time:         %.3f ms", seconds * 1e3))
        if seconds > 0 {
            print(String(format: "throughput:   %.2f GMAC/s, %.2f G ALU lane-ops/s, %.1f M instructions/s",
                         Double(report.macs) / seconds / 1e9, Double(report.aluLaneOps) / seconds / 1e9,
                         Double(report.fetched) / seconds / 1e6))
        }
        for w in report.warnings { print("warning:      \(w)") }
        if options.check {
            print(outcome.mismatches.isEmpty ? "check:        outputs match the expectations" : "check:        MISMATCH")
        }
    }
    if options.check && !outcome.mismatches.isEmpty {
        for m in outcome.mismatches { printError("mismatch: \(m)") }
        throw ExitCode(1)
    }
}

/// `vtactl sim run`.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim", abstract: "The in-process simulator.", subcommands: [Run.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run a program file on the simulator.")
        @OptionGroup var options: RunOptions
        func run() throws { try runOnSimulator(options) }
    }
}

/// `vtactl run`: a program file on the simulator (default) or through the daemon.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a program file on a backend (sim, daemon or fpga).")
    @OptionGroup var options: RunOptions
    @Option(name: .long, help: "Backend: sim, daemon or fpga.") var backend: String = "sim"
    @Option(name: .long, help: "Seconds to wait for FINISH on the daemon or a board (default 30).") var timeout: Double = 30
    @OptionGroup var socket: SocketOption
    @OptionGroup var board: BoardOptionGroup

    func run() throws {
        switch backend {
        case "sim": try runOnSimulator(options)
        case "daemon": try runOnDevice(try socket.connect())
        case "fpga":
            let program = try loadProgram(options.program)
            try runOnDevice(try board.open(config: program.config), hardware: true)
        default: throw CLIError("unknown backend \"\(backend)\"; use sim, daemon or fpga")
        }
    }

    private func runOnDevice(_ device: any Device, hardware: Bool = false) throws {
        let program = try loadProgram(options.program)
        let outcome: ProgramExecution.Outcome
        do {
            guard timeout > 0, timeout <= 86_400 else { throw CLIError("--timeout must be between 0 and 86400 seconds") }
            outcome = try ProgramExecution.run(program, on: device, hardwareExpectations: hardware || device.name.contains("hardware") || options.profile == .hardware,
                                               timeout: .milliseconds(Int64(timeout * 1000)))
        } catch { throw CLIError("\(options.program): \(error)") }
        if options.json {
            printRunJSON(program, buffers: outcome.buffers, counters: outcome.report.counters)
        } else {
            print("program:      \(program.name) on \(device.name)")
            for (name, value) in zip(ProfilerCounters.names, outcome.report.counters.values) {
                print("  \(name.padding(toLength: 17, withPad: " ", startingAt: 0)) \(value)")
            }
            print(String(format: "time:         %.3f ms on the device", Double(outcome.report.elapsedNanoseconds) / 1e6))
            if options.check { print(outcome.mismatches.isEmpty ? "check:        outputs match the expectations" : "check:        MISMATCH") }
        }
        if options.check && !outcome.mismatches.isEmpty {
            for m in outcome.mismatches { printError("mismatch: \(m)") }
            throw ExitCode(1)
        }
    }
}

/// Default location of the shared conformance data, relative to the working directory.
func defaultConformanceDirectory() -> String? {
    for candidate in ["../shared/conformance", "shared/conformance", "../../shared/conformance"] {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDir), isDir.boolValue { return candidate }
    }
    return nil
}

/// JSON files under a directory, recursively, sorted.
func jsonFiles(under dir: String) throws -> [String] {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else { throw CLIError("\(dir): no such directory") }
    guard isDir.boolValue else { throw CLIError("\(dir) is not a directory") }
    guard let e = FileManager.default.enumerator(atPath: dir) else { throw CLIError("cannot read directory \(dir)") }
    var out: [String] = []
    while let rel = e.nextObject() as? String {
        if rel.hasSuffix(".json") { out.append(dir + "/" + rel) }
    }
    return out.sorted()
}

/// `vtactl conformance`.
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Check every encoding vector and program under DIR; ends with 'N passed, M failed'.")

    @Argument(help: "Conformance directory (default: ../shared/conformance when present).") var directory: String?
    @Option(name: .long, help: "Simulator profile for programs: fsim (default) or hardware (compares hls_expected where given).")
    var profile: SimulatorProfile = .fsim
    @Flag(name: .long, help: "Also run the perf workloads under perf/ (slow in debug builds).") var perf = false
    @Flag(name: .shortAndLong, help: "Print every passing item too.") var verbose = false

    func run() throws {
        guard let dir = directory ?? defaultConformanceDirectory() else {
            throw CLIError("no conformance directory given and ../shared/conformance does not exist")
        }
        let files = try jsonFiles(under: dir).filter { perf || !$0.contains("/perf/") }
        guard !files.isEmpty else { throw CLIError("no .json files under \(dir)") }
        var passed = 0, failed = 0
        for file in files {
            let json = try readJSONFile(file, what: "conformance")
            let name = (file as NSString).lastPathComponent
            let results: [ConformanceSuite.Result]
            switch json["format"]?.stringValue {
            case "vta-conformance-encodings/1":
                results = ConformanceSuite.checkEncodings(json, fileName: name)
            case "vta-conformance-program/1":
                results = [ConformanceSuite.checkProgram(json, fileName: name, profile: profile)]
            default:
                printError("skipping \(file): not a conformance file (format \(json["format"]?.stringValue ?? "missing"))")
                continue
            }
            let bad = results.filter { !$0.passed }
            passed += results.count - bad.count
            failed += bad.count
            for r in bad { print("FAIL \(r.name): \(r.failure ?? "")") }
            if verbose || bad.isEmpty {
                print("ok   \(name) (\(results.count - bad.count) checks)")
            }
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}

/// `vtactl verify`: the daemon's pre-flight check, from the command line.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a program as the daemon does before running it (buffers, SRAM bounds, tokens, FINISH).",
        discussion: "Every LOAD/STORE must stay inside the program's own allocations (STOREs only in 'output' buffers). Exit status 1 if rejected.")

    @Argument(help: "Program file (conformance format).") var program: String
    @Flag(name: .long, help: "Print the result as JSON.") var json = false

    func run() throws {
        let p = try loadProgram(program)
        let regions = p.allocations.filter { $0.role != .insn }.map {
            DRAMRegion(start: $0.physicalAddress, size: UInt64($0.size), writable: $0.role == .output, label: $0.name)
        }
        do {
            let s = try ProgramVerifier(config: p.config).verify(p.instructions, regions: regions)
            if json {
                print(JSONValue.object([("ok", .bool(true)), ("instructions", .int(Int64(s.instructions))),
                                        ("load", .int(Int64(s.load))), ("compute", .int(Int64(s.compute))),
                                        ("store", .int(Int64(s.store)))]).serialized(pretty: true))
            } else {
                print("ok: \(p.name): \(s.instructions) instructions (load \(s.load), compute \(s.compute), store \(s.store)) are safe to run")
            }
        } catch {
            if json {
                print(JSONValue.object([("ok", .bool(false)), ("instruction", error.instruction.map { .int(Int64($0)) } ?? .null),
                                        ("reason", .string(error.reason))]).serialized(pretty: true))
                throw ExitCode(1)
            }
            throw CLIError("\(program): rejected: \(error.description)")
        }
    }
}
