import VTA
import VTAClient
import VTARuntime
import VTASimulator

#if canImport(Glibc)
import Glibc
#endif

/// Which device libvta opens, as read from the environment on first use (docs/c-api.md):
/// `VTA_BACKEND=sim|daemon|fpga|auto`, `VTA_CONFIG=path`, `VTA_SOCKET=path`,
/// `VTA_SIM_PROFILE=fsim|hardware`.
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

    /// The variables this reads.
    static let variables = ["VTA_BACKEND", "VTA_CONFIG", "VTA_SOCKET", "VTA_SIM_PROFILE"]

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
            return try openFPGABackend(config: config ?? .standard)
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

/// The board backend. It is not part of this build yet: this is the one place that opens it
/// once `VTAHardware` provides a device (replace the body with that call).
func openFPGABackend(config: HardwareConfig) throws(CABIError) -> any Device {
    throw .backend("VTA_BACKEND=fpga needs the board backend (VTAHardware's FPGA device for Runtime.open(.fpga)), "
        + "which this build of libvta does not include yet; use VTA_BACKEND=daemon with a vtad on the board, or sim")
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
