import Foundation

/// Runs code as if not root, without touching the rest of the test process.
///
/// As root, the work runs on a fresh thread whose filesystem uid and gid are switched to
/// nobody (65534) with `setfsuid`/`setfsgid`: these are per-thread in Linux and drop the file
/// capabilities that let root write anything, so `open` and `faccessat(AT_EACCESS)` on that
/// thread are judged as for an ordinary user. (The glibc `setuid` family would change every
/// thread of the test process.) Without root the work simply runs on that thread as it is.
public enum Unprivileged {
    public static let nobody: UInt32 = 65534

    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let result = ResultBox<T>()
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            let switched = geteuid() == 0 && setFilesystemIDs(uid: nobody, gid: nobody)
            result.value = body()
            if switched { _ = setFilesystemIDs(uid: 0, gid: 0) }
            finished.signal()
        }
        thread.start()
        finished.wait()
        guard let value = result.value else { fatalError("the unprivileged thread produced no result") }
        return value
    }

    /// `setfsuid`/`setfsgid` (not exported by Swift's Glibc module), found with dlsym.
    static func setFilesystemIDs(uid: UInt32, gid: UInt32) -> Bool {
        typealias SetID = @convention(c) (UInt32) -> Int32
        guard let fsuid = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setfsuid"),
              let fsgid = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setfsgid") else { return false }
        let setfsuid = unsafeBitCast(fsuid, to: SetID.self)
        let setfsgid = unsafeBitCast(fsgid, to: SetID.self)
        // Group first: once the uid is not 0 the gid may no longer be changed freely.
        _ = setfsgid(gid)
        _ = setfsuid(uid)
        // The calls return the previous id; calling again with the same value reports the current one.
        return setfsuid(uid) == Int32(bitPattern: uid)
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
