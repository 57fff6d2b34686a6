import Glibc
import VTA

/// One u-dma-buf pool as sysfs describes it (spec: linux-board-interfaces §2.1):
/// `/sys/class/u-dma-buf/<name>/{phys_addr, size, dma_coherent, uevent}` (or the legacy
/// `/sys/class/udmabuf/<name>` of the module's old name), and its device node.
public struct UDMABufDevice: Sendable, Hashable {
    /// The device name (`device-name` in the DT node, else `udmabuf<N>`).
    public let name: String
    /// The class directory, e.g. `/sys/class/u-dma-buf/vta-dma`.
    public let sysfsPath: String
    /// The device node, from `uevent` `DEVNAME` (relative to the dev root).
    public let devicePath: String
    /// `phys_addr`: the pool's DMA address (hex in sysfs).
    public let physicalAddress: UInt64
    /// `size` in bytes (decimal in sysfs).
    public let size: Int
    /// `dma_coherent` is 1: the device snoops CPU caches, no maintenance needed.
    public let isCoherent: Bool
    /// Found under the old `udmabuf` class name.
    public let isLegacyClass: Bool

    /// The class directories searched, current name first.
    public static func classDirectories(roots: SystemRoots) -> [String] {
        [roots.sys + "/class/u-dma-buf", roots.sys + "/class/udmabuf"]
    }

    /// The name an overlay from `kernel-interface/devicetree` gives the pool.
    public static let defaultName = "vta-dma"

    /// Every pool sysfs lists (unreadable ones are skipped).
    public static func all(roots: SystemRoots) -> [UDMABufDevice] {
        var out: [UDMABufDevice] = []
        for (i, dir) in classDirectories(roots: roots).enumerated() {
            for name in HostFiles.directoryEntries(dir).sorted() {
                if let d = try? UDMABufDevice(directory: dir + "/" + name, name: name, legacy: i == 1, roots: roots) {
                    out.append(d)
                }
            }
        }
        return out
    }

    /// Finds a pool: `name` if given (current class, then legacy), else `vta-dma` if present, else
    /// the first pool listed.
    /// - Throws: `DeviceError.unavailable` naming the paths that were looked at and what to do.
    public static func find(name: String?, roots: SystemRoots) throws(DeviceError) -> UDMABufDevice {
        let classes = classDirectories(roots: roots)
        let setup = "Load the u-dma-buf module and apply an overlay with an \"ikwzm,u-dma-buf\" node "
            + "(kernel-interface/devicetree), or create a pool with the module parameter udmabuf0=<bytes>."
        if let name {
            for (i, dir) in classes.enumerated() where HostFiles.exists(dir + "/" + name) {
                return try UDMABufDevice(directory: dir + "/" + name, name: name, legacy: i == 1, roots: roots)
            }
            let present = classes.flatMap { HostFiles.directoryEntries($0).sorted() }
            throw .unavailable("u-dma-buf pool \(name) not found: \(classes[0])/\(name) does not exist (nor does "
                + "\(classes[1])/\(name))" + (present.isEmpty ? "" : "; pools present: \(present.joined(separator: ", "))")
                + ". " + setup)
        }
        for (i, dir) in classes.enumerated() {
            let names = HostFiles.directoryEntries(dir).sorted()
            guard let chosen = names.contains(defaultName) ? defaultName : names.first else { continue }
            return try UDMABufDevice(directory: dir + "/" + chosen, name: chosen, legacy: i == 1, roots: roots)
        }
        throw .unavailable("no u-dma-buf pool: neither \(classes[0]) nor \(classes[1]) lists a device. " + setup)
    }

    private static func unreadable(_ path: String) -> String {
        HostFiles.exists(path) ? "cannot read \(path)" : "\(path) does not exist"
    }

    /// Reads one pool's attributes from its class directory.
    init(directory: String, name: String, legacy: Bool, roots: SystemRoots) throws(DeviceError) {
        let physPath = directory + "/phys_addr"
        let sizePath = directory + "/size"
        guard let physText = SysfsAttribute.read(physPath) else {
            throw .unavailable("u-dma-buf pool \(name): \(Self.unreadable(physPath))")
        }
        guard let phys = SysfsAttribute.parseHex(physText) else {
            throw .unavailable("u-dma-buf pool \(name): \(physPath) holds \"\(physText)\", expected a hex address")
        }
        guard let sizeText = SysfsAttribute.read(sizePath) else {
            throw .unavailable("u-dma-buf pool \(name): \(Self.unreadable(sizePath))")
        }
        guard let size = SysfsAttribute.parseNumber(sizeText), size > 0, size <= UInt64(Int.max) else {
            throw .unavailable("u-dma-buf pool \(name): \(sizePath) holds \"\(sizeText)\", expected a positive byte count")
        }
        // Old modules have no dma_coherent attribute; they are treated as non-coherent (safe).
        let coherent = SysfsAttribute.read(directory + "/dma_coherent").flatMap(SysfsAttribute.parseNumber) == 1
        let uevent = SysfsAttribute.read(directory + "/uevent").map(SysfsAttribute.parseUevent) ?? [:]
        let devName = uevent["DEVNAME"].flatMap { $0.isEmpty ? nil : $0 } ?? name
        self.name = name
        self.sysfsPath = directory
        self.devicePath = devName.hasPrefix("/") ? devName : roots.dev + "/" + devName
        self.physicalAddress = phys
        self.size = Int(size)
        self.isCoherent = coherent
        self.isLegacyClass = legacy
    }
}
