import CVTAKernel
import Synchronization
import VTA
import VTAProtocol

#if canImport(Glibc)
import Glibc
#endif

/// A buffer shared with the daemon: the daemon's memfd, mapped into this process.
public final class RemoteBuffer: DMABuffer, @unchecked Sendable {
    // @unchecked: every stored property is immutable; the mapping lives until `free`.
    public let hostAddress: UnsafeMutableRawPointer
    public let deviceAddress: UInt64
    public let size: Int
    public let alignment: Int = 4096
    public let label: String
    /// Shared memory is coherent between the two processes; the daemon does the device's cache
    /// maintenance.
    public var isCoherent: Bool { true }
    let handle: UInt32
    let mappedBytes: Int
    let owner: ObjectIdentifier

    init(hostAddress: UnsafeMutableRawPointer, deviceAddress: UInt64, size: Int, mappedBytes: Int, handle: UInt32, label: String, owner: ObjectIdentifier) {
        self.hostAddress = hostAddress
        self.deviceAddress = deviceAddress
        self.size = size
        self.mappedBytes = mappedBytes
        self.handle = handle
        self.label = label
        self.owner = owner
    }

    public func flush(offset: Int, length: Int) throws(DeviceError) {
        guard offset >= 0, length >= 0, offset <= size, length <= size - offset else {
            throw .outOfBounds(buffer: label, offset: offset, length: length, size: size)
        }
    }

    public func invalidate(offset: Int, length: Int) throws(DeviceError) { try flush(offset: offset, length: length) }
}

/// The daemon as a `Device`: the runtime's command queue works through it unchanged.
///
/// One connection; requests are serialised on it (a `run` holds it until its job is done).
public final class RemoteDevice: Device, @unchecked Sendable {
    // @unchecked: the socket is only used while holding `lock`.
    public let config: HardwareConfig
    public let socketPath: String
    public var name: String { "vtad at \(socketPath)" }
    public let limits: DaemonLimits
    private let socket: PacketSocket
    private let lock = Mutex<UInt32>(1)  // next request id

    /// Connects and says HELLO.
    public init(socketPath: String) throws(DeviceError) {
        self.socketPath = socketPath
        do { socket = try PacketSocket.connect(path: socketPath) } catch { throw .unavailable(error.message) }
        var w = MessageWriter(type: .hello, requestID: 1)
        w.u32(WireProtocol.daemonVersion)
        w.u32(0)
        var r = try Self.exchange(socket, w.finish(), expect: .helloReply).reader
        do {
            _ = try r.u32()
            var l = DaemonLimits()
            l.maxBuffers = try r.u32()
            l.maxBufferBytes = try r.u64()
            l.maxJobInstructions = try r.u32()
            l.maxQueuedJobs = try r.u32()
            limits = l
            config = try HardwareConfig(jsonText: r.text())
        } catch let e as ProtocolError {
            throw .unavailable("bad HELLO reply: \(e.message)")
        } catch {
            throw .unavailable("the daemon's configuration is not usable here: \(error)")
        }
    }

    /// Sends a request and waits for its reply (skipping nothing: replies arrive in order, and a
    /// JOB_DONE is only ever expected by `run`, which waits for it explicitly).
    private static func exchange(_ socket: PacketSocket, _ message: [UInt8], expect: MessageType) throws(DeviceError) -> (reader: MessageReader, fds: [Int32]) {
        do {
            try socket.send(message)
            return try receive(socket, expect: expect)
        } catch let e as DeviceError {
            throw e
        } catch let e as ProtocolError {
            throw .unavailable(e.message)
        } catch {
            throw .unavailable("\(error)")
        }
    }

    private static func receive(_ socket: PacketSocket, expect: MessageType) throws(DeviceError) -> (reader: MessageReader, fds: [Int32]) {
        let got: (bytes: [UInt8], fds: [Int32])?
        do { got = try socket.receive() } catch { throw .unavailable(error.message) }
        guard let (bytes, fds) = got else { throw .unavailable("the daemon closed the connection") }
        var r: MessageReader
        do { r = try MessageReader(bytes) } catch {
            for f in fds { close(f) }
            throw .unavailable("malformed reply: \(error.message)")
        }
        if r.messageType == .error {
            for f in fds { close(f) }
            let code = (try? r.u32()).flatMap(ErrorCode.init(rawValue:)) ?? .deviceFailure
            _ = try? r.u32()
            let text = r.text()
            switch code {
            case .rejected, .deviceFailure, .queueFull, .shuttingDown, .busy, .limitExceeded: throw .runFailed(text)
            case .outOfMemory: throw .allocationFailed(requested: 0, largestFree: nil, poolSize: nil, hint: text)
            case .noSuchHandle: throw .unknownBuffer(text)
            default: throw .unavailable("\(code): \(text)")
            }
        }
        guard r.messageType == expect else {
            for f in fds { close(f) }
            throw .unavailable("expected reply \(expect), got message type \(r.header.type)")
        }
        return (r, fds)
    }

    private func nextID() -> UInt32 { lock.withLock { id in id &+= 1; return id } }

