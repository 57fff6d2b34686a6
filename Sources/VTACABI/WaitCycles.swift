/// What the `wait_cycles` argument of `VTADeviceRun` and `VTASynchronize` means here.
///
/// Upstream's board drivers poll the completion register up to `wait_cycles` times, yielding the
/// CPU between reads, so the budget is a rough time: about a microsecond per poll (the hardware
/// test library's 10,000,000 is about 10 s; the compiler's 2^31 about 36 minutes). libvta waits
/// `wait_cycles` microseconds, but never less than one second, because a simulated run is much
/// slower than the hardware and a budget sized for the board would time out programs the board
/// finishes in time. The daemon further caps a job at its own `job_timeout_ms`.
enum WaitCycles {
    static let minimum: Duration = .seconds(1)

    static func timeout(_ waitCycles: UInt32) -> Duration {
        max(.microseconds(Int64(waitCycles)), minimum)
    }
}
