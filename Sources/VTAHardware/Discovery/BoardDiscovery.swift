import VTA

/// Finds a board's devices and decides which UIO device is the VTA register window
/// (spec: linux-board-interfaces §4).
public enum BoardDiscovery {
    /// The subsystems enumerated (and watched by `UdevMonitor`).
    public static let subsystems = DiscoverySchema.subsystems

    /// libudev when `roots` is the live system and udevd runs; the sysfs walk otherwise (no udevd,
    /// containers, fake trees). udev's silence cannot be seen from its return codes, hence the
    /// explicit `/run/udev/control` check (spec §4.3).
    public static func method(for roots: SystemRoots) -> DiscoveryMethod {
        roots == .live && roots.udevIsRunning ? .udev : .sysfs
    }

    /// Enumerates UIO, u-dma-buf (and legacy udmabuf), DRM and FPGA-manager devices and judges
    /// each UIO device against the target.
    ///
    /// A UIO device is accepted only when its `name` is `uioName`, its parent's device-tree
    /// `compatible` contains `compatible` (when not nil) and its map 0 starts at
    /// `target.fetchBase`; every other UIO device carries the reasons it was not taken.
    /// Start a `UdevMonitor` before calling this if later changes matter (spec §4.2).
    public static func discover(target: TargetProfile, roots: SystemRoots = .live, uioName: String = "vta",
                                compatible: String? = "generic-uio") -> DiscoveryReport {
        let method = method(for: roots)
        let scanner: any DeviceScanner = method == .udev ? UdevScanner() : SysfsScanner(roots: roots)
        return discover(target: target, roots: roots, scanner: scanner, uioName: uioName, compatible: compatible)
    }

    static func discover(target: TargetProfile, roots: SystemRoots, scanner: any DeviceScanner, uioName: String,
                         compatible: String?) -> DiscoveryReport {
        let criteria = UIOCriteria(target: target, name: uioName, compatible: compatible)
        let uio = scanner.scan(subsystem: "uio").map { judge($0, criteria) }
        let udmabufs = (scanner.scan(subsystem: "u-dma-buf") + scanner.scan(subsystem: "udmabuf")).map(udmabuf)
        let drm = scanner.scan(subsystem: "drm").filter { isDRMNode($0.sysname) }.map(drmNode)
        let managers = scanner.scan(subsystem: "fpga_manager").map(fpgaManager)
        var report = DiscoveryReport(
            method: scanner.method, target: target, uioName: uioName, compatible: compatible, uio: uio,
            udmabufs: udmabufs, drmNodes: drm, fpgaManagers: managers,
            hasXlnk: HostFiles.exists(roots.dev + "/xlnk"), hasCMA: HostFiles.exists(roots.dev + "/cma"), notes: [])
        report.notes = notes(for: report, roots: roots)
        return report
    }

    // MARK: Judging UIO devices

    struct UIOCriteria {
        let target: TargetProfile
        let name: String
        let compatible: String?
    }

    static func judge(_ record: DeviceRecord, _ criteria: UIOCriteria) -> DiscoveredUIO {
        let name = record.attributes["name"] ?? ""
        let maps = uioMaps(record)
        let parent = record.parent
        var reasons: [String] = []
        if name != criteria.name {
            reasons.append("name \"\(name)\" is not \"\(criteria.name)\": another device's UIO node")
        }
        if let wanted = criteria.compatible {
            let found = parent?.ofCompatible ?? []
            let owner = parent.map { "parent \($0.sysname)" } ?? "the device (no parent device)"
            if found.isEmpty {
                reasons.append("\(owner) has no device-tree compatible; expected \"\(wanted)\"")
            } else if !found.contains(wanted) {
                let list = found.map { "\"\($0)\"" }.joined(separator: ", ")
                reasons.append("\(owner) is compatible with \(list), not \"\(wanted)\"")
            }
        }
        let target = criteria.target
        if let map0 = maps.first(where: { $0.index == 0 }) {
            if map0.start != target.fetchBase {
                reasons.append("map 0 at \(sysfsHex(map0.start)), expected \(sysfsHex(target.fetchBase)) for \(target.name): "
                    + "stale or foreign overlay")
            } else if map0.size < target.registerMapRange {
                reasons.append("map 0 is \(sysfsHex(map0.size)) bytes, smaller than the \(sysfsHex(target.registerMapRange))-byte "
                    + "register window of \(target.name)")
            }
        } else {
            reasons.append("no map 0 (the device exposes no register window)")
        }
        return DiscoveredUIO(
            sysname: record.sysname, devnode: record.devnode, name: name, version: record.attributes["version"] ?? "",
            maps: maps, parentDevice: parent?.sysname, parentCompatible: parent?.ofCompatible ?? [],
            ofName: parent?.ofName, accepted: reasons.isEmpty, rejectionReasons: reasons)
    }