    public func allocate(bytes: Int, alignment: Int, label: String) throws(DeviceError) -> any DMABuffer {
        guard bytes > 0, UInt64(bytes) <= limits.maxBufferBytes else {
            throw .allocationFailed(requested: bytes, largestFree: nil, poolSize: nil,
                                    hint: "the daemon allows buffers of 1...\(limits.maxBufferBytes) bytes (max_buffer_bytes)")
        }
        var w = MessageWriter(type: .alloc, requestID: nextID())
        w.u64(UInt64(bytes))
        w.u32(UInt32(alignment))
        w.u32(0)
        let result: Result<(MessageReader, [Int32]), DeviceError> = lock.withLock { _ in
            do throws(DeviceError) { return .success(try Self.exchange(socket, w.finish(), expect: .allocReply)) } catch { return .failure(error) }
        }
        var (r, fds): (MessageReader, [Int32])
        switch result {
        case .success(let v): (r, fds) = v
        // Say which allocation failed (the daemon's reply carries the reason).
        case .failure(.runFailed(let why)), .failure(.allocationFailed(_, _, _, let why)):
            throw .allocationFailed(requested: bytes, largestFree: nil, poolSize: nil, hint: why)
        case .failure(let e): throw e
        }
        guard fds.count == 1 else {
            for f in fds { close(f) }
            throw .unavailable("ALLOC reply carried \(fds.count) descriptors, expected 1")
        }
        defer { close(fds[0]) }
        do {
            let handle = try r.u32()
            try r.reserved32()
            let address = try r.u64()
            let mapped = Int(try r.u64())
            guard mapped >= bytes, let p = mmap(nil, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0), p != MAP_FAILED else {
                throw DeviceError.allocationFailed(requested: bytes, largestFree: nil, poolSize: nil, hint: "cannot map the shared buffer: \(String(cString: strerror(errno)))")
            }
            return RemoteBuffer(hostAddress: p, deviceAddress: address, size: bytes, mappedBytes: mapped, handle: handle, label: label, owner: ObjectIdentifier(self))
        } catch let e as DeviceError {
            throw e
        } catch {
            throw .unavailable("bad ALLOC reply: \(error)")
        }
    }

    public func free(_ buffer: any DMABuffer) throws(DeviceError) {
        guard let b = buffer as? RemoteBuffer, b.owner == ObjectIdentifier(self) else { throw .unknownBuffer(buffer.label) }
        var w = MessageWriter(type: .free, requestID: nextID())
        w.u32(b.handle)
        w.u32(0)
        let result: Result<Void, DeviceError> = lock.withLock { _ in
            do throws(DeviceError) { _ = try Self.exchange(socket, w.finish(), expect: .ok); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
        munmap(b.hostAddress, b.mappedBytes)
    }

    /// Submits the stream (which must lie in one of this client's buffers) and waits for the job.
    public func run(instructionsAt address: UInt64, count: Int, timeout: Duration) throws(DeviceError) -> RunReport {
        let ms = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        var w = MessageWriter(type: .submit, requestID: nextID())
        w.u64(address)
        w.u32(UInt32(clamping: count))
        w.u32(UInt32(clamping: max(1, ms)))
        w.u32(0)
        w.u32(0)
        let result: Result<JobResult, DeviceError> = lock.withLock { _ in
            do throws(DeviceError) {
                var (r, _) = try Self.exchange(socket, w.finish(), expect: .submitReply)
                let jobID: UInt64
                do { jobID = try r.u64() } catch { throw DeviceError.unavailable("bad SUBMIT reply") }
                while true {
                    var (done, _) = try Self.receive(socket, expect: .jobDone)
                    let job: JobResult
                    do { job = try JobResult(&done) } catch { throw DeviceError.unavailable("bad JOB_DONE: \(error)") }
                    if job.jobID == jobID { return .success(job) }
                }
            } catch {
                return .failure(error)
            }
        }
        let job = try result.get()
        switch job.status {
        case .none:
            var report = RunReport()
            let c = job.counters
            report.counters.inpLoadNbytes = c[0]; report.counters.wgtLoadNbytes = c[1]; report.counters.accLoadNbytes = c[2]
            report.counters.uopLoadNbytes = c[3]; report.counters.outStoreNbytes = c[4]; report.counters.gemmCounter = c[5]
            report.counters.aluCounter = c[6]
            report.moduleInstructions = [.load: Int(job.executed[0]), .compute: Int(job.executed[1]), .store: Int(job.executed[2])]
            report.fetched = count
            report.elapsedNanoseconds = job.elapsedNanoseconds
            if !job.message.isEmpty { report.warnings = [job.message] }
            return report
        case .timeout: throw .timeout(waited: timeout, detail: job.message)
        default: throw .runFailed(job.message)
        }
    }

    /// The daemon's status document (JSON).
    public func status() throws(DeviceError) -> JSONValue {
        let w = MessageWriter(type: .status, requestID: nextID())
        let result: Result<String, DeviceError> = lock.withLock { _ in
            do throws(DeviceError) { var (r, _) = try Self.exchange(socket, w.finish(), expect: .statusReply); return .success(r.text()) } catch { return .failure(error) }
        }
        do { return try JSONValue.parse(try result.get()) } catch let e as DeviceError { throw e } catch { throw .unavailable("bad status reply") }
    }

    /// The daemon's metrics (OpenMetrics text).
    public func metrics() throws(DeviceError) -> String {
        let w = MessageWriter(type: .metrics, requestID: nextID())
        let result: Result<String, DeviceError> = lock.withLock { _ in
            do throws(DeviceError) { var (r, _) = try Self.exchange(socket, w.finish(), expect: .metricsReply); return .success(r.text()) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
