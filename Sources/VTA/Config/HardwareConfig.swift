/// Why a hardware configuration was refused. Every case names the key and what is allowed.
public enum ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingKey(String)
    case unknownKey(String, allowed: [String])
    case wrongType(key: String, found: String, expected: String)
    case outOfRange(key: String, value: Int64, allowed: ClosedRange<Int64>, why: String)
    case inconsistent(key: String, value: Int64, expected: Int64)
    case unknownTarget(String, known: [String])
    case notEncodable(keys: [String], reason: String)
    case notAnObject(found: String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingKey(let k):
            return "configuration is missing the key \(k)"
        case .unknownKey(let k, let allowed):
            return "configuration has an unknown key \"\(k)\"; allowed keys: \(allowed.joined(separator: ", "))"
        case .wrongType(let k, let found, let expected):
            return "configuration key \(k) is \(found); it must be \(expected)"
        case .outOfRange(let k, let v, let r, let why):
            return "configuration key \(k) = \(v) is out of range: allowed \(r.lowerBound)...\(r.upperBound)"
                + (why.isEmpty ? "" : " (\(why))")
        case .inconsistent(let k, let v, let e):
            return "configuration key \(k) = \(v) contradicts the other keys: it must be \(e)"
        case .unknownTarget(let t, let known):
            return "configuration key TARGET = \"\(t)\" is not a known target; known targets: \(known.joined(separator: ", "))"
        case .notEncodable(let keys, let reason):
            return "configuration cannot be encoded (\(keys.joined(separator: ", "))): \(reason)"
        case .notAnObject(let found):
            return "a configuration must be a JSON object, found \(found)"
        case .unreadable(let path, let reason):
            return "cannot read configuration \(path): \(reason)"
        }
    }
}

/// A VTA hardware configuration, loaded at run time.
///
/// TVM bakes the configuration into its C++ build; swift-vta reads TVM's `vta_config.json`
/// format when it starts, validates it and derives every constant of spec §1.3 from it, so one
/// binary serves every bitstream.
public struct HardwareConfig: Sendable, Hashable {
    // MARK: The JSON keys
    public let target: String
    public let hwVersion: String
    public let logInpWidth: Int
    public let logWgtWidth: Int
    public let logAccWidth: Int
    public let logBatch: Int
    public let logBlock: Int
    public let logUopBuffSize: Int
    public let logInpBuffSize: Int
    public let logWgtBuffSize: Int
    public let logAccBuffSize: Int

    // MARK: Derived constants (spec §1.3)
    public let batch: Int
    public let blockIn: Int
    public let blockOut: Int
    public let inpWidth: Int
    public let wgtWidth: Int
    public let accWidth: Int
    public let outWidth: Int
    public let logOutWidth: Int
    public let logOutBuffSize: Int
    public let inpElemBytes: Int
    public let wgtElemBytes: Int
    public let accElemBytes: Int
    public let outElemBytes: Int
    public static let uopElemBytes = 4
    public static let insnElemBytes = 16
    public let uopBuffSize: Int
    public let inpBuffSize: Int
    public let wgtBuffSize: Int
    public let accBuffSize: Int
    public let outBuffSize: Int
    public let logUopBuffDepth: Int
    public let logInpBuffDepth: Int
    public let logWgtBuffDepth: Int
    public let logAccBuffDepth: Int
    public let uopBuffDepth: Int
    public let inpBuffDepth: Int
    public let wgtBuffDepth: Int
    public let accBuffDepth: Int
    public var outBuffDepth: Int { accBuffDepth }

    /// Bit layouts of every instruction view and the micro-op for this configuration.
    public let isa: ISALayout
    /// Board facts of `target`.
    public let targetProfile: TargetProfile

