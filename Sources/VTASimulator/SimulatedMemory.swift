import Synchronization
import VTA

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a simulated-DRAM request failed.
public enum SimulatedMemoryError: Error, Sendable, Equatable, CustomStringConvertible {
    case outOfAddressSpace(requested: Int, pagesInUse: Int)
    case invalidSize(Int)
    case unknownAddress(UInt64)
    case hostAllocationFailed(Int)

    public var description: String {
        switch self {
        case .outOfAddressSpace(let n, let used):
            return "cannot allocate \(n) bytes: the 32-bit simulated physical address space is full (\(used) pages in use); free buffers first"
        case .invalidSize(let n):
            return "cannot allocate \(n) bytes: size must be between 1 byte and 4 GiB"
        case .unknownAddress(let a):
            return "0x\(String(a, radix: 16)) is not the start of a live simulated DRAM allocation"
        case .hostAllocationFailed(let n):
            return "the host could not provide \(n) bytes for simulated DRAM"
        }
    }
}

/// Simulated DRAM with the reference's physical-address model (conformance README §3.1, spec §7.2).
///
/// 4 KiB pages; page index p has physical address (p + 1) * 4096, so nothing is ever at 0. An
/// allocation takes new consecutive pages at the end of the page table, or reuses the smallest
/// freed block with enough pages, whole, at its old address. Replaying a conformance program's
/// allocations therefore yields the same addresses as the reference.
public final class SimulatedMemory: Sendable {
    public static let pageBytes = 4096
    /// Largest page count that keeps addresses within 32 bits.
    static let maxPages = (1 << 20) - 1

    struct Block {
        let firstPage: Int
        let pages: Int
        /// Host memory behind the block; nil once an adopted mapping was released.
        var base: UnsafeMutableRawPointer?
        var live: Bool
        var requestedBytes: Int
        /// Bytes the host memory provides (an adopted mapping may be smaller than the pages).
        var accessibleBytes: Int
        /// Memory owned by someone else (e.g. a client's shared mapping in the daemon).
        var external: Bool
        /// When the block was last freed (State.frees at that time), for the reuse order.
        var freedAt: UInt64 = 0
        /// A gap in front of a fixed-address mapping: never reused, never accessible.
        var isHole = false
    }

    struct State {
        var blocks: [Block] = []
        /// Block index per page (the page table).
        var pageOwner: [Int32] = []
        var liveBytes = 0
        /// Number of frees so far.
        var frees: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    deinit {
        state.withLock { s in for b in s.blocks where !b.external { Glibc.free(b.base) } }
    }

    /// Allocates `bytes` of simulated DRAM. Returns the physical address and the host pointer.
    public func allocate(bytes: Int) throws(SimulatedMemoryError) -> (physical: UInt64, pointer: UnsafeMutableRawPointer) {
        try place(bytes: bytes, external: nil)
    }

    /// Gives `bytes` of memory that the caller owns (and keeps mapped until `free`) a physical
    /// address, so the simulator reads and writes it in place. Used by the daemon to run on
    /// buffers shared with clients.
    public func adopt(_ pointer: UnsafeMutableRawPointer, bytes: Int) throws(SimulatedMemoryError) -> UInt64 {
        try place(bytes: bytes, external: pointer).physical
    }

    private func place(bytes: Int, external: UnsafeMutableRawPointer?) throws(SimulatedMemoryError) -> (physical: UInt64, pointer: UnsafeMutableRawPointer) {
        guard bytes > 0, bytes <= 1 << 32 else { throw .invalidSize(bytes) }
        let pages = (bytes + Self.pageBytes - 1) / Self.pageBytes
        // Pointers cross the lock as integers: the caller's memory is not the lock's state.
        let externalBits = external.map { UInt(bitPattern: $0) }
        let result: Result<(UInt64, UInt), SimulatedMemoryError> = state.withLock { s in
            let external = externalBits.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
            // Smallest freed block with enough pages (reference: multimap lower_bound on page count).
            var best: Int?
            for (i, b) in s.blocks.enumerated() where !b.live && !b.isHole && b.pages >= pages {
                // Equal page counts: the block freed first (multimap keeps insertion order).
                if best == nil || (b.pages, b.freedAt) < (s.blocks[best!].pages, s.blocks[best!].freedAt) { best = i }
            }
            if let i = best {
                var b = s.blocks[i]
                if let external {
                    if !b.external, let old = b.base { Glibc.free(old) }
                    b.base = external
                    b.accessibleBytes = bytes
                    b.external = true
                } else if b.external || b.base == nil {
                    var raw: UnsafeMutableRawPointer?
                    guard posix_memalign(&raw, Self.pageBytes, b.pages * Self.pageBytes) == 0, let fresh = raw else {
                        return .failure(.hostAllocationFailed(b.pages * Self.pageBytes))
                    }
                    b.base = fresh
                    b.accessibleBytes = b.pages * Self.pageBytes
                    b.external = false
                }
                b.live = true
                b.requestedBytes = bytes
                s.blocks[i] = b
                s.liveBytes += b.pages * Self.pageBytes
                return .success((UInt64(b.firstPage + 1) * UInt64(Self.pageBytes), UInt(bitPattern: b.base!)))
            }
            guard s.pageOwner.count + pages <= Self.maxPages else {
                return .failure(.outOfAddressSpace(requested: bytes, pagesInUse: s.pageOwner.count))
            }
            let base: UnsafeMutableRawPointer
            if let external {
                base = external
            } else {
                var raw: UnsafeMutableRawPointer?
                guard posix_memalign(&raw, Self.pageBytes, pages * Self.pageBytes) == 0, let fresh = raw else {
                    return .failure(.hostAllocationFailed(pages * Self.pageBytes))
                }
                base = fresh
            }
            let first = s.pageOwner.count
            s.blocks.append(Block(firstPage: first, pages: pages, base: base, live: true, requestedBytes: bytes,
                                  accessibleBytes: external == nil ? pages * Self.pageBytes : bytes, external: external != nil))
            s.pageOwner.append(contentsOf: repeatElement(Int32(s.blocks.count - 1), count: pages))
            s.liveBytes += pages * Self.pageBytes
            return .success((UInt64(first + 1) * UInt64(Self.pageBytes), UInt(bitPattern: base)))
        }
        switch result {
        case .success(let r): return (r.0, UnsafeMutableRawPointer(bitPattern: r.1)!)
        case .failure(let e): throw e
        }
    }

