import VTA
import VTASimulator

/// Which accelerator a `Runtime` drives.
public enum Backend: Sendable, Hashable {
    /// The best available: a board, then the daemon, then the simulator. (Only the simulator is
    /// built into this version; boards and the daemon come with their backends.)
    case auto
    /// The in-process simulator; `nil` profile = the target's default.
    case simulator(profile: SimulatorProfile? = nil)
}

/// Entry point for Swift programs: opens a device and hands out buffers and command queues.
///
/// ```swift
/// let runtime = try Runtime.open(.simulator())
/// let queue = try runtime.makeCommandQueue()
/// ```
public final class Runtime: Sendable {
    public let device: any Device
    public var config: HardwareConfig { device.config }

    /// Wraps an existing device (any backend).
    public init(device: any Device) { self.device = device }

    /// Opens a backend for a configuration (default: the stock `1x16_i8w8a32_15_15_18_17`).
    public static func open(_ backend: Backend = .auto, config: HardwareConfig = .standard) throws(RuntimeError) -> Runtime {
        switch backend {
        case .auto:
            return try open(.simulator(profile: nil), config: config)
        case .simulator(let profile):
            do { return Runtime(device: try SimulatorDevice(config: config, profile: profile)) } catch {
                throw .backendUnavailable("simulator: \(error.description)")
            }
        }
    }

    /// Allocates device memory.
    public func allocate(bytes: Int, label: String = "buffer") throws(RuntimeError) -> any DMABuffer {
        do { return try device.allocate(bytes: bytes, label: label) } catch { throw .device(error) }
    }

    /// Frees device memory.
    public func free(_ buffer: any DMABuffer) throws(RuntimeError) {
        do { try device.free(buffer) } catch { throw .device(error) }
    }

    /// A new command queue on this runtime's device.
    public func makeCommandQueue(options: CommandQueue.Options = .init()) throws(RuntimeError) -> CommandQueue {
        try CommandQueue(device: device, options: options)
    }
}
