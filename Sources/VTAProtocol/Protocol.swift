/// The vtad wire protocol, version 1. This file and docs/protocol.md are the whole contract
/// between clients and the daemon, in the manner of a Linux uAPI header.
///
/// Transport: an AF_UNIX SOCK_SEQPACKET socket; one message per packet, so message boundaries
/// are kept by the kernel and a short read is impossible. Every message is a 24-byte header and
/// a payload of fixed little-endian fields, sometimes followed by UTF-8 text. Reserved fields must
/// be zero. Buffers travel as file descriptors (SCM_RIGHTS), never as bytes.
public enum WireProtocol {
    /// `'VTAD'` read as a little-endian u32.
    public static let magic: UInt32 = 0x4441_5456
    public static let version: UInt16 = 1
    public static let headerSize = 24
    /// Largest message, header included.
    public static let maxMessageSize = 65536
    /// The daemon's software version, reported in HELLO.
    public static let daemonVersion: UInt32 = 0x0001_0000
}

/// Message types. Requests are odd, replies even (except ERROR, which answers any request).
public enum MessageType: UInt16, Sendable, CaseIterable {
    /// client -> daemon: u32 client_version, u32 reserved.
    case hello = 1
    /// daemon -> client: u32 daemon_version, u32 max_buffers, u64 max_buffer_bytes,
    /// u32 max_job_instructions, u32 max_queued_jobs, then the device configuration as JSON text.
    case helloReply = 2
    /// u64 size, u32 alignment (power of two <= 4096, or 0), u32 reserved.
    case alloc = 3
    /// u32 handle, u32 reserved, u64 device_address, u64 size; one fd (the memory, to mmap).
    case allocReply = 4
    /// u32 handle, u32 reserved.
    case free = 5
    /// Empty payload: the request succeeded.
    case ok = 6
    /// u64 device_address of the first instruction, u32 count, u32 timeout_ms (0 = default),
    /// u32 flags (0), u32 reserved. The instructions must lie in one of the client's buffers.
    case submit = 7
    /// u64 job_id: the job passed verification and is queued.
    case submitReply = 8
    /// u64 job_id: cancel a queued job (a running job finishes).
    case cancel = 9
    /// Empty payload.
    case status = 11
    /// Status as JSON text.
    case statusReply = 12
    /// Empty payload.
    case metrics = 13
    /// OpenMetrics text.
    case metricsReply = 14
    /// u32 code (ErrorCode), u32 reserved, then a UTF-8 message.
    case error = 15
    /// daemon -> client, unsolicited, once per accepted job: u64 job_id, u32 status (ErrorCode,
    /// 0 = success), u32 reserved, u64 elapsed_ns, 7 x u64 profiler counters (reference order),
    /// 3 x u32 instructions executed by load/compute/store, u32 reserved, then a UTF-8 message.
    case jobDone = 16
}

/// Error codes carried by ERROR and JOB_DONE.
public enum ErrorCode: UInt32, Sendable, CaseIterable {
    case none = 0
    /// Bad header, bad length, non-zero reserved field, unexpected fds.
    case malformed = 1
    case unsupportedVersion = 2
    case unknownType = 3
    /// A request exceeds a limit of HELLO_REPLY.
    case limitExceeded = 4
    case noSuchHandle = 5
    /// The verifier refused the job; the message names the instruction and why.
    case rejected = 6
    /// The client already has the maximum number of queued jobs.
    case queueFull = 7
    case deviceFailure = 8
    case timeout = 9
    case cancelled = 10
    /// A request before HELLO.
    case notReady = 11
    /// The peer's credentials are not on the allow-list.
    case permissionDenied = 12
    /// The daemon is stopping and accepts no new jobs.
    case shuttingDown = 13
    case noSuchJob = 14
    case outOfMemory = 15
    /// The buffer is used by a queued or running job.
    case busy = 16
}

/// The same enumeration under a name that reads well in other modules.
public typealias VTAProtocolErrorCode = ErrorCode

/// A decoded message header.
public struct MessageHeader: Sendable, Equatable {
    public var type: UInt16
    public var payloadLength: UInt32
    /// Chosen by the client, echoed in the reply (0 for unsolicited JOB_DONE).
    public var requestID: UInt32

    public init(type: UInt16, payloadLength: UInt32, requestID: UInt32) {
        self.type = type
        self.payloadLength = payloadLength
        self.requestID = requestID
    }
}

/// Why a message could not be decoded.
public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String
    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}

/// Builds a message: header then little-endian fields.
public struct MessageWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(type: MessageType, requestID: UInt32) {
        bytes = []
        bytes.reserveCapacity(64)
        u32(WireProtocol.magic)
        u16(WireProtocol.version)
        u16(type.rawValue)
        u32(0)  // payload length, patched in `finish`
        u32(requestID)
        u64(0)  // reserved
    }

    public mutating func u16(_ v: UInt16) { for i in 0..<2 { bytes.append(UInt8(truncatingIfNeeded: v >> UInt16(8 * i))) } }
    public mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(8 * i))) } }
    public mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(8 * i))) } }
    public mutating func text(_ s: String) { bytes.append(contentsOf: Array(s.utf8)) }

    /// The finished message, truncating text so it fits `maxMessageSize`.
    public func finish() -> [UInt8] {
        var out = Array(bytes.prefix(WireProtocol.maxMessageSize))
        let n = UInt32(out.count - WireProtocol.headerSize)
        for i in 0..<4 { out[8 + i] = UInt8(truncatingIfNeeded: n >> UInt32(8 * i)) }
        return out
    }
}

