import ArgumentParser
import VTA

/// `vtactl config show`.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show and check VTA hardware configurations.",
        subcommands: [Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the configuration, bitstream name, derived constants and target facts as JSON.")
        @OptionGroup var configOptions: ConfigOptions

        func run() throws {
            print(try configOptions.load().fullDescription.serialized(pretty: true))
        }
    }
}
