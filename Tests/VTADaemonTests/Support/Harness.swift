import CVTAKernel
import Foundation
import Synchronization
import Testing
import VTATestSupport
import VTA
import VTAClient
import VTAProtocol

#if canImport(Glibc)
import Glibc
#endif

// The harness of the daemon integration tests: vtad runs as a real subprocess on a socket in a
// fresh directory under /tmp, with a NOTIFY_SOCKET the test owns; every wait has a bound, and a
// per-daemon watchdog SIGKILLs a daemon that outlives its test, which also unblocks any client
// stuck in a blocking call on it.

/// Thrown when the harness cannot do its job (binary missing, daemon did not start, ...).
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

// MARK: - Binaries

enum Binaries {
    /// A built executable: $VTAD_TEST_BIN_DIR (e.g. a release build for measurements), else where
    /// the shared test support finds this package's binaries.
    static func path(_ name: String) throws -> String {
        if let dir = ProcessInfo.processInfo.environment["VTAD_TEST_BIN_DIR"], !dir.isEmpty {
            let url = URL(fileURLWithPath: dir).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url.path }
        }
        do { return try SharedTestData.builtExecutable(name).path } catch { throw HarnessError("\(error)") }
    }
}

// MARK: - Time

/// A deadline on the monotonic clock.
struct Deadline {
    let end: ContinuousClock.Instant
    init(_ d: Duration) { end = .now + d }
    var expired: Bool { ContinuousClock.now >= end }
    /// Milliseconds left, at least 0, at most `cap`.
    func remainingMilliseconds(cap: Int = 1000) -> Int32 {
        let left = end - .now
        let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return Int32(max(0, min(Int64(cap), ms)))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var timeInterval: TimeInterval { seconds }
}

/// Sleeps a short, bounded time between two polls of a condition that has no event to wait on.
func pollPause(_ ms: Int = 10) { usleep(useconds_t(ms * 1000)) }

/// Polls `condition` until it holds or `timeout` passes. For states that have no notification
/// (the daemon's status document, a file on disk); returns whether it held.
@discardableResult
func waitUntil(timeout: Duration, every ms: Int = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let d = Deadline(timeout)
    while true {
        if try condition() { return true }
        if d.expired { return false }
        pollPause(ms)
    }
}

// MARK: - Temporary directory

/// A fresh directory under /tmp with a short name, so socket paths stay far below the 107 bytes
/// of sun_path.
final class TempDir: @unchecked Sendable {
    let path: String
    init() throws {
        var template = Array("/tmp/vtad-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw HarnessError("mkdtemp: \(String(cString: strerror(errno)))")
        }
        path = String(cString: p)
    }
    func file(_ name: String) -> String { path + "/" + name }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

// MARK: - NOTIFY_SOCKET

/// The sd_notify endpoint a test owns: an AF_UNIX SOCK_DGRAM socket bound to a path, read with a
/// timeout. Everything received is kept in `messages` (in order).
final class NotifySocket: @unchecked Sendable {
    // @unchecked: used by the test's own thread only.
    let path: String
    let fd: Int32
    private(set) var messages: [String] = []

    init(path: String) throws {
        guard path.utf8.count < 108 else { throw HarnessError("notify socket path too long: \(path)") }
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
        self.path = path
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0 else {
            let e = errno
            close(fd)
            throw HarnessError("bind \(path): \(String(cString: strerror(e)))")
        }
    }

    deinit { close(fd) }

    /// One datagram, or nil if none arrives within `timeout`.
    func receive(timeout: Duration) -> String? {
        let d = Deadline(timeout)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, d.remainingMilliseconds(cap: 100))
            if r > 0 {
                var buf = [UInt8](repeating: 0, count: 4096)
                let n = recv(fd, &buf, buf.count, Int32(MSG_DONTWAIT))
                if n > 0 {
                    let s = String(decoding: buf.prefix(n), as: UTF8.self)
                    messages.append(s)
                    return s
                }
            }
            if d.expired { return nil }
        }
    }

