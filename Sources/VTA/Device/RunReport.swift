/// The reference profiler's counters (spec §7.3), with the reference names.
public struct ProfilerCounters: Sendable, Hashable {
    public var inpLoadNbytes: UInt64 = 0
    public var wgtLoadNbytes: UInt64 = 0
    public var accLoadNbytes: UInt64 = 0
    public var uopLoadNbytes: UInt64 = 0
    public var outStoreNbytes: UInt64 = 0
    public var gemmCounter: UInt64 = 0
    public var aluCounter: UInt64 = 0

    public init() {}

    /// Counter names as the reference prints them, in its order.
    public static let names = [
        "inp_load_nbytes", "wgt_load_nbytes", "acc_load_nbytes", "uop_load_nbytes",
        "out_store_nbytes", "gemm_counter", "alu_counter",
    ]

    public var values: [UInt64] {
        [inpLoadNbytes, wgtLoadNbytes, accLoadNbytes, uopLoadNbytes, outStoreNbytes, gemmCounter, aluCounter]
    }

    public var json: JSONValue {
        .object(zip(Self.names, values).map { ($0, .int(Int64(bitPattern: $1))) })
    }

    /// Reads counters from a JSON object with the reference names (missing names stay 0).
    public init(json: JSONValue) {
        func v(_ k: String) -> UInt64 { UInt64(clamping: json[k]?.intValue ?? 0) }
        inpLoadNbytes = v("inp_load_nbytes")
        wgtLoadNbytes = v("wgt_load_nbytes")
        accLoadNbytes = v("acc_load_nbytes")
        uopLoadNbytes = v("uop_load_nbytes")
        outStoreNbytes = v("out_store_nbytes")
        gemmCounter = v("gemm_counter")
        aluCounter = v("alu_counter")
    }

    public static func += (lhs: inout ProfilerCounters, rhs: ProfilerCounters) {
        lhs.inpLoadNbytes &+= rhs.inpLoadNbytes
        lhs.wgtLoadNbytes &+= rhs.wgtLoadNbytes
        lhs.accLoadNbytes &+= rhs.accLoadNbytes
        lhs.uopLoadNbytes &+= rhs.uopLoadNbytes
        lhs.outStoreNbytes &+= rhs.outStoreNbytes
        lhs.gemmCounter &+= rhs.gemmCounter
        lhs.aluCounter &+= rhs.aluCounter
    }
}

/// VTA's three instruction-executing modules (fetch only routes).
public enum PipelineModule: String, Sendable, Hashable, CaseIterable {
    case load, compute, store
}

/// The four dependency-token queues (spec §4.2).
public enum TokenQueue: String, Sendable, Hashable, CaseIterable {
    /// load -> compute
    case l2g
    /// compute -> load
    case g2l
    /// compute -> store
    case g2s
    /// store -> compute
    case s2g
}

/// Per-port DMA base registers (spec §2.12, §5). The TVM runtime programs them to 0 and puts
/// absolute addresses in `dram_base`; the hardware test library programs each buffer's address.
public struct DMABaseAddresses: Sendable, Hashable {
    public var inp: UInt64 = 0
    public var wgt: UInt64 = 0
    public var acc: UInt64 = 0
    public var uop: UInt64 = 0
    public var out: UInt64 = 0
    public init(inp: UInt64 = 0, wgt: UInt64 = 0, acc: UInt64 = 0, uop: UInt64 = 0, out: UInt64 = 0) {
        self.inp = inp
        self.wgt = wgt
        self.acc = acc
        self.uop = uop
        self.out = out
    }
    public static let zero = DMABaseAddresses()
}

/// What one run of an instruction stream did.
public struct RunReport: Sendable {
    public var counters = ProfilerCounters()
    /// Instructions each module executed.
    public var moduleInstructions: [PipelineModule: Int] = [:]
    /// Instructions fetched.
    public var fetched = 0
    /// Instructions fetched but never executed (the hardware stops at a FINISH that ends a round).
    public var dropped = 0
    /// Tokens left in each queue when the run ended (a balanced program leaves none).
    public var leftoverTokens: [TokenQueue: Int] = [:]
    /// Wall-clock time of the run.
    public var elapsedNanoseconds: UInt64 = 0
    /// Accelerator clock cycles, when the device counts them (Chisel VCR shells).
    public var cycles: UInt64?
    /// Multiply-accumulates performed by GEMM (micro-op executions x BATCH x BLOCK_IN x BLOCK_OUT).
    public var macs: UInt64 = 0
    /// ALU lane operations (micro-op executions x BATCH x BLOCK_OUT).
    public var aluLaneOps: UInt64 = 0
    /// Things a user should know that did not fail the run.
    public var warnings: [String] = []

    public init() {}

    public var executed: Int { moduleInstructions.values.reduce(0, +) }

    public var json: JSONValue {
        .object([
            ("profiler", counters.json),
            ("fetched", .int(Int64(fetched))),
            ("executed", .object(PipelineModule.allCases.map { ($0.rawValue, .int(Int64(moduleInstructions[$0] ?? 0))) })),
            ("dropped", .int(Int64(dropped))),
            ("elapsed_ns", .int(Int64(elapsedNanoseconds))),
            ("macs", .int(Int64(macs))),
            ("alu_lane_ops", .int(Int64(aluLaneOps))),
            ("warnings", .array(warnings.map { .string($0) })),
        ])
    }
}
