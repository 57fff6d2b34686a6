import Foundation
import VTA
import VTAHardware

/// A fake `/sys`, `/dev`, `/run`, configfs and firmware directory that mirrors what a real board's
/// kernel shows (spec: linux-board-interfaces §1.2, §2.1, §2.2, §4, §8 item 4): class entries are
/// symlinks into `sys/devices`, class devices link to their parent platform device with `device`,
/// parents carry `uevent` (`DRIVER=`, `OF_*`), a `driver` link and an `of_node` link into
/// `sys/firmware/devicetree/base`. Device nodes are regular files (UIO: one page per map, so map K
/// sits at offset K × page size as the mmap convention has it; u-dma-buf: the pool size, sparse).
public struct FakeBoardTree: Sendable {
    public let root: String
    public var roots: SystemRoots { .under(root) }
    public static let pageSize = 4096

    /// Deviations from a healthy board, each a failure seen in the field.
    public enum Variant: Sendable, Hashable, CaseIterable {
        /// Another UIO device (a GPIO) probed first, so VTA is not `uio0`.
        case foreignUIO
        /// VTA's UIO device with the right name but map 0 at another address (an old overlay).
        case staleOverlay
        /// VTA's parent node is not `compatible = "generic-uio"`.
        case wrongCompatible
        /// The old `udmabuf` driver: class `udmabuf`, buffer `udmabuf0`.
        case legacyUDMABufClass
        /// Maps without `reg-names`: empty `name` attributes.
        case emptyMapName
        /// An older kernel printing addresses with `0x%lx` instead of zero-padded `%pa`.
        case unpaddedHex
    }

    /// How the kernel prints `phys_addr_t` (`%pa`): zero-padded to 32 or 64 bits, or unpadded.
    public enum AddressFormat: Sendable {
        case padded32, padded64, unpadded

        public func format(_ value: UInt64) -> String {
            switch self {
            case .padded32: return String(format: "0x%08llx", value)
            case .padded64: return String(format: "0x%016llx", value)
            case .unpadded: return String(format: "0x%llx", value)
            }
        }
    }

    /// One `reg` entry of a UIO node.
    public struct Map: Sendable {
        public var name: String
        public var address: UInt64
        public var size: UInt64
        public init(name: String, address: UInt64, size: UInt64) {
            self.name = name
            self.address = address
            self.size = size
        }
    }

    /// An empty tree: `sys/class`, `dev`, `run/lock`, `lib/firmware`, `proc`.
    public init(root: String) throws {
        self.root = root
        for dir in ["sys/class", "sys/devices", "sys/bus/platform/drivers", "sys/firmware/devicetree/base", "dev",
                    "run/lock", "lib/firmware", "proc"] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
    }

    // MARK: Boards

    /// A Pynq-Z2 (Zynq-7000, 32-bit `%pa`): UIO `vta` at 0x43c00000 with the four module windows,
    /// u-dma-buf `vta-dma`, and the Zynq FPGA manager in state `operating`.
    public static func pynqZ2(at root: String, variants: Set<Variant> = []) throws -> FakeBoardTree {
        let tree = try FakeBoardTree(root: root)
        let format: AddressFormat = variants.contains(.unpaddedHex) ? .unpadded : .padded32
        var index = 0
        if variants.contains(.foreignUIO) {
            try tree.addUIO(sysname: "uio0", name: "gpio", busPath: "devices/soc0/amba_pl", platformDevice: "41200000.gpio",
                            ofPath: "amba_pl/gpio@41200000", compatible: ["generic-uio"],
                            maps: [Map(name: "gpio@41200000", address: 0x4120_0000, size: 0x1_0000)], format: format)
            index = 1
        }
        try tree.addVTA(index: index, profile: .pynq, staleBase: 0x8000_0000, busPath: "devices/soc0/amba_pl",
                        ofParent: "amba_pl", variants: variants, format: format)
        try tree.addUDMABuf(className: variants.contains(.legacyUDMABufClass) ? "udmabuf" : "u-dma-buf",
                            name: variants.contains(.legacyUDMABufClass) ? "udmabuf0" : "vta-dma",
                            busPath: "devices/platform", platformDevice: "vta-dma",
                            physicalAddress: 0x1800_0000, size: 64 << 20, coherent: false, format: format)
        try tree.addFPGAManager(sysname: "fpga0", name: "Xilinx Zynq FPGA Manager", busPath: "devices/soc0/amba",
                                platformDevice: "f8007000.devcfg", compatible: ["xlnx,zynq-devcfg-1.0"],
                                driver: "fpga_manager_zynq", state: "operating")
        return tree
    }

