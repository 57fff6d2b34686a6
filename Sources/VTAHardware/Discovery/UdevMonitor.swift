import CLibUdev
import CVTAKernel
import Glibc
import Synchronization

/// A device appearing, disappearing or changing in one of the watched subsystems.
public struct DeviceEvent: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable {
        case add, remove, change, bind, unbind, move
    }

    public var action: Action
    public var subsystem: String
    public var sysname: String
    /// The device's directory (`/sys/devices/...`).
    public var syspath: String
    public var devnode: String?
    /// True when the event was made up by comparing two rescans (no udevd), not sent by udev.
    public var synthetic: Bool

    public init(action: Action, subsystem: String, sysname: String, syspath: String, devnode: String?, synthetic: Bool) {
        self.action = action
        self.subsystem = subsystem
        self.sysname = sysname
        self.syspath = syspath
        self.devnode = devnode
        self.synthetic = synthetic
    }
}

/// Why a monitor could not start.
public enum UdevMonitorError: Error, Sendable, Equatable, CustomStringConvertible {
    case eventfd(reason: String)
    case netlink(reason: String)
    case thread(reason: String)

    public var description: String {
        switch self {
        case .eventfd(let reason):
            return "cannot create the udev monitor's stop eventfd: \(reason) (too many open files?)"
        case .netlink(let reason):
            return "cannot open the udev monitor's netlink socket: \(reason); run outside a private network "
                + "namespace (PrivateNetwork=no, RestrictAddressFamilies= must allow AF_NETLINK)"
        case .thread(let reason):
            return "cannot start the udev monitor thread: \(reason)"
        }
    }
}

/// Device add/remove/change events of the discovery subsystems as an `AsyncStream`.
///
/// With udevd running, a libudev monitor (source "udev", so rules and permissions have been
/// applied) is read on a dedicated thread that polls its fd and a stop eventfd: nothing blocks the
/// cooperative pool. Without udevd the libudev monitor would be silent, so the thread rescans
/// sysfs every `rescanInterval` and emits synthetic `add`/`remove` events for the differences.
///
/// The monitor is enabled (or the first scan taken) in `init`, so call discovery after creating
/// it: a device that appears in between is then reported, not missed (spec §4.2).
public final class UdevMonitor: Sendable {
    /// The events, in the order seen. Finishes after `stop()`.
    public let events: AsyncStream<DeviceEvent>
    /// `udev` (real events) or `sysfs` (rescans).
    public let method: DiscoveryMethod
    private let worker: MonitorWorker
    private let thread: Mutex<pthread_t?>

    /// - Parameters:
    ///   - roots: the system roots; libudev is used only for `.live` with udevd running.
    ///   - subsystems: what to watch (default: the discovery subsystems).
    ///   - rescanInterval: how often the fallback rescans.
    public init(roots: SystemRoots = .live, subsystems: [String] = BoardDiscovery.subsystems,
                rescanInterval: Duration = .seconds(5)) throws(UdevMonitorError) {
        let stopFD = vta_eventfd()
        guard stopFD >= 0 else { throw .eventfd(reason: HostFiles.errorText(errno)) }
        let (stream, continuation) = AsyncStream.makeStream(of: DeviceEvent.self)
        let source: MonitorWorker.Source
        let method = BoardDiscovery.method(for: roots)
        if method == .udev {
            do throws(UdevMonitorError) {
                source = try MonitorWorker.udevSource(subsystems: subsystems)
            } catch {
                close(stopFD)
                throw error
            }
        } else {
            let scanner = SysfsScanner(roots: roots)
            source = .rescan(scanner: scanner, subsystems: subsystems, interval: rescanInterval,
                             baseline: MonitorWorker.snapshot(scanner, subsystems))
        }
        let worker = MonitorWorker(stopFD: stopFD, continuation: continuation, source: source)
        guard let handle = MonitorWorker.startThread({ worker.run() }) else {
            let reason = HostFiles.errorText(errno)
            worker.releaseUnstarted()
            throw .thread(reason: reason)
        }
        continuation.onTermination = { _ in worker.signalStop() }
        self.events = stream
        self.method = method
        self.worker = worker
        self.thread = Mutex(handle)
    }

    /// Stops the thread and finishes the stream. Safe to call more than once.
    public func stop() {
        worker.signalStop()
        let handle = thread.withLock { t -> pthread_t? in
            defer { t = nil }
            return t
        }
        if let handle { pthread_join(handle, nil) }
        worker.closeStopFD()
    }

    deinit { stop() }
}

/// The monitor thread's state: owned by the thread once started (libudev is not thread-safe).
private final class MonitorWorker: @unchecked Sendable {
    enum Source {
        case udev(udev: OpaquePointer, monitor: OpaquePointer)
        case rescan(scanner: SysfsScanner, subsystems: [String], interval: Duration, baseline: [String: DeviceRecord])
    }

    let stopFD: Int32
    let continuation: AsyncStream<DeviceEvent>.Continuation
    let source: Source
    /// Whether `stopFD` is closed. Stop requests after that must not write to the number, which
    /// the process may already have reused for another file.
    private let stopFDClosed = Mutex(false)

