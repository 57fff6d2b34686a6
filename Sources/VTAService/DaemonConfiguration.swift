import VTA
import VTAHardware
import VTASimulator
import VTAProtocol

/// Everything vtad can be told, from its config file (JSON, docs/operations.md) and flags.
public struct DaemonConfiguration: Sendable {
    /// Where to listen (ignored when systemd passes a socket).
    public var socketPath = "/run/vta/vtad.sock"
    /// Mode of a socket vtad creates itself.
    public var socketMode: UInt32 = 0o660
    /// `auto` (the simulator), `sim` or `fpga` (a board: `target` names it, `board_uio` or
    /// `board_devmem` says where its registers are).
    public var backend = "auto"
    public var profile: SimulatorProfile?
    public var hardware: HardwareConfig = .standard
    /// Peers allowed to connect, by uid or gid; both empty = anyone who can open the socket.
    public var allowedUIDs: Set<UInt32> = []
    public var allowedGIDs: Set<UInt32> = []
    public var limits = DaemonLimits()
    /// Per-job timeout when the client gives none, and the most a client may ask for.
    public var defaultJobTimeout: Duration = .seconds(30)
    /// Device memory one client may hold in buffers at once.
    public var maxClientBytes: UInt64 = 1 << 30
    /// OpenMetrics file for node_exporter's textfile collector, rewritten after every job.
    public var metricsFile: String?
    /// Board access for `backend: fpga`.
    public var boardUIO: String?
    public var boardDevMem: String?
    public var boardIRQ = false
    public var boardIRQFifo: String?

    /// The `FPGADevice` options for `backend: fpga` (nil without a register source).
    public var boardOptions: BoardOptions? {
        let registers: BoardOptions.Registers
        if let uio = boardUIO { registers = .uio(devnode: uio) } else if let d = boardDevMem { registers = .devMem(path: d) } else { return nil }
        let completion: BoardOptions.Completion = boardIRQFifo.map { .fifo(path: $0) } ?? (boardIRQ ? .uioInterrupt : .poll)
        return BoardOptions(config: hardware, board: hardware.targetProfile, registers: registers, completion: completion)
    }

    public init() {}

    /// Reads the JSON config file (`{"socket": ..., "backend": ..., ...}`); unknown keys are errors.
    public mutating func apply(json: JSONValue) throws(DaemonError) {
        guard case .object(let members) = json else { throw .configuration("the daemon configuration must be a JSON object") }
        let known = ["socket", "socket_mode", "backend", "profile", "vta_config", "target", "allow_uids", "allow_gids",
                     "max_buffers", "max_buffer_bytes", "max_client_bytes", "max_job_instructions", "max_queued_jobs", "job_timeout_ms",
                     "metrics_file", "board_uio", "board_devmem", "board_irq", "board_irq_fifo"]
        for (key, value) in members {
            func int() throws(DaemonError) -> Int64 {
                guard case .int(let v) = value, v >= 0 else { throw .configuration("\(key) must be a non-negative integer") }
                return v
            }
            func string() throws(DaemonError) -> String {
                guard case .string(let s) = value else { throw .configuration("\(key) must be a string") }
                return s
            }
            func ids() throws(DaemonError) -> Set<UInt32> {
                guard case .array(let items) = value else { throw .configuration("\(key) must be an array of integers") }
                var out = Set<UInt32>()
                for item in items {
                    guard case .int(let v) = item, v >= 0, v <= Int64(UInt32.max) else { throw .configuration("\(key) must hold uids/gids") }
                    out.insert(UInt32(v))
                }
                return out
            }
            switch key {
            case "socket": socketPath = try string()
            case "socket_mode":
                // An octal string ("0660") reads naturally; a JSON number is taken as written.
                if case .string(let text) = value {
                    guard let mode = UInt32(text, radix: 8), mode <= 0o777 else { throw .configuration("socket_mode \"\(text)\" is not an octal mode like \"0660\"") }
                    socketMode = mode
                } else {
                    socketMode = UInt32(try int() & 0o777)
                }
            case "backend": backend = try string()
            case "profile":
                guard let p = SimulatorProfile(rawValue: try string()) else { throw .configuration("profile must be fsim or hardware") }
                profile = p
            case "vta_config":
                do { hardware = try HardwareConfig(json: value) } catch { throw .configuration("vta_config: \(error)") }
            case "target":
                do { hardware = try hardware.retargeted(try string()) } catch { throw .configuration("target: \(error)") }
            case "allow_uids": allowedUIDs = try ids()
            case "allow_gids": allowedGIDs = try ids()
            case "max_buffers": limits.maxBuffers = UInt32(clamping: try int())
            case "max_buffer_bytes": limits.maxBufferBytes = UInt64(try int())
            case "max_job_instructions": limits.maxJobInstructions = UInt32(clamping: try int())
            case "max_queued_jobs": limits.maxQueuedJobs = UInt32(clamping: max(1, try int()))
            case "job_timeout_ms":
                let ms = try int()
                guard ms >= 1 else { throw .configuration("job_timeout_ms must be at least 1") }
                defaultJobTimeout = .milliseconds(ms)
            case "max_client_bytes": maxClientBytes = UInt64(try int())
            case "metrics_file": metricsFile = try string()
            case "board_uio": boardUIO = try string()
            case "board_devmem": boardDevMem = try string()
            case "board_irq_fifo": boardIRQFifo = try string()
            case "board_irq":
                guard case .bool(let b) = value else { throw .configuration("board_irq must be true or false") }
                boardIRQ = b
            default:
                throw .configuration("unknown key \"\(key)\"; known keys: \(known.joined(separator: ", "))")
            }
        }
    }
}

/// Why the daemon could not start or stopped.
public enum DaemonError: Error, Sendable, CustomStringConvertible {
    case configuration(String)
    case startup(String)

    public var description: String {
        switch self {
        case .configuration(let s): return "configuration: \(s)"
        case .startup(let s): return "startup: \(s)"
        }
    }
}
