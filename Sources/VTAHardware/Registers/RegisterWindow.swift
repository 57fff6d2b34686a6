import CVTAKernel
import Glibc

/// A window of device registers mapped from a file descriptor: a UIO map, a page of `/dev/mem`,
/// or a region of any file standing in for them (the emulated board). One code path for all.
///
/// Every access is a single volatile 32-bit load or store through the C shim (Swift has no
/// `volatile`; plain pointer accesses may be merged or hoisted by the optimiser).
public final class RegisterWindow: @unchecked Sendable {
    /// Where it came from, for messages: `/dev/uio0 map 0`, `/dev/mem @ 0x43c00000`.
    public let label: String
    /// Physical address of the first register.
    public let physicalBase: UInt64
    /// Usable bytes from `physicalBase`.
    public let length: Int
    private let mapping: Mapping
    private let base: UnsafeMutableRawPointer

    /// The pages behind one or more windows; unmapped when the last window goes.
    private final class Mapping {
        let address: UnsafeMutableRawPointer
        let length: Int
        init(address: UnsafeMutableRawPointer, length: Int) {
            self.address = address
            self.length = length
        }
        deinit { munmap(address, length) }
    }

    private init(label: String, physicalBase: UInt64, length: Int, mapping: Mapping, base: UnsafeMutableRawPointer) {
        self.label = label
        self.physicalBase = physicalBase
        self.length = length
        self.mapping = mapping
        self.base = base
    }

    /// System page size (UIO map selectors and /dev/mem offsets are in pages).
    public static var pageSize: Int { Int(sysconf(Int32(_SC_PAGESIZE))) }

    /// Maps `length` bytes of `path` starting at byte `fileOffset` (rounded down to a page; the
    /// window starts at the exact offset). `physicalBase` is the bus address of the first byte.
    /// - Parameter sync: open with `O_SYNC` (the /dev/mem convention; harmless for other files).
    public static func map(path: String, fileOffset: UInt64, length: Int, physicalBase: UInt64, sync: Bool,
                           label: String? = nil) throws(BoardError) -> RegisterWindow {
        guard length > 0 else { throw .invalidOptions("register window of \(path) has no size") }
        let fd = open(path, O_RDWR | O_CLOEXEC | (sync ? O_SYNC : 0))
        guard fd >= 0 else { let e = errno; throw .open(path: path, operation: "open", errno: e, hint: BoardError.openHint(path, e)) }
        defer { close(fd) }
        return try map(fd: fd, path: path, fileOffset: fileOffset, length: length, physicalBase: physicalBase,
                       label: label ?? "\(path) @ 0x\(String(physicalBase, radix: 16))")
    }

