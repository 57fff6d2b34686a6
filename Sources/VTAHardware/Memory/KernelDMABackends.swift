import VTA

/// Chooses a kernel allocator (spec §2.7: u-dma-buf first, then zocl).
enum KernelDMABackends {
    static func select(_ o: BoardOptions) throws(DeviceError) -> (any DMABackend)? {
        switch o.memory {
        case .udmabuf, .zocl:
            throw .board(.invalidOptions("kernel DMA allocators are not wired in yet"))
        default:
            return nil
        }
    }
}