    /// Whether a datagram containing the line `line` arrived (before, or within `timeout`).
    /// `keepWaiting` is asked between receives (e.g. "the process is still alive").
    func waitFor(line: String, timeout: Duration, keepWaiting: () -> Bool = { true }) -> Bool {
        if hasLine(line) { return true }
        let d = Deadline(timeout)
        while !d.expired && keepWaiting() {
            if let m = receive(timeout: .milliseconds(100)), m.split(separator: "\n").contains(Substring(line)) { return true }
        }
        // One last look: the datagram may have been sent just before the process exited.
        while let m = receive(timeout: .zero) { if m.split(separator: "\n").contains(Substring(line)) { return true } }
        return false
    }

    func hasLine(_ line: String) -> Bool { messages.contains { $0.split(separator: "\n").contains(Substring(line)) } }
}

// MARK: - Child processes

/// A child process the test started, by whichever means.
protocol ChildProcess: AnyObject, Sendable {
    var pid: Int32 { get }
    /// Waits for the process to exit; false if it is still running after `timeout`.
    func waitForExit(timeout: Duration) -> Bool
    var hasExited: Bool { get }
    /// Exit status if it exited normally, nil if it was killed by a signal or is running.
    var exitStatus: Int32? { get }
    /// The signal that killed it, if any.
    var terminationSignal: Int32? { get }
}

/// A child started with Foundation.Process.
final class FoundationChild: ChildProcess, @unchecked Sendable {
    // @unchecked: `process` is only read after exit; the flags are atomic.
    let process: Process
    let pid: Int32
    private let exited = DispatchSemaphore(value: 0)
    private let exitedFlag = Atomic<Bool>(false)

    /// Starts `executable` with the given arguments and environment, output and errors to `log`.
    init(executable: String, arguments: [String], environment: [String: String], log: String) throws {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        guard let out = FileHandle(forWritingAtPath: log) else { throw HarnessError("cannot open \(log)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.environment = environment
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        let sem = exited
        p.terminationHandler = { _ in sem.signal() }
        try p.run()
        try? out.close()
        process = p
        pid = p.processIdentifier
    }

    func waitForExit(timeout: Duration) -> Bool {
        if exitedFlag.load(ordering: .acquiring) { return true }
        guard exited.wait(timeout: .now() + timeout.timeInterval) == .success else { return false }
        // Foundation sets the status just before calling the handler; wait for it to be visible.
        _ = waitUntil(timeout: .seconds(5), every: 1) { !process.isRunning }
        exitedFlag.store(true, ordering: .releasing)
        return true
    }

    var hasExited: Bool { waitForExit(timeout: .zero) }
    var exitStatus: Int32? { hasExited && process.terminationReason == .exit ? process.terminationStatus : nil }
    var terminationSignal: Int32? { hasExited && process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil }
}

/// A child started with posix_spawn, for what Foundation.Process cannot do: map an arbitrary
/// descriptor to fd 3 (socket activation). Reaped with waitpid.
final class SpawnedChild: ChildProcess, @unchecked Sendable {
    let pid: Int32
    private let status = Mutex<Int32?>(nil)

    /// `dup2s`: (source fd in this process, target fd in the child). Standard output and error go
    /// to `log`, standard input is /dev/null, and every other descriptor is closed in the child.
    init(argv: [String], environment: [String: String], log: String, dup2s: [(Int32, Int32)] = []) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let logFD = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard logFD >= 0 else { throw HarnessError("open \(log): \(String(cString: strerror(errno)))") }
        defer { close(logFD) }
        // Sources must not collide with the targets; every source here is a high, close-on-exec
        // descriptor, so dup2 hands the child a copy without FD_CLOEXEC.
        for (src, dst) in dup2s {
            guard src > 10 else { throw HarnessError("dup2 source \(src) must be above 10 (see SpawnedChild)") }
            posix_spawn_file_actions_adddup2(&actions, src, dst)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, logFD, 1)
        posix_spawn_file_actions_adddup2(&actions, logFD, 2)
        // Nothing else of the test process (other tests' sockets, pipes) reaches the daemon.
        // (glibc >= 2.34 has posix_spawn_file_actions_addclosefrom_np, but Swift's Glibc module
        // does not declare it: look it up. Without it, only close-on-exec protects them.)
        let keep = (dup2s.map(\.1).max() ?? 2) + 1
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let sym = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(sym, to: CloseFrom.self)(&actions, keep)
        }

        let args = argv.map { strdup($0) } + [nil]
        let env = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in args + env { free(p) } }
        var child: pid_t = 0
        let r = posix_spawn(&child, argv[0], &actions, nil, args, env)
        guard r == 0 else { throw HarnessError("posix_spawn \(argv[0]): \(String(cString: strerror(r)))") }
        pid = child
    }

    private func reap() -> Bool {
        status.withLock { s in
            if s != nil { return true }
            var st: Int32 = 0
            let r = waitpid(pid, &st, WNOHANG)
            if r == pid { s = st; return true }
            if r < 0 && errno == ECHILD { s = -1; return true }  // reaped elsewhere
            return false
        }
    }

    func waitForExit(timeout: Duration) -> Bool {
        // waitpid has no timeout; poll it (10 ms) up to the bound.
        waitUntil(timeout: timeout) { reap() }
    }

    var hasExited: Bool { reap() }
    var exitStatus: Int32? {
        guard reap(), let st = status.withLock({ $0 }), st >= 0, st & 0x7F == 0 else { return nil }
        return (st >> 8) & 0xFF
    }
    var terminationSignal: Int32? {
        guard reap(), let st = status.withLock({ $0 }), st >= 0, st & 0x7F != 0, st & 0x7F != 0x7F else { return nil }
        return st & 0x7F
    }
}

