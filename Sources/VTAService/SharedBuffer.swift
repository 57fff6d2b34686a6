import CVTAKernel
import VTAProtocol
import VTASimulator

#if canImport(Glibc)
import Glibc
#endif

/// A client buffer: a sealed memfd mapped here and by the client, registered with the device so
/// the accelerator reads and writes it in place (the tensors never cross the socket).
final class SharedBuffer {
    let handle: UInt32
    /// The memfd until it has been sent to the client; the daemon keeps only the mapping (an open
    /// descriptor per buffer would let one client exhaust the daemon's descriptor table).
    private(set) var fd: Int32
    let pointer: UnsafeMutableRawPointer
    let size: Int
    let deviceAddress: UInt64
    private let memory: SimulatedMemory

    /// Creates the memfd, maps it, and gives it a device address.
    init(handle: UInt32, size requested: Int, memory: SimulatedMemory) throws(ProtocolError) {
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
            deviceAddress = try memory.adopt(p, bytes: size)
        } catch {
            munmap(p, size)
            close(fd)
            throw ProtocolError(.outOfMemory, error.description)
        }
        self.handle = handle
        self.fd = fd
        self.pointer = p
        self.size = size
        self.memory = memory
    }

    /// Closes the descriptor once the client has its copy.
    func closeDescriptor() {
        if fd >= 0 { close(fd); fd = -1 }
    }

    /// Unregisters and unmaps. Only called when no job of the owner can still run.
    func release() {
        try? memory.free(physical: deviceAddress)
        munmap(pointer, size)
        closeDescriptor()
    }
}

