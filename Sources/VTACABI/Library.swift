import Synchronization
import VTA
import VTARuntime

#if canImport(Glibc)
import Glibc
#endif

/// One block of device memory handed to C: by `VTAMemAlloc`, or by `VTABufferAlloc` (then
/// `handle` is the buffer handle that owns it).
struct Allocation {
    let buffer: any DMABuffer
    var handle: UInt?

    var start: UInt { UInt(bitPattern: buffer.hostAddress) }

    /// The byte offset of `address` in this block, if it points at one of its bytes.
    func offset(of address: UInt) -> Int? {
        guard address >= start, address - start < UInt(buffer.size) else { return nil }
        return Int(address - start)
    }

    /// Whether `length` bytes from `offset` fit the block.
    func fits(offset: Int, length: UInt) -> Bool {
        offset >= 0 && offset <= buffer.size && length <= UInt(buffer.size - offset)
    }
}

/// What the device lock protects: the backend and every table that maps C pointers to Swift
/// objects. Never held while calling the device (runs, allocations) or user code.
struct Tables {
    enum Backend {
        case closed
        case open(any Device)
        /// Opening failed; every later call reports the same reason instead of retrying.
        case failed(String)
    }

    var backend: Backend = .closed
    /// Live allocations by host start address.
    var allocations: [UInt: Allocation] = [:]
    /// `VTABufferAlloc` handle -> start address of its allocation.
    var bufferHandles: [UInt: UInt] = [:]
    /// Live `VTADeviceAlloc` handles.
    var deviceHandles: Set<UInt> = []
    /// Kernel slots (the value `VTAPushGEMMOp` stores in `*uop_handle`) -> kernels by key.
    var kernelSlots: [UInt: [Int64: UopKernel]] = [:]
    /// Kernels being recorded, by thread (`pthread_self`).
    var recordings: [UInt: KernelRecording] = [:]

    /// The device, opened from the environment on first use.
    mutating func device() throws(CABIError) -> any Device {
        switch backend {
        case .open(let d): return d
        case .failed(let why): throw .backend(why)
        case .closed:
            do {
                let d = try BackendChoice.fromProcessEnvironment().open()
                backend = .open(d)
                return d
            } catch {
                backend = .failed(error.description)
                throw error
            }
        }
    }

    /// The allocation that contains `pointer` (it may point into the middle).
    func allocation(containing pointer: UnsafeRawPointer?, what: String) throws(CABIError) -> (Allocation, Int) {
        guard let pointer else { throw .badHandle("\(what) is NULL") }
        let address = UInt(bitPattern: pointer)
        if let a = allocations[address] { return (a, 0) }
        for a in allocations.values {
            if let off = a.offset(of: address) { return (a, off) }
        }
        throw .badHandle("\(what) \(hex(address)) is not inside memory from VTAMemAlloc or VTABufferAlloc (never allocated, or freed)")
    }

    /// The allocation whose device addresses contain `length` bytes from `address`.
    func allocation(deviceAddress address: UInt64, length: UInt64) -> Allocation? {
        allocations.values.first {
            let base = $0.buffer.deviceAddress, size = UInt64($0.buffer.size)
            return address >= base && address - base <= size && length <= size - (address - base)
        }
    }

    /// The buffer behind a `VTABufferAlloc` handle.
    func buffer(handle: UnsafeRawPointer?, what: String) throws(CABIError) -> any DMABuffer {
        guard let handle else { throw .badHandle("\(what) is NULL") }
        let h = UInt(bitPattern: handle)
        guard let start = bufferHandles[h], let a = allocations[start] else {
            throw .badHandle("\(what) \(hex(h)) is not a live handle from VTABufferAlloc (never allocated, or freed)")
        }
        return a.buffer
    }
}

/// The command queue `VTATLSCommandHandle` stands for.
struct QueueSlot {
    var queue: CommandQueue?
}

/// libvta's process-wide state.
///
/// Two locks, always taken in this order when both are needed: `queueSlot` (the runtime API's
/// command queue; held for a whole queue operation, including a synchronisation's run) and
/// `tables` (short lookups). Driver calls only take `tables`, so allocations and `VTADeviceRun`
/// on other threads do not wait for a long synchronisation.
final class Library: Sendable {
    let tables = Guarded(Tables())
    let queueSlot = Guarded(QueueSlot())
    /// The debug flags of `VTASetDebugMode` (also applied to the queue), readable without the
    /// queue lock by the barriers.
    let debugFlags = Atomic<Int>(0)
    /// The one value `VTATLSCommandHandle` returns (the address of a block that is never freed).
    let commandHandle: UInt = UInt(bitPattern: newToken())

    func device() throws(CABIError) -> any Device {
        try tables.withLock { t throws(CABIError) in try t.device() }
    }

    /// Checks a `VTACommandHandle` argument.
    func checkCommand(_ cmd: UnsafeMutableRawPointer?) throws(CABIError) {
        guard let cmd else { throw .badHandle("cmd is NULL; pass the handle VTATLSCommandHandle() returns") }
        guard UInt(bitPattern: cmd) == commandHandle else {
            throw .badHandle("cmd \(hex(UInt(bitPattern: cmd))) is not the handle VTATLSCommandHandle() returns")
        }
    }

    /// Runs `body` on the command queue, creating it (and opening the device) on first use.
    func withQueue<R>(_ body: (CommandQueue) throws(CABIError) -> R) throws(CABIError) -> R {
        try queueSlot.withLock { slot throws(CABIError) in
            let queue: CommandQueue
            if let q = slot.queue {
                queue = q
            } else {
                let device = try device()
                do throws(RuntimeError) { queue = try CommandQueue(device: device) } catch { throw .runtime(error) }
                queue.debug = CommandQueue.DebugFlags(rawValue: debugFlags.load(ordering: .relaxed))
                slot.queue = queue
            }
            return try body(queue)
        }
    }
}

/// The process's libvta state.
let library = Library()

/// A fresh, never-NULL opaque value for C (a small heap block; its address is the identity).
func newToken() -> UnsafeMutableRawPointer {
    UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
}

func hex(_ v: UInt) -> String { "0x" + String(v, radix: 16) }
func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

/// The current thread's identity, for per-thread kernel recording.
func currentThread() -> UInt {
    #if canImport(Glibc)
    return UInt(pthread_self())
    #else
    return UInt(bitPattern: pthread_self())
    #endif
}