    /// Maps from an open descriptor (the caller keeps ownership of `fd`).
    public static func map(fd: Int32, path: String, fileOffset: UInt64, length: Int, physicalBase: UInt64,
                           label: String) throws(BoardError) -> RegisterWindow {
        // A regular file (the emulated board, a fake UIO node) must cover the window: touching a
        // mapping beyond the end of a file kills the process with SIGBUS instead of an error.
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG {
            let (end, overflow) = fileOffset.addingReportingOverflow(UInt64(length))
            if overflow || UInt64(st.st_size) < end {
                throw .invalidOptions("\(path) is a regular file of \(st.st_size) bytes, too small for a window of \(length) bytes at offset "
                    + "0x\(String(fileOffset, radix: 16)): is vta-board-emu running on it (it sizes the file), or is this the right path?")
            }
        }
        let page = UInt64(pageSize)
        let aligned = fileOffset & ~(page - 1)
        let lead = Int(fileOffset - aligned)
        let total = (lead + length + Int(page) - 1) & ~(Int(page) - 1)
        guard let m = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off_t(Int64(bitPattern: aligned))), m != MAP_FAILED else {
            let e = errno
            throw .open(path: path, operation: "mmap of \(length) bytes at offset 0x\(String(fileOffset, radix: 16)) of", errno: e,
                        hint: e == EINVAL ? "the window is larger than the device region (check the sysfs map size)" : BoardError.openHint(path, e))
        }
        return RegisterWindow(label: label, physicalBase: physicalBase, length: length,
                              mapping: Mapping(address: m, length: total), base: m + lead)
    }

    /// Maps a physical range through `/dev/mem` (root only; the region must not be claimed by a
    /// driver when the kernel has `CONFIG_IO_STRICT_DEVMEM`).
    public static func devMem(physical: UInt64, length: Int, path: String = "/dev/mem") throws(BoardError) -> RegisterWindow {
        try map(path: path, fileOffset: physical, length: length, physicalBase: physical, sync: true)
    }

    /// Maps map `index` of a UIO device: mmap offset `index * pagesize`, size/offset/address from
    /// `/sys/class/uio/uioN/maps/mapK`.
    public static func uio(devnode: String, map index: Int, roots: SystemRoots = .live) throws(BoardError) -> RegisterWindow {
        let name = uioName(devnode)
        let dir = "\(roots.sys)/class/uio/\(name)/maps/map\(index)"
        guard let addrText = SysfsAttribute.read(dir + "/addr"), let addr = SysfsAttribute.parseHex(addrText) else {
            throw .sysfs(path: dir + "/addr", problem: "missing or not a hex address (does \(name) have map \(index)?)")
        }
        guard let sizeText = SysfsAttribute.read(dir + "/size"), let size = SysfsAttribute.parseHex(sizeText), size > 0 else {
            throw .sysfs(path: dir + "/size", problem: "missing or not a hex size")
        }
        let offset = SysfsAttribute.read(dir + "/offset").flatMap(SysfsAttribute.parseHex) ?? 0
        // The UIO convention: the mmap offset selects the map; every map starts at its page-aligned
        // address, and the sub-page offset is added to the returned pointer.
        let fd = open(devnode, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { let e = errno; throw .open(path: devnode, operation: "open", errno: e, hint: BoardError.openHint(devnode, e)) }
        defer { close(fd) }
        let page = UInt64(pageSize)
        let mapLength = Int((offset + size + page - 1) & ~(page - 1))
        let window = try map(fd: fd, path: devnode, fileOffset: UInt64(index) * page, length: mapLength, physicalBase: addr & ~(page - 1),
                             label: "\(devnode) map \(index)")
        return window.narrowed(by: Int(offset), length: Int(size), physicalBase: addr)
    }

    /// The sysfs name (`uioN`) of a UIO device node, following symlinks such as the udev rule's
    /// `/dev/vta/vta`.
    public static func uioName(_ devnode: String) -> String {
        let resolved = HostFiles.realPath(devnode) ?? devnode
        return resolved.split(separator: "/").last.map(String.init) ?? resolved
    }

    /// The same mapping seen from a sub-page offset (UIO `offset`).
    private func narrowed(by offset: Int, length: Int, physicalBase: UInt64) -> RegisterWindow {
        if offset == 0 && length == self.length { return self }
        return RegisterWindow(label: label, physicalBase: physicalBase, length: length, mapping: mapping, base: base + offset)
    }

    /// Whether `[address, address+4)` lies in this window.
    @inline(__always)
    public func contains(_ address: UInt64, width: Int = 4) -> Bool {
        address >= physicalBase && address - physicalBase + UInt64(width) <= UInt64(length)
    }

    /// Volatile 32-bit read at a byte offset into the window (offsets are checked by the caller).
    @inline(__always)
    public func read32(offset: Int) -> UInt32 { vta_mmio_read32(base, offset) }

    /// Volatile 32-bit write at a byte offset into the window.
    @inline(__always)
    public func write32(offset: Int, _ value: UInt32) { vta_mmio_write32(base, offset, value) }

    /// The CPU address of the window (for the emulated board's DMA region only).
    public var cpuAddress: UnsafeMutableRawPointer { base }
}
