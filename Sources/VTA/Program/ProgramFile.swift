/// A VTA program with its data, in the conformance format (`vta-conformance-program/1`).
///
/// This is also the job format of `vtactl run` and the daemon: a configuration, the DRAM buffers
/// the program uses (with their contents before the run), the instruction stream, and optionally
/// the expected contents after the run.
public struct ProgramFile: Sendable {
    /// What a buffer is for.
    public enum Role: String, Sendable {
        case input, output, uop, insn
    }

    /// One DRAM buffer.
    public struct Segment: Sendable {
        public var name: String
        public var role: Role
        public var physicalAddress: UInt64
        public var size: Int
        /// Initial bytes (`nil` for buffers that start undefined, like outputs without a sentinel).
        public var contents: [UInt8]?
    }

    /// Expected bytes of an output buffer after the run: full bytes or a SHA-256 digest.
    public struct Expected: Sendable {
        public var name: String
        public var physicalAddress: UInt64
        public var size: Int
        public var bytes: [UInt8]?
        public var sha256: String?
    }

    public var name: String
    public var config: HardwareConfig
    /// Every buffer, in allocation order (including the instruction buffer).
    public var allocations: [Segment]
    public var instructionAddress: UInt64
    public var instructions: [InstructionWord]
    public var expected: [Expected]
    public var expectedProfiler: ProfilerCounters?
    /// Expected outputs under the HLS model, where they differ from fsim.
    public var hardwareExpected: [Expected]?
    /// Whether the HLS model matched fsim on this program.
    public var hardwareMatchesFsim: Bool

    /// Why a program file was refused; says which part of the file.
    public struct FormatError: Error, CustomStringConvertible, Sendable {
        public let description: String
        init(_ d: String) { description = d }
    }

    public init(name: String, config: HardwareConfig, allocations: [Segment], instructionAddress: UInt64,
                instructions: [InstructionWord], expected: [Expected] = [], expectedProfiler: ProfilerCounters? = nil) {
        self.name = name
        self.config = config
        self.allocations = allocations
        self.instructionAddress = instructionAddress
        self.instructions = instructions
        self.expected = expected
        self.expectedProfiler = expectedProfiler
        self.hardwareExpected = nil
        self.hardwareMatchesFsim = true
    }

    /// Reads a program from its JSON.
    public init(json: JSONValue) throws(FormatError) {
        guard case .object = json else { throw FormatError("a program must be a JSON object") }
        name = json["name"]?.stringValue ?? "program"
        guard let cfg = json["config"] else { throw FormatError("missing \"config\"") }
        do { config = try HardwareConfig(json: cfg) } catch { throw FormatError("config: \(error.description)") }

        func int(_ v: JSONValue?, _ what: String) throws(FormatError) -> Int64 {
            guard let i = v?.intValue else { throw FormatError("\(what) must be an integer") }
            return i
        }
        func address(_ v: JSONValue?, _ what: String) throws(FormatError) -> UInt64 {
            let a = try int(v, what)
            guard a >= 0, a <= 0xFFFF_FFFF else { throw FormatError("\(what) = \(a) is not a 32-bit physical address") }
            return UInt64(a)
        }
        func size(_ v: JSONValue?, _ what: String) throws(FormatError) -> Int {
            let s = try int(v, what)
            guard s >= 0, s <= 1 << 31 else { throw FormatError("\(what) = \(s) is not a buffer size (0...2 GiB)") }
            return Int(s)
        }

        // Initial contents: hex, or a xorshift32 fill (perf workloads).
        var contents: [String: [UInt8]] = [:]
        for (i, seg) in (json["segments_before"]?.arrayValue ?? []).enumerated() {
            let what = "segments_before[\(i)]"
            guard let n = seg["name"]?.stringValue else { throw FormatError("\(what).name must be a string") }
            let sz = try size(seg["size"], "\(what).size")
            if let hex = seg["hex"]?.stringValue {
                guard let b = Hex.decode(hex), b.count == sz else { throw FormatError("\(what).hex is not \(sz) bytes of hex") }
                contents[n] = b
            } else if let fill = seg["fill"] {
                guard fill["kind"]?.stringValue == "xorshift32", let seed = fill["seed"]?.intValue else {
                    throw FormatError("\(what).fill must be {\"kind\": \"xorshift32\", \"seed\": N}")
                }
                contents[n] = Self.xorshift32(seed: UInt32(truncatingIfNeeded: seed), count: sz)
            }
        }

        var segs: [Segment] = []
        guard let allocs = json["allocations"]?.arrayValue else { throw FormatError("missing \"allocations\" (an array)") }
        for (i, a) in allocs.enumerated() {
            let what = "allocations[\(i)]"
            guard let n = a["name"]?.stringValue else { throw FormatError("\(what).name must be a string") }
            guard let r = a["role"]?.stringValue, let role = Role(rawValue: r) else {
                throw FormatError("\(what).role must be input, output, uop or insn")
            }
            let sz = try size(a["size"], "\(what).size")
            segs.append(Segment(name: n, role: role, physicalAddress: try address(a["phys_addr"], "\(what).phys_addr"),
                                size: sz, contents: contents[n]))
        }
        allocations = segs
        instructionAddress = try address(json["insn_phys_addr"], "insn_phys_addr")

        guard let words = json["instructions"]?.arrayValue else { throw FormatError("missing \"instructions\" (an array of hex strings)") }
        var insns: [InstructionWord] = []
        insns.reserveCapacity(words.count)
        for (i, w) in words.enumerated() {
            guard let s = w.stringValue, let word = InstructionWord(hex: s) else {
                throw FormatError("instructions[\(i)] is not 32 hex characters")
            }
            insns.append(word)
        }
        if let count = json["insn_count"]?.intValue, count != Int64(insns.count) {
            throw FormatError("insn_count is \(count) but \(insns.count) instructions are given")
        }
        instructions = insns

        func expectations(_ v: JSONValue?, _ what: String) throws(FormatError) -> [Expected] {
            var out: [Expected] = []
            for (i, e) in (v?.arrayValue ?? []).enumerated() {
                let w = "\(what)[\(i)]"
                guard let n = e["name"]?.stringValue else { throw FormatError("\(w).name must be a string") }
                let sz = try size(e["size"], "\(w).size")
                var bytes: [UInt8]?
                if let hex = e["hex"]?.stringValue {
                    guard let b = Hex.decode(hex), b.count == sz else { throw FormatError("\(w).hex is not \(sz) bytes of hex") }
                    bytes = b
                }
                out.append(Expected(name: n, physicalAddress: try address(e["phys_addr"], "\(w).phys_addr"), size: sz,
                                    bytes: bytes, sha256: e["sha256"]?.stringValue))
            }
            return out
        }
        expected = try expectations(json["expected_after"], "expected_after")
            + expectations(json["expected_after_digest"], "expected_after_digest")
        expectedProfiler = json["expected_profiler"].map { ProfilerCounters(json: $0) }
        hardwareMatchesFsim = {
            if case .bool(let b)? = json["hls"]?["matches_fsim"] { return b }
            return true
        }()
        hardwareExpected = json["hls_expected"]?.arrayValue != nil ? try expectations(json["hls_expected"], "hls_expected") : nil
    }

