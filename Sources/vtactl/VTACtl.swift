import ArgumentParser

/// `vtactl`: status, running, disassembling, benchmarking and checking for swift-vta.
@main
struct VTACtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vtactl",
        abstract: "Inspect, run, disassemble, benchmark and check VTA programs.",
        discussion: """
            Configuration: every command that needs the VTA hardware configuration takes
            --config FILE (TVM's vta_config.json format) or --target NAME (sim, tsim, pynq,
            ultra96, zcu104, de10nano, intelfocl: the stock 1x16_i8w8a32_15_15_18_17 design).
            """,
        version: "0.1.0",
        subcommands: [
            ConfigCommand.self, DecodeCommand.self, EncodeCommand.self, DisasmCommand.self,
            SimCommand.self, RunCommand.self, ConformanceCommand.self, BenchCommand.self, MatmulCommand.self, VerifyCommand.self, StatusCommand.self, MetricsCommand.self, NPYCommand.self,
            BoardCommand.self,
        ]
    )
}
