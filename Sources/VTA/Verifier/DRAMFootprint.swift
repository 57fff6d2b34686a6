/// The DRAM byte ranges an instruction stream's LOADs read and STOREs write (device addresses),
/// each coalesced: what a board must flush before a run and invalidate after it, and what the
/// daemon copies between a client's memory and the device's.
///
/// A strided transfer counts as its bounding span (first row start to last row end), which
/// covers the gaps between rows too: those bytes are flushed or copied, never lost.
public struct DRAMFootprint: Sendable, Equatable {
    /// Sorted, non-overlapping ranges read by LOADs (micro-ops included).
    public var reads: [Range<UInt64>]
    /// Sorted, non-overlapping ranges written by STOREs.
    public var writes: [Range<UInt64>]

    /// Decodes `stream` (16-byte little-endian instructions) with `config`'s layout.
    public init(stream: UnsafeRawBufferPointer, config: HardwareConfig, bases: DMABaseAddresses = .zero) {
        let decoder = config.isa.decoder
        var reads: [Range<UInt64>] = [], writes: [Range<UInt64>] = []
        for i in 0..<(stream.count / 16) {
            let w = InstructionWord(low: UInt64(littleEndian: stream.loadUnaligned(fromByteOffset: 16 * i, as: UInt64.self)),
                                    high: UInt64(littleEndian: stream.loadUnaligned(fromByteOffset: 16 * i + 8, as: UInt64.self)))
            guard w.opcodeBits <= 1 else { continue }
            let m = decoder.decodeMemory(w)
            guard m.xSize > 0, m.ySize > 0, let type = m.memoryType else { continue }
            let e = UInt64(config.dramElementBytes(type))
            let base: UInt64
            switch type {
            case .uop: base = bases.uop
            case .wgt: base = bases.wgt
            case .inp: base = bases.inp
            case .acc, .acc8Bit: base = bases.acc
            case .out: base = bases.out
            }
            let start = base &+ UInt64(m.dramBase) &* e
            let length = (UInt64(m.ySize - 1) * UInt64(m.xStride) + UInt64(m.xSize)) * e
            let (end, overflow) = start.addingReportingOverflow(length)
            guard !overflow else { continue }
            if w.opcodeBits == 0 { reads.append(start..<end) } else { writes.append(start..<end) }
        }
        self.reads = Self.coalesce(reads)
        self.writes = Self.coalesce(writes)
    }

    /// Sorts and merges touching or overlapping ranges.
    static func coalesce(_ ranges: [Range<UInt64>]) -> [Range<UInt64>] {
        guard ranges.count > 1 else { return ranges }
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var out: [Range<UInt64>] = [sorted[0]]
        for r in sorted.dropFirst() {
            if r.lowerBound <= out[out.count - 1].upperBound {
                out[out.count - 1] = out[out.count - 1].lowerBound..<max(out[out.count - 1].upperBound, r.upperBound)
            } else {
                out.append(r)
            }
        }
        return out
    }
}