// MARK: - vtad

/// One vtad subprocess on its own socket and NOTIFY_SOCKET. The initialiser returns once READY=1
/// has arrived; `stop` SIGTERMs it and, if it does not exit in time, SIGKILLs it; deinit
/// SIGKILLs a daemon still running; a watchdog SIGKILLs one that outlives `lifetime`.
final class VTAD: @unchecked Sendable {
    // @unchecked: used by the test's thread; the watchdog only uses the child and a locked flag.
    let dir: TempDir
    let socketPath: String
    let notify: NotifySocket
    let logPath: String
    let metricsPath: String?
    private(set) var child: (any ChildProcess)!
    private let watchdogFired = Locked(false)
    private let lifetime: Duration

    /// The environment every daemon starts from: the test's, without systemd variables.
    static func baseEnvironment() -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        for k in ["NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM", "VTA_SOCKET"] {
            env[k] = nil
        }
        return env
    }

    /// Starts vtad with `--socket <dir>/vtad.sock` and `arguments`, waits for READY=1.
    /// - Parameters:
    ///   - metricsFile: pass `--metrics-file <dir>/metrics.prom`.
    ///   - lifetime: the watchdog SIGKILLs the daemon (and records an issue) after this long.
    convenience init(_ arguments: [String] = [], metricsFile: Bool = false, environment: [String: String] = [:],
                     readyTimeout: Duration = .seconds(60), lifetime: Duration = .seconds(300)) throws {
        try self.init(metricsFile: metricsFile, readyTimeout: readyTimeout, lifetime: lifetime) { dir, notify in
            var args = ["--socket", dir.file("vtad.sock"), "--log-level", "info"]
            if metricsFile { args += ["--metrics-file", dir.file("metrics.prom")] }
            args += arguments
            var env = VTAD.baseEnvironment()
            env["NOTIFY_SOCKET"] = notify.path
            for (k, v) in environment { env[k] = v }
            return try FoundationChild(executable: try Binaries.path("vtad"), arguments: args, environment: env, log: dir.file("vtad.log"))
        }
    }

    /// General form: `prepare` starts the process (given the directory and notify socket).
    init(socketName: String = "vtad.sock", metricsFile: Bool = false, readyTimeout: Duration = .seconds(60),
         lifetime: Duration = .seconds(300), prepare: (TempDir, NotifySocket) throws -> any ChildProcess) throws {
        dir = try TempDir()
        self.socketPath = dir.file(socketName)
        logPath = dir.file("vtad.log")
        metricsPath = metricsFile ? dir.file("metrics.prom") : nil
        self.lifetime = lifetime
        do {
            notify = try NotifySocket(path: dir.file("notify"))
            child = try prepare(dir, notify)
        } catch {
            dir.remove()
            throw error
        }
        armWatchdog()
        let c = child!
        guard notify.waitFor(line: "READY=1", timeout: readyTimeout, keepWaiting: { !c.hasExited }) else {
            let why = c.hasExited ? "exited (status \(c.exitStatus.map(String.init) ?? "-"), signal \(c.terminationSignal.map(String.init) ?? "-"))"
                : "sent no READY=1 within \(readyTimeout)"
            kill(c.pid, SIGKILL)
            _ = c.waitForExit(timeout: .seconds(10))
            let log = self.log
            dir.remove()
            throw HarnessError("vtad \(why)\n--- log ---\n\(log)")
        }
    }

    private func armWatchdog() {
        let c = child!
        let fired = watchdogFired
        // Captures the child and the flag, not self, so an abandoned daemon still dies.
        DispatchQueue.global().asyncAfter(deadline: .now() + lifetime.timeInterval) { [c] in
            if !c.hasExited {
                fired.mutate { $0 = true }
                kill(c.pid, SIGKILL)
            }
        }
    }

    deinit {
        if !child.hasExited {
            kill(child.pid, SIGKILL)
            _ = child.waitForExit(timeout: .seconds(10))
        }
        dir.remove()
    }

    var pid: Int32 { child.pid }
    var isRunning: Bool { !child.hasExited }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "(no log)" }

    /// SIGTERM, wait up to `timeout`, then SIGKILL. Returns the exit status (nil: killed).
    @discardableResult
    func stop(timeout: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation) -> Int32? {
        if watchdogFired.value {
            Issue.record("the watchdog killed vtad after \(lifetime): the test hung", sourceLocation: sourceLocation)
        }
        if !child.hasExited {
            kill(child.pid, SIGTERM)
            if !child.waitForExit(timeout: timeout) {
                Issue.record("vtad did not exit within \(timeout) of SIGTERM; killing it\n\(log)", sourceLocation: sourceLocation)
                kill(child.pid, SIGKILL)
                _ = child.waitForExit(timeout: .seconds(10))
            }
        }
        return child.exitStatus
    }

    /// Sends a signal without waiting.
    func signal(_ sig: Int32) { kill(child.pid, sig) }

    func waitForExit(timeout: Duration) -> Bool { child.waitForExit(timeout: timeout) }
    var exitStatus: Int32? { child.exitStatus }
    var terminationSignal: Int32? { child.terminationSignal }

    /// A new client connection (HELLO done).
    func connect() throws -> RemoteDevice { try RemoteDevice(socketPath: socketPath) }

    /// The status document through a fresh connection.
    func status() throws -> JSONValue { try connect().status() }

    /// Open descriptors of the daemon process: number -> what it refers to.
    var openDescriptors: [Int: String] {
        let dir = "/proc/\(pid)/fd"
        var out: [Int: String] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            guard let fd = Int(name) else { continue }
            out[fd] = (try? FileManager.default.destinationOfSymbolicLink(atPath: dir + "/" + name)) ?? "?"
        }
        return out
    }
}

