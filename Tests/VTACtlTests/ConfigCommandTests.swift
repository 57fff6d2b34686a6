import Foundation
import Testing
import VTATestSupport
import VTA

@Suite("vtactl config")
struct ConfigCommandTests {
    @Test("config show --target pynq prints the stock configuration as JSON")
    func showPynq() throws {
        let r = try VTACtl.run(["config", "show", "--target", "pynq"])
        let json = try VTACtl.json(r, "config show --target pynq")
        #expect(json["TARGET"] == .string("pynq"))
        #expect(json["HW_VER"] == .string("0.0.2"))
        #expect(json["bitstream"] == .string("1x16_i8w8a32_15_15_18_17"))
        #expect(json["cfg_str"] == .string("pynq_1x16_i8w8a32_15_15_18_17"))
        let expected: [(String, Int64)] = [
            ("LOG_BLOCK", 4), ("LOG_ACC_BUFF_SIZE", 17),
            ("VTA_INP_ELEM_BYTES", 16), ("VTA_WGT_ELEM_BYTES", 256), ("VTA_ACC_ELEM_BYTES", 64), ("VTA_OUT_ELEM_BYTES", 16),
            ("VTA_UOP_BUFF_DEPTH", 8192), ("VTA_INP_BUFF_DEPTH", 2048), ("VTA_WGT_BUFF_DEPTH", 1024), ("VTA_ACC_BUFF_DEPTH", 2048),
            ("VTA_LOG_BUS_WIDTH", 6), ("VTA_INP_MAT_AXI_RATIO", 2), ("VTA_WGT_MAT_AXI_RATIO", 32),
        ]
        for (key, value) in expected { #expect(json[key] == .int(value), "\(key) = \(String(describing: json[key]))") }
        #expect(json["target"]?["name"] == .string("pynq"))
        #expect(json["target"]?["fetch_base"] == .string("0x43C00000"))
        // The printed layout is the one in the golden file.
        let golden = try TestData.json("encodings.json")
        for s in ["VTAMemInsn", "VTAGemInsn", "VTAAluInsn", "VTAUop"] {
            #expect(json["layout"]?[s] != nil && json["layout"]?[s] == golden["layout"]?[s], "layout \(s)")
        }
    }

    @Test("config show --config FILE reads a TVM-format file")
    func showAltFile() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let file = try TestData.configFile(from: "encodings-2x32_i8w8a32_14_16_19_18.json", in: dir.url)
        let json = try VTACtl.json(try VTACtl.run(["config", "show", "--config", file.path]), "config show --config alt")
        #expect(json["bitstream"] == .string("2x32_i8w8a32_14_16_19_18"))
        #expect(json["TARGET"] == .string("sim"))
        let golden = try TestData.json("encodings-2x32_i8w8a32_14_16_19_18.json")
        var compared = 0
        for (key, value) in golden["derived_constants"]?.objectValue ?? [] where key.hasPrefix("VTA_") {
            #expect(json[key] == value, "\(key): printed \(String(describing: json[key])), golden \(value)")
            compared += 1
        }
        #expect(compared >= 20)
    }

    @Test("a bad configuration file is a one-line error naming the key", arguments: [
        ("\"LOG_BLOCK\": 4.0", "LOG_BLOCK"),
        ("\"LOG_BLOCK\": \"4\"", "LOG_BLOCK"),
        ("\"LOG_BLOCK\": 9", "LOG_BLOCK"),
        ("\"LOG_BLOCK\": 4, \"LOG_BLOKC\": 1", "LOG_BLOKC"),
        ("\"LOG_BATCH\": 0", "LOG_BLOCK"),  // LOG_BLOCK missing
        ("\"LOG_BLOCK\": 4, \"LOG_INP_BUFF_SIZE_\": 0", "LOG_INP_BUFF_SIZE_"),
    ])
    func badConfig(replacement: String, key: String) throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        // The stock file with LOG_BLOCK replaced by the given member(s).
        let members = [
            "\"TARGET\": \"pynq\"", "\"HW_VER\": \"0.0.2\"", "\"LOG_INP_WIDTH\": 3", "\"LOG_WGT_WIDTH\": 3", "\"LOG_ACC_WIDTH\": 5",
            "\"LOG_BATCH\": 0", replacement, "\"LOG_UOP_BUFF_SIZE\": 15", "\"LOG_INP_BUFF_SIZE\": 15",
            "\"LOG_WGT_BUFF_SIZE\": 18", "\"LOG_ACC_BUFF_SIZE\": 17",
        ]
        let file = dir.url.appendingPathComponent("bad.json")
        try ("{" + members.joined(separator: ", ") + "}").write(to: file, atomically: true, encoding: .utf8)
        let r = try VTACtl.run(["config", "show", "--config", file.path])
        VTACtl.expectCleanFailure(r, mentioning: [key], "bad config \(replacement)")
        #expect(r.stdout.isEmpty)
    }

    @Test("other configuration errors fail cleanly")
    func otherErrors() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        VTACtl.expectCleanFailure(try VTACtl.run(["config", "show", "--target", "fpga9000"]), mentioning: ["TARGET", "fpga9000"], "--target")
        let missing = dir.url.appendingPathComponent("nope.json").path
        VTACtl.expectCleanFailure(try VTACtl.run(["config", "show", "--config", missing]), mentioning: [missing], "missing file")
        let notJSON = dir.url.appendingPathComponent("x.json")
        try "{\"TARGET\": ".write(to: notJSON, atomically: true, encoding: .utf8)
        VTACtl.expectCleanFailure(try VTACtl.run(["config", "show", "--config", notJSON.path]), mentioning: ["x.json"], "truncated file")
        let big = dir.url.appendingPathComponent("big.json")
        try HardwareConfigText.stock(["LOG_INP_BUFF_SIZE": "16", "LOG_WGT_BUFF_SIZE": "19", "LOG_ACC_BUFF_SIZE": "18"])
            .write(to: big, atomically: true, encoding: .utf8)
        VTACtl.expectCleanFailure(try VTACtl.run(["config", "show", "--config", big.path]), mentioning: ["LOG_ACC_BUFF_SIZE"], "too wide")
    }
}

enum HardwareConfigText {
    static func stock(_ replacing: [String: String] = [:]) -> String {
        let keys: [(String, String)] = [
            ("TARGET", "\"sim\""), ("HW_VER", "\"0.0.2\""), ("LOG_INP_WIDTH", "3"), ("LOG_WGT_WIDTH", "3"), ("LOG_ACC_WIDTH", "5"),
            ("LOG_BATCH", "0"), ("LOG_BLOCK", "4"), ("LOG_UOP_BUFF_SIZE", "15"), ("LOG_INP_BUFF_SIZE", "15"),
            ("LOG_WGT_BUFF_SIZE", "18"), ("LOG_ACC_BUFF_SIZE", "17"),
        ]
        return "{" + keys.map { "\"\($0.0)\": \(replacing[$0.0] ?? $0.1)" }.joined(separator: ", ") + "}"
    }
}
