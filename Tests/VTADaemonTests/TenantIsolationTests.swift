import Testing
import VTATestSupport
import VTA
import VTAClient
import VTARuntime
import VTASimulator

// MARK: - Tenant isolation

/// A client that can plant a secret in the accelerator's on-chip memories and probe what a
/// previous job left there, using only buffers it owns.
final class TenantClient {
    let device: RemoteDevice
    let config: HardwareConfig
    let queue: CommandQueue
    /// ACC rows the secret occupies (0..<rows); row `rows` is the GEMM probe's scratch row.
    let rows = 4
    let accSecret: any DMABuffer
    let inpSecret: any DMABuffer
    let wgtSecret: any DMABuffer
    let probe: any DMABuffer
    var lanes: Int { rows * config.batch * config.blockOut }

    init(socketPath: String) throws {
        device = try RemoteDevice(socketPath: socketPath)
        config = device.config
        var o = CommandQueue.Options()
        o.instructionCapacity = 64
        o.uopStagingCapacity = 64
        queue = try CommandQueue(device: device, options: o)
        accSecret = try device.allocate(bytes: rows * config.accElemBytes, label: "acc-secret")
        inpSecret = try device.allocate(bytes: config.inpElemBytes, label: "inp-secret")
        wgtSecret = try device.allocate(bytes: config.wgtElemBytes, label: "wgt-secret")
        probe = try device.allocate(bytes: (rows + 1) * config.outElemBytes, label: "probe")
    }

    deinit {
        for b in [accSecret, inpSecret, wgtSecret, probe] { try? device.free(b) }
    }

    /// The secret ACC values: non-zero, distinct per lane, inside int8 so every view shows them.
    static func secret(_ n: Int) -> [Int32] { (0..<n).map { Int32(1 + ($0 * 37) % 120) } }

    /// Loads the secret into ACC rows 0..<rows (and, through an ALU pass, the OUT buffer of the
    /// hardware profile), and 3s and 2s into INP row 0 and WGT row 0. Stores nothing.
    func plantSecret() throws {
        try accSecret.write(Self.secret(lanes))
        try inpSecret.write([Int8](repeating: 3, count: config.inpElemBytes))
        try wgtSecret.write([Int8](repeating: 2, count: config.wgtElemBytes))
        try queue.loadBuffer2D(accSecret, elementOffset: 0, xSize: rows, ySize: 1, xStride: rows, sramIndex: 0, memory: .acc)
        try queue.pushALU(try UopKernel.alu(config: config, .add, immediate: 0) { r in
            try r.loop(extent: rows, dstFactor: 1, srcFactor: 1)
            try r.push(dst: 0, src: 0)
        })
        try queue.loadBuffer2D(inpSecret, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1, sramIndex: 0, memory: .inp)
        try queue.loadBuffer2D(wgtSecret, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1, sramIndex: 0, memory: .wgt)
        try queue.synchronize()
    }

    /// Reads the probe buffer after filling it with a pattern the probes can never produce.
    private func runProbe(_ build: () throws -> Void, rows stored: Int) throws -> [Int8] {
        try probe.write([Int8](repeating: 0x5A, count: probe.size))
        try build()
        try queue.synchronize()
        return try probe.read(Int8.self, count: stored * config.batch * config.blockOut)
    }

    /// A store-only job: STORE rows 0..<rows (what fsim keeps in ACC, the hardware in OUT).
    func probeStoreOnly() throws -> [Int8] {
        try runProbe({
            try queue.storeBuffer2D(sramIndex: 0, probe, elementOffset: 0, xSize: rows, ySize: 1, xStride: rows)
        }, rows: rows)
    }

    /// ALU ADD 0 over ACC rows 0..<rows without loading them, then STORE: reads what ACC holds.
    func probeAccumulators() throws -> [Int8] {
        try runProbe({
            try queue.pushALU(try UopKernel.alu(config: config, .add, immediate: 0) { r in
                try r.loop(extent: rows, dstFactor: 1, srcFactor: 1)
                try r.push(dst: 0, src: 0)
            })
            try queue.depPush(from: .compute, to: .store)
            try queue.depPop(from: .compute, to: .store)
            try queue.storeBuffer2D(sramIndex: 0, probe, elementOffset: 0, xSize: rows, ySize: 1, xStride: rows)
        }, rows: rows)
    }

    /// GEMM of INP row 0 by WGT row 0 (never loaded by this job) into the scratch row, then
    /// STORE it: non-zero exactly when INP and WGT still hold data.
    func probeInputsAndWeights() throws -> [Int8] {
        let scratch = rows
        return try runProbe({
            try queue.pushGEMM(try UopKernel.gemm(config: config, reset: true) { r in try r.push(dst: scratch, src: 0, wgt: 0) })
            try queue.pushGEMM(try UopKernel.gemm(config: config) { r in try r.push(dst: scratch, src: 0, wgt: 0) })
            try queue.depPush(from: .compute, to: .store)
            try queue.depPop(from: .compute, to: .store)
            try queue.storeBuffer2D(sramIndex: scratch, probe, elementOffset: 0, xSize: 1, ySize: 1, xStride: 1)
        }, rows: 1)
    }
}

extension VTADaemonTests {
    @Test("tenant isolation: a job never sees what another client's job left in the SRAMs",
          arguments: [SimulatorProfile.fsim, .hardware])
    func tenantIsolation(profile: SimulatorProfile) throws {
        let vtad = try VTAD(["--profile", profile.rawValue])
        defer { vtad.stop() }
        let a = try TenantClient(socketPath: vtad.socketPath)
        let b = try TenantClient(socketPath: vtad.socketPath)
        let secret = TenantClient.secret(a.lanes).map { Int8($0) }
        let product = [Int8](repeating: Int8(3 * 2 * a.config.blockIn), count: a.config.batch * a.config.blockOut)

        // Same tenant: the probes do see what the previous job left (so they can detect a leak).
        try a.plantSecret()
        #expect(try a.probeStoreOnly() == secret, "the store-only probe cannot see the tenant's own data")
        #expect(try a.probeAccumulators() == secret, "the ACC probe cannot see the tenant's own data")
        #expect(try a.probeInputsAndWeights() == product, "the INP/WGT probe cannot see the tenant's own data")

        // Another tenant, right after A's secret job, sees zeros in every memory.
        try a.plantSecret()
        let zeros = [Int8](repeating: 0, count: b.lanes)
        #expect(try b.probeStoreOnly() == zeros, "\(profile): B's store-only job read A's data")
        try a.plantSecret()
        #expect(try b.probeAccumulators() == zeros, "\(profile): B read A's accumulators")
        try a.plantSecret()
        #expect(try b.probeInputsAndWeights() == [Int8](repeating: 0, count: product.count), "\(profile): B read A's inputs/weights")

        let status = try vtad.status()
        #expect(status.int("jobs", "done") == 10)
        #expect(status.int("jobs", "failed") == 0)
    }
}