    /// A Kria KV260 (ZynqMP, zero-padded 64-bit `%pa`): UIO `vta` at 0xa0000000, XRT's zocl with
    /// render node `renderD128` under `axi:zyxclmm_drm`, the display controller's DRM node (driver
    /// `xlnx`, not to be taken for memory), and the ZynqMP FPGA manager.
    public static func kriaKV260(at root: String, variants: Set<Variant> = []) throws -> FakeBoardTree {
        let tree = try FakeBoardTree(root: root)
        let format: AddressFormat = variants.contains(.unpaddedHex) ? .unpadded : .padded64
        var index = 0
        if variants.contains(.foreignUIO) {
            try tree.addUIO(sysname: "uio0", name: "axi-gpio", busPath: "devices/platform/amba_pl@0",
                            platformDevice: "80000000.gpio", ofPath: "amba_pl@0/gpio@80000000", compatible: ["generic-uio"],
                            maps: [Map(name: "gpio@80000000", address: 0x8000_0000, size: 0x1_0000)], format: format)
            index = 1
        }
        try tree.addVTA(index: index, profile: .zcu104, staleBase: 0xB000_0000, busPath: "devices/platform/amba_pl@0",
                        ofParent: "amba_pl@0", variants: variants, format: format)
        try tree.addDRMNode(sysname: "card0", minor: 0, busPath: "devices/platform/axi", platformDevice: "fd4a0000.display",
                            driver: "xlnx", compatible: ["xlnx,zynqmp-dpsub-1.7"], ofPath: "axi/display@fd4a0000")
        try tree.addDRMNode(sysname: "card1", minor: 1, busPath: "devices/platform/axi", platformDevice: "axi:zyxclmm_drm",
                            driver: "zocl", compatible: ["xlnx,zocl"], ofPath: "axi/zyxclmm_drm")
        try tree.addDRMNode(sysname: "renderD128", minor: 128, busPath: "devices/platform/axi",
                            platformDevice: "axi:zyxclmm_drm", driver: "zocl", compatible: ["xlnx,zocl"],
                            ofPath: "axi/zyxclmm_drm")
        if variants.contains(.legacyUDMABufClass) {
            try tree.addUDMABuf(className: "udmabuf", name: "udmabuf0", busPath: "devices/platform", platformDevice: "udmabuf@0",
                                physicalAddress: 0x7000_0000, size: 64 << 20, coherent: false, format: format)
        }
        try tree.addFPGAManager(sysname: "fpga0", name: "Xilinx ZynqMP FPGA Manager",
                                busPath: "devices/platform/firmware:zynqmp-firmware",
                                platformDevice: "firmware:zynqmp-firmware:pcap", compatible: ["xlnx,zynqmp-pcap-fpga"],
                                driver: "zynqmp_fpga_manager", state: "operating")
        return tree
    }

    /// VTA's UIO node: four 4 KiB maps (fetch, load, compute, store) at the profile's bases.
    private func addVTA(index: Int, profile: TargetProfile, staleBase: UInt64, busPath: String, ofParent: String,
                        variants: Set<Variant>, format: AddressFormat) throws {
        let base = variants.contains(.staleOverlay) ? staleBase : profile.fetchBase
        let names = ["fetch", "load", "compute", "store"]
        let maps = names.enumerated().map { i, name in
            Map(name: variants.contains(.emptyMapName) ? "" : name, address: base + UInt64(i) * profile.registerMapRange,
                size: profile.registerMapRange)
        }
        let unit = String(base, radix: 16)
        try addUIO(sysname: "uio\(index)", name: "vta", busPath: busPath, platformDevice: "\(unit).vta",
                   ofPath: "\(ofParent)/vta@\(unit)",
                   compatible: variants.contains(.wrongCompatible) ? ["tvm,vta-1.0"] : ["generic-uio"], maps: maps,
                   format: format)
    }

    // MARK: Devices

    /// A UIO device bound by `uio_pdrv_genirq`.
    public func addUIO(sysname: String, name: String, busPath: String, platformDevice: String, ofPath: String,
                       compatible: [String], maps: [Map], format: AddressFormat) throws {
        let minor = Int(sysname.dropFirst(3)) ?? 0
        let device = try addPlatformDevice(busPath: busPath, name: platformDevice, driver: "uio_pdrv_genirq",
                                           compatible: compatible, ofPath: ofPath)
        let dir = try addClassDevice(className: "uio", sysname: sysname, under: device, classSubdirectory: "uio",
                                     uevent: "MAJOR=246\nMINOR=\(minor)\nDEVNAME=\(sysname)\n")
        try write(dir + "/name", name + "\n")
        try write(dir + "/version", "devicetree\n")
        try write(dir + "/event", "0\n")
        try write(dir + "/dev", "246:\(minor)\n")
        for (k, map) in maps.enumerated() {
            let mapDir = dir + "/maps/map\(k)"
            try makeDirectory(mapDir)
            try write(mapDir + "/addr", format.format(map.address) + "\n")
            try write(mapDir + "/size", format.format(map.size) + "\n")
            try write(mapDir + "/offset", "0x0\n")
            try write(mapDir + "/name", map.name + "\n")
        }
        let pages = maps.enumerated().map { k, map in k * Self.pageSize + Self.roundUpToPage(Int(map.size)) }.max() ?? 0
        try addDevNode(sysname, size: pages)
    }