    init(stopFD: Int32, continuation: AsyncStream<DeviceEvent>.Continuation, source: Source) {
        self.stopFD = stopFD
        self.continuation = continuation
        self.source = source
    }

    static func udevSource(subsystems: [String]) throws(UdevMonitorError) -> Source {
        guard let udev = udev_new() else { throw .netlink(reason: "udev_new failed") }
        guard let monitor = udev_monitor_new_from_netlink(udev, "udev") else {
            let reason = HostFiles.errorText(errno)
            udev_unref(udev)
            throw .netlink(reason: reason)
        }
        for subsystem in subsystems { _ = udev_monitor_filter_add_match_subsystem_devtype(monitor, subsystem, nil) }
        let enabled = udev_monitor_enable_receiving(monitor)
        guard enabled >= 0 else {
            udev_monitor_unref(monitor)
            udev_unref(udev)
            throw .netlink(reason: HostFiles.errorText(-enabled))
        }
        return .udev(udev: udev, monitor: monitor)
    }

    /// Records keyed by `subsystem/sysname`.
    static func snapshot(_ scanner: SysfsScanner, _ subsystems: [String]) -> [String: DeviceRecord] {
        var out: [String: DeviceRecord] = [:]
        for record in scanner.scanAll(subsystems) { out[record.subsystem + "/" + record.sysname] = record }
        return out
    }

    func signalStop() {
        stopFDClosed.withLock { closed in
            guard !closed else { return }
            var one: UInt64 = 1
            _ = write(stopFD, &one, 8)
        }
    }

    /// Closes the stop eventfd once the thread is gone (or was never started).
    func closeStopFD() {
        stopFDClosed.withLock { closed in
            guard !closed else { return }
            close(stopFD)
            closed = true
        }
    }

    /// Frees what `run()` would have freed when the thread could not be started.
    func releaseUnstarted() {
        if case .udev(let udev, let monitor) = source {
            udev_monitor_unref(monitor)
            udev_unref(udev)
        }
        continuation.finish()
        closeStopFD()
    }

    func run() {
        switch source {
        case .udev(let udev, let monitor):
            receiveLoop(monitor)
            udev_monitor_unref(monitor)
            udev_unref(udev)
        case .rescan(let scanner, let subsystems, let interval, let baseline):
            rescanLoop(scanner, subsystems, interval, baseline)
        }
        continuation.finish()
    }

    private func receiveLoop(_ monitor: OpaquePointer) {
        let monitorFD = udev_monitor_get_fd(monitor)
        while true {
            var fds = [pollfd(fd: monitorFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
            let n = Glibc.poll(&fds, 2, -1)
            if n < 0 && errno == EINTR { continue }
            if n < 0 || fds[1].revents != 0 { return }
            if fds[0].revents & Int16(POLLIN) == 0 {
                if fds[0].revents != 0 { return }
                continue
            }
            guard let device = udev_monitor_receive_device(monitor) else { continue }
            defer { udev_device_unref(device) }
            let text = { (p: UnsafePointer<CChar>?) in p.map { String(cString: $0) } }
            guard let action = text(udev_device_get_action(device)).flatMap(DeviceEvent.Action.init(rawValue:)) else {
                continue
            }
            let syspath = text(udev_device_get_syspath(device)) ?? ""
            continuation.yield(DeviceEvent(
                action: action, subsystem: text(udev_device_get_subsystem(device)) ?? "",
                sysname: text(udev_device_get_sysname(device)) ?? HostFiles.baseName(syspath), syspath: syspath,
                devnode: text(udev_device_get_devnode(device)), synthetic: false))
        }
    }

    private func rescanLoop(_ scanner: SysfsScanner, _ subsystems: [String], _ interval: Duration,
                            _ baseline: [String: DeviceRecord]) {
        var known = baseline
        while true {
            var fds = [pollfd(fd: stopFD, events: Int16(POLLIN), revents: 0)]
            let n = Glibc.poll(&fds, 1, max(1, HostFiles.milliseconds(of: interval)))
            if n < 0 && errno == EINTR { continue }
            if n != 0 { return }
            let current = Self.snapshot(scanner, subsystems)
            for key in known.keys.sorted(by: DiscoverySchema.naturalOrder) where current[key] == nil {
                if let record = known[key] { continuation.yield(event(.remove, record)) }
            }
            for key in current.keys.sorted(by: DiscoverySchema.naturalOrder) where known[key] == nil {
                if let record = current[key] { continuation.yield(event(.add, record)) }
            }
            known = current
        }
    }

    private func event(_ action: DeviceEvent.Action, _ record: DeviceRecord) -> DeviceEvent {
        DeviceEvent(action: action, subsystem: record.subsystem, sysname: record.sysname, syspath: record.syspath,
                    devnode: record.devnode, synthetic: true)
    }
}

extension MonitorWorker {
/// Starts a POSIX thread (joined by `stop()`) running `body`.
static func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t? {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    let result = pthread_create(&thread, nil, { argument in
        guard let argument else { return nil }
        Unmanaged<Box>.fromOpaque(argument).takeRetainedValue().body()
        return nil
    }, box)
    if result != 0 {
        Unmanaged<Box>.fromOpaque(box).release()
        errno = result
        return nil
    }
    return thread
}
}