    /// `maps/mapK` for K in 0..<5; a map exists when its `addr` parses.
    static func uioMaps(_ record: DeviceRecord) -> [UIOMap] {
        (0..<DiscoverySchema.maxUIOMaps).compactMap { k in
            let a = record.attributes
            guard let address = a["maps/map\(k)/addr"].flatMap(SysfsAttribute.parseHex) else { return nil }
            return UIOMap(index: k, address: address, size: a["maps/map\(k)/size"].flatMap(SysfsAttribute.parseHex) ?? 0,
                          offset: a["maps/map\(k)/offset"].flatMap(SysfsAttribute.parseHex) ?? 0,
                          name: a["maps/map\(k)/name"] ?? "")
        }
    }

    // MARK: Other devices

    static func udmabuf(_ record: DeviceRecord) -> DiscoveredUDMABuf {
        let a = record.attributes
        return DiscoveredUDMABuf(
            className: record.subsystem, name: record.sysname,
            physicalAddress: a["phys_addr"].flatMap(SysfsAttribute.parseHex),
            size: a["size"].flatMap(SysfsAttribute.parseNumber),
            dmaCoherent: a["dma_coherent"].flatMap(SysfsAttribute.parseNumber).map { $0 != 0 },
            devnode: record.devnode)
    }

    /// Render (`renderDN`) and primary (`cardN`) nodes; not connectors (`card0-DP-1`) or `version`.
    static func isDRMNode(_ sysname: String) -> Bool {
        for prefix in ["renderD", "card"] where sysname.hasPrefix(prefix) {
            let rest = sysname.dropFirst(prefix.count)
            return !rest.isEmpty && rest.allSatisfy { $0.isASCII && $0.isNumber }
        }
        return false
    }

    static func drmNode(_ record: DeviceRecord) -> DiscoveredDRMNode {
        DiscoveredDRMNode(sysname: record.sysname, devnode: record.devnode, driver: record.parent?.driver,
                          platformDevice: record.parent?.sysname, compatible: record.parent?.ofCompatible ?? [])
    }

    static func fpgaManager(_ record: DeviceRecord) -> DiscoveredFPGAManager {
        let a = record.attributes
        return DiscoveredFPGAManager(
            sysname: record.sysname, name: a["name"] ?? "", state: a["state"] ?? "unknown",
            flags: a["flags"].flatMap(SysfsAttribute.parseHex), canLoadFirmware: record.present.contains("firmware"))
    }

    // MARK: Notes

    static func notes(for report: DiscoveryReport, roots: SystemRoots) -> [String] {
        var notes: [String] = []
        switch report.method {
        case .udev:
            notes.append("enumerated with libudev")
        case .sysfs where roots == .live:
            notes.append("udev is not running (\(roots.run)/udev/control is absent): walked \(roots.sys)/class directly; "
                + "device changes are found by rescanning")
        case .sysfs:
            notes.append("walked \(roots.sys)/class directly (relocated system roots)")
        }
        if !report.target.isBoard {
            notes.append("target \(report.target.name) is a simulator: no board registers are expected")
        }
        let named = report.uio.filter { $0.name == report.uioName }
        if report.uio.isEmpty {
            notes.append("no UIO devices: load uio_pdrv_genirq with of_id=generic-uio and apply the VTA overlay")
        } else if named.isEmpty {
            notes.append("no UIO device is named \"\(report.uioName)\": apply the VTA overlay (linux,uio-name = \"\(report.uioName)\")")
        }
        let accepted = report.uio.filter(\.accepted)
        if accepted.count > 1 {
            notes.append("\(accepted.count) UIO devices match (\(accepted.map(\.sysname).joined(separator: ", "))); "
                + "using \(accepted[0].sysname)")
        }
        if report.drmNodes.contains(where: { !$0.isZocl }) && report.zoclRenderNode != nil {
            notes.append("DRM nodes of other drivers are ignored; zocl is \(report.zoclRenderNode?.sysname ?? "")")
        }
        return notes
    }
}

/// `0x43c00000`: lower-case hex with a prefix, as sysfs prints addresses.
func sysfsHex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
