import Foundation
import Testing
import VTA

/// The overlays in kernel-interface/devicetree compile with dtc and describe the same register
/// windows as the board profiles the runtime uses.
@Suite struct DeviceTreeOverlayTests {
    /// One overlay and the profile(s) whose register map it must carry.
    struct Case: CustomStringConvertible, Sendable {
        var file: String
        var profiles: [String]
        /// Cells per address and per size in the overlay's bus.
        var cells: Int
        var regNames: [String]
        var description: String { file }
    }

    static let cases: [Case] = [
        Case(file: "vta-pynq.dtso", profiles: ["pynq"], cells: 1, regNames: ["fetch", "load", "compute", "store"]),
        Case(file: "vta-zynqmp.dtso", profiles: ["ultra96", "zcu104"], cells: 2, regNames: ["fetch", "load", "compute", "store"]),
        Case(file: "vta-de10nano.dtso", profiles: ["de10nano"], cells: 1, regNames: ["vcr"]),
    ]

    /// Compiles with `dtc -@ -I dts -O dtb` (no warnings), then decompiles the blob back to source.
    static func compileAndDecompile(_ file: String) throws -> String {
        let dtc = try Tool.dtc()
        let dir = try TempDir("vta-kit-dtc")
        let blob = dir.path + "/overlay.dtbo"
        let compiled = try Tool.run(dtc, ["-@", "-I", "dts", "-O", "dtb", "-o", blob, Repo.file("devicetree/" + file)])
        #expect(compiled.status == 0, "dtc failed on \(file): \(compiled.stderr)")
        #expect(!compiled.stderr.contains("Warning") && !compiled.stderr.contains("ERROR"),
                "dtc reports problems in \(file): \(compiled.stderr)")
        let decompiled = try Tool.run(dtc, ["-I", "dtb", "-O", "dts", blob])
        #expect(decompiled.status == 0, "dtc could not decompile \(file): \(decompiled.stderr)")
        return decompiled.stdout
    }

    /// The body of the first node whose name starts with `prefix` (up to its closing brace).
    static func node(_ prefix: String, in dts: String) -> String? {
        let lines = dts.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }) else { return nil }
        var depth = 0
        var body: [String] = []
        for line in lines[start...] {
            depth += line.filter { $0 == "{" }.count - line.filter { $0 == "}" }.count
            body.append(line)
            if depth == 0 { break }
        }
        return body.joined(separator: "\n")
    }

    /// The value of `name = ...;` inside a node's text.
    static func property(_ name: String, in node: String) -> String? {
        for line in node.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix(name + " = ") { return String(t.dropFirst(name.count + 3).dropLast()) }
        }
        return nil
    }

    /// `<0x43c00000 0x1000 ...>` as numbers.
    static func cells(_ value: String) -> [UInt64] {
        value.trimmingCharacters(in: CharacterSet(charactersIn: "<>")).split(separator: " ").compactMap {
            $0.hasPrefix("0x") ? UInt64($0.dropFirst(2), radix: 16) : UInt64($0)
        }
    }

    @Test(arguments: cases)
    func registerWindowsMatchTheBoardProfiles(_ c: Case) throws {
        let dts = try Self.compileAndDecompile(c.file)
        let vta = try #require(Self.node("vta@", in: dts), "no vta@ node in \(c.file)")
        let reg = Self.cells(try #require(Self.property("reg", in: vta), "no reg in the vta node of \(c.file)"))
        // Fold multi-cell addresses and sizes into (address, size) pairs.
        let fold: (ArraySlice<UInt64>) -> UInt64 = { $0.reduce(0) { ($0 << 32) | $1 } }
        #expect(reg.count % (2 * c.cells) == 0, "reg of \(c.file) has \(reg.count) cells, not (address, size) pairs of \(c.cells)+\(c.cells)")
        var windows: [(UInt64, UInt64)] = []
        var i = 0
        while i + 2 * c.cells <= reg.count {
            windows.append((fold(reg[i..<i + c.cells]), fold(reg[(i + c.cells)..<(i + 2 * c.cells)])))
            i += 2 * c.cells
        }
        for name in c.profiles {
            let p = try #require(TargetProfile.named(name))
            let bases = [p.fetchBase, p.loadBase, p.computeBase, p.storeBase].prefix(c.regNames.count)
            #expect(windows.map(\.0) == Array(bases), "\(c.file) register bases vs TargetProfile.\(name)")
            #expect(windows.allSatisfy { $0.1 == p.registerMapRange }, "\(c.file) window sizes vs TargetProfile.\(name).registerMapRange")
            #expect(Self.node("vta@\(String(p.fetchBase, radix: 16))", in: dts) != nil, "node name carries the first base in \(c.file)")
        }
        let names = try #require(Self.property("reg-names", in: vta))
        #expect(names == "\"" + c.regNames.joined(separator: "\\0") + "\"")
    }

    @Test(arguments: cases)
    func uioAndDMABufNodesArePresent(_ c: Case) throws {
        let dts = try Self.compileAndDecompile(c.file)
        let vta = try #require(Self.node("vta@", in: dts))
        #expect(Self.property("compatible", in: vta) == "\"generic-uio\"", "uio_pdrv_genirq binds only of_id=generic-uio")
        #expect(Self.property("linux,uio-name", in: vta) == "\"vta\"")
        #expect(Self.property("interrupts", in: vta) != nil, "the PL-to-PS interrupt is described in \(c.file)")
        let dma = try #require(Self.node("vta-dma {", in: dts), "no u-dma-buf node in \(c.file)")
        #expect(Self.property("compatible", in: dma) == "\"ikwzm,u-dma-buf\"")
        #expect(Self.property("device-name", in: dma) == "\"vta-dma\"")
        #expect(Self.cells(try #require(Self.property("size", in: dma))) == [128 << 20])
        #expect(Self.cells(try #require(Self.property("dma-mask", in: dma))) == [32])
    }

    @Test func documentedInterruptNumbers() throws {
        // Spec §1.1: IRQ_F2P[0] = ID 61 -> SPI 29; pl_ps_irq0[0] = ID 121 -> SPI 89; f2h_irq0 = ID 72 -> SPI 40.
        let expected = ["vta-pynq.dtso": [0, 29, 4], "vta-zynqmp.dtso": [0, 89, 4], "vta-de10nano.dtso": [0, 40, 4]]
        for (file, cells) in expected {
            let vta = try #require(Self.node("vta@", in: try Self.compileAndDecompile(file)))
            #expect(Self.cells(try #require(Self.property("interrupts", in: vta))) == cells.map(UInt64.init), "\(file)")
        }
    }
}
