/// How a discovery was made (spec: linux-board-interfaces §4.3).
public enum DiscoveryMethod: String, Sendable, Hashable {
    /// libudev enumeration: the live system with udevd running.
    case udev
    /// A plain walk of `<sys>/class/<subsystem>/*`: no udevd (containers), or fake trees.
    case sysfs
}

/// One memory region of a UIO device (`maps/mapK`).
public struct UIOMap: Sendable, Hashable {
    /// K in `mapK`; the mmap offset that selects it is K × page size.
    public var index: Int
    /// `addr`: the (page-aligned on 5.x kernels) physical start.
    public var address: UInt64
    /// `size` in bytes.
    public var size: UInt64
    /// `offset`: where the real start lies inside the first page.
    public var offset: UInt64
    /// `name`: the `reg-names` entry, or the node name; may be empty.
    public var name: String

    public init(index: Int, address: UInt64, size: UInt64, offset: UInt64, name: String) {
        self.index = index
        self.address = address
        self.size = size
        self.offset = offset
        self.name = name
    }

    /// The physical address of the region's first register (`addr + offset`).
    public var start: UInt64 { address &+ offset }
}

/// A UIO device (`/sys/class/uio/uioN`) and the verdict on whether it is the VTA register window.
public struct DiscoveredUIO: Sendable, Hashable {
    public var sysname: String
    /// The node (`/dev/uioN`, relative to the dev root), if the device has one.
    public var devnode: String?
    /// `name`: `linux,uio-name` or the DT node name.
    public var name: String
    /// `version`: `devicetree` for DT-bound devices.
    public var version: String
    public var maps: [UIOMap]
    /// The parent platform device (e.g. `43c00000.vta`).
    public var parentDevice: String?
    /// The parent's device-tree `compatible` list.
    public var parentCompatible: [String]
    /// The parent's device-tree node name (`OF_NAME`).
    public var ofName: String?
    /// Whether name, compatible and map 0 address all agree with the board target.
    public var accepted: Bool
    /// Why it was not accepted, one sentence each (empty when accepted).
    public var rejectionReasons: [String]

    public init(sysname: String, devnode: String?, name: String, version: String, maps: [UIOMap], parentDevice: String?,
                parentCompatible: [String], ofName: String?, accepted: Bool, rejectionReasons: [String]) {
        self.sysname = sysname
        self.devnode = devnode
        self.name = name
        self.version = version
        self.maps = maps
        self.parentDevice = parentDevice
        self.parentCompatible = parentCompatible
        self.ofName = ofName
        self.accepted = accepted
        self.rejectionReasons = rejectionReasons
    }
}

/// A u-dma-buf pool (`/sys/class/u-dma-buf/<name>`, or the legacy `udmabuf` class).
public struct DiscoveredUDMABuf: Sendable, Hashable {
    /// `u-dma-buf` or the legacy `udmabuf`.
    public var className: String
    public var name: String
    /// `phys_addr`, if readable.
    public var physicalAddress: UInt64?
    /// `size` in bytes, if readable.
    public var size: UInt64?
    /// `dma_coherent` (0/1), if the driver reports it.
    public var dmaCoherent: Bool?
    public var devnode: String?

    public init(className: String, name: String, physicalAddress: UInt64?, size: UInt64?, dmaCoherent: Bool?, devnode: String?) {
        self.className = className
        self.name = name
        self.physicalAddress = physicalAddress
        self.size = size
        self.dmaCoherent = dmaCoherent
        self.devnode = devnode
    }
}

/// A DRM node (`/sys/class/drm/renderDN` or `cardN`); only zocl's render node serves DMA memory.
public struct DiscoveredDRMNode: Sendable, Hashable {
    public var sysname: String
    public var devnode: String?
    /// The driver bound to the parent device (`zocl`, `xlnx`, ...).
    public var driver: String?
    /// The parent platform device (e.g. `axi:zyxclmm_drm`).
    public var platformDevice: String?
    /// The parent's device-tree `compatible` list.
    public var compatible: [String]

    public init(sysname: String, devnode: String?, driver: String?, platformDevice: String?, compatible: [String]) {
        self.sysname = sysname
        self.devnode = devnode
        self.driver = driver
        self.platformDevice = platformDevice
        self.compatible = compatible
    }

    /// A render node (`renderDN`), as opposed to a primary (KMS) node.
    public var isRenderNode: Bool { sysname.hasPrefix("renderD") }
    /// XRT's zocl driver, the one DRM device that hands out contiguous memory with addresses.
    public var isZocl: Bool { driver == "zocl" || compatible.contains { $0.hasPrefix("xlnx,zocl") } }
}

/// An FPGA manager (`/sys/class/fpga_manager/fpgaN`).
public struct DiscoveredFPGAManager: Sendable, Hashable {
    public var sysname: String
    /// `name`, e.g. "Xilinx Zynq FPGA Manager" (for logs and board identification only).
    public var name: String
    /// `state`, e.g. `operating`, `write error`.
    public var state: String
    /// linux-xlnx `flags` (hex), absent on mainline kernels.
    public var flags: UInt64?
    /// Whether the linux-xlnx `firmware` attribute exists (loading through sysfs is possible).
    public var canLoadFirmware: Bool

    public init(sysname: String, name: String, state: String, flags: UInt64?, canLoadFirmware: Bool) {
        self.sysname = sysname
        self.name = name
        self.state = state
        self.flags = flags
        self.canLoadFirmware = canLoadFirmware
    }
}
