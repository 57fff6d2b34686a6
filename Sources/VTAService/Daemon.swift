import CVTAKernel
import Logging
import Synchronization
import VTA
import VTAProtocol
import VTAHardware
import VTASimulator

#if canImport(Glibc)
import Glibc
#endif

/// vtad: owns the accelerator and serves many local clients over a SOCK_SEQPACKET socket.
///
/// Two threads: the I/O thread polls the listening socket, every client, a signalfd and an
/// eventfd, and does all protocol work (nothing in it blocks on the device); the device thread
/// is the accelerator's only owner and runs verified jobs from the scheduler, scrubbing the
/// SRAMs whenever the tenant changes. A watchdog thread pings systemd only while the device
/// thread is responsive.
public final class Daemon: @unchecked Sendable {
    // @unchecked: `sessions`, `listener` and the shutdown flags belong to the I/O thread; the
    // scheduler and statistics have their own locks; the device is internally synchronised.
    public let configuration: DaemonConfiguration
    let accelerator: Accelerator
    var device: any Device { accelerator.device }
    let verifier: ProgramVerifier
    let logger: Logger
    let notifier: SystemdNotifier
    let scheduler: Scheduler
    let environment: [String: String]

    private var listener: Int32 = -1
    private var ownsSocketFile = false
    private let wakeFD: Int32
    private var signalFD: Int32 = -1
    var sessions: [Int32: Session] = [:]
    /// Buffers of disconnected clients whose job was still running.
    private var orphanedBuffers: [UInt64: [SharedBuffer]] = [:]
    private let completions = Mutex<[(session: UInt64, result: JobResult)]>([])
    let stats = Mutex(Statistics())
    private var nextSessionID: UInt64 = 1
    private let nextJobID = Atomic<UInt64>(1)
    private let heartbeat = Atomic<Int64>(0)
    /// When the running job must be over (its deadline plus a grace period); 0 when idle.
    private let runningDeadline = Atomic<Int64>(0)
    let startTime = ContinuousClock.now
    var shuttingDown = false
    /// Set when accept failed for lack of descriptors: stop polling the listener for a moment
    /// instead of spinning on it.
    private var acceptPausedUntil: Int64 = 0
    private let deviceThreadDone = Atomic<Bool>(false)

    struct Statistics {
        var jobsDone = 0, jobsFailed = 0, jobsRejected = 0, jobsCancelled = 0
        var connectionsRefused = 0, connectionsTotal = 0
        var deviceNanoseconds: UInt64 = 0
        var instructions: UInt64 = 0
        var counters = ProfilerCounters()
    }

    final class Session {
        let id: UInt64
        let socket: PacketSocket
        let pid: Int32, uid: UInt32, gid: UInt32
        var hello = false
        var buffers: [UInt32: SharedBuffer] = [:]
        var nextHandle: UInt32 = 1
        var bufferBytes = 0

        init(id: UInt64, socket: PacketSocket, pid: Int32, uid: UInt32, gid: UInt32) {
            self.id = id
            self.socket = socket
            self.pid = pid
            self.uid = uid
            self.gid = gid
        }

        var regions: [DRAMRegion] {
            buffers.values.map { DRAMRegion(start: $0.deviceAddress, size: UInt64($0.size), writable: true, label: "buffer \($0.handle)") }
        }
    }