    /// The JSON keys, in TVM's order.
    public static let keys = [
        "TARGET", "HW_VER", "LOG_INP_WIDTH", "LOG_WGT_WIDTH", "LOG_ACC_WIDTH", "LOG_BATCH", "LOG_BLOCK",
        "LOG_UOP_BUFF_SIZE", "LOG_INP_BUFF_SIZE", "LOG_WGT_BUFF_SIZE", "LOG_ACC_BUFF_SIZE",
    ]
    /// Keys that `pkg_config.py` derives; accepted in a file only if they agree with the others.
    static let derivedKeys = ["LOG_BLOCK_IN", "LOG_BLOCK_OUT", "LOG_OUT_WIDTH", "LOG_OUT_BUFF_SIZE"]

    /// Allowed ranges of the integer keys, with the reason shown when a value is outside.
    static let ranges: [(String, ClosedRange<Int64>, String)] = [
        ("LOG_INP_WIDTH", 0...3, "input values are 1 to 8 bits"),
        ("LOG_WGT_WIDTH", 0...3, "weight values are 1 to 8 bits"),
        ("LOG_ACC_WIDTH", 3...5, "accumulator values are 8 to 32 bits"),
        ("LOG_BATCH", 0...6, "a batch of 1 to 64 rows"),
        ("LOG_BLOCK", 1...6, "tiles of 2x2 to 64x64"),
        ("LOG_UOP_BUFF_SIZE", 2...31, "buffer sizes are powers of two in bytes"),
        ("LOG_INP_BUFF_SIZE", 0...31, "buffer sizes are powers of two in bytes"),
        ("LOG_WGT_BUFF_SIZE", 0...31, "buffer sizes are powers of two in bytes"),
        ("LOG_ACC_BUFF_SIZE", 0...31, "buffer sizes are powers of two in bytes"),
    ]

    /// Builds and validates a configuration from its keys.
    public init(
        target: String = "sim", hwVersion: String = "0.0.2",
        logInpWidth: Int = 3, logWgtWidth: Int = 3, logAccWidth: Int = 5,
        logBatch: Int = 0, logBlock: Int = 4,
        logUopBuffSize: Int = 15, logInpBuffSize: Int = 15, logWgtBuffSize: Int = 18, logAccBuffSize: Int = 17
    ) throws(ConfigError) {
        guard let profile = TargetProfile.named(target) else {
            throw .unknownTarget(target, known: TargetProfile.all.map(\.name))
        }
        let values: [String: Int] = [
            "LOG_INP_WIDTH": logInpWidth, "LOG_WGT_WIDTH": logWgtWidth, "LOG_ACC_WIDTH": logAccWidth,
            "LOG_BATCH": logBatch, "LOG_BLOCK": logBlock, "LOG_UOP_BUFF_SIZE": logUopBuffSize,
            "LOG_INP_BUFF_SIZE": logInpBuffSize, "LOG_WGT_BUFF_SIZE": logWgtBuffSize,
            "LOG_ACC_BUFF_SIZE": logAccBuffSize,
        ]
        for (key, range, why) in Self.ranges {
            let v = Int64(values[key, default: 0])
            if !range.contains(v) { throw .outOfRange(key: key, value: v, allowed: range, why: why) }
        }
        if hwVersion.isEmpty { throw .wrongType(key: "HW_VER", found: "an empty string", expected: "a version string such as \"0.0.2\"") }
        // The keys are in range, so deriving cannot trap; then judge what was derived.
        self.init(trusted: target, hwVersion, logInpWidth, logWgtWidth, logAccWidth, logBatch, logBlock,
                  logUopBuffSize, logInpBuffSize, logWgtBuffSize, logAccBuffSize, profile: profile)
        try validateDerived()
    }

