/// How the host talks to the accelerator's control registers.
public enum RegisterFlavour: String, Sendable, Hashable, CaseIterable {
    /// Four Vivado-HLS blocks (fetch, load, compute, store), each with its own 4 KiB AXI-Lite window.
    case xilinxHLS = "xilinx-hls"
    /// One Chisel "VCR" window with launch/finish, counters and pointer registers.
    case chiselVCR = "chisel-vcr"
    /// No registers: a software simulator.
    case simulated = "simulated"
}

/// The board facts of one named VTA target (spec §1.6, §5).
///
/// These are data, not branches: the board backend reads the flavour, base addresses and widths
/// from here, so supporting another board means adding a value, not code.
public struct TargetProfile: Sendable, Hashable {
    /// Target name as used in `vta_config.json` (`TARGET`).
    public let name: String
    public let flavour: RegisterFlavour
    public let fpgaPart: String
    public let family: String
    /// Fabric clock in MHz.
    public let clockMHz: Int
    /// log2 of the AXI data-bus width in bits.
    public let logBusWidth: Int
    /// Size of each module's register window in bytes.
    public let registerMapRange: UInt64
    /// Base physical addresses of the fetch, load, compute and store register windows.
    public let fetchBase: UInt64
    public let loadBase: UInt64
    public let computeBase: UInt64
    public let storeBase: UInt64
    /// Width of device (physical) addresses handed to VTA.
    public let physicalAddressBits: Int
    /// Added to a CMA physical address before it is handed to VTA (de10nano: 0x8000_0000).
    public let physicalAddressOffset: UInt64
    /// The DDR range the accelerator's DMA ports can reach.
    public let dmaWindow: ClosedRange<UInt64>
    /// Host CPU architecture of the board, for documentation and cache maintenance.
    public let hostArchitecture: String
    /// Default DMA carve-out (CPU physical base and bytes) when no kernel allocator is used: a
    /// `reserved-memory` region at the top of the DDR the accelerator reaches. The emulated board
    /// puts its DMA memory here too.
    public let carveOutBase: UInt64
    public let carveOutSize: UInt64
    /// Whether this is a real board (as opposed to a simulator target).
    public var isBoard: Bool { flavour != .simulated }

    public var busWidthBits: Int { 1 << logBusWidth }

    /// All targets known to swift-vta, by name.
    public static let all: [TargetProfile] = [sim, tsim, pynq, ultra96, zcu104, de10nano, intelfocl]

    /// Looks up a target by its `TARGET` name.
    public static func named(_ name: String) -> TargetProfile? { all.first { $0.name == name } }

