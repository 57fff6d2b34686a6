/// One device of a subsystem as a scanner saw it, before anyone judged it. Both scanners (libudev
/// and the sysfs walk) produce these, so everything after the scan is one code path.
struct DeviceRecord: Sendable, Hashable {
    var subsystem: String
    var sysname: String
    /// The device's real directory (symlinks resolved).
    var syspath: String
    /// Its device node, if it has one.
    var devnode: String?
    /// The requested attributes that could be read (keys are paths relative to `syspath`).
    var attributes: [String: String]
    /// Which of the requested presence-only attributes exist (write-only ones such as `firmware`).
    var present: Set<String>
    var parent: ParentDevice?
}

/// The device a class device hangs off (a platform device on these boards): where the
/// device-tree identity and the bound driver live (spec §4.1).
struct ParentDevice: Sendable, Hashable {
    var sysname: String
    var driver: String?
    var ofCompatible: [String]
    var ofName: String?
}

/// What each subsystem's records must carry.
enum DiscoverySchema {
    /// The subsystems discovery enumerates and the monitor watches.
    static let subsystems = ["uio", "u-dma-buf", "udmabuf", "drm", "fpga_manager"]

    /// Attributes read for a subsystem (paths relative to the device directory).
    static func attributes(for subsystem: String) -> [String] {
        switch subsystem {
        case "uio":
            return ["name", "version"] + (0..<maxUIOMaps).flatMap { k in
                ["addr", "size", "offset", "name"].map { "maps/map\(k)/\($0)" }
            }
        case "u-dma-buf", "udmabuf": return ["phys_addr", "size", "dma_coherent"]
        case "fpga_manager": return ["name", "state", "status", "flags"]
        default: return []
        }
    }

    /// Attributes whose presence matters but which cannot be read (mode 0200).
    static func presence(for subsystem: String) -> [String] {
        subsystem == "fpga_manager" ? ["firmware"] : []
    }

    /// `MAX_UIO_MAPS` in the kernel.
    static let maxUIOMaps = 5
}

/// A source of device records: the libudev adapter or the sysfs walker.
protocol DeviceScanner {
    var method: DiscoveryMethod { get }
    /// Every device of `subsystem`, sorted by sysname in natural order (`uio2` before `uio10`).
    func scan(subsystem: String) -> [DeviceRecord]
}

extension DeviceScanner {
    func scanAll(_ subsystems: [String] = DiscoverySchema.subsystems) -> [DeviceRecord] {
        subsystems.flatMap { scan(subsystem: $0) }
    }
}

extension DiscoverySchema {
/// Orders `uio2` before `uio10`: compares the text before the trailing number, then the number.
static func naturalOrder(_ a: String, _ b: String) -> Bool {
    func split(_ s: String) -> (Substring, Int?) {
        let digits = s.reversed().prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return (Substring(s), nil) }
        let head = s.dropLast(digits.count)
        return (head, Int(String(digits.reversed())))
    }
    let (ha, na) = split(a), (hb, nb) = split(b)
    if ha != hb { return ha < hb }
    switch (na, nb) {
    case let (x?, y?) where x != y: return x < y
    default: return a < b
    }
}
}