    public init(configuration: DaemonConfiguration, environment: [String: String], logger: Logger) throws(DaemonError) {
        self.configuration = configuration
        self.environment = environment
        self.logger = logger
        switch configuration.backend {
        case "auto", "sim":
            do { accelerator = .simulator(try SimulatorDevice(config: configuration.hardware, profile: configuration.profile)) } catch {
                throw .startup("simulator: \(error)")
            }
        case "fpga":
            let target = configuration.hardware.targetProfile
            guard target.isBoard else {
                throw .startup("backend fpga needs the board's registers and a board target: --target pynq|ultra96|zcu104|de10nano "
                    + "(or a vta_config with such a TARGET), and board_uio/board_devmem unless discovery finds the device")
            }
            var chosen = configuration.boardOptions
            if chosen == nil {
                // Find the accelerator as `vtactl board info` does: name, compatible, address.
                let report = BoardDiscovery.discover(target: target)
                guard let devnode = report.acceptedUIO?.devnode else {
                    throw .startup("backend fpga: no VTA UIO device for \(target.name) found; set board_uio or board_devmem. Discovery: "
                        + report.text.split(separator: "\n").joined(separator: "; "))
                }
                var copy = configuration
                copy.boardUIO = devnode
                chosen = copy.boardOptions
            }
            guard let options = chosen else { throw .startup("backend fpga: no board options") }
            do { accelerator = .board(try FPGADevice(options: options)) } catch { throw .startup("fpga: \(error.description)") }
        default:
            throw .startup("unknown backend \"\(configuration.backend)\" (use auto, sim or fpga)")
        }
        verifier = ProgramVerifier(config: configuration.hardware)
        notifier = SystemdNotifier(environment: environment)
        scheduler = Scheduler(maxQueuedPerClient: Int(configuration.limits.maxQueuedJobs))
        wakeFD = vta_eventfd()
        guard wakeFD >= 0 else { throw .startup("eventfd: \(String(cString: strerror(errno)))") }
    }

    // MARK: - Life cycle

    /// Serves until SIGTERM/SIGINT, then drains in-flight jobs and returns.
    public func run() throws(DaemonError) {
        signalFD = vta_termination_signalfd()
        guard signalFD >= 0 else { throw .startup("signalfd: \(String(cString: strerror(errno)))") }
        if let fd = SystemdNotifier.activationSocket(environment: environment) {
            guard vta_is_seqpacket(fd) != 0 else { throw .startup("the socket passed by systemd (fd 3) is not SOCK_SEQPACKET; set SocketType=sequential-packet... use ListenSequentialPacket=") }
            listener = fd
            logger.info("using the socket passed by systemd", metadata: ["fd": "\(fd)"])
        } else {
            // Never take over a socket another daemon is serving.
            let probe = vta_unix_connect(configuration.socketPath)
            if probe >= 0 {
                close(probe)
                throw .startup("another daemon is already listening on \(configuration.socketPath)")
            }
            let fd = vta_unix_listen(configuration.socketPath, 64, configuration.socketMode)
            guard fd >= 0 else {
                throw .startup("cannot listen on \(configuration.socketPath): \(String(cString: strerror(errno))) (does its directory exist and is it writable?)")
            }
            listener = fd
            ownsSocketFile = true
        }
        let deviceThread = startThread { [self] in deviceLoop() }
        var watchdogThread: pthread_t?
        if let interval = SystemdNotifier.watchdogInterval(environment: environment) {
            watchdogThread = startThread { [self] in watchdogLoop(interval: interval) }
        }
        logger.info("vtad ready", metadata: ["device": "\(device.name)", "socket": "\(ownsSocketFile ? configuration.socketPath : "fd 3")"])
        // The metrics file exists before READY=1, so whoever waits for READY finds it.
        writeMetricsFile()
        notifier.notify("READY=1\nSTATUS=serving on \(device.name)")
        ioLoop()
        // Drained: the device thread has finished every queued job and exited.
        pthread_join(deviceThread, nil)
        deliverCompletions()
        for s in Array(sessions.values) { closeSession(s, reason: "daemon stopping") }
        if ownsSocketFile { unlink(configuration.socketPath) }
        close(listener)
        _ = watchdogThread
        logger.info("vtad stopped")
    }

