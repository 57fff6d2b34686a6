import Foundation
import Testing
import VTATestSupport
import VTA
import VTAClient
import VTAProtocol
import VTARuntime
import VTASimulator

#if canImport(Glibc)
import Glibc
#endif

/// Integration tests of vtad: every test starts its own daemon as a subprocess (see
/// Support/Harness.swift). Serialized: each test already loads both cores of the CI machines,
/// and serial runs keep the timeouts meaningful.
@Suite("vtad integration", .serialized)
struct VTADaemonTests {}

// MARK: - Results through the daemon

extension VTADaemonTests {
    struct MatmulCase: Sendable, CustomTestStringConvertible {
        let m: Int, k: Int, n: Int
        let bias: Bool
        let shift: Int
        let clip: ClosedRange<Int>
        var testDescription: String { "\(m)x\(k)x\(n)\(bias ? " bias" : "") shift \(shift) clip \(clip)" }
    }

    static let matmulCases = [
        MatmulCase(m: 17, k: 33, n: 65, bias: false, shift: 0, clip: -128...127),
        MatmulCase(m: 17, k: 33, n: 65, bias: true, shift: 4, clip: -100...90),
        MatmulCase(m: 64, k: 256, n: 48, bias: true, shift: 9, clip: 0...127),
    ]

    @Test("matmul through the daemon equals the in-process simulator byte for byte",
          arguments: [SimulatorProfile.fsim, .hardware])
    func matmulMatchesInProcessSimulator(profile: SimulatorProfile) throws {
        let vtad = try VTAD(["--profile", profile.rawValue])
        defer { vtad.stop() }
        let remote = Runtime(device: try vtad.connect())
        #expect(remote.device.name.contains(vtad.socketPath))
        let local = try Runtime.open(.simulator(profile: profile), config: remote.config)
        var synchronizations = 0
        for (i, c) in Self.matmulCases.enumerated() {
            var rng = SplitMix64(seed: 0xD00D + UInt64(i))
            let a = rng.int8s(c.m * c.k), b = rng.int8s(c.n * c.k)
            let bias = c.bias ? rng.int32s(c.n, in: -20000...20000) : nil
            let mm = try MatrixMultiply(m: c.m, k: c.k, n: c.n, shift: c.shift, clip: c.clip)
            let viaDaemon = try mm.run(on: remote, a: a, b: b, bias: bias)
            let inProcess = try mm.run(on: local, a: a, b: b, bias: bias)
            #expect(viaDaemon.c.count == c.m * c.n, "\(c.testDescription)")
            #expect(viaDaemon.c == inProcess.c, "\(c.testDescription): \(zip(viaDaemon.c, inProcess.c).filter { $0 != $1 }.count) bytes differ")
            #expect(viaDaemon.counters == inProcess.counters, "\(c.testDescription): profiler counters differ")
            #expect(viaDaemon.instructions == inProcess.instructions, "\(c.testDescription)")
            // Not a vacuous comparison: the CPU formula agrees, and the result has many values.
            #expect(viaDaemon.c == mm.reference(a: a, b: b, bias: bias), "\(c.testDescription): differs from the CPU reference")
            #expect(Set(viaDaemon.c).count > 8, "\(c.testDescription): degenerate result")
            synchronizations += viaDaemon.synchronizations
        }
        let status = try vtad.status()
        #expect(status.int("jobs", "done") == Int64(synchronizations))
        #expect(status.int("jobs", "failed") == 0)
        #expect(status["device"]?.stringValue?.contains(profile.rawValue) == true, "\(status.serialized())")
    }

    @Test("32 concurrent clients x 200 small jobs each, all results correct")
    func concurrentClients() throws {
        let vtad = try VTAD()
        defer { vtad.stop() }
        let clients = 32, jobs = 200
        let path = vtad.socketPath
        let failures = Locked<[String]>([])
        let correct = Locked(0)
        let start = ContinuousClock.now
        let inTime = runOnThreads(clients, timeout: .seconds(240), onTimeout: { vtad.signal(SIGKILL) }) { c in
            do {
                let client = try TinyALUClient(socketPath: path)
                var ok = 0
                for j in 0..<jobs {
                    let x = client.input(client: c, job: j)
                    let imm = Int16((c * 3 + j) % 40)
                    let (out, report) = try client.run(x, add: imm)
                    guard out == TinyALUClient.expected(x, add: imm) else {
                        failures.mutate { $0.append("client \(c) job \(j): wrong result \(out.prefix(8)) for \(x.prefix(8)) + \(imm)") }
                        return
                    }
                    guard report.counters.aluCounter == UInt64(client.rows) else {
                        failures.mutate { $0.append("client \(c) job \(j): alu_counter \(report.counters.aluCounter)") }
                        return
                    }
                    ok += 1
                }
                correct.mutate { $0 += ok }
            } catch {
                failures.mutate { $0.append("client \(c): \(error)") }
            }
        }
        let elapsed = ContinuousClock.now - start
        print("[vtad] \(clients) clients x \(jobs) jobs: \(String(format: "%.1f", elapsed.seconds)) s, "
              + "\(String(format: "%.0f", Double(clients * jobs) / elapsed.seconds)) jobs/s (debug build, shared machine)")
        #expect(inTime, "the clients did not finish within the bound")
        #expect(failures.value.isEmpty, "\(failures.value.prefix(10))")
        #expect(correct.value == clients * jobs)
        #expect(vtad.isRunning)
        // Every client's connection and buffers are gone once its thread has returned.
        var last = JSONValue.null
        let drained = try waitUntil(timeout: .seconds(30)) {
            last = try vtad.status()
            return last.int("clients") == 1 && last.int("buffers") == 0
        }
        #expect(drained, "\(last.serialized())")
        #expect(last.int("jobs", "done") == Int64(clients * jobs))
        #expect(last.int("jobs", "failed") == 0)
        #expect(last.int("jobs", "rejected") == 0)
        #expect(last.int("pool_bytes_in_use") == 0)
    }
}
