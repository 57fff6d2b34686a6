import Foundation
import Testing
import VTA
import VTATestSupport

typealias TestData = SharedTestData

extension SharedTestData {
    /// A config file (TVM's format) for the `config` object of a conformance file.
    static func configFile(from relativePath: String, in dir: URL) throws -> URL {
        let cfg = try #require(try json(relativePath)["config"], "\(relativePath) has no config")
        let file = dir.appendingPathComponent("config-\(UUID().uuidString).json")
        try cfg.serialized(pretty: true).write(to: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// A fresh temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("vtactl-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

struct CommandResult: CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String
    var lines: [Substring] { stdout.split(separator: "\n") }
    var description: String { "exit \(status)\n--- stdout ---\n\(stdout.prefix(2000))\n--- stderr ---\n\(stderr.prefix(2000))" }
}

enum VTACtl {
    /// The built `vtactl`: next to the test bundle (Linux: Bundle.main is the build directory),
    /// or in `<package root>/.build/debug`.
    static func executable() throws -> URL { try SharedTestData.builtExecutable("vtactl") }

    /// Runs vtactl with arguments (and optional standard input), waiting at most `timeout` seconds.
    static func run(_ arguments: [String], stdin: String? = nil, cwd: URL? = nil, timeout: TimeInterval = 600) throws -> CommandResult {
        let r = try Subprocess.run(try executable().path, arguments, stdin: stdin, cwd: cwd, timeout: .milliseconds(Int64(timeout * 1000)))
        if r.timedOut { Issue.record("vtactl \(arguments.joined(separator: " ")) did not finish within \(Int(timeout)) s") }
        // A signal shows as 128 + its number, as a shell reports it.
        return CommandResult(status: r.status ?? 128 + (r.signal ?? 0), stdout: r.stdout, stderr: r.stderr)
    }

    /// Checks that a command failed cleanly: non-zero status, one line on stderr that mentions
    /// every needle, and no crash output.
    static func expectCleanFailure(_ r: CommandResult, mentioning needles: [String], _ context: String) {
        #expect(r.status != 0, "\(context): exit status 0\n\(r)")
        let message = r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!message.isEmpty && !message.contains("\n"), "\(context): stderr is not one line\n\(r)")
        for n in needles { #expect(message.contains(n), "\(context): stderr does not mention \(n)\n\(r)") }
        for crash in ["Fatal error", "Stack dump", "Illegal instruction", "Segmentation", "backtrace"] {
            #expect(!(r.stderr + r.stdout).contains(crash), "\(context): crash output\n\(r)")
        }
    }

    /// Parses standard output as JSON, recording the output on failure.
    static func json(_ r: CommandResult, _ context: String) throws -> JSONValue {
        #expect(r.status == 0, "\(context)\n\(r)")
        do { return try JSONValue.parse(r.stdout) } catch {
            Issue.record("\(context): stdout is not JSON: \(error)\n\(r)")
            throw error
        }
    }
}
