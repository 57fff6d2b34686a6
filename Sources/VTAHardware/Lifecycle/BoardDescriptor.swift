import Glibc
import VTA

/// One key on which two configurations disagree: what the runtime or program expects and what
/// the bitstream was built for.
public struct ConfigDifference: Sendable, Hashable, CustomStringConvertible {
    public var key: String
    public var expected: String
    public var found: String

    public init(key: String, expected: String, found: String) {
        self.key = key
        self.expected = expected
        self.found = found
    }

    /// `LOG_BATCH: expected 0, found 1`.
    public var description: String { "\(key): expected \(expected), found \(found)" }
}

/// Why a board descriptor was refused. Every case names the file, and the key where one is at fault.
public enum BoardDescriptorError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing(path: String)
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case missingKey(path: String, key: String)
    case invalidKey(path: String, key: String, reason: String)
    case unknownKey(path: String, key: String)
    case bitstreamMismatch(path: String, bitstream: String, expected: String, found: String)
    case configMismatch(path: String, differences: [ConfigDifference])
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .missing(let path):
            return "board descriptor \(path) does not exist: ship a .vta.json beside the bitstream "
                + "(vtactl board descriptor writes one)"
        case .unreadable(let path, let reason):
            return "cannot read board descriptor \(path): \(reason)"
        case .malformed(let path, let reason):
            return "board descriptor \(path) is not valid JSON: \(reason)"
        case .missingKey(let path, let key):
            return "board descriptor \(path) has no \"\(key)\""
        case .invalidKey(let path, let key, let reason):
            return "board descriptor \(path): \"\(key)\" \(reason)"
        case .unknownKey(let path, let key):
            return "board descriptor \(path) has an unknown key \"\(key)\"; allowed: "
                + BoardDescriptor.keys.joined(separator: ", ")
        case .bitstreamMismatch(let path, let bitstream, let expected, let found):
            return "bitstream \(bitstream) does not match board descriptor \(path): SHA-256 \(found), the descriptor "
                + "says \(expected); the bitstream was rebuilt or corrupted: regenerate the descriptor or restore the file"
        case .configMismatch(let path, let differences):
            return "the bitstream described by \(path) was built for another VTA configuration:\n"
                + differences.map(\.description).joined(separator: "\n")
        case .writeFailed(let path, let reason):
            return "cannot write board descriptor \(path): \(reason)"
        }
    }
}

/// The JSON file shipped beside each bitstream (`<stem>.vta.json`): the VTA configuration it
/// implements, the target, hardware version, clock and the bitstream's SHA-256. A runtime opening
/// the board refuses to run when the descriptor disagrees with its own configuration, instead of
/// computing wrong results silently.
///
/// ```json
/// {"config": {...vta_config.json keys...}, "target": "pynq", "hw_ver": "0.0.2", "clock_mhz": 100,
///  "bitstream": "1x16_i8w8a32_15_15_18_17.bit", "bitstream_sha256": "…"}
/// ```
public struct BoardDescriptor: Sendable, Hashable {
    /// The configuration the bitstream implements (its `TARGET` and `HW_VER` agree with the
    /// top-level `target` and `hw_ver`).
    public var config: HardwareConfig
    /// Fabric clock in MHz.
    public var clockMHz: Int
    /// The bitstream's file name (in the descriptor's directory).
    public var bitstream: String
    /// Lower-case hex SHA-256 of the bitstream file.
    public var bitstreamSHA256: String
    /// The file it was read from, for messages (nil when built in memory).
    public var source: String?

    public var target: String { config.target }
    public var hwVersion: String { config.hwVersion }

    /// The top-level keys, in order.
    public static let keys = ["config", "target", "hw_ver", "clock_mhz", "bitstream", "bitstream_sha256"]

    public init(config: HardwareConfig, clockMHz: Int? = nil, bitstream: String, bitstreamSHA256: String) {
        self.config = config
        self.clockMHz = clockMHz ?? config.targetProfile.clockMHz
        self.bitstream = bitstream
        self.bitstreamSHA256 = bitstreamSHA256.lowercased()
    }

    /// `<dir>/<stem>.vta.json` for a bitstream path (`.bit`, `.bin`, `.bit.bin`, `.rbf` removed).
    public static func path(forBitstream bitstreamPath: String) -> String {
        BitstreamFile.stemPath(bitstreamPath) + ".vta.json"
    }

    // MARK: Reading

