import VTA

/// How to reach one board: where its registers and DMA memory are, how completion is signalled.
public struct BoardOptions: Sendable {
    /// Where the control registers are mapped from.
    public enum Registers: Sendable, Hashable {
        /// `/dev/mem` (root), or any file laid out like it (the emulated board): every window at
        /// its physical address as the file offset.
        case devMem(path: String)
        /// A UIO device (`/dev/uioN`), every map of it.
        case uio(devnode: String)
    }

    /// Where DMA memory comes from.
    public enum Memory: Sendable {
        /// u-dma-buf, then zocl, then (with `.devMem` registers) the target's carve-out in the
        /// same file (spec §2.7 order).
        case auto
        /// A fixed physical range mapped from `path` (default: the registers' devmem file, the
        /// target's carve-out base and size).
        case carveOut(path: String?, base: UInt64?, bytes: Int?)
        /// A u-dma-buf pool by name (nil: the first one found).
        case udmabuf(name: String?)
        /// Xilinx zocl buffer objects through libdrm.
        case zocl
        /// Any other allocator.
        case backend(any DMABackend)
    }

    /// How the end of a run is detected.
    public enum Completion: Sendable, Hashable {
        /// Read the completion registers until they say done.
        case poll
        /// Wait for the UIO device's interrupt, then confirm with the registers.
        case uioInterrupt
        /// Wait on a FIFO carrying 4-byte interrupt counts (the emulated board's `--irq-fifo`).
        case fifo(path: String)
    }

    public var config: HardwareConfig
    public var target: TargetProfile
    public var registers: Registers
    public var memory: Memory
    public var completion: Completion
    public var roots: SystemRoots
    /// Chisel VCR pointer width (32 on the DE10 and Pynq shells).
    public var pointerBits: Int
    /// Run the power-on self-test when the board is opened and after every recovery.
    public var selfTest: Bool
    /// Where PL-reset registers are written (default: the devmem file of `.devMem`, else /dev/mem).
    public var resetPath: String?
    /// The board descriptor shipped with the loaded bitstream (`NAME.vta.json`): checked at open,
    /// a configuration mismatch is refused with a key-by-key diff.
    public var descriptorPath: String?
    /// The bitstream to reload through the FPGA manager when recovery has no PL reset, or the PL
    /// reset did not bring the board back (root only).
    public var bitstreamPath: String?

    /// - Parameters:
    ///   - config: the VTA configuration the bitstream implements.
    ///   - board: the board target (`pynq`, `ultra96`, `zcu104`, `de10nano`); default: the
    ///     config's `TARGET`.
    public init(config: HardwareConfig, board: TargetProfile? = nil, registers: Registers, memory: Memory = .auto,
                completion: Completion = .poll, roots: SystemRoots = .live, pointerBits: Int = 32, selfTest: Bool = true,
                resetPath: String? = nil) {
        self.config = config
        self.target = board ?? config.targetProfile
        self.registers = registers
        self.memory = memory
        self.completion = completion
        self.roots = roots
        self.pointerBits = pointerBits
        self.selfTest = selfTest
        self.resetPath = resetPath
    }

    /// The file PL-reset steps are written through, if any.
    var effectiveResetPath: String {
        if let resetPath { return resetPath }
        if case .devMem(let path) = registers { return path }
        return "/dev/mem"
    }
}
