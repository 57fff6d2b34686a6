import CVTAKernel
import VTA

/// User-space data-cache maintenance by cache line (AArch64 `DC CVAC` / `DC CIVAC` + `DSB SY`,
/// spec §3.4). ARMv7 and x86 user space cannot do it; there the kernel's sync interfaces or
/// uncached mappings are the only correct choices.
public enum CPUCache {
    /// Bytes per data-cache line, or 0 when this CPU's user space cannot maintain caches.
    public static var lineSize: Int { Int(vta_dcache_line_size()) }

    /// Whether `clean` and `cleanAndInvalidate` work here.
    public static var isAvailable: Bool { lineSize > 0 }

    /// Writes dirty lines of the range back to the point of coherency (before the device reads).
    public static func clean(_ p: UnsafeRawPointer, bytes: Int, label: String) throws(DeviceError) {
        guard bytes > 0 else { return }
        guard vta_dcache_clean_range(p, bytes) == 0 else { throw unavailable(label) }
    }

    /// Cleans and invalidates the range (after the device wrote; AArch64 EL0 has no invalidate-only).
    public static func cleanAndInvalidate(_ p: UnsafeRawPointer, bytes: Int, label: String) throws(DeviceError) {
        guard bytes > 0 else { return }
        guard vta_dcache_clean_invalidate_range(p, bytes) == 0 else { throw unavailable(label) }
    }

    private static func unavailable(_ label: String) -> DeviceError {
        .cacheMaintenance("\(label) is mapped cached, but this CPU cannot clean or invalidate caches from user space "
            + "(only AArch64 can); map it uncached (O_SYNC) or use u-dma-buf/zocl, whose sync calls go through the kernel")
    }
}
