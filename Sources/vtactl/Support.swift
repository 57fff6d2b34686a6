import ArgumentParser
import Foundation
import VTA

/// An error shown to the user as one line on stderr, with a non-zero exit status.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// `--config FILE | --target NAME`, shared by every command that needs a configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "VTA configuration file (TVM's vta_config.json format).")
    var config: String?

    @Option(name: .long, help: "Named target with the stock configuration (sim, pynq, ultra96, zcu104, de10nano, tsim).")
    var target: String?

    /// The configuration asked for, or the stock `sim` configuration.
    func load() throws -> HardwareConfig {
        if config != nil && target != nil {
            throw CLIError("give either --config or --target, not both")
        }
        if let path = config { return try loadConfig(path: path) }
        if let name = target {
            do { return try HardwareConfig.defaults(target: name) } catch { throw CLIError(error.description) }
        }
        return HardwareConfig.standard
    }
}

/// Reads a config file and reports problems with the file name.
func loadConfig(path: String) throws -> HardwareConfig {
    let text = try readTextFile(path, what: "configuration")
    let json: JSONValue
    do { json = try JSONValue.parse(text) } catch { throw CLIError("\(path): \(error.description)") }
    do { return try HardwareConfig(json: json) } catch { throw CLIError("\(path): \(error.description)") }
}

func readTextFile(_ path: String, what: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIError("cannot read \(what) file \(path): " + (FileManager.default.fileExists(atPath: path) ? "permission denied or not a regular file" : "no such file"))
    }
    guard let text = String(data: data, encoding: .utf8) else { throw CLIError("\(what) file \(path) is not UTF-8 text") }
    return text
}

func readBinaryFile(_ path: String, what: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CLIError("cannot read \(what) file \(path): " + (FileManager.default.fileExists(atPath: path) ? "permission denied or not a regular file" : "no such file"))
    }
    return [UInt8](data)
}

func readJSONFile(_ path: String, what: String) throws -> JSONValue {
    let bytes = try readBinaryFile(path, what: what)
    do { return try JSONValue.parse(bytes: bytes) } catch { throw CLIError("\(path): \(error.description)") }
}

/// Reads all of standard input.
func readStandardInput() -> [UInt8] {
    FileHandle.standardInput.readDataToEndOfFile().map { $0 }
}

/// Writes to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