    private func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
        final class Box: @unchecked Sendable { let f: @Sendable () -> Void; init(_ f: @escaping @Sendable () -> Void) { self.f = f } }
        var t = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        pthread_create(&t, nil, { arg in
            let b = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            b.f()
            return nil
        }, box)
        return t
    }

    // MARK: - I/O thread

    private func ioLoop() {
        while true {
            var fds: [pollfd] = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let accepting = !shuttingDown && now() >= acceptPausedUntil
            let listenerIndex: Int? = accepting ? fds.count : nil
            if accepting { fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0)) }
            let clientStart = fds.count
            let clientFDs = Array(sessions.keys)
            for fd in clientFDs { fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            let r = poll(&fds, nfds_t(fds.count), shuttingDown || !accepting ? 100 : 1000)
            if r < 0 && errno != EINTR { logger.error("poll failed: \(String(cString: strerror(errno)))"); break }
            if fds[0].revents != 0 {
                let sig = vta_read_signal(signalFD)
                if sig == SIGHUP {
                    logger.notice("SIGHUP ignored: vtad does not reload its configuration; restart the service instead")
                } else if sig != 0 && !shuttingDown {
                    beginShutdown(signal: sig)
                } else if sig != 0 {
                    logger.warning("second signal \(sig): cancelling queued jobs")
                    for s in sessions.values {
                        let (removed, _) = scheduler.removeAll(session: s.id)
                        for job in removed {
                            try? device.free(job.instructions)
                            try? s.socket.send(JobResult(jobID: job.id, status: .shuttingDown, message: "cancelled: the daemon is stopping").encode())
                        }
                        if !removed.isEmpty { stats.withLock { $0.jobsCancelled += removed.count } }
                    }
                }
            }
            if fds[1].revents != 0 {
                var v: UInt64 = 0
                _ = read(wakeFD, &v, 8)
                deliverCompletions()
            }
            if let li = listenerIndex, fds[li].revents & Int16(POLLIN) != 0 { acceptClient() }
            for (i, fd) in clientFDs.enumerated() where fds[clientStart + i].revents != 0 {
                guard let s = sessions[fd] else { continue }
                serve(s, events: fds[clientStart + i].revents)
            }
            if shuttingDown && deviceThreadDone.load(ordering: .acquiring) { break }
        }
    }

    private func beginShutdown(signal: Int32) {
        shuttingDown = true
        logger.notice("signal \(signal): stopping; draining \(scheduler.depth) job(s)")
        notifier.notify("STOPPING=1\nSTATUS=draining jobs")
        scheduler.stop()
    }

    private func acceptClient() {
        let fd = vta_accept(listener, 0)
        guard fd >= 0 else {
            if errno == EMFILE || errno == ENFILE {
                logger.error("out of file descriptors; pausing new connections for 100 ms")
                acceptPausedUntil = now() + 100_000_000
            }
            return
        }
        var pid: Int32 = 0, uid: UInt32 = 0, gid: UInt32 = 0
        guard vta_peer_credentials(fd, &pid, &uid, &gid) == 0 else { close(fd); return }
        let socket = PacketSocket(fd: fd)
        // A client that stops reading gets disconnected rather than stalling everyone else.
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var groups = [UInt32](repeating: 0, count: 256)
        let ngroups = Int(vta_peer_groups(fd, &groups, Int32(groups.count)))
        let peerGroups = Set([gid] + groups.prefix(max(0, ngroups)))
        let allowed = (configuration.allowedUIDs.isEmpty && configuration.allowedGIDs.isEmpty)
            || configuration.allowedUIDs.contains(uid) || !configuration.allowedGIDs.isDisjoint(with: peerGroups) || uid == 0
        if !allowed {
            logger.warning("refused connection", metadata: ["pid": "\(pid)", "uid": "\(uid)", "gid": "\(gid)"])
            stats.withLock { $0.connectionsRefused += 1 }
            sendError(socket, requestID: 0, .permissionDenied, "uid \(uid) / gid \(gid) is not allowed to use this daemon (see allow_uids / allow_gids)")
            return
        }
        let session = Session(id: nextSessionID, socket: socket, pid: pid, uid: uid, gid: gid)
        nextSessionID += 1
        sessions[fd] = session
        stats.withLock { $0.connectionsTotal += 1 }
        logger.debug("client connected", metadata: ["session": "\(session.id)", "pid": "\(pid)", "uid": "\(uid)"])
    }

    private func sendError(_ socket: PacketSocket, requestID: UInt32, _ code: ErrorCode, _ message: String) {
        var w = MessageWriter(type: .error, requestID: requestID)
        w.u32(code.rawValue)
        w.u32(0)
        w.text(message)
        try? socket.send(w.finish())
    }

    private func serve(_ s: Session, events: Int16) {
        let message: (bytes: [UInt8], fds: [Int32])?
        do { message = try s.socket.receive() } catch {
            sendError(s.socket, requestID: 0, error.code, error.message)
            if error.code != .malformed { closeSession(s, reason: error.message) }
            return
        }
        guard let (bytes, fds) = message else { closeSession(s, reason: "disconnected"); return }
        if !fds.isEmpty {
            // No request carries descriptors.
            for f in fds { close(f) }
            sendError(s.socket, requestID: 0, .malformed, "requests must not carry file descriptors")
            return
        }
        var reader: MessageReader
        do { reader = try MessageReader(bytes) } catch {
            sendError(s.socket, requestID: 0, error.code, error.message)
            return
        }
        let id = reader.header.requestID
        do {
            try handle(s, &reader)
        } catch let e as ProtocolError {
            sendError(s.socket, requestID: id, e.code, e.message)
        } catch {
            sendError(s.socket, requestID: id, .deviceFailure, "\(error)")
        }
    }

    private func reply(_ s: Session, _ w: MessageWriter, fds: [Int32] = []) {
        do { try s.socket.send(w.finish(), fds: fds) } catch { closeSession(s, reason: "send failed: \(error.message)") }
    }

    private func handle(_ s: Session, _ r: inout MessageReader) throws {
        let id = r.header.requestID
        guard let type = r.messageType else { throw ProtocolError(.unknownType, "unknown message type \(r.header.type)") }
        if type != .hello && !s.hello { throw ProtocolError(.notReady, "send HELLO first") }
        let limits = configuration.limits
        switch type {
        case .hello:
            _ = try r.u32()
            try r.reserved32()
            try r.end()
            s.hello = true
            var w = MessageWriter(type: .helloReply, requestID: id)
            w.u32(WireProtocol.daemonVersion)
            w.u32(limits.maxBuffers)
            w.u64(limits.maxBufferBytes)
            w.u32(limits.maxJobInstructions)
            w.u32(limits.maxQueuedJobs)
            w.text(device.config.json.serialized())
            reply(s, w)
        case .alloc:
            let size = try r.u64()
            let alignment = try r.u32()
            try r.reserved32()
            try r.end()
            guard size > 0, size <= limits.maxBufferBytes else {
                throw ProtocolError(.limitExceeded, "buffer size \(size) is outside 1...\(limits.maxBufferBytes)")
            }
            guard alignment == 0 || (alignment <= 4096 && alignment & (alignment - 1) == 0) else {
                throw ProtocolError(.malformed, "alignment \(alignment) is not 0 or a power of two up to 4096")
            }
            guard s.buffers.count < Int(limits.maxBuffers) else {
                throw ProtocolError(.limitExceeded, "this client already has \(s.buffers.count) buffers (limit \(limits.maxBuffers))")
            }
            guard UInt64(s.bufferBytes) + size <= configuration.maxClientBytes else {
                throw ProtocolError(.limitExceeded, "this client holds \(s.bufferBytes) bytes; \(size) more would pass its limit of \(configuration.maxClientBytes) (max_client_bytes)")
            }
            var handle = s.nextHandle
            while handle == 0 || s.buffers[handle] != nil { handle &+= 1 }
            s.nextHandle = handle &+ 1
            let b = try SharedBuffer(handle: handle, size: Int(size), accelerator: accelerator)
            s.buffers[handle] = b
            s.bufferBytes += b.size
            var w = MessageWriter(type: .allocReply, requestID: id)
            w.u32(handle)
            w.u32(0)
            w.u64(b.deviceAddress)
            w.u64(UInt64(b.size))
            reply(s, w, fds: [b.fd])
            b.closeDescriptor()
        case .free:
            let handle = try r.u32()
            try r.reserved32()
            try r.end()
            guard let b = s.buffers[handle] else { throw ProtocolError(.noSuchHandle, "no buffer with handle \(handle)") }
            guard scheduler.queued(session: s.id) == 0 && !scheduler.isRunning(session: s.id) else {
                throw ProtocolError(.busy, "buffer \(handle) may be used by a queued or running job; wait for it first")
            }
            s.buffers[handle] = nil
            s.bufferBytes -= b.size
            b.release()
            reply(s, MessageWriter(type: .ok, requestID: id))
        case .submit:
            let address = try r.u64()
            let count = try r.u32()
            let timeoutMs = try r.u32()
            let flags = try r.u32()
            try r.reserved32()
            try r.end()
            guard flags == 0 else { throw ProtocolError(.malformed, "submit flags must be 0") }
            if shuttingDown { throw ProtocolError(.shuttingDown, "the daemon is stopping") }
            guard count > 0, count <= limits.maxJobInstructions else {
                throw ProtocolError(.limitExceeded, "\(count) instructions is outside 1...\(limits.maxJobInstructions)")
            }
            // A client may ask for less time than the daemon's limit, never more.
            let requested: Duration = timeoutMs == 0 ? configuration.defaultJobTimeout : .milliseconds(Int64(timeoutMs))
            try submit(s, requestID: id, address: address, count: Int(count), timeout: min(requested, configuration.defaultJobTimeout))
        case .cancel:
            let jobID = try r.u64()
            try r.end()
            guard let job = scheduler.cancel(job: jobID, session: s.id) else {
                throw ProtocolError(.noSuchJob, "job \(jobID) is not queued (unknown, running or finished)")
            }
            try? device.free(job.instructions)
            stats.withLock { $0.jobsCancelled += 1 }
            reply(s, MessageWriter(type: .ok, requestID: id))
            try? s.socket.send(JobResult(jobID: jobID, status: .cancelled, message: "cancelled").encode())
        case .status:
            try r.end()
            var w = MessageWriter(type: .statusReply, requestID: id)
            w.text(statusJSON(for: s.uid).serialized(pretty: true))
            reply(s, w)
        case .metrics:
            try r.end()
            var w = MessageWriter(type: .metricsReply, requestID: id)
            w.text(openMetrics())
            reply(s, w)
        case .helloReply, .allocReply, .ok, .submitReply, .statusReply, .metricsReply, .error, .jobDone:
            throw ProtocolError(.unknownType, "message type \(type.rawValue) is a reply, not a request")
        }
    }

    private func submit(_ s: Session, requestID: UInt32, address: UInt64, count: Int, timeout: Duration) throws {
        let bytes = count * 16
        // `address` is the client's: compare by subtraction so an address near 2^64 cannot overflow.
        guard let source = s.buffers.values.first(where: {
            address >= $0.deviceAddress && address - $0.deviceAddress <= UInt64($0.size) && UInt64(bytes) <= UInt64($0.size) - (address - $0.deviceAddress)
        }) else {
            stats.withLock { $0.jobsRejected += 1 }
            throw ProtocolError(.rejected, "the \(count) instructions at 0x\(String(address, radix: 16)) are not inside one of your buffers")
        }
        // Copy first, then verify the copy: the client can no longer change what runs.
        let copy: any DMABuffer
        do { copy = try device.allocate(bytes: bytes, label: "job-instructions") } catch {
            throw ProtocolError(.outOfMemory, "no memory for the job's instruction copy: \(error)")
        }
        copy.hostAddress.copyMemory(from: source.pointer + Int(address - source.deviceAddress), byteCount: bytes)
        do {
            _ = try verifier.verify(UnsafeRawBufferPointer(start: copy.hostAddress, count: bytes), regions: s.regions)
        } catch {
            try? device.free(copy)
            stats.withLock { $0.jobsRejected += 1 }
            logger.info("rejected job", metadata: ["pid": "\(s.pid)", "reason": "\(error.description)"])
            throw ProtocolError(.rejected, "rejected: \(error.description)")
        }
        let transfers = s.buffers.values.contains(where: \.needsCopies)
            ? Job.Transfer.plan(UnsafeRawBufferPointer(start: copy.hostAddress, count: bytes), buffers: Array(s.buffers.values), config: device.config)
            : []
        let job = Job(id: nextJobID.wrappingAdd(1, ordering: .relaxed).oldValue, session: s.id, instructions: copy, count: count, timeout: timeout,
                      transfers: transfers)
        guard scheduler.enqueue(job) else {
            try? device.free(copy)
            throw ProtocolError(.queueFull, "you already have \(configuration.limits.maxQueuedJobs) queued jobs; wait for some to finish")
        }
        var w = MessageWriter(type: .submitReply, requestID: requestID)
        w.u64(job.id)
        reply(s, w)
    }

    private func closeSession(_ s: Session, reason: String) {
        sessions[s.socket.fd] = nil
        let (removed, running) = scheduler.removeAll(session: s.id)
        for job in removed { try? device.free(job.instructions) }
        if !removed.isEmpty { stats.withLock { $0.jobsCancelled += removed.count } }
        let buffers = Array(s.buffers.values)
        s.buffers.removeAll()
        if running {
            orphanedBuffers[s.id, default: []] += buffers  // released when its job completes
        } else {
            for b in buffers { b.release() }
        }
        s.socket.close()
        logger.debug("client gone", metadata: ["session": "\(s.id)", "pid": "\(s.pid)", "reason": "\(reason)",
                                               "cancelled_jobs": "\(removed.count)"])
    }

    private func deliverCompletions() {
        let done = completions.withLock { c -> [(session: UInt64, result: JobResult)] in
            defer { c.removeAll() }
            return c
        }
        for (sessionID, result) in done {
            if let s = sessions.values.first(where: { $0.id == sessionID }) {
                do { try s.socket.send(result.encode()) } catch { closeSession(s, reason: "send failed") }
            }
            if let orphans = orphanedBuffers[sessionID], !scheduler.isRunning(session: sessionID) {
                orphanedBuffers[sessionID] = nil
                for b in orphans { b.release() }
            }
        }
        if !done.isEmpty { writeMetricsFile() }
    }

    // MARK: - Device thread

    private func deviceLoop() {
        var lastTenant: UInt64 = 0
        heartbeat.store(now(), ordering: .relaxed)
        while let job = scheduler.next() {
            heartbeat.store(now(), ordering: .relaxed)
            if job.session != lastTenant {
                // No job may observe another client's data left in the SRAMs or OUT buffer.
                do { try accelerator.scrub() } catch {
                    logger.warning("scrub between clients failed", metadata: ["error": "\(error.description)"])
                }
                lastTenant = job.session
            }
            var result: JobResult
            let budget = Int64(job.timeout.components.seconds) * 1_000_000_000 + job.timeout.components.attoseconds / 1_000_000_000
            runningDeadline.store(now() + budget + 5_000_000_000, ordering: .relaxed)
            defer { runningDeadline.store(0, ordering: .relaxed) }
            do {
                // The written span is copied in too: a strided STORE leaves gaps, and the copy back
                // must return the client's own bytes there.
                for t in job.transfers {
                    if let r = t.reads { try t.buffer.copyToDevice(r) }
                    if let w = t.writes { try t.buffer.copyToDevice(w) }
                }
                let report = try device.run(instructionsAt: job.instructions.deviceAddress, count: job.count, timeout: job.timeout)
                for t in job.transfers { if let w = t.writes { try t.buffer.copyFromDevice(w) } }
                result = JobResult(jobID: job.id, status: .none, elapsedNanoseconds: report.elapsedNanoseconds,
                                   counters: report.counters.values,
                                   executed: [UInt32(report.moduleInstructions[.load] ?? 0), UInt32(report.moduleInstructions[.compute] ?? 0),
                                              UInt32(report.moduleInstructions[.store] ?? 0)],
                                   message: report.warnings.joined(separator: "; "))
                stats.withLock {
                    $0.jobsDone += 1
                    $0.deviceNanoseconds &+= report.elapsedNanoseconds
                    $0.instructions &+= UInt64(report.fetched)
                    $0.counters += report.counters
                }
            } catch {
                let status: ErrorCode = if case .timeout = error { .timeout } else { .deviceFailure }
                result = JobResult(jobID: job.id, status: status, message: error.description)
                stats.withLock { $0.jobsFailed += 1 }
                logger.warning("job failed", metadata: ["job": "\(job.id)", "error": "\(error.description)"])
            }
            try? device.free(job.instructions)
            scheduler.finished()
            completions.withLock { $0.append((job.session, result)) }
            heartbeat.store(now(), ordering: .relaxed)
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)
        }
        deviceThreadDone.store(true, ordering: .releasing)
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    private func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Pings systemd every half interval while the device owner is responsive: idle, or running a
    /// job that is still within its deadline (plus grace). A device owner stuck past that makes
    /// systemd restart us.
    private func watchdogLoop(interval: Duration) {
        let half = interval / 2
        while !deviceThreadDone.load(ordering: .acquiring) {
            let deadline = runningDeadline.load(ordering: .relaxed)
            if deadline == 0 || now() < deadline {
                notifier.notify("WATCHDOG=1")
            } else {
                logger.error("device owner unresponsive; withholding watchdog ping")
            }
            var ts = timespec(tv_sec: Int(half.components.seconds), tv_nsec: Int(half.components.attoseconds / 1_000_000_000))
            nanosleep(&ts, nil)
        }
    }
}