// MARK: - vtactl

struct CommandResult: CustomStringConvertible {
    let status: Int32
    let pid: Int32
    let stdout: String
    let stderr: String
    var description: String { "exit \(status)\n--- stdout ---\n\(stdout.prefix(4000))\n--- stderr ---\n\(stderr.prefix(4000))" }
}

enum VTACtl {
    /// Runs vtactl and waits at most `timeout` (then kills it and records an issue).
    static func run(_ arguments: [String], timeout: Duration = .seconds(120), sourceLocation: SourceLocation = #_sourceLocation) throws -> CommandResult {
        let r = try Subprocess.run(try Binaries.path("vtactl"), arguments, environment: VTAD.baseEnvironment(), timeout: timeout)
        if r.timedOut {
            Issue.record("vtactl \(arguments.joined(separator: " ")) did not finish within \(timeout)", sourceLocation: sourceLocation)
        }
        return CommandResult(status: r.status ?? -1, pid: r.pid, stdout: r.stdout, stderr: r.stderr)
    }

    /// `vtactl status --socket S --json`, parsed.
    static func status(_ socket: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> (json: JSONValue, pid: Int32) {
        let r = try run(["status", "--socket", socket, "--json"], timeout: .seconds(60), sourceLocation: sourceLocation)
        try #require(r.status == 0, "vtactl status failed: \(r)", sourceLocation: sourceLocation)
        return (try JSONValue.parse(r.stdout), r.pid)
    }
}

// MARK: - Threads

/// Threads for blocking clients (they must not sit on the cooperative pool, which has as many
/// threads as cores): `body(i)` for i in 0..<count, each on its own pthread.
final class ThreadGroup {
    private final class Box: @unchecked Sendable {
        let f: @Sendable () -> Void
        init(_ f: @escaping @Sendable () -> Void) { self.f = f }
    }
    private var threads: [pthread_t] = []
    private let finished = DispatchSemaphore(value: 0)
    private var done = 0
    private var joined = false

