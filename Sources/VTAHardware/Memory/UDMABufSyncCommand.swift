import CVTAKernel

/// The 64-bit value u-dma-buf takes in `SET_SYNC_FOR_CPU`/`SET_SYNC_FOR_DEVICE` and in its sysfs
/// `sync_for_cpu`/`sync_for_device` files (spec: linux-board-interfaces §2.1): bits 63-32 the
/// byte offset, bits 31-4 the size (a multiple of 16), bits 3-2 the direction, bit 0 set.
///
/// A value whose bits other than bit 0 are all zero tells the driver to use its sysfs
/// `sync_offset`/`sync_size`/`sync_direction` instead, so an empty range must never be encoded.
public enum UDMABufSyncCommand {
    /// Direction field: both ways (`0`), CPU to device (`1`, clean), device to CPU (`2`, invalidate).
    public enum Direction: UInt64, Sendable {
        case bidirectional = 0
        case toDevice = 1
        case fromDevice = 2
    }

    /// The largest size one command can carry (bits 31-4).
    public static let maximumSize: UInt64 = 0xFFFF_FFF0

    /// One command: offset and size must already be encodable (offset < 2^32, size a multiple of 16
    /// and at most `maximumSize`).
    public static func encode(offset: UInt64, size: UInt64, direction: Direction) -> UInt64 {
        (offset << UInt64(VTA_UDMABUF_SYNC_OFFSET_SHIFT)) | (size & maximumSize)
            | (direction.rawValue << UInt64(VTA_UDMABUF_SYNC_DIRECTION_SHIFT))
            | UInt64(VTA_UDMABUF_SYNC_COMMAND_BIT)
    }

    /// The commands that cover bytes `[offset, offset+length)` of a pool of `poolSize` bytes: the
    /// range widened to 16-byte granules (never past the end of the pool, which the driver
    /// rejects) and split into pieces of at most `maximumSize`. Empty for an empty range; nil if
    /// the range is outside the pool or starts beyond the 32-bit offset field.
    public static func commands(offset: Int, length: Int, poolSize: Int, direction: Direction) -> [UInt64]? {
        guard offset >= 0, length >= 0, poolSize >= 0, offset <= poolSize, length <= poolSize - offset else { return nil }
        if length == 0 { return [] }
        let granule = Int(VTA_UDMABUF_SYNC_SIZE_GRANULE)
        var start = offset & ~(granule - 1)
        let end = min(KernelDMASupport.roundUp(offset + length, to: granule) ?? poolSize, poolSize)
        // A pool whose size is not a multiple of 16 (never the case for page-sized pools): widen at
        // the front instead, so the size stays a multiple of 16 and inside the pool.
        if (end - start) % granule != 0 { start = max(0, end - ((end - start + granule - 1) & ~(granule - 1))) }
        var out: [UInt64] = []
        while start < end {
            let size = min(UInt64(end - start), maximumSize)
            guard UInt64(start) <= UInt64(UInt32.max) else { return nil }
            out.append(encode(offset: UInt64(start), size: size, direction: direction))
            start += Int(size)
        }
        return out
    }
}