    /// Parses a descriptor; `path` names the file in errors.
    public init(json: JSONValue, path: String) throws(BoardDescriptorError) {
        guard case .object(let members) = json else {
            throw .malformed(path: path, reason: "the document is \(json.kindName), not an object")
        }
        for (key, _) in members where !Self.keys.contains(key) { throw .unknownKey(path: path, key: key) }
        func value(_ key: String) throws(BoardDescriptorError) -> JSONValue {
            guard let v = json[key] else { throw .missingKey(path: path, key: key) }
            return v
        }
        func string(_ key: String) throws(BoardDescriptorError) -> String {
            let v = try value(key)
            guard case .string(let s) = v, !s.isEmpty else {
                throw .invalidKey(path: path, key: key, reason: "must be a non-empty string, found \(v.kindName)")
            }
            return s
        }
        let configJSON = try value("config")
        let config: HardwareConfig
        do { config = try HardwareConfig(json: configJSON) } catch {
            throw .invalidKey(path: path, key: "config", reason: "is not a valid VTA configuration: \(error.description)")
        }
        let target = try string("target")
        guard target == config.target else {
            throw .invalidKey(path: path, key: "target", reason: "is \"\(target)\" but config.TARGET is \"\(config.target)\"")
        }
        let hwVersion = try string("hw_ver")
        guard hwVersion == config.hwVersion else {
            throw .invalidKey(path: path, key: "hw_ver", reason: "is \"\(hwVersion)\" but config.HW_VER is \"\(config.hwVersion)\"")
        }
        let clock = try value("clock_mhz")
        guard case .int(let mhz) = clock, (1...2000).contains(mhz) else {
            throw .invalidKey(path: path, key: "clock_mhz", reason: "must be an integer from 1 to 2000 (MHz), found \(clock.serialized())")
        }
        let bitstream = try string("bitstream")
        guard !bitstream.contains("/") else {
            throw .invalidKey(path: path, key: "bitstream", reason: "must be a file name in the descriptor's directory, not a path")
        }
        let digest = try string("bitstream_sha256").lowercased()
        guard digest.utf8.count == 64, Hex.decode(digest) != nil else {
            throw .invalidKey(path: path, key: "bitstream_sha256", reason: "must be 64 hexadecimal digits, found \"\(digest)\"")
        }
        self.init(config: config, clockMHz: Int(mhz), bitstream: bitstream, bitstreamSHA256: digest)
        source = path
    }

    /// Reads a descriptor file and, when the bitstream it names is in the same directory, checks
    /// the bitstream's SHA-256.
    /// - Returns: the descriptor and whether the bitstream was present and verified.
    public static func load(path: String) throws(BoardDescriptorError) -> (descriptor: BoardDescriptor, bitstreamVerified: Bool) {
        guard HostFiles.exists(path) else { throw .missing(path: path) }
        let bytes: [UInt8]
        do { bytes = try HostFiles.readAll(path) } catch { throw .unreadable(path: path, reason: error.reason) }
        let json: JSONValue
        do { json = try JSONValue.parse(bytes: bytes) } catch { throw .malformed(path: path, reason: error.message) }
        let descriptor = try BoardDescriptor(json: json, path: path)
        let bitstreamPath = HostFiles.directoryName(path) + "/" + descriptor.bitstream
        guard HostFiles.exists(bitstreamPath) else { return (descriptor, false) }
        try descriptor.verifyBitstream(at: bitstreamPath, descriptorPath: path)
        return (descriptor, true)
    }

    /// Checks a bitstream file against `bitstream_sha256`.
    public func verifyBitstream(at bitstreamPath: String, descriptorPath: String) throws(BoardDescriptorError) {
        let bytes: [UInt8]
        do { bytes = try HostFiles.readAll(bitstreamPath) } catch {
            throw .unreadable(path: bitstreamPath, reason: error.reason)
        }
        let found = SHA256.hex(bytes)
        if found != bitstreamSHA256 {
            throw .bitstreamMismatch(path: descriptorPath, bitstream: bitstreamPath, expected: bitstreamSHA256, found: found)
        }
    }

    // MARK: The handshake

    /// Key-by-key differences from the configuration the runtime or program uses (`expected`).
    public func differences(from expected: HardwareConfig, includeTarget: Bool = true) -> [ConfigDifference] {
        expected.differences(from: config, includeTarget: includeTarget).map {
            ConfigDifference(key: $0.key, expected: $0.mine, found: $0.theirs)
        }
    }

    /// Refuses a bitstream built for another configuration, listing every differing key as
    /// `KEY: expected <runtime's value>, found <bitstream's value>`.
    /// - Parameter includeTarget: compare `TARGET` and `HW_VER` too (the default: a board's
    ///   register addresses and clock follow the target).
    public func check(against expected: HardwareConfig, includeTarget: Bool = true) throws(BoardDescriptorError) {
        let differences = differences(from: expected, includeTarget: includeTarget)
        if !differences.isEmpty {
            throw .configMismatch(path: source ?? "board descriptor for \(bitstream)", differences: differences)
        }
    }

    // MARK: Writing

    public var json: JSONValue {
        .object([
            ("config", config.json),
            ("target", .string(target)),
            ("hw_ver", .string(hwVersion)),
            ("clock_mhz", .int(Int64(clockMHz))),
            ("bitstream", .string(bitstream)),
            ("bitstream_sha256", .string(bitstreamSHA256)),
        ])
    }

    /// Writes the descriptor (pretty JSON and a newline) to `path`.
    public func write(to path: String) throws(BoardDescriptorError) {
        do { try HostFiles.writeAtomically(path, Array((json.serialized(pretty: true) + "\n").utf8)) } catch {
            throw .writeFailed(path: path, reason: error.reason)
        }
    }

    /// Hashes a bitstream and writes its descriptor beside it (`<stem>.vta.json`).
    /// - Returns: the descriptor and the path written.
    @discardableResult
    public static func write(for config: HardwareConfig, bitstreamAt bitstreamPath: String,
                             clockMHz: Int? = nil) throws(BoardDescriptorError) -> (descriptor: BoardDescriptor, path: String) {
        let bytes: [UInt8]
        do { bytes = try HostFiles.readAll(bitstreamPath) } catch {
            throw .unreadable(path: bitstreamPath, reason: error.reason)
        }
        let descriptor = BoardDescriptor(config: config, clockMHz: clockMHz, bitstream: HostFiles.baseName(bitstreamPath),
                                         bitstreamSHA256: SHA256.hex(bytes))
        let path = Self.path(forBitstream: bitstreamPath)
        try descriptor.write(to: path)
        return (descriptor, path)
    }
}