    /// Maps `bytes` of caller-owned memory at a fixed, page-aligned physical address above every
    /// page in use, the way a board's DMA carve-out sits at its physical address. The pages in
    /// between stay unmapped (DMA there is out of range). Used by the emulated board.
    public func map(_ pointer: UnsafeMutableRawPointer, physical: UInt64, bytes: Int) throws(SimulatedMemoryError) {
        let pageBytes = UInt64(Self.pageBytes)
        guard bytes > 0, physical >= pageBytes, physical % pageBytes == 0 else { throw .invalidSize(bytes) }
        let firstPage = Int(physical / pageBytes) - 1
        let pages = (bytes + Self.pageBytes - 1) / Self.pageBytes
        let bits = UInt(bitPattern: pointer)
        let ok: Bool = state.withLock { s in
            guard firstPage >= s.pageOwner.count, firstPage + pages <= Self.maxPages else { return false }
            let gap = firstPage - s.pageOwner.count
            if gap > 0 {
                s.blocks.append(Block(firstPage: s.pageOwner.count, pages: gap, base: nil, live: false, requestedBytes: 0,
                                      accessibleBytes: 0, external: true, isHole: true))
                s.pageOwner.append(contentsOf: repeatElement(Int32(s.blocks.count - 1), count: gap))
            }
            s.blocks.append(Block(firstPage: firstPage, pages: pages, base: UnsafeMutableRawPointer(bitPattern: bits), live: true,
                                  requestedBytes: bytes, accessibleBytes: bytes, external: true))
            s.pageOwner.append(contentsOf: repeatElement(Int32(s.blocks.count - 1), count: pages))
            s.liveBytes += pages * Self.pageBytes
            return true
        }
        if !ok { throw .outOfAddressSpace(requested: bytes, pagesInUse: firstPage) }
    }

    /// Returns a block to the free list. Its pages keep their address for reuse.
    public func free(physical: UInt64) throws(SimulatedMemoryError) {
        let ok: Bool = state.withLock { s in
            guard let i = Self.blockIndex(s, physical), s.blocks[i].live, !s.blocks[i].isHole,
                  UInt64(s.blocks[i].firstPage + 1) * UInt64(Self.pageBytes) == physical else { return false }
            s.blocks[i].live = false
            s.frees += 1
            s.blocks[i].freedAt = s.frees
            if s.blocks[i].external { s.blocks[i].base = nil }  // the owner unmaps it
            s.liveBytes -= s.blocks[i].pages * Self.pageBytes
            return true
        }
        if !ok { throw .unknownAddress(physical) }
    }

    private static func blockIndex(_ s: State, _ physical: UInt64) -> Int? {
        guard physical >= UInt64(pageBytes) else { return nil }
        let page = Int(physical / UInt64(pageBytes)) - 1
        guard page < s.pageOwner.count else { return nil }
        return Int(s.pageOwner[page])
    }

    /// Host pointer of `length` bytes at `physical`, if the range lies inside one live allocation.
    public func pointer(physical: UInt64, length: Int) -> UnsafeMutableRawPointer? {
        snapshot().pointer(physical: physical, length: length)
    }

    /// Bytes of simulated DRAM held by live allocations (whole pages).
    public var liveBytes: Int { state.withLock { $0.liveBytes } }
    /// Pages ever created (the page table only grows).
    public var pageTableSize: Int { state.withLock { $0.pageOwner.count } }

    /// A consistent, lock-free view of the page table for the duration of one run.
    func snapshot() -> MemoryView { state.withLock { MemoryView(blocks: $0.blocks, pageOwner: $0.pageOwner) } }
}

/// Read-only page-table view used by a run (no locking per DMA).
struct MemoryView {
    let blocks: [SimulatedMemory.Block]
    let pageOwner: [Int32]

    @inline(__always)
    func pointer(physical: UInt64, length: Int) -> UnsafeMutableRawPointer? {
        let pageBytes = UInt64(SimulatedMemory.pageBytes)
        guard physical >= pageBytes, length >= 0 else { return nil }
        let page = physical / pageBytes - 1
        guard page < UInt64(pageOwner.count) else { return nil }
        let b = blocks[Int(pageOwner[Int(page)])]
        guard b.live, let host = b.base else { return nil }
        let start = UInt64(b.firstPage + 1) * pageBytes
        let end = start + UInt64(b.accessibleBytes)
        guard physical + UInt64(length) <= end else { return nil }
        return host + Int(physical - start)
    }
}
