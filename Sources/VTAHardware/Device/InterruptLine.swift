import Glibc

/// The completion interrupt: a UIO device's fd (4-byte reads return the interrupt count, a 4-byte
/// write of 1 re-enables the line, spec §1.4), or a FIFO standing in for it (the emulated board
/// writes the same 4-byte counts; nothing needs re-enabling).
public final class InterruptLine: @unchecked Sendable {
    public enum Kind: String, Sendable { case uio, fifo }
    public let kind: Kind
    public let path: String
    private let fd: Int32
    private var lastCount: UInt32 = 0

    /// Opens the interrupt source. FIFOs are opened read-write so the line never reports hang-up
    /// when the board side restarts.
    public init(kind: Kind, path: String) throws(BoardError) {
        let fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { let e = errno; throw .open(path: path, operation: "open interrupt line", errno: e, hint: BoardError.openHint(path, e)) }
        self.kind = kind
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Discards interrupts already pending and, for UIO, re-enables the line. Called before every
    /// launch so that only this run's interrupt counts.
    public func arm() throws(BoardError) {
        var count: UInt32 = 0
        while read(fd, &count, 4) == 4 { lastCount = count }
        if kind == .uio {
            var one: UInt32 = 1
            guard write(fd, &one, 4) == 4 else {
                let e = errno
                throw .open(path: path, operation: "re-enable interrupt (write 1) on", errno: e,
                            hint: e == EIO ? "the device has no interrupt or is gone; poll instead (omit --irq) or rediscover" : "")
            }
        }
    }

    /// The outcome of a wait.
    public enum Wait: Sendable, Equatable {
        case fired(count: UInt32)
        case timedOut
        /// EIO/POLLERR: the device went away (spec §1.4: rediscover).
        case gone(errno: Int32)
    }

    /// Waits until an interrupt arrives or `deadline` (CLOCK_MONOTONIC nanoseconds) passes.
    public func wait(until deadline: Int64) -> Wait {
        while true {
            let now = BoardClock.now()
            if now >= deadline { return .timedOut }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(clamping: max(1, (deadline - now + 999_999) / 1_000_000))
            let r = poll(&p, 1, ms)
            if r < 0 { if errno == EINTR { continue }; return .gone(errno: errno) }
            if r == 0 { continue }
            if p.revents & Int16(POLLERR | POLLNVAL) != 0 { return .gone(errno: EIO) }
            var count: UInt32 = 0
            let n = read(fd, &count, 4)
            if n == 4 { lastCount = count; return .fired(count: count) }
            if n < 0, errno == EAGAIN || errno == EINTR { continue }
            return .gone(errno: n < 0 ? errno : EIO)
        }
    }
}
