import CVTAKernel
import Foundation
import Glibc
import Testing

/// vta_wait_readable: the wait used for UIO interrupts.
@Suite struct WaitReadableTests {
    static func monotonicNanoseconds() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
    }

    /// A pipe; both ends are closed by the caller.
    static func pipePair() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        try #require(pipe(&fds) == 0)
        return (fds[0], fds[1])
    }

    @Test func timesOutWithinTheDeadline() throws {
        let (r, w) = try Self.pipePair()
        defer { close(r); close(w) }
        let start = Self.monotonicNanoseconds()
        #expect(vta_wait_readable(r, 50_000_000) == 0)
        let waited = Self.monotonicNanoseconds() - start
        #expect(waited >= 45_000_000, "returned after \(waited) ns, before the 50 ms timeout")
        #expect(waited < 2_000_000_000, "took \(waited) ns for a 50 ms timeout")
        #expect(vta_wait_readable(r, 0) == 0, "a zero timeout polls once")
    }

    @Test func pendingDataIsReadable() throws {
        let (r, w) = try Self.pipePair()
        defer { close(r); close(w) }
        var count: UInt32 = 1
        #expect(write(w, &count, 4) == 4)
        #expect(vta_wait_readable(r, 1_000_000_000) == 1)
        #expect(vta_wait_readable(r, -1) == 1, "no timeout, data already there")
    }

    @Test func dataWrittenDuringTheWaitWakesIt() throws {
        let (r, w) = try Self.pipePair()
        defer { close(r) }
        let writer = Thread {
            usleep(20_000)
            var count: UInt32 = 7
            _ = write(w, &count, 4)
            close(w)
        }
        writer.start()
        #expect(vta_wait_readable(r, 5_000_000_000) == 1)
    }

    @Test func closedWriteEndIsAnError() throws {
        let (r, w) = try Self.pipePair()
        defer { close(r) }
        close(w)
        // POLLHUP without data: the device is gone (a removed UIO device reports POLLERR alike).
        #expect(vta_wait_readable(r, 1_000_000_000) == -EIO)
    }

    @Test func invalidDescriptorIsAnError() {
        #expect(vta_wait_readable(987_654, 10_000_000) == -EIO, "POLLNVAL")
    }

    @Test func ioctlReportsErrnoNegated() throws {
        let (r, w) = try Self.pipePair()
        defer { close(r); close(w) }
        var info = vta_udmabuf_drv_info()
        #expect(vta_ioctl_ptr(r, VTA_UDMABUF_IOCTL_GET_DRV_INFO, &info) == -ENOTTY)
        #expect(vta_ioctl_ptr(-1, VTA_UDMABUF_IOCTL_GET_DRV_INFO, &info) == -EBADF)
    }
}
