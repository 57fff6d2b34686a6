import CVTASimKernels
import Synchronization
import VTA

/// A buffer in simulated DRAM. Simulated memory is coherent: flush and invalidate do nothing.
/// `@unchecked Sendable`: every stored property is immutable; the pointer refers to simulated DRAM
/// that lives as long as the device, and (as with any DMA buffer) callers coordinate access to
/// the bytes themselves.
public final class SimulatorBuffer: DMABuffer, @unchecked Sendable {
    public let hostAddress: UnsafeMutableRawPointer
    public let deviceAddress: UInt64
    public let size: Int
    public let alignment: Int
    public let label: String
    public var isCoherent: Bool { true }
    /// The device that owns it, so a buffer from another device is recognised.
    let owner: ObjectIdentifier

    init(hostAddress: UnsafeMutableRawPointer, deviceAddress: UInt64, size: Int, label: String, owner: ObjectIdentifier) {
        self.hostAddress = hostAddress
        self.deviceAddress = deviceAddress
        self.size = size
        self.alignment = SimulatedMemory.pageBytes
        self.label = label
        self.owner = owner
    }

    public func flush(offset: Int, length: Int) throws(DeviceError) {
        guard offset >= 0, length >= 0, offset <= size, length <= size - offset else {
            throw .outOfBounds(buffer: label, offset: offset, length: length, size: size)
        }
    }

    public func invalidate(offset: Int, length: Int) throws(DeviceError) {
        try flush(offset: offset, length: length)
    }
}

/// The in-process simulator as a `Device`: what every desktop user runs, and the oracle the
/// board and daemon paths are tested against.
public final class SimulatorDevice: Device {
    public let config: HardwareConfig
    public let profile: SimulatorProfile
    public var name: String { "simulator (\(profile.rawValue), \(config.bitstreamName))" }
    public let memory: SimulatedMemory
    /// The simulator, used by one run at a time.
    private let simulator: Mutex<SimulatorBox>

    /// Counters summed over every run of this device.
    public var totalCounters: ProfilerCounters { simulator.withLock { $0.total } }

    struct SimulatorBox: ~Copyable {
        let sim: Simulator
        var total = ProfilerCounters()
    }

    /// Creates a simulator device.
    /// - Parameter profile: defaults to the target's profile (`hardware` for boards, `fsim` for sim).
    public init(config: HardwareConfig, profile: SimulatorProfile? = nil) throws(SimulationError) {
        let p = profile ?? SimulatorProfile.default(for: config.targetProfile)
        self.config = config
        self.profile = p
        let memory = SimulatedMemory()
        self.memory = memory
        simulator = Mutex(SimulatorBox(sim: try Simulator(config: config, profile: p, memory: memory)))
    }

    public func allocate(bytes: Int, alignment: Int, label: String) throws(DeviceError) -> any DMABuffer {
        guard alignment > 0, alignment <= SimulatedMemory.pageBytes, alignment & (alignment - 1) == 0 else {
            throw .allocationFailed(requested: bytes, largestFree: nil, poolSize: nil,
                                    hint: "alignment \(alignment) is not a power of two up to 4096")
        }
        do {
            let (phys, ptr) = try memory.allocate(bytes: bytes)
            return SimulatorBuffer(hostAddress: ptr, deviceAddress: phys, size: bytes, label: label, owner: ObjectIdentifier(self))
        } catch {
            throw .allocationFailed(requested: bytes, largestFree: nil, poolSize: 1 << 32, hint: error.description)
        }
    }

    public func free(_ buffer: any DMABuffer) throws(DeviceError) {
        guard let b = buffer as? SimulatorBuffer, b.owner == ObjectIdentifier(self) else { throw .unknownBuffer(buffer.label) }
        do { try memory.free(physical: b.deviceAddress) } catch { throw .unknownBuffer(buffer.label) }
    }

    /// Runs a stream, stopping it at `timeout` (deadlocks are detected immediately; a long but
    /// legal program is cut off at its deadline like a board run would be).
    public func run(instructionsAt address: UInt64, count: Int, timeout: Duration) throws(DeviceError) -> RunReport {
        let c = timeout.components
        let ns = c.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let budget = ns.overflow || c.seconds < 0 ? Int64.max / 2 : ns.partialValue + c.attoseconds / 1_000_000_000
        let deadline = vta_monotonic_ns() + max(1, min(budget, Int64.max / 4))
        let result: Result<RunReport, SimulationError> = simulator.withLock { box in
            do throws(SimulationError) {
                let r = try box.sim.run(instructionsAt: address, count: count, deadlineNanoseconds: deadline)
                box.total += r.counters
                return .success(r)
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let r): return r
        case .failure(.timeout(let i, let executed)):
            throw .timeout(waited: timeout, detail: "simulator stopped after \(executed) instructions" + (i.map { " (in instruction \($0))" } ?? ""))
        case .failure(let e): throw .runFailed(e.description)
        }
    }

    /// Zeroes all SRAM state (used between tenants).
    public func scrub() { simulator.withLock { $0.sim.scrub() } }

    /// Reads an accumulator lane (diagnostics and tests).
    public func accumulator(row: Int, lane: Int) -> Int32? { simulator.withLock { $0.sim.accumulator(row: row, lane: lane) } }
}
