import Dispatch
import Foundation

/// How a child process ended and what it printed.
public struct SubprocessResult: Sendable {
    /// Exit status, or nil if a signal ended it (or it was killed at the timeout).
    public let status: Int32?
    /// The signal that ended it, if one did.
    public let signal: Int32?
    public let pid: Int32
    public let stdout: String
    public let stderr: String
    /// The child outlived its timeout and was killed with SIGKILL.
    public let timedOut: Bool
}

/// Runs a built tool or test program to completion, output captured through files (pipes could
/// fill up and stall a chatty child), standard input from a string or /dev/null. One runner for
/// every test target.
public enum Subprocess {
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil,
                           cwd: URL? = nil, timeout: Duration = .seconds(300)) throws -> SubprocessResult {
        var template = Array("/tmp/vta-run-XXXXXX".utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }).map({ String(cString: $0) }) else {
            throw MissingTestData(description: "cannot create a temporary directory under /tmp")
        }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let outPath = dir + "/stdout", errPath = dir + "/stderr", inPath = dir + "/stdin"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        _ = FileManager.default.createFile(atPath: inPath, contents: Data((stdin ?? "").utf8))
        guard let out = FileHandle(forWritingAtPath: outPath), let err = FileHandle(forWritingAtPath: errPath),
              let input = FileHandle(forReadingAtPath: inPath) else {
            throw MissingTestData(description: "cannot open the output files in \(dir)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        if let environment { p.environment = environment }
        if let cwd { p.currentDirectoryURL = cwd }
        p.standardOutput = out
        p.standardError = err
        p.standardInput = stdin == nil ? FileHandle.nullDevice : input
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        try p.run()
        try? out.close()
        try? err.close()
        try? input.close()
        let c = timeout.components
        let seconds = Double(c.seconds) + Double(c.attoseconds) / 1e18
        var timedOut = false
        if done.wait(timeout: .now() + seconds) != .success {
            timedOut = true
            kill(p.processIdentifier, SIGKILL)
            _ = done.wait(timeout: .now() + 10)
        }
        while p.isRunning { usleep(1000) }
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let exited = p.terminationReason == .exit && !timedOut
        return SubprocessResult(status: exited ? p.terminationStatus : nil, signal: exited ? nil : p.terminationStatus,
                                pid: p.processIdentifier, stdout: stdout, stderr: stderr, timedOut: timedOut)
    }
}
