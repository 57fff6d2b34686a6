import Glibc

/// The wall clock every board deadline is measured on: CLOCK_MONOTONIC in nanoseconds.
public enum BoardClock {
    /// Now, in nanoseconds.
    @inline(__always)
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// A duration in nanoseconds, clamped to [0, Int64.max / 4] so deadlines never overflow.
    public static func nanoseconds(_ d: Duration) -> Int64 {
        let c = d.components
        if c.seconds < 0 { return 0 }
        let s = c.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if s.overflow { return Int64.max / 4 }
        return min(Int64.max / 4, s.partialValue + c.attoseconds / 1_000_000_000)
    }
}