    /// Derives every constant from keys known to be in range, without judging them.
    private init(trusted target: String, _ hwVersion: String, _ logInpWidth: Int, _ logWgtWidth: Int, _ logAccWidth: Int,
                 _ logBatch: Int, _ logBlock: Int, _ logUopBuffSize: Int, _ logInpBuffSize: Int, _ logWgtBuffSize: Int,
                 _ logAccBuffSize: Int, profile: TargetProfile) {
        self.target = target
        self.hwVersion = hwVersion
        self.logInpWidth = logInpWidth
        self.logWgtWidth = logWgtWidth
        self.logAccWidth = logAccWidth
        self.logBatch = logBatch
        self.logBlock = logBlock
        self.logUopBuffSize = logUopBuffSize
        self.logInpBuffSize = logInpBuffSize
        self.logWgtBuffSize = logWgtBuffSize
        self.logAccBuffSize = logAccBuffSize
        self.targetProfile = profile

        batch = 1 << logBatch
        blockIn = 1 << logBlock
        blockOut = 1 << logBlock
        inpWidth = 1 << logInpWidth
        wgtWidth = 1 << logWgtWidth
        accWidth = 1 << logAccWidth
        logOutWidth = logInpWidth
        outWidth = 1 << logOutWidth
        logOutBuffSize = logAccBuffSize + logOutWidth - logAccWidth
        inpElemBytes = inpWidth * batch * blockIn / 8
        wgtElemBytes = wgtWidth * blockOut * blockIn / 8
        accElemBytes = accWidth * batch * blockOut / 8
        outElemBytes = outWidth * batch * blockOut / 8

        uopBuffSize = 1 << logUopBuffSize
        inpBuffSize = 1 << logInpBuffSize
        wgtBuffSize = 1 << logWgtBuffSize
        accBuffSize = 1 << logAccBuffSize
        outBuffSize = logOutBuffSize >= 0 ? 1 << logOutBuffSize : 0

        logUopBuffDepth = logUopBuffSize - 5 + 3
        logInpBuffDepth = logInpBuffSize - logBatch - logBlock - logInpWidth + 3
        logWgtBuffDepth = logWgtBuffSize - logBlock - logBlock - logWgtWidth + 3
        logAccBuffDepth = logAccBuffSize - logBatch - logBlock - logAccWidth + 3
        // A negative log depth shifts to 0 (Swift's shifts are total); validation rejects it.
        uopBuffDepth = 1 << logUopBuffDepth
        inpBuffDepth = 1 << logInpBuffDepth
        wgtBuffDepth = 1 << logWgtBuffDepth
        accBuffDepth = 1 << logAccBuffDepth
        isa = ISALayout(computing: logUopBuffDepth, logInpBuffDepth, logWgtBuffDepth, logAccBuffDepth)
    }

    /// The checks on derived values: whole-byte elements within a page, buffers holding at least
    /// one element and at most what sram_base addresses, and an encodable ISA (spec §1.5).
    private func validateDerived() throws(ConfigError) {
        // Elements must be whole bytes and fit in a 4 KiB page (the runtime addresses buffers in
        // elements from page-aligned allocations, spec §2.12).
        let elementBits: [(String, Int, String)] = [
            ("INP", inpWidth * batch * blockIn, "LOG_INP_WIDTH"),
            ("WGT", wgtWidth * blockOut * blockIn, "LOG_WGT_WIDTH"),
            ("ACC", accWidth * batch * blockOut, "LOG_ACC_WIDTH"),
        ]
        for (name, bits, key) in elementBits {
            if bits % 8 != 0 {
                throw .notEncodable(keys: [key, "LOG_BATCH", "LOG_BLOCK"],
                                    reason: "an \(name) element would be \(bits) bits, not a whole number of bytes")
            }
            if bits / 8 > 4096 {
                throw .notEncodable(keys: [key, "LOG_BATCH", "LOG_BLOCK"],
                                    reason: "an \(name) element would be \(bits / 8) bytes; elements larger than a 4096-byte page cannot be addressed")
            }
        }
        for (key, value, depth, elem) in [
            ("LOG_UOP_BUFF_SIZE", logUopBuffSize, logUopBuffDepth, Self.uopElemBytes),
            ("LOG_INP_BUFF_SIZE", logInpBuffSize, logInpBuffDepth, inpElemBytes),
            ("LOG_WGT_BUFF_SIZE", logWgtBuffSize, logWgtBuffDepth, wgtElemBytes),
            ("LOG_ACC_BUFF_SIZE", logAccBuffSize, logAccBuffDepth, accElemBytes),
        ] {
            let minimum = Int64(value - depth)
            if depth < 0 {
                throw .outOfRange(key: key, value: Int64(value), allowed: minimum...(minimum + 16),
                                  why: "the buffer must hold at least one \(elem)-byte element")
            }
            if depth > 16 {
                throw .outOfRange(key: key, value: Int64(value), allowed: minimum...(minimum + 16),
                                  why: "the 16-bit sram_base field addresses at most 65536 elements")
            }
        }
        if let error = isa.encodabilityError { throw error }
    }

