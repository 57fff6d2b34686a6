import Foundation
import Testing

/// kernel-interface/udev/60-vta.rules: every rule opens a VTA device to group vta only, and the
/// devices the daemon needs are all covered.
@Suite struct UdevRulesTests {
    static func ruleLines() throws -> [String] {
        let text = try String(contentsOfFile: Repo.file("udev/60-vta.rules"), encoding: .utf8)
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// `KEY=="v"`, `KEY="v"`, `KEY+="v"`, `ATTR{name}=="v"` as (key, operator, value).
    static func pairs(_ line: String) -> [(key: String, op: String, value: String)] {
        line.split(separator: ",").compactMap { item in
            let t = item.trimmingCharacters(in: .whitespaces)
            guard let opRange = t.range(of: "==") ?? t.range(of: "+=") ?? t.range(of: "=") else { return nil }
            let value = t[opRange.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return (String(t[..<opRange.lowerBound]), String(t[opRange]), value)
        }
    }

    @Test func everyRuleMatchesASubsystemAndGrantsGroupVta() throws {
        let lines = try Self.ruleLines()
        #expect(lines.count >= 4)
        for line in lines {
            let p = Self.pairs(line)
            #expect(p.contains { $0.key == "SUBSYSTEM" && $0.op == "==" }, "no SUBSYSTEM match: \(line)")
            #expect(p.contains { $0.key == "GROUP" && $0.op == "=" && $0.value == "vta" }, "no GROUP=\"vta\": \(line)")
            #expect(p.contains { $0.key == "MODE" && $0.op == "=" && $0.value == "0660" }, "no MODE=\"0660\": \(line)")
            #expect(line.split(separator: ",").count == p.count, "an item without an operator: \(line)")
        }
    }

    @Test func coversTheDevicesTheDaemonOpens() throws {
        let subsystems = try Self.ruleLines().map { line in
            Self.pairs(line).first { $0.key == "SUBSYSTEM" }?.value ?? ""
        }
        #expect(Set(subsystems).isSuperset(of: ["uio", "u-dma-buf", "udmabuf", "drm"]))
        let lines = try Self.ruleLines()
        let uio = try #require(lines.first { $0.contains("SUBSYSTEM==\"uio\"") })
        #expect(uio.contains("ATTR{name}==\"vta*\""), "only UIO devices named vta*")
        let drm = try #require(lines.first { $0.contains("SUBSYSTEM==\"drm\"") })
        #expect(drm.contains("KERNEL==\"renderD*\"") && drm.contains("DRIVERS==\"zocl*\""), "only zocl render nodes")
    }

    @Test func modprobeOptionBindsTheOverlaysCompatible() throws {
        let text = try String(contentsOfFile: Repo.file("modprobe.d/vtad.conf"), encoding: .utf8)
        let options = text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(options == ["options uio_pdrv_genirq of_id=generic-uio"])
    }
}