    init(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let finished = self.finished
        for i in 0..<count {
            var t = pthread_t()
            var attr = pthread_attr_t()
            pthread_attr_init(&attr)
            pthread_attr_setstacksize(&attr, 8 << 20)
            let box = Unmanaged.passRetained(Box { body(i); finished.signal() }).toOpaque()
            let r = pthread_create(&t, &attr, { arg in
                Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue().f()
                return nil
            }, box)
            pthread_attr_destroy(&attr)
            precondition(r == 0, "pthread_create: \(r)")
            threads.append(t)
        }
    }

    private func wait(_ timeout: Duration) {
        let d = Deadline(timeout)
        while done < threads.count, !d.expired,
              finished.wait(timeout: .now() + Double(d.remainingMilliseconds(cap: 1_000_000)) / 1000) == .success {
            done += 1
        }
    }

    /// Waits for every thread; false if they did not all finish within `timeout`. Then
    /// `onTimeout` runs (e.g. kill the daemon, so blocked clients return) and the threads get a
    /// second bound; threads that still do not return are left behind (and an issue recorded)
    /// rather than hanging the run.
    @discardableResult
    func join(timeout: Duration, onTimeout: () -> Void = {}, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        precondition(!joined)
        joined = true
        wait(timeout)
        let inTime = done == threads.count
        if !inTime {
            onTimeout()
            wait(.seconds(60))
            if done < threads.count {
                Issue.record("\(threads.count - done) client threads never returned", sourceLocation: sourceLocation)
                return false
            }
        }
        for t in threads { pthread_join(t, nil) }
        return inTime
    }
}

/// Runs `body(i)` on `count` threads and joins them (see `ThreadGroup.join`).
@discardableResult
func runOnThreads(_ count: Int, timeout: Duration, onTimeout: () -> Void = {}, sourceLocation: SourceLocation = #_sourceLocation,
                  _ body: @escaping @Sendable (Int) -> Void) -> Bool {
    ThreadGroup(count, body).join(timeout: timeout, onTimeout: onTimeout, sourceLocation: sourceLocation)
}

/// A value shared between client threads.
final class Locked<T: Sendable>: Sendable {
    private let mutex: Mutex<T>
    init(_ value: T) { mutex = Mutex(value) }
    func mutate(_ body: (inout T) -> Void) { mutex.withLock { body(&$0) } }
    var value: T { mutex.withLock { $0 } }
}

extension JSONValue {
    /// The integer at a key path (`status.int("jobs", "done")`).
    func int(_ path: String...) -> Int64? {
        var v: JSONValue? = self
        for k in path { v = v?[k] }
        return v?.intValue
    }
    /// The client_list entries.
    var clients: [JSONValue] { self["client_list"]?.arrayValue ?? [] }
}

// MARK: - Raw protocol client

/// A raw connection for protocol tests: whole packets, optional fds, receive with a timeout.
final class RawClient {
    let socket: PacketSocket

