import Foundation
import Testing
import VTA
import VTAHardware
import VTAHardwareTestSupport

/// Discovery against fake trees that mirror a Pynq-Z2 and a Kria KV260, and every way a UIO
/// device is turned down.
@Suite struct DiscoveryTests {
    /// Builds a tree in a fresh directory, runs `body`, removes the directory.
    func withTree<T>(_ make: (String) throws -> FakeBoardTree, _ body: (FakeBoardTree) throws -> T) throws -> T {
        let scratch = try ScratchDirectory("vta-discovery")
        defer { scratch.remove() }
        return try body(try make(scratch.path))
    }

    @Test func pynqZ2IsFound() throws {
        try withTree({ try .pynqZ2(at: $0) }) { tree in
            let report = BoardDiscovery.discover(target: .pynq, roots: tree.roots)
            #expect(report.method == .sysfs)
            let vta = try #require(report.acceptedUIO)
            #expect(vta.sysname == "uio0")
            #expect(vta.devnode == tree.root + "/dev/uio0")
            #expect(vta.maps.map(\.start) == [0x43C0_0000, 0x43C0_1000, 0x43C0_2000, 0x43C0_3000])
            #expect(vta.maps.map(\.size) == [0x1000, 0x1000, 0x1000, 0x1000])
            #expect(vta.maps.map(\.name) == ["fetch", "load", "compute", "store"])
            #expect(vta.parentDevice == "43c00000.vta")
            #expect(vta.parentCompatible == ["generic-uio"])
            #expect(vta.ofName == "vta")
            #expect(vta.version == "devicetree")
            #expect(vta.rejectionReasons.isEmpty)
            // The node stands in for the four one-page maps.
            let attributes = try FileManager.default.attributesOfItem(atPath: tree.root + "/dev/uio0")
            #expect((attributes[.size] as? Int) == 4 * 4096)

            let buffer = try #require(report.udmabufs.first)
            #expect(report.udmabufs.count == 1)
            #expect(buffer.className == "u-dma-buf")
            #expect(buffer.name == "vta-dma")
            #expect(buffer.physicalAddress == 0x1800_0000)
            #expect(buffer.size == 64 << 20)
            #expect(buffer.dmaCoherent == false)
            #expect(buffer.devnode == tree.root + "/dev/vta-dma")

            let manager = try #require(report.fpgaManagers.first)
            #expect(manager.sysname == "fpga0")
            #expect(manager.name == "Xilinx Zynq FPGA Manager")
            #expect(manager.state == "operating")
            #expect(manager.flags == 0)
            #expect(manager.canLoadFirmware)

            #expect(report.drmNodes.isEmpty)
            #expect(report.zoclRenderNode == nil)
            #expect(!report.hasXlnk && !report.hasCMA)
        }
    }

    @Test func kriaKV260IsFoundWithZoclNotTheDisplay() throws {
        try withTree({ try .kriaKV260(at: $0) }) { tree in
            let report = BoardDiscovery.discover(target: .zcu104, roots: tree.roots)
            let vta = try #require(report.acceptedUIO)
            #expect(vta.maps.first?.address == 0xA000_0000)
            #expect(vta.parentDevice == "a0000000.vta")
            #expect(report.drmNodes.map(\.sysname) == ["card0", "card1", "renderD128"])
            let zocl = try #require(report.zoclRenderNode)
            #expect(zocl.sysname == "renderD128")
            #expect(zocl.devnode == tree.root + "/dev/dri/renderD128")
            #expect(zocl.driver == "zocl")
            #expect(zocl.platformDevice == "axi:zyxclmm_drm")
            let display = try #require(report.drmNodes.first { $0.sysname == "card0" })
            #expect(display.driver == "xlnx")
            #expect(display.platformDevice == "fd4a0000.display")
            #expect(!display.isZocl)
            #expect(report.fpgaManagers.first?.name == "Xilinx ZynqMP FPGA Manager")
            #expect(report.udmabufs.isEmpty)
        }
    }

