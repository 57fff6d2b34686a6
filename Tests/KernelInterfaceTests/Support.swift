import Foundation
import Glibc
import VTATestSupport

// Helpers for the kernel-interface tests: paths in the repository, fresh temporary directories
// under /tmp, small files, and running a tool (dtc, clang) to completion.

enum Repo {
    static var kernelInterface: URL { SharedTestData.packageRoot.appendingPathComponent("kernel-interface") }
    static var shimInclude: String { kernelInterface.appendingPathComponent("CVTAKernel/include").path }
    static func file(_ relative: String) -> String { kernelInterface.appendingPathComponent(relative).path }
}

/// A fresh directory under /tmp, removed when the value is released.
final class TempDir {
    let path: String

    init(_ prefix: String = "vta-kit") throws {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        guard let made else {
            throw MissingTestData(description: "mkdtemp under /tmp failed: errno \(errno)")
        }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes a text file, creating parent directories.
    func write(_ relative: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// Creates a zero-filled file of `size` bytes (sparse).
    func makeFile(_ relative: String, size: Int) throws {
        try write(relative, "")
        guard truncate(path + "/" + relative, off_t(size)) == 0 else {
            throw MissingTestData(description: "truncate \(relative) failed: errno \(errno)")
        }
    }

    func read(_ relative: String) -> String? {
        (try? String(contentsOfFile: path + "/" + relative, encoding: .utf8))
    }
}

/// What a finished process printed.
struct ToolResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Thrown when a tool the tests need is not installed: the test fails and says what to install.
struct MissingTool: Error, CustomStringConvertible {
    let description: String
}

enum Tool {
    /// The device-tree compiler, or a failure that says how to get it.
    static func dtc() throws -> String {
        for candidate in ["/usr/bin/dtc", "/usr/local/bin/dtc"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw MissingTool(description: "dtc (the device-tree compiler) is not installed: install Debian's "
            + "device-tree-compiler package (apt-get install device-tree-compiler, or `make deps` as root)")
    }

    /// The clang shipped with the Swift toolchain (it has the aarch64 and arm back ends).
    static func clang() throws -> String {
        for candidate in ["/opt/swift/usr/bin/clang", "/usr/bin/clang"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw MissingTool(description: "clang not found at /opt/swift/usr/bin/clang (it ships with the Swift toolchain)")
    }

    /// Runs a tool to completion; its output goes through files, so no pipe can fill up.
    static func run(_ executable: String, _ arguments: [String]) throws -> ToolResult {
        let dir = try TempDir("vta-kit-run")
        try dir.write("stdout", "")
        try dir.write("stderr", "")
        guard let out = FileHandle(forWritingAtPath: dir.path + "/stdout"),
              let err = FileHandle(forWritingAtPath: dir.path + "/stderr") else {
            throw MissingTestData(description: "cannot create output files in \(dir.path)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return ToolResult(status: process.terminationStatus, stdout: dir.read("stdout") ?? "", stderr: dir.read("stderr") ?? "")
    }
}