    init(_ path: String, receiveTimeout: Duration = .seconds(20)) throws {
        socket = try PacketSocket.connect(path: path)
        var tv = timeval(tv_sec: Int(receiveTimeout.components.seconds), tv_usec: 0)
        setsockopt(socket.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ bytes: [UInt8], fds: [Int32] = []) throws { try socket.send(bytes, fds: fds) }

    /// Sends with any number of descriptors (vta_send_message allows at most 4): one SCM_RIGHTS
    /// control message laid out by hand (x86_64/aarch64 Linux: 16-byte cmsghdr, 8-byte alignment).
    func sendWithManyFDs(_ bytes: [UInt8], fds: [Int32]) throws {
        let header = MemoryLayout<cmsghdr>.size
        let dataLength = fds.count * 4
        let space = header + (dataLength + 7) / 8 * 8
        var control = [UInt8](repeating: 0, count: space)
        control.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: header + dataLength, toByteOffset: 0, as: Int.self)  // cmsg_len (size_t)
            raw.storeBytes(of: SOL_SOCKET, toByteOffset: 8, as: Int32.self)
            raw.storeBytes(of: Int32(SCM_RIGHTS), toByteOffset: 12, as: Int32.self)
            for (i, f) in fds.enumerated() { raw.storeBytes(of: f, toByteOffset: header + 4 * i, as: Int32.self) }
        }
        var payload = bytes
        let r = payload.withUnsafeMutableBytes { p in
            control.withUnsafeMutableBytes { c in
                var iov = iovec(iov_base: p.baseAddress, iov_len: p.count)
                return withUnsafeMutablePointer(to: &iov) { iovp in
                    var m = msghdr()
                    m.msg_iov = iovp
                    m.msg_iovlen = 1
                    m.msg_control = c.baseAddress
                    m.msg_controllen = c.count
                    return sendmsg(socket.fd, &m, Int32(MSG_NOSIGNAL))
                }
            }
        }
        if r < 0 { throw HarnessError("sendmsg: \(String(cString: strerror(errno)))") }
    }

    /// The next message that is not an unsolicited JOB_DONE; nil when the daemon closed the
    /// connection. Throws on timeout.
    func receiveReply() throws -> MessageReader? {
        while true {
            guard let (bytes, fds) = try socket.receive() else { return nil }
            for f in fds { close(f) }
            let r = try MessageReader(bytes)
            if r.messageType == .jobDone { continue }
            return r
        }
    }

    /// Sends and returns the reply (nil: connection closed).
    func exchange(_ bytes: [UInt8], fds: [Int32] = []) throws -> MessageReader? {
        try send(bytes, fds: fds)
        return try receiveReply()
    }

    func hello() throws {
        var w = MessageWriter(type: .hello, requestID: 1)
        w.u32(WireProtocol.daemonVersion)
        w.u32(0)
        let r = try #require(try exchange(w.finish()))
        #expect(r.messageType == .helloReply)
    }
}

/// The code and text of an ERROR reply (nil if it is not an ERROR).
func errorReply(_ reader: MessageReader?) -> (code: ErrorCode?, text: String)? {
    guard var r = reader, r.messageType == .error, let raw = try? r.u32() else { return nil }
    _ = try? r.u32()
    return (ErrorCode(rawValue: raw), r.text())
}
