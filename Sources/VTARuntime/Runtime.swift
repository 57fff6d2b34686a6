import VTA
import VTAClient
import VTAHardware
import VTASimulator

/// Which accelerator a `Runtime` drives.
public enum Backend: Sendable {
    /// The best available: a board, then the daemon, then the simulator. (Only the simulator is
    /// built into this version; boards and the daemon come with their backends.)
    case auto
    /// The in-process simulator; `nil` profile = the target's default.
    case simulator(profile: SimulatorProfile? = nil)
    /// The vtad daemon on a Unix socket (the device's configuration comes from the daemon).
    case daemon(socket: String = Runtime.defaultSocket)
    /// An FPGA board driven directly (registers through UIO or /dev/mem); `config` must be what
    /// the bitstream implements (the self-test at open catches a mismatch).
    case fpga(BoardOptions)
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

    /// Where vtad listens by default (`VTA_SOCKET` overrides it).
    public static let defaultSocket = "/run/vta/vtad.sock"

    /// Opens a backend for a configuration (default: the stock `1x16_i8w8a32_15_15_18_17`).
    /// With `.daemon`, the daemon's device decides the configuration; `config` must match it.
    public static func open(_ backend: Backend = .auto, config: HardwareConfig = .standard) throws(RuntimeError) -> Runtime {
        switch backend {
        case .auto:
            // A daemon that is listening wins over the in-process simulator.
            if let d = try? RemoteDevice(socketPath: defaultSocket), d.config.sameHardware(as: config) {
                return Runtime(device: d)
            }
            return try open(.simulator(profile: nil), config: config)
        case .daemon(let socket):
            let d: RemoteDevice
            do { d = try RemoteDevice(socketPath: socket) } catch { throw .backendUnavailable("daemon: \(error.description)") }
            guard d.config.sameHardware(as: config) else {
                let diff = config.differences(from: d.config, includeTarget: false).map { "\($0.key): expected \($0.mine), daemon has \($0.theirs)" }
                throw .backendUnavailable("the daemon's accelerator does not match the requested configuration: " + diff.joined(separator: "; "))
            }
            return Runtime(device: d)
        case .fpga(var options):
            options.config = config
            do { return Runtime(device: try FPGADevice(options: options)) } catch {
                throw .backendUnavailable("fpga: \(error.description)")
            }
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
