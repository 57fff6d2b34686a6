import Glibc

/// Walks `<sys>/class/<subsystem>/*` directly (spec §4.3 fallback): no udevd, containers and the
/// fake trees of the tests. Device nodes come from `uevent` `DEVNAME=`, relative to the dev root.
struct SysfsScanner: DeviceScanner {
    let roots: SystemRoots
    var method: DiscoveryMethod { .sysfs }

    func scan(subsystem: String) -> [DeviceRecord] {
        let classDir = roots.sys + "/class/" + subsystem
        return HostFiles.directoryEntries(classDir).sorted(by: DiscoverySchema.naturalOrder).compactMap { name in
            record(subsystem: subsystem, sysname: name, classEntry: classDir + "/" + name)
        }
    }

    private func record(subsystem: String, sysname: String, classEntry: String) -> DeviceRecord? {
        // Class entries are symlinks into /sys/devices; follow them so relative links inside resolve.
        let syspath = HostFiles.realPath(classEntry) ?? classEntry
        guard HostFiles.isDirectory(syspath) else { return nil }
        var attributes: [String: String] = [:]
        for name in DiscoverySchema.attributes(for: subsystem) {
            if let value = SysfsAttribute.read(syspath + "/" + name) { attributes[name] = value }
        }
        let present = Set(DiscoverySchema.presence(for: subsystem).filter { HostFiles.exists(syspath + "/" + $0) })
        let uevent = SysfsAttribute.read(syspath + "/uevent").map(SysfsAttribute.parseUevent) ?? [:]
        let devnode = uevent["DEVNAME"].map { roots.dev + "/" + $0 }
        return DeviceRecord(subsystem: subsystem, sysname: sysname, syspath: syspath, devnode: devnode,
                            attributes: attributes, present: present, parent: parent(of: syspath))
    }

    /// The device behind the `device` link: its driver and device-tree identity.
    private func parent(of syspath: String) -> ParentDevice? {
        guard let path = HostFiles.realPath(syspath + "/device"), HostFiles.isDirectory(path) else { return nil }
        let uevent = SysfsAttribute.read(path + "/uevent").map(SysfsAttribute.parseUevent) ?? [:]
        let driver = uevent["DRIVER"] ?? HostFiles.realPath(path + "/driver").map(HostFiles.baseName)
        var compatible = SysfsAttribute.readBytes(path + "/of_node/compatible").map(SysfsAttribute.parseStringList) ?? []
        if compatible.isEmpty { compatible = DiscoverySchema.ofCompatible(fromUevent: uevent) }
        let ofName = uevent["OF_NAME"] ?? SysfsAttribute.read(path + "/of_node/name")
        return ParentDevice(sysname: HostFiles.baseName(path), driver: driver, ofCompatible: compatible, ofName: ofName)
    }
}

extension DiscoverySchema {
/// `OF_COMPATIBLE_0..N-1` from uevent properties (or libudev properties).
static func ofCompatible(fromUevent properties: [String: String]) -> [String] {
    guard let n = properties["OF_COMPATIBLE_N"].flatMap({ Int($0) }), n > 0 else { return [] }
    return (0..<min(n, 64)).compactMap { properties["OF_COMPATIBLE_\($0)"] }
}
}
