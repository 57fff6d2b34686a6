import Testing
import VTATestSupport
import VTA

/// Configuration validation (spec §1.1, §1.5) and derived constants (spec §1.3, §1.4).
@Suite("HardwareConfig")
struct HardwareConfigTests {
    /// The stock configuration as (key, raw JSON value text), in TVM's order.
    static let stock: [(String, String)] = [
        ("TARGET", "\"sim\""), ("HW_VER", "\"0.0.2\""), ("LOG_INP_WIDTH", "3"), ("LOG_WGT_WIDTH", "3"),
        ("LOG_ACC_WIDTH", "5"), ("LOG_BATCH", "0"), ("LOG_BLOCK", "4"), ("LOG_UOP_BUFF_SIZE", "15"),
        ("LOG_INP_BUFF_SIZE", "15"), ("LOG_WGT_BUFF_SIZE", "18"), ("LOG_ACC_BUFF_SIZE", "17"),
    ]

    /// JSON text of the stock config with some values replaced, keys removed or keys added.
    static func text(set: [String: String] = [:], remove: Set<String> = [], add: [(String, String)] = []) -> String {
        let members = stock.filter { !remove.contains($0.0) }.map { ($0.0, set[$0.0] ?? $0.1) } + add
        return "{\n" + members.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}"
    }

    /// Parses a config that must be refused; returns the error.
    static func refused(_ text: String, _ context: String) -> ConfigError? {
        do {
            let c = try HardwareConfig(jsonText: text)
            Issue.record("\(context): accepted as \(c.bitstreamName)")
            return nil
        } catch {
            return error
        }
    }

    @Test("the stock text parses to the stock configuration")
    func stockParses() throws {
        let c = try HardwareConfig(jsonText: Self.text())
        #expect(c == HardwareConfig.standard)
        #expect(c.bitstreamName == "1x16_i8w8a32_15_15_18_17")
        // The configuration's own JSON reads back to the same value.
        #expect(try HardwareConfig(json: c.json) == c)
        // Derived keys written by pkg_config.py are accepted when they agree.
        let withDerived = Self.text(add: [("LOG_BLOCK_IN", "4"), ("LOG_BLOCK_OUT", "4"), ("LOG_OUT_WIDTH", "3"), ("LOG_OUT_BUFF_SIZE", "15")])
        #expect(try HardwareConfig(jsonText: withDerived) == c)
    }

    @Test("each malformed configuration is refused with an error naming the key")
    func validationErrors() throws {
        struct Case { let text: String; let key: String; let check: (ConfigError) -> Bool }
        let cases: [Case] = [
            Case(text: Self.text(remove: ["LOG_BLOCK"]), key: "LOG_BLOCK") { $0 == .missingKey("LOG_BLOCK") },
            Case(text: Self.text(remove: ["TARGET"]), key: "TARGET") { $0 == .missingKey("TARGET") },
            Case(text: Self.text(remove: ["HW_VER"]), key: "HW_VER") { $0 == .missingKey("HW_VER") },
            Case(text: Self.text(add: [("LOG_BLOK", "4")]), key: "LOG_BLOK") {
                if case .unknownKey("LOG_BLOK", _) = $0 { true } else { false }
            },
            Case(text: Self.text(set: ["LOG_BLOCK": "4.0"]), key: "LOG_BLOCK") {
                if case .wrongType(key: "LOG_BLOCK", _, _) = $0 { true } else { false }
            },
            Case(text: Self.text(set: ["LOG_BLOCK": "\"4\""]), key: "LOG_BLOCK") {
                if case .wrongType(key: "LOG_BLOCK", _, _) = $0 { true } else { false }
            },
            Case(text: Self.text(set: ["LOG_BATCH": "true"]), key: "LOG_BATCH") {
                if case .wrongType(key: "LOG_BATCH", _, _) = $0 { true } else { false }
            },
            Case(text: Self.text(set: ["LOG_ACC_BUFF_SIZE": "1.7e1"]), key: "LOG_ACC_BUFF_SIZE") {
                if case .wrongType(key: "LOG_ACC_BUFF_SIZE", _, _) = $0 { true } else { false }
            },
            Case(text: Self.text(set: ["TARGET": "1"]), key: "TARGET") {
                if case .wrongType(key: "TARGET", _, _) = $0 { true } else { false }
            },
            Case(text: Self.text(set: ["LOG_BLOCK": "9"]), key: "LOG_BLOCK") {
                if case .outOfRange(key: "LOG_BLOCK", value: 9, _, _) = $0 { true } else { false }
            },
            Case(text: Self.text(set: ["LOG_ACC_WIDTH": "6"]), key: "LOG_ACC_WIDTH") {
                if case .outOfRange(key: "LOG_ACC_WIDTH", value: 6, _, _) = $0 { true } else { false }
            },
            Case(text: Self.text(set: ["LOG_INP_BUFF_SIZE": "-1"]), key: "LOG_INP_BUFF_SIZE") {
                if case .outOfRange(key: "LOG_INP_BUFF_SIZE", value: -1, _, _) = $0 { true } else { false }
            },
            Case(text: Self.text(set: ["LOG_WGT_BUFF_SIZE": "40"]), key: "LOG_WGT_BUFF_SIZE") {
                if case .outOfRange(key: "LOG_WGT_BUFF_SIZE", value: 40, _, _) = $0 { true } else { false }
            },
            // A WGT buffer smaller than one 256-byte element.
            Case(text: Self.text(set: ["LOG_WGT_BUFF_SIZE": "7"]), key: "LOG_WGT_BUFF_SIZE") {
                if case .outOfRange(key: "LOG_WGT_BUFF_SIZE", _, _, _) = $0 { true } else { false }
            },
            Case(text: Self.text(set: ["TARGET": "\"fpga9000\""]), key: "TARGET") {
                if case .unknownTarget("fpga9000", _) = $0 { true } else { false }
            },
            Case(text: Self.text(add: [("LOG_BLOCK_IN", "5")]), key: "LOG_BLOCK_IN") {
                if case .inconsistent(key: "LOG_BLOCK_IN", value: 5, expected: 4) = $0 { true } else { false }
            },
            // Spec §1.5 experiment: LA = LI = 12, LW = 11, the GEMM word would exceed 128 bits.
            Case(text: Self.text(set: ["LOG_INP_BUFF_SIZE": "16", "LOG_WGT_BUFF_SIZE": "19", "LOG_ACC_BUFF_SIZE": "18"]),
                 key: "LOG_ACC_BUFF_SIZE") {
                if case .notEncodable(let keys, _) = $0 { keys.contains("LOG_INP_BUFF_SIZE") && keys.contains("LOG_WGT_BUFF_SIZE") } else { false }
            },
            // LU = 14: word 0 overflows.
            Case(text: Self.text(set: ["LOG_UOP_BUFF_SIZE": "16"]), key: "LOG_UOP_BUFF_SIZE") {
                if case .notEncodable(let keys, _) = $0 { keys.contains("LOG_UOP_BUFF_SIZE") } else { false }
            },
            // LA = 11, LI = 5, LW = 11: instructions fit (54 and 64 bits in word 1) but the
            // micro-op needs 11 + 11 + 11 = 33 bits.
            Case(text: Self.text(set: ["LOG_INP_BUFF_SIZE": "9", "LOG_WGT_BUFF_SIZE": "19"]), key: "LOG_WGT_BUFF_SIZE") {
                if case .notEncodable(let keys, let reason) = $0 { keys.contains("LOG_WGT_BUFF_SIZE") && reason.contains("micro-op") } else { false }
            },
        ]
        for c in cases {
            guard let error = Self.refused(c.text, c.key) else { continue }
            #expect(c.check(error), "\(c.key): unexpected error \(error)")
            #expect(error.description.contains(c.key), "\(c.key): description does not name the key: \(error.description)")
            #expect(!error.description.contains("\n"), "error descriptions are one line: \(error.description)")
        }
        #expect(cases.count == 19)

        // Not an object, and not JSON at all.
        if let e = Self.refused("[1, 2]", "array") { #expect(e == .notAnObject(found: "an array")) }
        if let e = Self.refused("{\"TARGET\": ", "truncated") {
            guard case .unreadable = e else { Issue.record("truncated text: \(e)"); return }
        }
    }

    @Test("the micro-op limit is exactly 32 bits")
    func microOpBoundary() throws {
        // LA = 11, LI = 5, LW = 10: 11 + 11 + 10 = 32 bits, accepted.
        let c = try makeConfig("uop32", logInpBuffSize: 9, logWgtBuffSize: 18)
        #expect(c.isa.uop.sizeInBits == 32)
        let last = try #require(c.isa.uop.fields.last)
        #expect(last.offset + last.width == 32)
    }

    /// One column of the worked table of spec §1.4.
    struct Column: Sendable, CustomStringConvertible {
        let name: String
        let logBatch, logBlock: Int
        let shape: (Int, Int, Int)
        let elemBytes: [Int]      // inp, wgt, acc, out
        let depths: [Int]         // uop, inp, wgt, acc, out
        let logDepths: [Int]      // uop, inp, wgt, acc
        let axi64: [Int]          // inp, wgt, acc, out
        let axi128: [Int]
        let bitstream: String
        let gemmWord1, aluWord1, uopBits: Int
        var description: String { name }
    }

    static let table: [Column] = [
        Column(name: "default", logBatch: 0, logBlock: 4, shape: (1, 16, 16), elemBytes: [16, 256, 64, 16],
               depths: [8192, 2048, 1024, 2048, 2048], logDepths: [13, 11, 10, 11], axi64: [2, 32, 8, 2], axi128: [1, 16, 4, 1],
               bitstream: "1x16_i8w8a32_15_15_18_17", gemmWord1: 64, aluWord1: 64, uopBits: 32),
        Column(name: "block32", logBatch: 0, logBlock: 5, shape: (1, 32, 32), elemBytes: [32, 1024, 128, 32],
               depths: [8192, 1024, 256, 1024, 1024], logDepths: [13, 10, 8, 10], axi64: [4, 128, 16, 4], axi128: [2, 64, 8, 2],
               bitstream: "1x32_i8w8a32_15_15_18_17", gemmWord1: 56, aluWord1: 60, uopBits: 28),
        Column(name: "batch2", logBatch: 1, logBlock: 4, shape: (2, 16, 16), elemBytes: [32, 256, 128, 32],
               depths: [8192, 1024, 1024, 1024, 1024], logDepths: [13, 10, 10, 10], axi64: [4, 32, 16, 4], axi128: [2, 16, 8, 2],
               bitstream: "2x16_i8w8a32_15_15_18_17", gemmWord1: 60, aluWord1: 60, uopBits: 30),
    ]

    @Test("derived constants equal the worked table of spec §1.4", arguments: table)
    func workedTable(col: Column) throws {
        let c = try makeConfig(col.name, logBatch: col.logBatch, logBlock: col.logBlock, target: "pynq")
        #expect(c.batch == col.shape.0 && c.blockIn == col.shape.1 && c.blockOut == col.shape.2)
        #expect([c.inpWidth, c.wgtWidth, c.accWidth, c.outWidth] == [8, 8, 32, 8])
        #expect([c.inpElemBytes, c.wgtElemBytes, c.accElemBytes, c.outElemBytes] == col.elemBytes)
        #expect(HardwareConfig.uopElemBytes == 4 && HardwareConfig.insnElemBytes == 16)
        #expect([c.uopBuffSize, c.inpBuffSize, c.wgtBuffSize, c.accBuffSize, c.outBuffSize] == [32768, 32768, 262144, 131072, 32768])
        #expect(c.logOutBuffSize == 15)
        #expect([c.uopBuffDepth, c.inpBuffDepth, c.wgtBuffDepth, c.accBuffDepth, c.outBuffDepth] == col.depths)
        #expect([c.logUopBuffDepth, c.logInpBuffDepth, c.logWgtBuffDepth, c.logAccBuffDepth] == col.logDepths)
        #expect(c.bitstreamName == col.bitstream)
        #expect(c.cfgString == "pynq_" + col.bitstream)

        let named = Dictionary(c.derivedConstants, uniquingKeysWith: { a, _ in a })
        let axiKeys = ["VTA_INP_MAT_AXI_RATIO", "VTA_WGT_MAT_AXI_RATIO", "VTA_ACC_MAT_AXI_RATIO", "VTA_OUT_MAT_AXI_RATIO"]
        #expect(axiKeys.map { named[$0] } == col.axi64.map { Optional($0) }, "64-bit bus")
        #expect(named["VTA_LOG_BUS_WIDTH"] == 6)
        let wide = try c.retargeted("ultra96")
        let wideNamed = Dictionary(wide.derivedConstants, uniquingKeysWith: { a, _ in a })
        #expect(axiKeys.map { wideNamed[$0] } == col.axi128.map { Optional($0) }, "128-bit bus")
        #expect(wide.sameHardware(as: c) && wide != c)
        #expect(named["VTA_INP_ELEM_BYTES"] == col.elemBytes[0] && named["VTA_ACC_BUFF_DEPTH"] == col.depths[3])

        // Bits used in each 64-bit word (table rows "Bits used ...").
        func used(_ l: StructLayout, word: Int) -> Int {
            l.fields.filter { $0.offset / 64 == word }.map { $0.offset + $0.width - 64 * word }.max() ?? 0
        }
        #expect(used(c.isa.gemm, word: 0) == 63 && used(c.isa.alu, word: 0) == 63)
        #expect(used(c.isa.gemm, word: 1) == col.gemmWord1)
        #expect(used(c.isa.alu, word: 1) == col.aluWord1)
        #expect(used(c.isa.uop, word: 0) == col.uopBits)
        #expect(c.isa.gemm.sizeInBits == 128 && c.isa.alu.sizeInBits == 128 && c.isa.memory.sizeInBits == 128)
    }

    @Test("element sizes per memory type (spec §2.12)")
    func elementBytes() throws {
        let c = HardwareConfig.standard
        let bytes = MemoryType.allCases.map { c.dramElementBytes($0) }
        #expect(bytes == [4, 256, 16, 64, 16, 16])  // UOP WGT INP ACC OUT ACC_8BIT
        let depths = MemoryType.allCases.map { c.sramDepth($0) }
        #expect(depths == [8192, 1024, 2048, 2048, 2048, 2048])
    }

    @Test("target facts of spec §1.6")
    func targets() throws {
        for name in ["sim", "tsim", "pynq", "ultra96", "zcu104", "de10nano", "intelfocl"] {
            let c = try HardwareConfig.defaults(target: name)
            #expect(c.target == name && c.bitstreamName == "1x16_i8w8a32_15_15_18_17")
        }
        let pynq = try #require(TargetProfile.named("pynq"))
        #expect(pynq.logBusWidth == 6 && pynq.clockMHz == 100 && pynq.fetchBase == 0x43C0_0000 && pynq.storeBase == 0x43C0_3000)
        let ultra = try #require(TargetProfile.named("ultra96"))
        #expect(ultra.logBusWidth == 7 && ultra.clockMHz == 333 && ultra.fetchBase == 0xA000_0000 && ultra.computeBase == 0xA000_2000)
        let de10 = try #require(TargetProfile.named("de10nano"))
        #expect(de10.logBusWidth == 6 && de10.fetchBase == 0xFF22_0000)
        #expect(TargetProfile.named("vu9p") == nil)
        do {
            _ = try HardwareConfig.defaults(target: "vu9p")
            Issue.record("unknown target accepted")
        } catch {
            #expect(error.description.contains("TARGET") && error.description.contains("vu9p"))
        }
    }
}

/// `HardwareConfig.standard` is built without the validating path; it must be exactly what the
/// validating initializer produces for the stock keys.
@Test func standardEqualsValidatedStockConfiguration() throws {
    let validated = try HardwareConfig()
    #expect(HardwareConfig.standard == validated)
    #expect(HardwareConfig.standard.bitstreamName == "1x16_i8w8a32_15_15_18_17")
    #expect(HardwareConfig.standard.isa.encodabilityError == nil)
}
