import Foundation
import Testing
import VTATestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Thrown when the C toolchain or a build product the tests need is missing or fails.
struct CTestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A fresh directory under /tmp holding an installed libvta (headers and libvta.so, installed by
/// `scripts/install-libvta.sh`) and C test programs compiled against that installation with the
/// system C compiler. Call `remove()` when done.
final class CWorkspace {
    let dir: String
    let prefix: String
    /// The directory of the Swift runtime libraries libvta.so needs.
    let swiftRuntimeDirectory: String

    static let sources = SharedTestData.packageRoot.appendingPathComponent("Tests/LibVTATests/C").path

    init() throws {
        var template = Array("/tmp/libvta-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CTestError("mkdtemp: \(String(cString: strerror(errno)))")
        }
        dir = String(cString: p)
        prefix = dir + "/prefix"
        do {
            let lib = try Self.builtLibrary()
            let install = try runProgram(SharedTestData.packageRoot.appendingPathComponent("scripts/install-libvta.sh").path, [dir + "/prefix"],
                                         environment: ["LIBVTA_LIB": lib, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"])
            guard install.status == 0 else { throw CTestError("install-libvta.sh failed: \(install)") }
            swiftRuntimeDirectory = try Self.swiftRuntimeDirectory(of: dir + "/prefix/lib/libvta.so")
        } catch {
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    var installedLibrary: String { prefix + "/lib/libvta.so" }

    /// The libvta.so of this build: next to the test bundle (the build directory on Linux), or
    /// in .build/debug.
    static func builtLibrary() throws -> String {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("libvta.so"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("libvta.so"),
            SharedTestData.packageRoot.appendingPathComponent(".build/debug/libvta.so"),
        ]
        for c in candidates where FileManager.default.fileExists(atPath: c.path) { return c.path }
        throw MissingTestData(description: "libvta.so was not found (looked in \(candidates.map(\.path))); "
            + "`swift build --build-tests` or `swift build --product vta` builds it")
    }

    /// Where libswiftCore.so comes from for this library: what `ldd` resolves (the library's
    /// RUNPATH), else the toolchain's runtime library path from `swift -print-target-info`.
    static func swiftRuntimeDirectory(of library: String) throws -> String {
        if let ldd = try? runProgram("/usr/bin/ldd", [library], environment: ProcessInfo.processInfo.environment), ldd.status == 0 {
            for line in ldd.stdout.split(separator: "\n") where line.contains("libswiftCore.so") {
                // "\tlibswiftCore.so => /opt/swift/usr/lib/swift/linux/libswiftCore.so (0x...)"
                let parts = line.split(separator: " ")
                if let arrow = parts.firstIndex(of: "=>"), arrow + 1 < parts.count, parts[arrow + 1].hasPrefix("/") {
                    return URL(fileURLWithPath: String(parts[arrow + 1])).deletingLastPathComponent().path
                }
            }
        }
        let info = try runProgram("/usr/bin/env", ["swift", "-print-target-info"], environment: ProcessInfo.processInfo.environment)
        if info.status == 0, let data = info.stdout.data(using: .utf8),
           let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let paths = json["paths"] as? [String: Any], let runtime = paths["runtimeLibraryPaths"] as? [String],
           let dir = runtime.first(where: { FileManager.default.fileExists(atPath: $0 + "/libswiftCore.so") }) {
            return dir
        }
        throw CTestError("cannot find the Swift runtime libraries libvta.so links against (ldd and swift -print-target-info gave nothing)")
    }

    /// Compiles `Tests/LibVTATests/C/<source>` against the installed headers and library into
    /// `<dir>/<output>`, warnings as errors. Returns the executable's path.
    func compile(_ source: String, output: String? = nil, defines: [String] = []) throws -> String {
        let out = dir + "/" + (output ?? String(source.dropLast(2)))
        let args = ["-std=c11", "-D_GNU_SOURCE", "-O1", "-Wall", "-Wextra", "-Werror"] + defines.map { "-D" + $0 } + [
            "-I", prefix + "/include", "-I", Self.sources, Self.sources + "/" + source, "-o", out,
            "-L", prefix + "/lib", "-lvta", "-lpthread",
            "-Wl,-rpath," + prefix + "/lib",
            // libvta.so needs the Swift runtime; its own RUNPATH names it, this makes it explicit.
            "-Wl,-rpath," + swiftRuntimeDirectory, "-Wl,-rpath-link," + swiftRuntimeDirectory,
        ]
        let r = try run("/usr/bin/env", ["cc"] + args, environment: ProcessInfo.processInfo.environment)
        guard r.status == 0 else { throw CTestError("cc \(source) failed:\n\(r)") }
        return out
    }

    /// Runs a compiled program with libvta's environment: the test's, without any VTA_*
    /// variable, plus `environment`.
    func execute(_ program: String, _ arguments: [String] = [], environment: [String: String], timeout: Duration = .seconds(300)) throws -> ProgramResult {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VTA_") }
        for (k, v) in environment { env[k] = v }
        return try run(program, arguments, environment: env, timeout: timeout)
    }

    private func run(_ executable: String, _ arguments: [String], environment: [String: String], timeout: Duration = .seconds(300)) throws -> ProgramResult {
        try runProgram(executable, arguments, environment: environment, timeout: timeout)
    }
}

/// How a program ended and what it printed.
struct ProgramResult: CustomStringConvertible {
    /// Exit status, or nil if a signal ended it.
    let status: Int32?
    let signal: Int32?
    let stdout: String
    let stderr: String

    var description: String {
        "exit \(status.map(String.init) ?? "-"), signal \(signal.map(String.init) ?? "-")\n--- stdout ---\n\(stdout.suffix(6000))\n--- stderr ---\n\(stderr.suffix(6000))"
    }

    /// Standard error lines libvta wrote.
    var libvtaErrors: [Substring] { stderr.split(separator: "\n").filter { $0.hasPrefix("libvta: ") } }
}

/// Runs a program to completion (killing it after `timeout`), output captured through files.
func runProgram(_ executable: String, _ arguments: [String], environment: [String: String],
                timeout: Duration = .seconds(120)) throws -> ProgramResult {
    let r = try Subprocess.run(executable, arguments, environment: environment, timeout: timeout)
    if r.timedOut { throw CTestError("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout); killed") }
    return ProgramResult(status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr)
}