    @Test func zoclIsChosenByDriverNotByNodeNumber() throws {
        try withTree({ root in
            let tree = try FakeBoardTree(root: root)
            // A GPU (lima) took renderD128; zocl got renderD129.
            try tree.addDRMNode(sysname: "renderD128", minor: 128, busPath: "devices/platform/axi",
                                platformDevice: "fd4b0000.gpu", driver: "lima", compatible: ["arm,mali-400"],
                                ofPath: "axi/gpu@fd4b0000")
            try tree.addDRMNode(sysname: "renderD129", minor: 129, busPath: "devices/platform/axi",
                                platformDevice: "axi:zyxclmm_drm", driver: "zocl", compatible: ["xlnx,zocl"],
                                ofPath: "axi/zyxclmm_drm")
            return tree
        }) { tree in
            let report = BoardDiscovery.discover(target: .zcu104, roots: tree.roots)
            #expect(report.zoclRenderNode?.sysname == "renderD129")
            #expect(report.zoclRenderNode?.devnode == tree.root + "/dev/dri/renderD129")
        }
    }

    @Test func foreignUIOIsRejectedByName() throws {
        try withTree({ try .pynqZ2(at: $0, variants: [.foreignUIO]) }) { tree in
            let report = BoardDiscovery.discover(target: .pynq, roots: tree.roots)
            #expect(report.uio.map(\.sysname) == ["uio0", "uio1"])
            let gpio = report.uio[0]
            #expect(!gpio.accepted)
            #expect(gpio.rejectionReasons.contains("name \"gpio\" is not \"vta\": another device's UIO node"))
            #expect(gpio.rejectionReasons.contains("map 0 at 0x41200000, expected 0x43c00000 for pynq: stale or foreign overlay"))
            #expect(report.acceptedUIO?.sysname == "uio1")
        }
    }

