import CVTAKernel

#if canImport(Glibc)
import Glibc
#endif

/// One end of a SOCK_SEQPACKET connection: whole messages with optional file descriptors.
/// Owns its descriptor and closes it once.
public final class PacketSocket: @unchecked Sendable {
    // @unchecked: the descriptor is an Int32 set once; `close` is idempotent behind an atomic-free
    // flag that only the owning thread touches (the daemon's I/O thread, or a client's mutex).
    public let fd: Int32
    private var closed = false

    public init(fd: Int32) { self.fd = fd }

    deinit { close() }

    /// Connects to a daemon socket.
    public static func connect(path: String) throws(ProtocolError) -> PacketSocket {
        let fd = vta_unix_connect(path)
        guard fd >= 0 else {
            let e = errno
            let hint = e == ENOENT ? " (is vtad running? start it or pass --socket)" : e == EACCES ? " (add your user to the vta group)" : ""
            throw ProtocolError(.deviceFailure, "cannot connect to \(path): \(String(cString: strerror(e)))\(hint)")
        }
        return PacketSocket(fd: fd)
    }

    /// Sends a message and its descriptors.
    public func send(_ bytes: [UInt8], fds: [Int32] = []) throws(ProtocolError) {
        let r = bytes.withUnsafeBytes { b in fds.withUnsafeBufferPointer { f in
            vta_send_message(fd, b.baseAddress, b.count, f.baseAddress, Int32(f.count))
        } }
        if r < 0 { throw ProtocolError(.deviceFailure, "send failed: \(String(cString: strerror(errno)))") }
    }

    /// Receives one message. Returns nil at end of stream (peer closed).
    public func receive() throws(ProtocolError) -> (bytes: [UInt8], fds: [Int32])? {
        var buffer = [UInt8](repeating: 0, count: WireProtocol.maxMessageSize + 1)
        var fds = [Int32](repeating: -1, count: Int(VTA_MAX_FDS_PER_MESSAGE))
        var nfds: Int32 = 0
        var truncated: Int32 = 0
        let n = buffer.withUnsafeMutableBytes { b in fds.withUnsafeMutableBufferPointer { f in
            vta_recv_message(fd, b.baseAddress, b.count, f.baseAddress, &nfds, &truncated)
        } }
        if n < 0 {
            let e = errno
            if e == ECONNRESET { return nil }
            throw ProtocolError(.deviceFailure, "receive failed: \(String(cString: strerror(e)))")
        }
        let received = Array(fds.prefix(Int(nfds)))
        if n == 0 && nfds == 0 { return nil }
        if truncated != 0 || n > WireProtocol.maxMessageSize {
            for f in received { Glibc.close(f) }
            throw ProtocolError(.malformed, "message larger than \(WireProtocol.maxMessageSize) bytes or too many descriptors")
        }
        return (Array(buffer.prefix(n)), received)
    }

    public func close() {
        if !closed {
            closed = true
            Glibc.close(fd)
        }
    }
}
