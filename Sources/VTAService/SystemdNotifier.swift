import CVTAKernel

#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify protocol, spoken directly (no libsystemd): datagrams to $NOTIFY_SOCKET.
/// Without systemd (no NOTIFY_SOCKET) every call does nothing.
public struct SystemdNotifier: Sendable {
    public let socketPath: String?

    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"]
        socketPath = (path?.isEmpty ?? true) ? nil : path
    }

    /// Sends `READY=1`, `STATUS=...`, `WATCHDOG=1`, `STOPPING=1` (newline-separated assignments).
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let socketPath else { return false }
        return vta_sd_notify(socketPath, state) == 0
    }

    /// The watchdog interval systemd asks for ($WATCHDOG_USEC, for this process), if any.
    public static func watchdogInterval(environment: [String: String]) -> Duration? {
        guard let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        return .microseconds(Int64(usec))
    }

    /// A listening socket passed by systemd socket activation (fd 3), if this process got one.
    public static func activationSocket(environment: [String: String]) -> Int32? {
        guard let fds = environment["LISTEN_FDS"].flatMap(Int.init), fds >= 1,
              let pid = environment["LISTEN_PID"].flatMap(Int32.init), pid == getpid() else { return nil }
        return 3
    }
}