/// Reads a message's payload fields in order, failing on short payloads.
public struct MessageReader: Sendable {
    public let header: MessageHeader
    private let bytes: [UInt8]
    private var offset = WireProtocol.headerSize

    /// Validates the header of a received packet: magic, version, length, reserved bits.
    public init(_ bytes: [UInt8]) throws(ProtocolError) {
        guard bytes.count >= WireProtocol.headerSize else {
            throw ProtocolError(.malformed, "message of \(bytes.count) bytes is shorter than the 24-byte header")
        }
        self.bytes = bytes
        func le32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[o + $1]) << UInt32(8 * $1) } }
        guard le32(0) == WireProtocol.magic else { throw ProtocolError(.malformed, "bad magic") }
        let version = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        guard version == WireProtocol.version else {
            throw ProtocolError(.unsupportedVersion, "protocol version \(version) is not supported (this daemon speaks \(WireProtocol.version))")
        }
        let length = le32(8)
        guard Int(length) == bytes.count - WireProtocol.headerSize else {
            throw ProtocolError(.malformed, "header says \(length) payload bytes, the packet has \(bytes.count - WireProtocol.headerSize)")
        }
        guard bytes[16..<24].allSatisfy({ $0 == 0 }) else { throw ProtocolError(.malformed, "reserved header bytes must be zero") }
        header = MessageHeader(type: UInt16(bytes[6]) | UInt16(bytes[7]) << 8, payloadLength: length, requestID: le32(12))
    }

    public var messageType: MessageType? { MessageType(rawValue: header.type) }

    private mutating func take(_ n: Int) throws(ProtocolError) -> ArraySlice<UInt8> {
        guard offset + n <= bytes.count else {
            throw ProtocolError(.malformed, "payload of message type \(header.type) is too short")
        }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }

    public mutating func u32() throws(ProtocolError) -> UInt32 {
        let s = try take(4)
        return s.enumerated().reduce(0) { $0 | UInt32($1.element) << UInt32(8 * $1.offset) }
    }

    public mutating func u64() throws(ProtocolError) -> UInt64 {
        let s = try take(8)
        return s.enumerated().reduce(0) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
    }

    /// A reserved u32 that must be zero.
    public mutating func reserved32() throws(ProtocolError) {
        if try u32() != 0 { throw ProtocolError(.malformed, "reserved field must be zero") }
    }

    /// The rest of the payload as UTF-8 text.
    public mutating func text() -> String {
        defer { offset = bytes.count }
        return String(decoding: bytes[offset...], as: UTF8.self)
    }

    /// Fails if payload bytes remain (fixed-size messages must have exactly their size).
    public func end() throws(ProtocolError) {
        if offset != bytes.count { throw ProtocolError(.malformed, "\(bytes.count - offset) unexpected payload bytes") }
    }
}

/// Limits the daemon announces in HELLO_REPLY and enforces.
public struct DaemonLimits: Sendable, Equatable {
    public var maxBuffers: UInt32 = 1024
    public var maxBufferBytes: UInt64 = 256 << 20
    public var maxJobInstructions: UInt32 = 1 << 21
    public var maxQueuedJobs: UInt32 = 64
    public init() {}
}

/// The outcome of one job, as JOB_DONE carries it.
public struct JobResult: Sendable {
    public var jobID: UInt64
    public var status: ErrorCode
    public var elapsedNanoseconds: UInt64
    public var counters: [UInt64]
    public var executed: [UInt32]
    public var message: String

    public init(jobID: UInt64, status: ErrorCode, elapsedNanoseconds: UInt64 = 0, counters: [UInt64] = Array(repeating: 0, count: 7),
                executed: [UInt32] = [0, 0, 0], message: String = "") {
        self.jobID = jobID
        self.status = status
        self.elapsedNanoseconds = elapsedNanoseconds
        self.counters = counters
        self.executed = executed
        self.message = message
    }

    public func encode() -> [UInt8] {
        var w = MessageWriter(type: .jobDone, requestID: 0)
        w.u64(jobID)
        w.u32(status.rawValue)
        w.u32(0)
        w.u64(elapsedNanoseconds)
        for i in 0..<7 { w.u64(i < counters.count ? counters[i] : 0) }
        for i in 0..<3 { w.u32(i < executed.count ? executed[i] : 0) }
        w.u32(0)
        w.text(message)
        return w.finish()
    }

    public init(_ r: inout MessageReader) throws(ProtocolError) {
        jobID = try r.u64()
        let code = try r.u32()
        status = ErrorCode(rawValue: code) ?? .deviceFailure
        try r.reserved32()
        elapsedNanoseconds = try r.u64()
        var c: [UInt64] = []
        for _ in 0..<7 { c.append(try r.u64()) }
        counters = c
        var e: [UInt32] = []
        for _ in 0..<3 { e.append(try r.u32()) }
        executed = e
        try r.reserved32()
        message = r.text()
    }
}
