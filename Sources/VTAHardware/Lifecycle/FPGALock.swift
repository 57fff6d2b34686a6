import Glibc

/// The system-wide lock around reconfiguration (`flock` on `<run>/lock/vta-fpga.lock`, spec §5.7):
/// one bitstream load or overlay change at a time, and the daemon can take it to keep a reload
/// from happening under a running job. Held as long as the object lives.
///
/// `flock` locks belong to the open file, so a second `acquire` in the same process waits for the
/// first like any other holder.
public final class FPGALock: Sendable {
    public let path: String
    private let fd: Int32

    /// `<roots.run>/lock/vta-fpga.lock`.
    public static func path(roots: SystemRoots) -> String { roots.run + "/lock/vta-fpga.lock" }

    /// Takes the lock, waiting up to `timeout` for another holder.
    public static func acquire(roots: SystemRoots, timeout: Duration = .seconds(30)) throws(BoardLifecycleError) -> FPGALock {
        let path = path(roots: roots)
        do { try HostFiles.makeDirectories(HostFiles.directoryName(path)) } catch {
            throw .lockFailed(path: path, reason: error.reason)
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .lockFailed(path: path, reason: HostFiles.errorText(errno)) }
        var failure: Int32 = 0
        let locked = HostFiles.waitFor(timeout: timeout, interval: .milliseconds(20)) { () -> Bool? in
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
            if errno == EWOULDBLOCK || errno == EINTR { return nil }
            failure = errno
            return false
        }
        guard locked == true else {
            close(fd)
            if failure != 0 { throw .lockFailed(path: path, reason: HostFiles.errorText(failure)) }
            throw .lockBusy(path: path, waited: timeout)
        }
        return FPGALock(path: path, fd: fd)
    }

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// Releases the lock (closing the file drops it).
    deinit { close(fd) }
}
