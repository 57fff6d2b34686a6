import ArgumentParser
import Logging
import VTA
import VTAService
import VTASimulator

#if canImport(Glibc)
import Glibc
#endif

extension SimulatorProfile: ExpressibleByArgument {}

/// vtad: the swift-vta runtime daemon.
struct VTADaemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vtad",
        abstract: "Own the VTA accelerator (a board, or the simulator) and serve local clients over a Unix socket.",
        discussion: """
            Clients (vtactl --backend daemon, Swift programs through VTAClient, libvta) allocate
            shared buffers, submit instruction streams, and wait for results. Every stream is
            copied and verified before it reaches the device. Runs under systemd (Type=notify,
            socket activation, watchdog) or on its own. Flags override the config file.
            """,
        version: "0.1.0")

    @Option(name: .long, help: "Daemon configuration file (JSON, see docs/operations.md).") var daemonConfig: String?
    @Option(name: .long, help: "Socket path (default /run/vta/vtad.sock).") var socket: String?
    @Option(name: .long, help: "Backend: auto, sim or fpga (with --target pynq|ultra96|zcu104|de10nano and --uio or --devmem).") var backend: String?
    @Option(name: .long, help: "fpga: the board's UIO device (e.g. /dev/uio0).") var uio: String?
    @Option(name: .long, help: "fpga: map registers and the DMA carve-out from this file (/dev/mem, or vta-board-emu's file).") var devmem: String?
    @Flag(name: .long, help: "fpga: wait for the UIO interrupt instead of polling.") var irq = false
    @Option(name: .customLong("irq-fifo"), help: "fpga: wait for completions on this FIFO (vta-board-emu --irq-fifo).") var irqFifo: String?
    @Option(name: .long, help: "Simulator profile: fsim or hardware.") var profile: SimulatorProfile?
    @Option(name: .long, help: "VTA configuration (vta_config.json).") var config: String?
    @Option(name: .long, help: "Named target with the stock configuration.") var target: String?
    @Option(name: .long, help: "Also write OpenMetrics to this file after every job.") var metricsFile: String?
    @Option(name: .long, parsing: .upToNextOption, help: "Allowed client uids (default: anyone who can open the socket).") var allowUid: [UInt32] = []
    @Option(name: .long, parsing: .upToNextOption, help: "Allowed client gids.") var allowGid: [UInt32] = []
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"

    func run() throws {
        var cfg = DaemonConfiguration()
        let env = ProcessEnvironment.current
        do {
            if let path = daemonConfig {
                let json: JSONValue
                do { json = try JSONValue.parse(bytes: try readFile(path)) } catch let e as ValidationError { throw e } catch { throw ValidationError("\(path): \(error)") }
                try cfg.apply(json: json)
            }
            if let config {
                do { cfg.hardware = try HardwareConfig(json: try JSONValue.parse(bytes: try readFile(config))) } catch let e as ValidationError { throw e } catch {
                    throw ValidationError("\(config): \(error)")
                }
            }
            if let target { do { cfg.hardware = try cfg.hardware.retargeted(target) } catch { throw ValidationError("\(error)") } }
            if let socket { cfg.socketPath = socket }
            if let backend { cfg.backend = backend }
            if let profile { cfg.profile = profile }
            if let metricsFile { cfg.metricsFile = metricsFile }
            if let uio { cfg.boardUIO = uio }
            if let devmem { cfg.boardDevMem = devmem }
            if irq { cfg.boardIRQ = true }
            if let irqFifo { cfg.boardIRQFifo = irqFifo }
            if !allowUid.isEmpty { cfg.allowedUIDs = Set(allowUid) }
            if !allowGid.isEmpty { cfg.allowedGIDs = Set(allowGid) }
        } catch let e as DaemonError {
            throw ValidationError(e.description)
        }
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown log level \(logLevel)") }
        LoggingSystem.bootstrap { label in
            var h = JournalLogHandler(label: label, journal: env["JOURNAL_STREAM"] != nil)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "vtad")
        do {
            let daemon = try Daemon(configuration: cfg, environment: env, logger: logger)
            try daemon.run()
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
    }
}

/// Reads a whole file (without Foundation).
func readFile(_ path: String) throws -> [UInt8] {
    guard let f = fopen(path, "r") else { throw ValidationError("cannot read \(path): \(String(cString: strerror(errno)))") }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&buf, 1, buf.count, f)
        if n <= 0 { break }
        bytes += buf.prefix(n)
    }
    return bytes
}

/// The process environment as a dictionary (without Foundation).
enum ProcessEnvironment {
    static var current: [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }
}

VTADaemon.main()
