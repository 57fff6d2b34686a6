import Testing
import VTA

@Suite("The installed headers")
struct HeaderTests {
    /// Runs hw_spec_check compiled with `defines` and returns the constants it printed.
    func constants(_ workspace: CWorkspace, defines: [String], output: String, examples: Bool) throws -> [String: Int] {
        let program = try workspace.compile("hw_spec_check.c", output: output, defines: defines)
        let r = try workspace.execute(program, examples ? ["examples"] : [], environment: [:])
        try #require(r.status == 0, "hw_spec_check failed: \(r)")
        if examples { #expect(r.stdout.contains("examples ok")) }
        var values: [String: Int] = [:]
        for line in r.stdout.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 2, let v = Int(f[1]) { values[String(f[0])] = v }
        }
        return values
    }

    func expectSame(_ printed: [String: Int], _ config: HardwareConfig) {
        for (name, value) in config.derivedConstants {
            #expect(printed[name] == value, "\(name): hw_spec.h says \(printed[name].map(String.init) ?? "nothing"), \(config.bitstreamName) has \(value)")
        }
    }

    @Test("hw_spec.h gives the stock configuration's constants and encodes the reference's example instructions")
    func defaultConfiguration() throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        let printed = try constants(workspace, defines: [], output: "hw_default", examples: true)
        expectSame(printed, .standard)
        #expect(printed["VTA_MAX_XFER"] == 1 << 25)
        #expect(printed["VTA_CACHED"] == 1 && printed["VTA_NOT_CACHED"] == 0)
        #expect(printed["VTA_MEMCPY_D2D"] == 3 && printed["VTA_DEBUG_FORCE_SERIAL"] == 32)
    }

    @Test("hw_spec.h derives every constant from VTA_LOG_* flags (block32, batch2)", arguments: [("LOG_BLOCK", 5), ("LOG_BATCH", 1)])
    func otherConfigurations(key: String, value: Int) throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        var json = HardwareConfig.standard.keyValues
        for i in json.indices where json[i].0 == key { json[i].1 = .int(Int64(value)) }
        let config = try HardwareConfig(json: .object(json))
        let printed = try constants(workspace, defines: ["VTA_\(key)=\(value)"], output: "hw_\(key)", examples: false)
        expectSame(printed, config)
    }
}
