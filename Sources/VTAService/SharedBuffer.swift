import CVTAKernel
import VTA
import VTAProtocol

#if canImport(Glibc)
import Glibc
#endif

/// A client buffer: a sealed memfd mapped here and by the client, registered with the device so
/// the accelerator reads and writes it in place (the tensors never cross the socket). On a board
/// the device works on a DMA twin that the daemon fills before and copies back after each job.
final class SharedBuffer {
    let handle: UInt32
    /// The memfd until it has been sent to the client; the daemon keeps only the mapping (an open
    /// descriptor per buffer would let one client exhaust the daemon's descriptor table).
    private(set) var fd: Int32
    let pointer: UnsafeMutableRawPointer
    let size: Int
    let deviceAddress: UInt64
    private let accelerator: Accelerator
    /// The DMA copy the board works on (nil: the device uses the mapping itself).
    private let twin: (any DMABuffer)?

    /// Creates the memfd, maps it, and gives it a device address.
    init(handle: UInt32, size requested: Int, accelerator: Accelerator) throws(ProtocolError) {
        let size = (requested + 4095) / 4096 * 4096
        let fd = vta_memfd_create("vta-buffer")
        guard fd >= 0 else { throw ProtocolError(.outOfMemory, "memfd_create: \(String(cString: strerror(errno)))") }
        guard ftruncate(fd, off_t(size)) == 0, vta_memfd_seal_shrink(fd) == 0 else {
            let e = errno
            close(fd)
            throw ProtocolError(.outOfMemory, "cannot size shared buffer of \(size) bytes: \(String(cString: strerror(e)))")
        }
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            let e = errno
            close(fd)
            throw ProtocolError(.outOfMemory, "mmap of \(size) bytes: \(String(cString: strerror(e)))")
        }
        do {
            (deviceAddress, twin) = try accelerator.place(p, bytes: size)
        } catch {
            munmap(p, size)
            close(fd)
            throw ProtocolError(.outOfMemory, error.description)
        }
        self.handle = handle
        self.fd = fd
        self.pointer = p
        self.size = size
        self.accelerator = accelerator
    }

    /// Whether the device works on a copy (a board) rather than on the mapping itself.
    var needsCopies: Bool { twin != nil }

    /// Before a job: bytes the job reads, from the client's mapping into the device's copy.
    func copyToDevice(_ range: Range<Int>) throws(DeviceError) {
        guard let twin, let r = clamped(range) else { return }
        (twin.hostAddress + r.lowerBound).copyMemory(from: pointer + r.lowerBound, byteCount: r.count)
        try twin.flush(offset: r.lowerBound, length: r.count)
    }

    /// After a job: bytes the job wrote, from the device's copy back to the client.
    func copyFromDevice(_ range: Range<Int>) throws(DeviceError) {
        guard let twin, let r = clamped(range) else { return }
        try twin.invalidate(offset: r.lowerBound, length: r.count)
        (pointer + r.lowerBound).copyMemory(from: twin.hostAddress + r.lowerBound, byteCount: r.count)
    }

    private func clamped(_ r: Range<Int>) -> Range<Int>? {
        let lo = max(0, r.lowerBound), hi = min(size, r.upperBound)
        return lo < hi ? lo..<hi : nil
    }

    /// Closes the descriptor once the client has its copy.
    func closeDescriptor() {
        if fd >= 0 { close(fd); fd = -1 }
    }

    /// Unregisters and unmaps. Only called when no job of the owner can still run.
    func release() {
        accelerator.remove(address: deviceAddress, twin: twin)
        munmap(pointer, size)
        closeDescriptor()
    }
}

