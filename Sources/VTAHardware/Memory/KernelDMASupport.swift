import Glibc

/// Small file-system and errno helpers shared by the kernel DMA backends (u-dma-buf, zocl).
enum KernelDMASupport {
    /// `strerror` text with the number, for messages: `Permission denied (errno 13)`.
    static func errnoText(_ code: Int32) -> String {
        let text = strerror(code).map { String(cString: $0) } ?? "unknown error"
        return "\(text) (errno \(code))"
    }

    /// Writes `text` to an existing file in one `write` (sysfs attributes take one write per
    /// value). Returns 0, or the errno of the failing call.
    static func writeAttribute(_ path: String, _ text: String) -> Int32 {
        let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        var bytes = Array(text.utf8)
        let written = bytes.withUnsafeMutableBytes { raw -> Int in
            while true {
                let n = write(fd, raw.baseAddress, raw.count)
                if n < 0 && errno == EINTR { continue }
                return n
            }
        }
        if written < 0 { return errno }
        return written == bytes.count ? 0 : EIO
    }

    /// The kernel's page size (mmap and BO sizes are multiples of it).
    static var pageSize: Int { max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096) }

    /// `n` rounded up to a multiple of `granule` (a power of two), or nil on overflow.
    static func roundUp(_ n: Int, to granule: Int) -> Int? {
        let (sum, overflow) = n.addingReportingOverflow(granule - 1)
        return overflow ? nil : sum & ~(granule - 1)
    }

    /// `CmaTotal` and `CmaFree` from `/proc/meminfo` in bytes, when the kernel reports them.
    static func cmaInfo(proc: String) -> (total: Int, free: Int)? {
        guard let text = SysfsAttribute.read(proc + "/meminfo") else { return nil }
        var total: Int?
        var free: Int?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let kib = Int(parts[1]) else { continue }
            if parts[0] == "CmaTotal:" { total = kib * 1024 }
            if parts[0] == "CmaFree:" { free = kib * 1024 }
        }
        guard let total, let free else { return nil }
        return (total, free)
    }

    /// `64 MiB`, `4 KiB`, `100 bytes`: sizes in messages.
    static func sizeText(_ bytes: Int) -> String {
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }

    /// `0x1f000000`.
    static func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
}