    /// The stock configuration (`1x16_i8w8a32_15_15_18_17`) for a named target.
    public static func defaults(target: String = "sim") throws(ConfigError) -> HardwareConfig {
        try HardwareConfig(target: target)
    }

    /// The stock configuration for the `sim` target (its validity is a test, not a run-time check).
    public static let standard = HardwareConfig(trusted: "sim", "0.0.2", 3, 3, 5, 0, 4, 15, 15, 18, 17, profile: .sim)

    /// Reads a configuration in TVM's `vta_config.json` format.
    public init(json: JSONValue) throws(ConfigError) {
        guard case .object(let members) = json else { throw .notAnObject(found: json.kindName) }
        var seen: [String: JSONValue] = [:]
        for (key, value) in members {
            guard Self.keys.contains(key) || Self.derivedKeys.contains(key) else {
                throw .unknownKey(key, allowed: Self.keys)
            }
            seen[key] = value
        }
        func string(_ key: String) throws(ConfigError) -> String {
            guard let v = seen[key] else { throw .missingKey(key) }
            guard case .string(let s) = v else { throw .wrongType(key: key, found: v.kindName, expected: "a string") }
            return s
        }
        func integer(_ key: String) throws(ConfigError) -> Int {
            guard let v = seen[key] else { throw .missingKey(key) }
            guard case .int(let i) = v else { throw .wrongType(key: key, found: v.kindName, expected: "an integer") }
            guard let r = Self.ranges.first(where: { $0.0 == key }) else { return Int(i) }
            guard r.1.contains(i) else { throw .outOfRange(key: key, value: i, allowed: r.1, why: r.2) }
            return Int(i)
        }
        try self.init(
            target: try string("TARGET"), hwVersion: try string("HW_VER"),
            logInpWidth: try integer("LOG_INP_WIDTH"), logWgtWidth: try integer("LOG_WGT_WIDTH"),
            logAccWidth: try integer("LOG_ACC_WIDTH"), logBatch: try integer("LOG_BATCH"),
            logBlock: try integer("LOG_BLOCK"), logUopBuffSize: try integer("LOG_UOP_BUFF_SIZE"),
            logInpBuffSize: try integer("LOG_INP_BUFF_SIZE"), logWgtBuffSize: try integer("LOG_WGT_BUFF_SIZE"),
            logAccBuffSize: try integer("LOG_ACC_BUFF_SIZE"))
        // Derived keys written by pkg_config.py are tolerated only when they agree.
        let derived: [String: Int] = [
            "LOG_BLOCK_IN": logBlock, "LOG_BLOCK_OUT": logBlock, "LOG_OUT_WIDTH": logOutWidth,
            "LOG_OUT_BUFF_SIZE": logOutBuffSize,
        ]
        for key in Self.derivedKeys {
            guard let v = seen[key] else { continue }
            guard case .int(let i) = v else { throw .wrongType(key: key, found: v.kindName, expected: "an integer") }
            if i != Int64(derived[key]!) { throw .inconsistent(key: key, value: i, expected: Int64(derived[key]!)) }
        }
    }