    @Test func staleOverlayIsRejectedByAddress() throws {
        try withTree({ try .pynqZ2(at: $0, variants: [.staleOverlay]) }) { tree in
            let report = BoardDiscovery.discover(target: .pynq, roots: tree.roots)
            #expect(report.acceptedUIO == nil)
            #expect(report.uio.first?.rejectionReasons
                == ["map 0 at 0x80000000, expected 0x43c00000 for pynq: stale or foreign overlay"])
            #expect(report.text.contains("- map 0 at 0x80000000, expected 0x43c00000 for pynq: stale or foreign overlay"))
        }
        try withTree({ try .kriaKV260(at: $0, variants: [.staleOverlay]) }) { tree in
            let report = BoardDiscovery.discover(target: .zcu104, roots: tree.roots)
            #expect(report.uio.first?.rejectionReasons
                == ["map 0 at 0xb0000000, expected 0xa0000000 for zcu104: stale or foreign overlay"])
        }
    }

    @Test func boardOfAnotherTargetIsRejected() throws {
        try withTree({ try .pynqZ2(at: $0) }) { tree in
            let report = BoardDiscovery.discover(target: .ultra96, roots: tree.roots)
            #expect(report.uio.first?.rejectionReasons
                == ["map 0 at 0x43c00000, expected 0xa0000000 for ultra96: stale or foreign overlay"])
        }
    }

    @Test func wrongCompatibleIsRejectedUnlessNotRequired() throws {
        try withTree({ try .pynqZ2(at: $0, variants: [.wrongCompatible]) }) { tree in
            let strict = BoardDiscovery.discover(target: .pynq, roots: tree.roots)
            #expect(strict.acceptedUIO == nil)
            #expect(strict.uio.first?.rejectionReasons
                == ["parent 43c00000.vta is compatible with \"tvm,vta-1.0\", not \"generic-uio\""])
            let custom = BoardDiscovery.discover(target: .pynq, roots: tree.roots, compatible: "tvm,vta-1.0")
            #expect(custom.acceptedUIO?.sysname == "uio0")
            let lenient = BoardDiscovery.discover(target: .pynq, roots: tree.roots, compatible: nil)
            #expect(lenient.acceptedUIO?.sysname == "uio0")
        }
    }

    @Test func configuredNameIsRequired() throws {
        try withTree({ try .pynqZ2(at: $0) }) { tree in
            let report = BoardDiscovery.discover(target: .pynq, roots: tree.roots, uioName: "vta0")
            #expect(report.uio.first?.rejectionReasons == ["name \"vta\" is not \"vta0\": another device's UIO node"])
            #expect(report.notes.contains { $0.contains("no UIO device is named \"vta0\"") })
        }
    }

    @Test func deviceWithoutMapsOrCompatibleIsRejected() throws {
        try withTree({ root in
            let tree = try FakeBoardTree(root: root)
            try tree.addUIO(sysname: "uio0", name: "vta", busPath: "devices/platform", platformDevice: "vta",
                            ofPath: "vta", compatible: [], maps: [], format: .padded32)
            return tree
        }) { tree in
            let report = BoardDiscovery.discover(target: .pynq, roots: tree.roots)
            #expect(report.uio.first?.rejectionReasons == [
                "parent vta has no device-tree compatible; expected \"generic-uio\"",
                "no map 0 (the device exposes no register window)",
            ])
        }
    }

    @Test func legacyUDMABufClassIsFound() throws {
        try withTree({ try .pynqZ2(at: $0, variants: [.legacyUDMABufClass]) }) { tree in
            let report = BoardDiscovery.discover(target: .pynq, roots: tree.roots)
            let buffer = try #require(report.udmabufs.first)
            #expect(buffer.className == "udmabuf")
            #expect(buffer.name == "udmabuf0")
            #expect(buffer.devnode == tree.root + "/dev/udmabuf0")
            #expect(buffer.physicalAddress == 0x1800_0000)
        }
    }

    @Test func emptyMapNamesAndUnpaddedHexAreRead() throws {
        try withTree({ try .kriaKV260(at: $0, variants: [.emptyMapName, .unpaddedHex]) }) { tree in
            let text = try String(contentsOfFile: tree.root + "/sys/class/uio/uio0/maps/map0/addr", encoding: .utf8)
            #expect(text == "0xa0000000\n")
            let report = BoardDiscovery.discover(target: .zcu104, roots: tree.roots)
            let vta = try #require(report.acceptedUIO)
            #expect(vta.maps.map(\.name) == ["", "", "", ""])
            #expect(vta.maps.map(\.start) == [0xA000_0000, 0xA000_1000, 0xA000_2000, 0xA000_3000])
        }
        try withTree({ try .kriaKV260(at: $0) }) { tree in
            let text = try String(contentsOfFile: tree.root + "/sys/class/uio/uio0/maps/map0/addr", encoding: .utf8)
            #expect(text == "0x00000000a0000000\n")
            #expect(BoardDiscovery.discover(target: .zcu104, roots: tree.roots).acceptedUIO?.maps.first?.start == 0xA000_0000)
        }
    }

    @Test func legacyNodesAreReported() throws {
        try withTree({ try .pynqZ2(at: $0) }) { tree in
            try tree.addDevNode("xlnk", size: 0)
            let report = BoardDiscovery.discover(target: .pynq, roots: tree.roots)
            #expect(report.hasXlnk)
            #expect(!report.hasCMA)
        }
    }

    @Test func textAndJSONCarryTheVerdicts() throws {
        try withTree({ try .pynqZ2(at: $0, variants: [.foreignUIO]) }) { tree in
            let report = BoardDiscovery.discover(target: .pynq, roots: tree.roots)
            let lines = report.text.split(separator: "\n").map(String.init)
            #expect(lines.contains("  uio1 \"vta\" \(tree.root)/dev/uio1: accepted"))
            #expect(lines.contains("  uio0 \"gpio\" \(tree.root)/dev/uio0: not accepted"))
            #expect(lines.contains("    map 2: 0x43c02000 size 0x1000 \"compute\""))
            #expect(lines.contains("  fpga0 \"Xilinx Zynq FPGA Manager\": state operating, flags 0x0"))

            let json = try JSONValue.parse(report.json.serialized())
            #expect(json["method"] == .string("sysfs"))
            #expect(json["accepted_uio"] == .string("uio1"))
            let first = try #require(json["uio"]?.arrayValue?.first)
            #expect(first["accepted"] == .bool(false))
            #expect(first["rejection_reasons"]?.arrayValue?.first == .string("name \"gpio\" is not \"vta\": another device's UIO node"))
            #expect(json["udmabufs"]?.arrayValue?.first?["phys_addr"] == .string("0x18000000"))
        }
    }
}
