import Foundation
import Testing
import VTATestSupport
import VTA
import VTAClient
import VTARuntime

#if canImport(Glibc)
import Glibc
#endif

// MEASUREMENT, not a test: tiny-job round trips and throughput through vtad. It asserts only
// that the jobs are correct, never anything about time. Off by default; run it with
//
//   VTAD_MEASURE=1 swift test --skip-build --filter VTADaemonTests.measureTinyJobs
//
// and VTAD_TEST_BIN_DIR=.build/release to measure a release build of vtad.

extension VTADaemonTests {
    @Test("MEASUREMENT: tiny-job round trip p50/p99 and jobs/s with 1, 8 and 32 clients",
          .enabled(if: ProcessInfo.processInfo.environment["VTAD_MEASURE"] != nil))
    func measureTinyJobs() throws {
        let vtad = try VTAD()
        defer { vtad.stop() }
        let path = vtad.socketPath
        print("[measure] vtad \(try Binaries.path("vtad")), \(ProcessInfo.processInfo.activeProcessorCount) cores")

        // Round trip of one tiny job (LOAD ACC 2 rows, ALU ADD, STORE; 8 instructions with the
        // queue's tokens): synchronize() = SUBMIT, copy, verify, schedule, run, JOB_DONE.
        let warmup = 200, samples = 3000
        let client = try TinyALUClient(socketPath: path)
        var rtt: [Double] = []
        rtt.reserveCapacity(samples)
        var wrong = 0
        for j in 0..<(warmup + samples) {
            let x = client.input(client: 0, job: j)
            let t0 = ContinuousClock.now
            let (out, _) = try client.run(x, add: 3)
            let dt = (ContinuousClock.now - t0).seconds
            if out != TinyALUClient.expected(x, add: 3) { wrong += 1 }
            if j >= warmup { rtt.append(dt) }
        }
        #expect(wrong == 0)
        rtt.sort()
        func pct(_ v: [Double], _ p: Double) -> Double { v[min(v.count - 1, Int(Double(v.count) * p))] * 1e6 }
        print(String(format: "[measure] round trip, 1 client, %d jobs: p50 %.0f us, p90 %.0f us, p99 %.0f us, max %.0f us",
                     samples, pct(rtt, 0.5), pct(rtt, 0.9), pct(rtt, 0.99), rtt.last! * 1e6))
        _ = consume client

        for clients in [1, 8, 32] {
            let seconds = 4.0
            let counts = Locked<[Int]>([])
            let lat = Locked<[Double]>([])
            let errors = Locked<[String]>([])
            let start = ContinuousClock.now
            runOnThreads(clients, timeout: .seconds(120), onTimeout: { vtad.signal(SIGKILL) }) { c in
                do {
                    let client = try TinyALUClient(socketPath: path)
                    var n = 0
                    var mine: [Double] = []
                    let end = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
                    while ContinuousClock.now < end {
                        let x = client.input(client: c, job: n)
                        let t0 = ContinuousClock.now
                        let (out, _) = try client.run(x, add: 1)
                        mine.append((ContinuousClock.now - t0).seconds)
                        if out != TinyALUClient.expected(x, add: 1) { errors.mutate { $0.append("client \(c) job \(n): wrong") }; return }
                        n += 1
                    }
                    counts.mutate { $0.append(n) }
                    lat.mutate { $0 += mine }
                } catch {
                    errors.mutate { $0.append("client \(c): \(error)") }
                }
            }
            let wall = (ContinuousClock.now - start).seconds
            #expect(errors.value.isEmpty, "\(errors.value.prefix(5))")
            let total = counts.value.reduce(0, +)
            let l = lat.value.sorted()
            guard !l.isEmpty else { continue }
            print(String(format: "[measure] %2d client(s): %6d jobs in %.2f s = %7.0f jobs/s; per-job latency p50 %.0f us, p99 %.0f us; per-client jobs min %d max %d",
                         clients, total, wall, Double(total) / wall, pct(l, 0.5), pct(l, 0.99),
                         counts.value.min() ?? 0, counts.value.max() ?? 0))
        }
    }
}