    /// Parses the text of a `vta_config.json` file.
    public init(jsonText: String) throws(ConfigError) {
        let value: JSONValue
        do { value = try JSONValue.parse(jsonText) } catch { throw .unreadable(path: "<text>", reason: error.description) }
        try self.init(json: value)
    }

    /// The same configuration for another target (board facts change, the ISA does not).
    public func retargeted(_ name: String) throws(ConfigError) -> HardwareConfig {
        try HardwareConfig(
            target: name, hwVersion: hwVersion, logInpWidth: logInpWidth, logWgtWidth: logWgtWidth,
            logAccWidth: logAccWidth, logBatch: logBatch, logBlock: logBlock, logUopBuffSize: logUopBuffSize,
            logInpBuffSize: logInpBuffSize, logWgtBuffSize: logWgtBuffSize, logAccBuffSize: logAccBuffSize)
    }

    // MARK: Names

    /// The bitstream / configuration string, e.g. `1x16_i8w8a32_15_15_18_17`.
    public var bitstreamName: String {
        "\(batch)x\(blockIn)_i\(inpWidth)w\(wgtWidth)a\(accWidth)_\(logUopBuffSize)_\(logInpBuffSize)_\(logWgtBuffSize)_\(logAccBuffSize)"
    }

    /// TVM's model string, e.g. `pynq_1x16_i8w8a32_15_15_18_17`.
    public var cfgString: String { "\(target)_\(bitstreamName)" }

    /// Whether two configurations describe the same accelerator (the target may differ).
    public func sameHardware(as other: HardwareConfig) -> Bool { differences(from: other, includeTarget: false).isEmpty }

    /// Key-by-key differences, as (key, self's value, other's value).
    public func differences(from other: HardwareConfig, includeTarget: Bool = true) -> [(key: String, mine: String, theirs: String)] {
        let a = keyValues, b = other.keyValues
        return zip(a, b).compactMap { lhs, rhs in
            if !includeTarget && (lhs.0 == "TARGET" || lhs.0 == "HW_VER") { return nil }
            return lhs.1 == rhs.1 ? nil : (lhs.0, lhs.1.serialized(), rhs.1.serialized())
        }
    }

    /// The JSON keys and values, in TVM's order.
    public var keyValues: [(String, JSONValue)] {
        [
            ("TARGET", .string(target)), ("HW_VER", .string(hwVersion)),
            ("LOG_INP_WIDTH", .int(Int64(logInpWidth))), ("LOG_WGT_WIDTH", .int(Int64(logWgtWidth))),
            ("LOG_ACC_WIDTH", .int(Int64(logAccWidth))), ("LOG_BATCH", .int(Int64(logBatch))),
            ("LOG_BLOCK", .int(Int64(logBlock))), ("LOG_UOP_BUFF_SIZE", .int(Int64(logUopBuffSize))),
            ("LOG_INP_BUFF_SIZE", .int(Int64(logInpBuffSize))), ("LOG_WGT_BUFF_SIZE", .int(Int64(logWgtBuffSize))),
            ("LOG_ACC_BUFF_SIZE", .int(Int64(logAccBuffSize))),
        ]
    }

    /// The configuration in `vta_config.json` form.
    public var json: JSONValue { .object(keyValues) }

