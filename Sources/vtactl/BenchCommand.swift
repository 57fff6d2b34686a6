import ArgumentParser
import Foundation
import VTA
import VTASimulator

/// `vtactl bench sim`.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks.", subcommands: [Sim.self])

    struct Sim: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the perf workloads on the simulator, verify their SHA-256 digests, report throughput.")
        @Argument(help: "Directory with perf_*.json (default: ../shared/conformance/perf).") var directory: String?
        @Option(name: .long, help: "Timed runs per workload (the median is reported).") var runs = 9
        @Option(name: .long, help: "Simulator profile.") var profile: SimulatorProfile = .fsim
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() throws {
            guard runs > 0, runs <= 1000 else { throw CLIError("--runs must be between 1 and 1000") }
            guard let dir = directory ?? defaultConformanceDirectory().map({ $0 + "/perf" }) else {
                throw CLIError("no perf directory given and ../shared/conformance/perf does not exist")
            }
            let files = try jsonFiles(under: dir).filter { ($0 as NSString).lastPathComponent.hasPrefix("perf") }
            guard !files.isEmpty else { throw CLIError("no perf_*.json files under \(dir)") }
            var rows: [JSONValue] = []
            var anyFailed = false
            if !json {
                print("workload                         median ms   GMAC/s  G lane-ops/s   M insn/s  reference ms  speedup  digest")
            }
            for file in files {
                let program = try loadProgram(file)
                let runner = ProgramRunner(program: program, profile: profile)
                let sim: Simulator
                do { sim = try runner.prepare() } catch { throw CLIError("\(file): \(error)") }
                var times: [UInt64] = []
                var last = RunReport()
                for _ in 0..<runs {
                    do { last = try sim.run(instructionsAt: program.instructionAddress, count: program.instructions.count) } catch {
                        throw CLIError("\(file): \(error)")
                    }
                    times.append(last.elapsedNanoseconds)
                }
                let mismatches = ProgramRunner.checkOutputs(program, sim, last, hardware: profile == .hardware)
                anyFailed = anyFailed || !mismatches.isEmpty
                times.sort()
                let median = Double(times[times.count / 2]) / 1e9
                let reference = try readJSONFile(file, what: "perf")["reference_timing_this_machine"]
                let refSeconds: Double? = {
                    if case .double(let d)? = reference?["median_warm_s"] { return d }
                    return nil
                }()
                let gmac = Double(last.macs) / median / 1e9
                let lanes = Double(last.aluLaneOps) / median / 1e9
                let minsn = Double(last.fetched) / median / 1e6
                let name = (file as NSString).lastPathComponent.replacingOccurrences(of: ".json", with: "")
                rows.append(.object([
                    ("workload", .string(name)), ("median_s", .double(median)), ("gmac_per_s", .double(gmac)),
                    ("g_lane_ops_per_s", .double(lanes)), ("m_insn_per_s", .double(minsn)),
                    ("reference_median_s", refSeconds.map { .double($0) } ?? .null),
                    ("speedup_vs_reference", refSeconds.map { .double($0 / median) } ?? .null),
                    ("digest_ok", .bool(mismatches.isEmpty)),
                ]))
                if !json {
                    func col(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
                    let ref = refSeconds.map { String(format: "%.3f", $0 * 1e3) } ?? "-"
                    let speedup = refSeconds.map { String(format: "%.1fx", $0 / median) } ?? "-"
                    print(name.padding(toLength: 32, withPad: " ", startingAt: 0)
                        + col(String(format: "%.3f", median * 1e3), 10) + col(String(format: "%.2f", gmac), 9)
                        + col(String(format: "%.2f", lanes), 14) + col(String(format: "%.1f", minsn), 11)
                        + col(ref, 14) + col(speedup, 9) + "  "
                        + (mismatches.isEmpty ? "ok" : "MISMATCH: " + mismatches.joined(separator: "; ")))
                }
            }
            if json { print(JSONValue.array(rows).serialized(pretty: true)) }
            if anyFailed { throw ExitCode(1) }
        }
    }
}
