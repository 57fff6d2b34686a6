import CLibDRM
import Glibc
import VTA

/// Finding Xilinx XRT's `zocl` DRM render node (spec: linux-board-interfaces §2.2, §2.6).
///
/// Never assume `renderD128`: on Kria the display controller owns DRM minors too. On the real
/// system libdrm lists the devices (`drmGetDevices2`); with injected roots (tests) the
/// `class/drm/renderD*` entries of the fake sysfs are walked instead. Each candidate is opened
/// and asked for its driver name (`drmGetVersion`), which must be `zocl`.
enum ZoclDevice {
    /// A render node that was looked at.
    struct Candidate {
        var path: String
        /// `platform a0000000.zyxclmm_drm`, `pci`, ...
        var bus: String
        /// The DRM driver name, or why it is unknown.
        var driver: String
        var isZocl: Bool { driver == "zocl" }
        var text: String { "\(path) (\(bus.isEmpty ? "" : bus + ", ")driver \(driver))" }
    }

    /// Opens the first zocl render node, or explains what was found instead.
    /// - Returns: the open fd (close-on-exec, read-write) and its path.
    static func open(roots: SystemRoots, renderNode: String?) throws(DeviceError) -> (fd: Int32, path: String) {
        let guidance = "zocl is the DRM driver of Xilinx XRT for edge boards (PYNQ 2.7+, Kria): install XRT's "
            + "zocl module and a device tree with its zyxclmm_drm node, or use u-dma-buf instead"
        if let renderNode {
            let path = renderNode.hasPrefix("/") ? renderNode : roots.dev + "/" + renderNode
            let (fd, driver) = openAndIdentify(path)
            guard let fd, driver == "zocl" else {
                if let fd { Glibc.close(fd) }
                throw .unavailable("\(path) is not a zocl render node (driver \(driver)); " + guidance)
            }
            return (fd, path)
        }
        let (candidates, note) = listCandidates(roots: roots)
        var described: [String] = []
        for var c in candidates {
            let (fd, driver) = openAndIdentify(c.path)
            c.driver = driver
            if let fd {
                if c.isZocl { return (fd, c.path) }
                Glibc.close(fd)
            }
            described.append(c.text)
        }
        let found = described.isEmpty ? "no DRM render nodes were found (\(note))" : "DRM render nodes found: "
            + described.joined(separator: "; ")
        throw .unavailable("no zocl render node: \(found). " + guidance)
    }

    /// Opens a node and asks its driver name; the fd is nil when the open failed.
    static func openAndIdentify(_ path: String) -> (fd: Int32?, driver: String) {
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return (nil, "unknown: cannot open: \(KernelDMASupport.errnoText(errno))") }
        guard let version = drmGetVersion(fd) else {
            return (fd, "unknown: not a DRM device (\(KernelDMASupport.errnoText(errno)))")
        }
        defer { drmFreeVersion(version) }
        let name = version.pointee.name.map { String(cString: $0) } ?? ""
        return (fd, name.isEmpty ? "unnamed" : name)
    }

    /// Render nodes with their bus, and a note on how they were listed.
    static func listCandidates(roots: SystemRoots) -> ([Candidate], String) {
        if roots.sys == SystemRoots.live.sys && roots.dev == SystemRoots.live.dev { return listWithLibDRM() }
        let classDir = roots.sys + "/class/drm"
        var out: [Candidate] = []
        for name in HostFiles.directoryEntries(classDir).sorted() where name.hasPrefix("renderD") {
            let uevent = SysfsAttribute.read(classDir + "/" + name + "/uevent").map(SysfsAttribute.parseUevent) ?? [:]
            let devName = uevent["DEVNAME"] ?? "dri/" + name
            out.append(Candidate(path: roots.dev + "/" + devName, bus: "", driver: "unknown"))
        }
        return (out, "\(classDir) lists no renderD* entry")
    }

    private static func listWithLibDRM() -> ([Candidate], String) {
        let maxDevices: Int32 = 64
        var devices = [drmDevicePtr?](repeating: nil, count: Int(maxDevices))
        let n = drmGetDevices2(0, &devices, maxDevices)
        // A negative errno (ENOENT without /dev/dri) or zero both mean "no DRM device".
        guard n > 0 else {
            return ([], n < 0 ? "drmGetDevices2: \(KernelDMASupport.errnoText(-n))" : "drmGetDevices2 found none")
        }
        defer { drmFreeDevices(&devices, n) }
        var out: [Candidate] = []
        for case let device? in devices.prefix(Int(min(n, maxDevices))) {
            let d = device.pointee
            guard d.available_nodes & (1 << DRM_NODE_RENDER) != 0, let nodes = d.nodes,
                  let node = nodes[Int(DRM_NODE_RENDER)] else { continue }
            var bus = "bus \(d.bustype)"
            if d.bustype == DRM_BUS_PLATFORM, let info = d.businfo.platform {
                let fullname = withUnsafeBytes(of: info.pointee.fullname) {
                    String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
                }
                bus = "platform \(fullname)"
            } else if d.bustype == DRM_BUS_PCI {
                bus = "pci"
            }
            out.append(Candidate(path: String(cString: node), bus: bus, driver: "unknown"))
        }
        // zocl is a platform device: look at platform nodes first.
        out.sort { ($0.bus.hasPrefix("platform") ? 0 : 1) < ($1.bus.hasPrefix("platform") ? 0 : 1) }
        return (out, "drmGetDevices2 lists no render node")
    }
}