    /// Every derived constant under the C header's name (`VTA_*`), as the conformance files list them.
    public var derivedConstants: [(String, Int)] {
        [
            ("VTA_BATCH", batch), ("VTA_BLOCK_IN", blockIn), ("VTA_BLOCK_OUT", blockOut),
            ("VTA_LOG_BLOCK_IN", logBlock), ("VTA_LOG_BLOCK_OUT", logBlock),
            ("VTA_INP_WIDTH", inpWidth), ("VTA_WGT_WIDTH", wgtWidth), ("VTA_ACC_WIDTH", accWidth),
            ("VTA_OUT_WIDTH", outWidth), ("VTA_LOG_OUT_WIDTH", logOutWidth),
            ("VTA_UOP_BUFF_SIZE", uopBuffSize), ("VTA_INP_BUFF_SIZE", inpBuffSize),
            ("VTA_WGT_BUFF_SIZE", wgtBuffSize), ("VTA_ACC_BUFF_SIZE", accBuffSize),
            ("VTA_OUT_BUFF_SIZE", outBuffSize), ("VTA_LOG_OUT_BUFF_SIZE", logOutBuffSize),
            ("VTA_UOP_BUFF_DEPTH", uopBuffDepth), ("VTA_INP_BUFF_DEPTH", inpBuffDepth),
            ("VTA_WGT_BUFF_DEPTH", wgtBuffDepth), ("VTA_ACC_BUFF_DEPTH", accBuffDepth),
            ("VTA_OUT_BUFF_DEPTH", outBuffDepth),
            ("VTA_LOG_UOP_BUFF_DEPTH", logUopBuffDepth), ("VTA_LOG_INP_BUFF_DEPTH", logInpBuffDepth),
            ("VTA_LOG_WGT_BUFF_DEPTH", logWgtBuffDepth), ("VTA_LOG_ACC_BUFF_DEPTH", logAccBuffDepth),
            ("VTA_INP_ELEM_BYTES", inpElemBytes), ("VTA_WGT_ELEM_BYTES", wgtElemBytes),
            ("VTA_ACC_ELEM_BYTES", accElemBytes), ("VTA_OUT_ELEM_BYTES", outElemBytes),
            ("VTA_UOP_ELEM_BYTES", Self.uopElemBytes), ("VTA_INS_ELEM_BYTES", Self.insnElemBytes),
            ("VTA_LOG_BUS_WIDTH", targetProfile.logBusWidth),
            ("VTA_INP_MAT_AXI_RATIO", inpElemBytes * 8 / targetProfile.busWidthBits),
            ("VTA_WGT_MAT_AXI_RATIO", wgtElemBytes * 8 / targetProfile.busWidthBits),
            ("VTA_ACC_MAT_AXI_RATIO", accElemBytes * 8 / targetProfile.busWidthBits),
            ("VTA_OUT_MAT_AXI_RATIO", outElemBytes * 8 / targetProfile.busWidthBits),
            ("VTA_PAGE_BYTES", 4096),
        ]
    }

    /// Everything `vtactl config show` prints: the keys, the names, the derived constants and the
    /// target facts.
    public var fullDescription: JSONValue {
        var members = keyValues
        members.append(("bitstream", .string(bitstreamName)))
        members.append(("cfg_str", .string(cfgString)))
        let derived = derivedConstants.map { ($0.0, JSONValue.int(Int64($0.1))) }
        members.append(contentsOf: derived)
        members.append(("derived_constants", .object(derived)))
        members.append(("layout", isa.json))
        members.append(("target", targetProfile.json))
        return .object(members)
    }

    // MARK: Element sizes per memory type

    /// DRAM bytes of one element of a memory type, as LOAD/STORE `dram_base` counts them (spec §2.12).
    /// `nil` for memory types that have no DRAM element (6, 7).
    public func dramElementBytes(_ type: MemoryType) -> Int {
        switch type {
        case .uop: return Self.uopElemBytes
        case .wgt: return wgtElemBytes
        case .inp: return inpElemBytes
        case .acc: return accElemBytes
        case .out: return outElemBytes
        case .acc8Bit: return accElemBytes / 4
        }
    }

    /// SRAM depth (in elements) of the memory a LOAD of this type writes, or that a STORE reads.
    public func sramDepth(_ type: MemoryType) -> Int {
        switch type {
        case .uop: return uopBuffDepth
        case .wgt: return wgtBuffDepth
        case .inp: return inpBuffDepth
        case .acc, .acc8Bit, .out: return accBuffDepth
        }
    }
}