    public static let sim = TargetProfile(
        name: "sim", flavour: .simulated, fpgaPart: "none", family: "simulator", clockMHz: 100, logBusWidth: 6,
        registerMapRange: 0x1000, fetchBase: 0x43C0_0000, loadBase: 0x43C0_1000, computeBase: 0x43C0_2000,
        storeBase: 0x43C0_3000, physicalAddressBits: 32, physicalAddressOffset: 0,
        dmaWindow: 0x0000_1000...0xFFFF_FFFF, hostArchitecture: "host", carveOutBase: 0x18000000, carveOutSize: 0x800_0000)
    public static let tsim = TargetProfile(
        name: "tsim", flavour: .simulated, fpgaPart: "none", family: "chisel-verilator", clockMHz: 100, logBusWidth: 6,
        registerMapRange: 0x1000, fetchBase: 0x43C0_0000, loadBase: 0x43C0_1000, computeBase: 0x43C0_2000,
        storeBase: 0x43C0_3000, physicalAddressBits: 32, physicalAddressOffset: 0,
        dmaWindow: 0x0000_1000...0xFFFF_FFFF, hostArchitecture: "host", carveOutBase: 0x18000000, carveOutSize: 0x800_0000)
    public static let pynq = TargetProfile(
        name: "pynq", flavour: .xilinxHLS, fpgaPart: "xc7z020clg484-1", family: "zynq-7000", clockMHz: 100,
        logBusWidth: 6, registerMapRange: 0x1000, fetchBase: 0x43C0_0000, loadBase: 0x43C0_1000,
        computeBase: 0x43C0_2000, storeBase: 0x43C0_3000, physicalAddressBits: 32, physicalAddressOffset: 0,
        dmaWindow: 0x0000_0000...0x3FFF_FFFF, hostArchitecture: "armv7", carveOutBase: 0x18000000, carveOutSize: 0x800_0000)
    public static let ultra96 = TargetProfile(
        name: "ultra96", flavour: .xilinxHLS, fpgaPart: "xczu3eg-sbva484-1-e", family: "zynq-ultrascale+",
        clockMHz: 333, logBusWidth: 7, registerMapRange: 0x1000, fetchBase: 0xA000_0000, loadBase: 0xA000_1000,
        computeBase: 0xA000_2000, storeBase: 0xA000_3000, physicalAddressBits: 32, physicalAddressOffset: 0,
        dmaWindow: 0x0000_0000...0x7FFF_FFFF, hostArchitecture: "aarch64", carveOutBase: 0x70000000, carveOutSize: 0x1000_0000)
    public static let zcu104 = TargetProfile(
        name: "zcu104", flavour: .xilinxHLS, fpgaPart: "xczu7ev-ffvc1156-2-e", family: "zynq-ultrascale+",
        clockMHz: 333, logBusWidth: 7, registerMapRange: 0x1000, fetchBase: 0xA000_0000, loadBase: 0xA000_1000,
        computeBase: 0xA000_2000, storeBase: 0xA000_3000, physicalAddressBits: 32, physicalAddressOffset: 0,
        dmaWindow: 0x0000_0000...0x7FFF_FFFF, hostArchitecture: "aarch64", carveOutBase: 0x70000000, carveOutSize: 0x1000_0000)
    public static let de10nano = TargetProfile(
        name: "de10nano", flavour: .chiselVCR, fpgaPart: "5CSEBA6U23I7", family: "cyclone-v", clockMHz: 100,
        logBusWidth: 6, registerMapRange: 0x1000, fetchBase: 0xFF22_0000, loadBase: 0xFF22_1000,
        computeBase: 0xFF22_2000, storeBase: 0xFF22_3000, physicalAddressBits: 32,
        physicalAddressOffset: 0x8000_0000, dmaWindow: 0x0000_0000...0x3FFF_FFFF, hostArchitecture: "armv7", carveOutBase: 0x38000000, carveOutSize: 0x800_0000)
    public static let intelfocl = TargetProfile(
        name: "intelfocl", flavour: .simulated, fpgaPart: "opencl", family: "intel-opencl", clockMHz: 100,
        logBusWidth: 6, registerMapRange: 0x1000, fetchBase: 0x43C0_0000, loadBase: 0x43C0_1000,
        computeBase: 0x43C0_2000, storeBase: 0x43C0_3000, physicalAddressBits: 32, physicalAddressOffset: 0,
        dmaWindow: 0x0000_1000...0xFFFF_FFFF, hostArchitecture: "host", carveOutBase: 0x18000000, carveOutSize: 0x800_0000)

    /// The target facts as JSON, for `vtactl config show`.
    public var json: JSONValue {
        func hex(_ v: UInt64) -> JSONValue { .string("0x" + String(v, radix: 16, uppercase: true)) }
        return .object([
            ("name", .string(name)),
            ("register_flavour", .string(flavour.rawValue)),
            ("fpga_part", .string(fpgaPart)),
            ("family", .string(family)),
            ("clock_mhz", .int(Int64(clockMHz))),
            ("log_bus_width", .int(Int64(logBusWidth))),
            ("bus_width_bits", .int(Int64(busWidthBits))),
            ("register_map_range", hex(registerMapRange)),
            ("fetch_base", hex(fetchBase)),
            ("load_base", hex(loadBase)),
            ("compute_base", hex(computeBase)),
            ("store_base", hex(storeBase)),
            ("physical_address_bits", .int(Int64(physicalAddressBits))),
            ("physical_address_offset", hex(physicalAddressOffset)),
            ("dma_window", .array([hex(dmaWindow.lowerBound), hex(dmaWindow.upperBound)])),
            ("host_architecture", .string(hostArchitecture)),
            ("carve_out", .array([hex(carveOutBase), hex(carveOutSize)])),
        ])
    }
}