    /// Removes a UIO device (class entry, device directory, node), as an overlay removal does.
    public func removeUIO(sysname: String) throws {
        let link = root + "/sys/class/uio/" + sysname
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: link)
        let dir = URL(fileURLWithPath: root + "/sys/class/uio").appendingPathComponent(target).standardizedFileURL.path
        try FileManager.default.removeItem(atPath: link)
        try FileManager.default.removeItem(atPath: dir)
        try? FileManager.default.removeItem(atPath: root + "/dev/" + sysname)
    }

    /// A u-dma-buf (or legacy udmabuf) pool with its node.
    public func addUDMABuf(className: String, name: String, busPath: String, platformDevice: String,
                           physicalAddress: UInt64, size: Int, coherent: Bool, format: AddressFormat) throws {
        let compatible = className == "udmabuf" ? "ikwzm,udmabuf-0.10.a" : "ikwzm,u-dma-buf"
        let device = try addPlatformDevice(busPath: busPath, name: platformDevice, driver: className,
                                           compatible: [compatible], ofPath: platformDevice)
        let dir = try addClassDevice(className: className, sysname: name, under: device, classSubdirectory: className,
                                     uevent: "MAJOR=245\nMINOR=0\nDEVNAME=\(name)\n")
        try write(dir + "/phys_addr", format.format(physicalAddress) + "\n")
        try write(dir + "/size", "\(size)\n")
        try write(dir + "/dma_coherent", coherent ? "1\n" : "0\n")
        try write(dir + "/sync_mode", "1\n")
        // The sync attributes as the module creates them (written by the sysfs sync path).
        for attribute in ["sync_offset", "sync_size", "sync_direction", "sync_owner", "sync_for_cpu", "sync_for_device"] {
            try write(dir + "/" + attribute, "0\n")
        }
        try write(dir + "/dev", "245:0\n")
        try addDevNode(name, size: size)
    }

    /// A DRM node (`renderDN` or `cardN`) of a platform device bound to `driver`.
    public func addDRMNode(sysname: String, minor: Int, busPath: String, platformDevice: String, driver: String,
                           compatible: [String], ofPath: String) throws {
        let device = try addPlatformDevice(busPath: busPath, name: platformDevice, driver: driver, compatible: compatible,
                                           ofPath: ofPath)
        let dir = try addClassDevice(className: "drm", sysname: sysname, under: device, classSubdirectory: "drm",
                                     uevent: "MAJOR=226\nMINOR=\(minor)\nDEVNAME=dri/\(sysname)\nDEVTYPE=drm_minor\n")
        try write(dir + "/dev", "226:\(minor)\n")
        try makeDirectory(root + "/dev/dri")
        try addDevNode("dri/" + sysname, size: 0)
    }

    /// An FPGA manager with linux-xlnx's `flags` and write-only `firmware` attributes.
    public func addFPGAManager(sysname: String, name: String, busPath: String, platformDevice: String,
                               compatible: [String], driver: String, state: String, xilinxAttributes: Bool = true) throws {
        let device = try addPlatformDevice(busPath: busPath, name: platformDevice, driver: driver, compatible: compatible,
                                           ofPath: platformDevice)
        let dir = try addClassDevice(className: "fpga_manager", sysname: sysname, under: device,
                                     classSubdirectory: "fpga_manager", uevent: "")
        try write(dir + "/name", name + "\n")
        try write(dir + "/state", state + "\n")
        try write(dir + "/status", "\n")
        if xilinxAttributes {
            try write(dir + "/flags", "0\n")
            try write(dir + "/firmware", "", permissions: 0o200)
            try write(dir + "/key", "", permissions: 0o200)
        }
    }

    /// The configfs mount with the device-tree overlay directory (`sys/kernel/config/device-tree/overlays`).
    public func mountConfigfs(withOverlaySupport: Bool = true) throws {
        let configfs = roots.configfs
        try makeDirectory(configfs + (withOverlaySupport ? "/device-tree/overlays" : "/usb_gadget"))
    }

    /// Deletes the attribute files (`dtbo`, `status`, `path`) of a fake configfs overlay. On real
    /// configfs they belong to the directory and `rmdir` takes them along; here they are plain
    /// files, so a test removes them where the kernel would not need to, before code calls rmdir.
    public func detachOverlayAttributes(_ name: String) throws {
        let dir = roots.configfs + "/device-tree/overlays/" + name
        for attribute in ["dtbo", "status", "path"] where FileManager.default.fileExists(atPath: dir + "/" + attribute) {
            try FileManager.default.removeItem(atPath: dir + "/" + attribute)
        }
    }

    /// The sysfs directory of an FPGA manager.
    public func fpgaManagerPath(_ sysname: String = "fpga0") -> String { root + "/sys/class/fpga_manager/" + sysname }

    // MARK: Building blocks

    /// `sys/<busPath>/<name>` with `uevent`, `driver` and `of_node` (whose `compatible` holds
    /// NUL-terminated strings and `name` the node name). Returns the path relative to `sys`.
    @discardableResult
    public func addPlatformDevice(busPath: String, name: String, driver: String, compatible: [String], ofPath: String) throws -> String {
        let relative = busPath + "/" + name
        let dir = root + "/sys/" + relative
        if FileManager.default.fileExists(atPath: dir) { return relative }
        try makeDirectory(dir)
        let ofFullName = "/" + ofPath
        let ofName = String(ofPath.split(separator: "/").last?.split(separator: "@").first ?? "")
        var uevent = "DRIVER=\(driver)\nOF_NAME=\(ofName)\nOF_FULLNAME=\(ofFullName)\n"
        for (i, c) in compatible.enumerated() { uevent += "OF_COMPATIBLE_\(i)=\(c)\n" }
        uevent += "OF_COMPATIBLE_N=\(compatible.count)\nMODALIAS=of:N\(ofName)T(null)C\(compatible.first ?? "")\n"
        try write(dir + "/uevent", uevent)
        let driverDir = "bus/platform/drivers/" + driver
        try makeDirectory(root + "/sys/" + driverDir)
        try link(relative + "/driver", to: driverDir)
        let ofNode = "firmware/devicetree/base/" + ofPath
        try makeDirectory(root + "/sys/" + ofNode)
        try writeBytes(root + "/sys/" + ofNode + "/compatible", compatible.flatMap { Array($0.utf8) + [0] })
        try writeBytes(root + "/sys/" + ofNode + "/name", Array(ofName.utf8) + [0])
        try link(relative + "/of_node", to: ofNode)
        try link(relative + "/subsystem", to: "bus/platform")
        return relative
    }

    /// `sys/<device>/<classSubdirectory>/<sysname>` with `uevent`, `device` → the parent, and
    /// `sys/class/<className>/<sysname>` → it. Returns the absolute directory.
    @discardableResult
    public func addClassDevice(className: String, sysname: String, under device: String, classSubdirectory: String,
                               uevent: String) throws -> String {
        let relative = device + "/" + classSubdirectory + "/" + sysname
        let dir = root + "/sys/" + relative
        try makeDirectory(dir)
        try write(dir + "/uevent", uevent)
        try link(relative + "/device", to: device)
        try makeDirectory(root + "/sys/class/" + className)
        try link("class/\(className)/\(sysname)", to: relative)
        try link(relative + "/subsystem", to: "class/" + className)
        return dir
    }

    /// A regular file standing in for a device node, `size` bytes (sparse).
    public func addDevNode(_ relativePath: String, size: Int) throws {
        let path = root + "/dev/" + relativePath
        guard FileManager.default.createFile(atPath: path, contents: nil) else { throw FakeTreeError("cannot create \(path)") }
        guard truncate(path, off_t(size)) == 0 else { throw FakeTreeError("cannot size \(path): \(String(cString: strerror(errno)))") }
    }

    /// A symlink at `sys/<at>` pointing at `sys/<target>`, written relative as sysfs does.
    public func link(_ at: String, to target: String) throws {
        let depth = at.split(separator: "/").count - 1
        let relative = String(repeating: "../", count: depth) + target
        try FileManager.default.createSymbolicLink(atPath: root + "/sys/" + at, withDestinationPath: relative)
    }

    public func write(_ path: String, _ text: String, permissions: Int = 0o644) throws {
        try writeBytes(path, Array(text.utf8), permissions: permissions)
    }

    public func writeBytes(_ path: String, _ bytes: [UInt8], permissions: Int = 0o644) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: permissions]) else {
            throw FakeTreeError("cannot write \(path)")
        }
    }

    func makeDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    static func roundUpToPage(_ n: Int) -> Int { (n + pageSize - 1) / pageSize * pageSize }
}

/// A fake tree could not be written.
public struct FakeTreeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
