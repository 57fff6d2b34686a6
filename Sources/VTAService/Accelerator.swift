import VTA
import VTAHardware
import VTASimulator

/// The device the daemon owns: the in-process simulator, or a board.
///
/// Client buffers are memfds shared with the client. The simulator reads and writes them in
/// place (their pages are adopted into its DRAM model); a board can only reach its DMA memory, so
/// each client buffer gets a DMA twin, filled before each job and copied back after it.
enum Accelerator {
    case simulator(SimulatorDevice)
    case board(FPGADevice)

    var device: any Device {
        switch self {
        case .simulator(let d): d
        case .board(let d): d
        }
    }

    /// Clears the on-chip memories between tenants.
    func scrub() throws(DeviceError) {
        switch self {
        case .simulator(let d): d.scrub()
        case .board(let d): try d.scrub()
        }
    }

    /// Device memory held by client buffers and jobs.
    var bytesInUse: Int {
        switch self {
        case .simulator(let d): d.memory.liveBytes
        case .board(let d): d.pool.usage.usedBytes
        }
    }

    /// Gives a client mapping a device address.
    func place(_ pointer: UnsafeMutableRawPointer, bytes: Int) throws(DeviceError) -> (address: UInt64, twin: (any DMABuffer)?) {
        switch self {
        case .simulator(let d):
            do { return (try d.memory.adopt(pointer, bytes: bytes), nil) } catch {
                throw .allocationFailed(requested: bytes, largestFree: nil, poolSize: nil, hint: error.description)
            }
        case .board(let d):
            let twin = try d.allocate(bytes: bytes, alignment: 4096, label: "client buffer")
            return (twin.deviceAddress, twin)
        }
    }

    /// Takes the device address back.
    func remove(address: UInt64, twin: (any DMABuffer)?) {
        switch self {
        case .simulator(let d): try? d.memory.free(physical: address)
        case .board(let d): if let twin { try? d.free(twin) }
        }
    }
}
