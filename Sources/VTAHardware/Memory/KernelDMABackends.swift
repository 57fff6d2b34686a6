import VTA

/// Chooses a kernel allocator, in the order of the interfaces spec §2.7: u-dma-buf, then zocl.
enum KernelDMABackends {
    /// The backend the options ask for; for `.auto`, the first kind present on the system, or nil
    /// when there is none (the caller then falls back to a carve-out).
    static func select(_ o: BoardOptions) throws(DeviceError) -> (any DMABackend)? {
        switch o.memory {
        case .udmabuf(let name):
            return try UDMABufBackend(name: name, roots: o.roots)
        case .zocl:
            return try ZoclBackend(roots: o.roots)
        case .auto:
            if !UDMABufDevice.all(roots: o.roots).isEmpty { return try UDMABufBackend(name: nil, roots: o.roots) }
            // Render nodes exist on many boards (display controllers); only a zocl one counts.
            if !ZoclDevice.listCandidates(roots: o.roots).0.isEmpty, let zocl = try? ZoclBackend(roots: o.roots) { return zocl }
            return nil
        case .carveOut, .backend:
            return nil
        }
    }
}
