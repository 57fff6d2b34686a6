import VTA

extension Job.Transfer {
    /// The span of each client buffer that a verified stream's LOADs read and STOREs write (one
    /// bounding range per buffer and direction), so a board job copies only what it touches.
    static func plan(_ stream: UnsafeRawBufferPointer, buffers: [SharedBuffer], config: HardwareConfig) -> [Job.Transfer] {
        let footprint = DRAMFootprint(stream: stream, config: config)
        var out: [ObjectIdentifier: Job.Transfer] = [:]
        func add(_ r: Range<UInt64>, write: Bool) {
            // A coalesced span can cover several buffers that sit next to each other in device
            // memory: each buffer takes its own part.
            for b in buffers {
                let start = b.deviceAddress, end = b.deviceAddress + UInt64(b.size)
                let lo64 = max(r.lowerBound, start), hi64 = min(r.upperBound, end)
                guard lo64 < hi64 else { continue }
                let lo = Int(lo64 - start), hi = Int(hi64 - start)
                var t = out[ObjectIdentifier(b)] ?? Job.Transfer(buffer: b)
                if write {
                    t.writes = t.writes.map { min($0.lowerBound, lo)..<max($0.upperBound, hi) } ?? lo..<hi
                } else {
                    t.reads = t.reads.map { min($0.lowerBound, lo)..<max($0.upperBound, hi) } ?? lo..<hi
                }
                out[ObjectIdentifier(b)] = t
            }
        }
        for r in footprint.reads { add(r, write: false) }
        for r in footprint.writes { add(r, write: true) }
        return Array(out.values)
    }
}