    /// The perf workloads' fill generator (conformance README §7).
    public static func xorshift32(seed: UInt32, count: Int) -> [UInt8] {
        var s = seed
        var out = [UInt8](repeating: 0, count: count)
        for i in 0..<count {
            s ^= s << 13
            s ^= s >> 17
            s ^= s << 5
            out[i] = UInt8(truncatingIfNeeded: s)
        }
        return out
    }

    /// What the output buffers should hold after a run under a profile: fsim's expectations, or
    /// the HLS model's where it differs.
    public func expectations(hardware: Bool) -> [Expected] {
        if hardware, !hardwareMatchesFsim, let h = hardwareExpected { return h }
        return expected
    }
}

extension ProgramFile {
    /// The instructions with every LOAD/STORE `dram_base` moved from the program's allocation
    /// addresses to `newAddresses` (by buffer name), for running on a device that hands out its
    /// own addresses (a board, the daemon).
    public func relocatedInstructions(to newAddresses: [String: UInt64]) throws(FormatError) -> [InstructionWord] {
        let buffers = allocations.filter { $0.role != .insn }
        var out = instructions
        for (i, w) in instructions.enumerated() where w.opcodeBits <= 1 {
            var m = config.isa.decoder.decodeMemory(w)
            guard m.xSize > 0, let type = m.memoryType else { continue }
            let e = UInt64(config.dramElementBytes(type))
            let address = UInt64(m.dramBase) * e
            guard let seg = buffers.first(where: { address >= $0.physicalAddress && address < $0.physicalAddress + UInt64($0.size) }) else {
                throw FormatError("instruction \(i) addresses 0x\(String(address, radix: 16)), which is in none of the program's buffers")
            }
            guard let target = newAddresses[seg.name] else { throw FormatError("no new address for buffer \(seg.name)") }
            let moved = target + (address - seg.physicalAddress)
            guard moved % e == 0, moved / e <= UInt64(UInt32.max) else {
                throw FormatError("instruction \(i): buffer \(seg.name) at 0x\(String(target, radix: 16)) is not addressable in \(e)-byte elements")
            }
            m.dramBase = UInt32(moved / e)
            let insn: Instruction = w.opcodeBits == 0 ? .load(m) : .store(m)
            do { out[i] = try config.isa.encode(insn) } catch { throw FormatError("instruction \(i): \(error)") }
        }
        return out
    }
}
