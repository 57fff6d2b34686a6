import ArgumentParser
import Foundation
import VTA
import VTAClient

/// The daemon socket: --socket, else $VTA_SOCKET, else /run/vta/vtad.sock.
struct SocketOption: ParsableArguments {
    @Option(name: .long, help: "vtad socket (default: $VTA_SOCKET or /run/vta/vtad.sock).") var socket: String?

    var path: String { socket ?? ProcessInfo.processInfo.environment["VTA_SOCKET"] ?? "/run/vta/vtad.sock" }

    func connect() throws -> RemoteDevice {
        do { return try RemoteDevice(socketPath: path) } catch { throw CLIError(error.description) }
    }
}

/// `vtactl status`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the daemon's device, configuration, clients, queue depth, pool usage and job counts.")
    @OptionGroup var socket: SocketOption
    @Flag(name: .long, help: "Print the raw JSON document.") var json = false

    func run() throws {
        let device = try socket.connect()
        let s: JSONValue
        do { s = try device.status() } catch { throw CLIError(error.description) }
        if json { print(s.serialized(pretty: true)); return }
        func v(_ k: String) -> String { s[k].map { $0.stringValue ?? $0.serialized() } ?? "-" }
        print("device:       \(v("device"))")
        print("bitstream:    \(v("bitstream"))")
        print("uptime:       \(v("uptime_seconds")) s")
        print("clients:      \(v("clients"))")
        print("queue depth:  \(v("queue_depth"))")
        print("buffers:      \(v("buffers")) (\(v("pool_bytes_in_use")) bytes of device memory in use)")
        if let jobs = s["jobs"] {
            print("jobs:         done \(jobs["done"]?.serialized() ?? "0"), failed \(jobs["failed"]?.serialized() ?? "0"), rejected \(jobs["rejected"]?.serialized() ?? "0"), cancelled \(jobs["cancelled"]?.serialized() ?? "0")")
        }
    }
}

/// `vtactl metrics`.
struct MetricsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "metrics", abstract: "Print the daemon's metrics (OpenMetrics text).")
    @OptionGroup var socket: SocketOption

    func run() throws {
        do { print(try socket.connect().metrics(), terminator: "") } catch let e as CLIError { throw e } catch { throw CLIError("\(error)") }
    }
}
