import VTA
import VTAClient
import VTAHardware
import VTARuntime
import VTASimulator

#if canImport(Glibc)
import Glibc
#endif

/// Which device libvta opens, as read from the environment on first use (docs/c-api.md):
/// `VTA_BACKEND=sim|daemon|fpga|auto`, `VTA_CONFIG=path`, `VTA_SOCKET=path`,
/// `VTA_SIM_PROFILE=fsim|hardware`, and for `fpga` `VTA_BOARD`, `VTA_UIO` or `VTA_DEVMEM`,
/// `VTA_IRQ=1` or `VTA_IRQ_FIFO=path`.
struct BackendChoice: Equatable {
    enum Kind: Equatable {
        case auto
        case simulator
        case daemon
        case fpga
    }

    var kind: Kind = .auto
    /// A `vta_config.json`; nil means the stock configuration (or, through the daemon, whatever
    /// the daemon runs).
    var configPath: String?
    var socketPath: String = Runtime.defaultSocket
    /// nil: the target's default profile.
    var profile: SimulatorProfile?
    /// fpga: the board target (default: the configuration's TARGET).
    var board: String?
    /// fpga: where the registers are (one of the two).
    var uio: String?
    var devmem: String?
    /// fpga: wait for the UIO interrupt, or on a FIFO (the emulated board), instead of polling.
    var irq = false
    var irqFifo: String?

    /// The variables this reads.
    static let variables = ["VTA_BACKEND", "VTA_CONFIG", "VTA_SOCKET", "VTA_SIM_PROFILE", "VTA_BOARD", "VTA_UIO", "VTA_DEVMEM",
                            "VTA_IRQ", "VTA_IRQ_FIFO"]

    /// Parses the variables; empty values count as unset.
    init(environment: [String: String]) throws(CABIError) {
        func value(_ key: String) -> String? {
            guard let v = environment[key], !v.isEmpty else { return nil }
            return v
        }
        switch value("VTA_BACKEND") {
        case nil, "auto": kind = .auto
        case "sim", "simulator": kind = .simulator
        case "daemon": kind = .daemon
        case "fpga": kind = .fpga
        case let other?:
            throw .backend("VTA_BACKEND=\(other) is not a backend; use sim, daemon, fpga or auto")
        }
        configPath = value("VTA_CONFIG")
        if let s = value("VTA_SOCKET") { socketPath = s }
        if let p = value("VTA_SIM_PROFILE") {
            guard let profile = SimulatorProfile(rawValue: p) else {
                throw .backend("VTA_SIM_PROFILE=\(p) is not a simulator profile; use fsim or hardware")
            }
            self.profile = profile
        }
        board = value("VTA_BOARD")
        uio = value("VTA_UIO")
        devmem = value("VTA_DEVMEM")
        irq = value("VTA_IRQ").map { $0 == "1" || $0 == "yes" || $0 == "true" } ?? false
        irqFifo = value("VTA_IRQ_FIFO")
    }

    /// The variables of this process.
    static func fromProcessEnvironment() throws(CABIError) -> BackendChoice {
        var env: [String: String] = [:]
        for key in variables {
            if let p = getenv(key) { env[key] = String(cString: p) }
        }
        return try BackendChoice(environment: env)
    }

    /// Opens the device this choice names.
    func open() throws(CABIError) -> any Device {
        let config = try loadConfig()
        switch kind {
        case .simulator:
            return try openSimulator(config ?? .standard)
        case .daemon:
            return try openDaemon(expecting: config)
        case .fpga:
            return try openFPGABackend(config: config ?? .standard, choice: self)
        case .auto:
            // A daemon that answers on the socket wins; otherwise the in-process simulator.
            if access(socketPath, F_OK) == 0, let device = try? openDaemon(expecting: config) { return device }
            return try openSimulator(config ?? .standard)
        }
    }

    private func openSimulator(_ config: HardwareConfig) throws(CABIError) -> any Device {
        do { return try SimulatorDevice(config: config, profile: profile) } catch {
            throw .backend("cannot start the simulator: \(error.description)")
        }
    }

    private func openDaemon(expecting config: HardwareConfig?) throws(CABIError) -> any Device {
        let device: RemoteDevice
        do { device = try RemoteDevice(socketPath: socketPath) } catch {
            throw .backend("cannot use vtad at \(socketPath) (VTA_SOCKET): \(error.description)")
        }
        if let config, !config.sameHardware(as: device.config) {
            let diff = config.differences(from: device.config, includeTarget: false)
                .map { "\($0.key): VTA_CONFIG has \($0.mine), the daemon \($0.theirs)" }.joined(separator: "; ")
            throw .backend("the daemon at \(socketPath) runs another configuration than VTA_CONFIG=\(configPath ?? ""): \(diff)")
        }
        return device
    }

    /// The configuration in `VTA_CONFIG`, if set.
    private func loadConfig() throws(CABIError) -> HardwareConfig? {
        guard let path = configPath else { return nil }
        let text = try readTextFile(path)
        do { return try HardwareConfig(jsonText: text) } catch {
            throw .backend("VTA_CONFIG=\(path): \(error.description)")
        }
    }
}

/// Opens the board named by `VTA_BOARD` with registers from `VTA_UIO` or `VTA_DEVMEM`.
func openFPGABackend(config: HardwareConfig, choice: BackendChoice) throws(CABIError) -> any Device {
    let target: TargetProfile
    if let name = choice.board {
        guard let t = TargetProfile.named(name), t.isBoard else {
            throw .backend("VTA_BOARD=\(name) is not a board; use pynq, ultra96, zcu104 or de10nano")
        }
        target = t
    } else {
        guard config.targetProfile.isBoard else {
            throw .backend("VTA_BACKEND=fpga needs VTA_BOARD (pynq, ultra96, zcu104, de10nano) or a VTA_CONFIG whose TARGET is a board")
        }
        target = config.targetProfile
    }
    let registers: BoardOptions.Registers
    switch (choice.uio, choice.devmem) {
    case (let u?, nil): registers = .uio(devnode: u)
    case (nil, let d?): registers = .devMem(path: d)
    case (nil, nil): throw .backend("VTA_BACKEND=fpga needs VTA_UIO=/dev/uioN (see vtactl board info) or VTA_DEVMEM=path")
    default: throw .backend("set VTA_UIO or VTA_DEVMEM, not both")
    }
    let completion: BoardOptions.Completion = choice.irqFifo.map { .fifo(path: $0) } ?? (choice.irq ? .uioInterrupt : .poll)
    do {
        return try FPGADevice(options: BoardOptions(config: config, board: target, registers: registers, completion: completion))
    } catch {
        throw .backend("cannot open the \(target.name) board: \(error.description)")
    }
}

/// Reads a whole text file with POSIX calls (the library does not use Foundation).
func readTextFile(_ path: String) throws(CABIError) -> String {
    guard let f = fopen(path, "rb") else {
        throw .backend("cannot open \(path): \(String(cString: strerror(errno)))")
    }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        if n > 0 { bytes += chunk[0..<n] }
        if n < chunk.count {
            if ferror(f) != 0 { throw .backend("cannot read \(path): \(String(cString: strerror(errno)))") }
            break
        }
        if bytes.count > 1 << 20 { throw .backend("\(path) is larger than 1 MiB; it is not a vta_config.json") }
    }
    return String(decoding: bytes, as: UTF8.self)
}
