import VTA

/// Where kernels live in micro-op SRAM during one batch, and where their micro-ops were staged
/// (spec §6.5).
///
/// Placement and eviction follow upstream (a cursor sweeping the SRAM, wrapping to 0 when a
/// kernel does not fit), so instruction streams match upstream's. Staging differs on purpose:
/// upstream rewrote the staging buffer at synchronisation from the final resident list, so after
/// an in-batch wrap earlier LOAD UOPs fetched a later kernel's micro-ops. Here every load gets its
/// own append-only staging offset, written immediately, which is identical to upstream whenever
/// no wrap happens and correct when one does.
struct UopPlacement {
    struct Resident {
        let kernel: UopKernel
        let start: Int
        let count: Int
    }

    /// A LOAD UOP to emit: `count` micro-ops from staging offset to SRAM index.
    struct Load {
        let sramBase: Int
        let count: Int
        let stagingOffset: Int
    }

    private(set) var list: [Resident] = []
    private var cursor = 0
    private var sramEnd = 0
    /// Micro-ops written to the staging buffer in this batch.
    private(set) var stagedUops = 0

    func isResident(_ k: UopKernel) -> Bool { list.contains { $0.kernel === k } }

    func range(of k: UopKernel) -> Range<Int>? {
        list.first { $0.kernel === k }.map { $0.start..<($0.start + $0.count) }
    }

    /// Makes `k` resident. Returns the load to emit, or nil if it already was.
    mutating func place(_ k: UopKernel, depth: Int) -> Load? {
        if isResident(k) { return nil }
        let n = k.uops.count
        let start: Int
        if sramEnd + n > depth {
            cursor = 0
            start = 0
            sramEnd = n
        } else {
            start = sramEnd
            sramEnd += n
        }
        // Evict every kernel from the cursor on that overlaps the new range.
        while cursor < list.count && list[cursor].start < sramEnd { list.remove(at: cursor) }
        list.insert(Resident(kernel: k, start: start, count: n), at: cursor)
        cursor += 1
        let load = Load(sramBase: start, count: n, stagingOffset: stagedUops)
        stagedUops += n
        return load
    }
}
