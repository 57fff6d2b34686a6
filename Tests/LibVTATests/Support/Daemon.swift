import Foundation
import Testing
import VTA
import VTAClient
import VTATestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A vtad subprocess on a socket in a fresh /tmp directory, started the way the daemon tests
/// start it: with a NOTIFY_SOCKET the test owns, ready when READY=1 arrives. `stop()` sends
/// SIGTERM and waits; deinit kills a daemon that is still running.
final class DaemonProcess {
    let dir: String
    let socketPath: String
    private let process: Process
    private let notifyFD: Int32

    init(arguments: [String] = []) throws {
        var template = Array("/tmp/lvd-XXXXXX".utf8CString)
        guard let p = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CTestError("mkdtemp: \(String(cString: strerror(errno)))")
        }
        dir = String(cString: p)
        socketPath = dir + "/vtad.sock"
        let notifyPath = dir + "/notify"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        notifyFD = fd
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in notifyPath.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        process = Process()
        guard notifyFD >= 0, bound == 0 else {
            if notifyFD >= 0 { close(notifyFD) }
            try? FileManager.default.removeItem(atPath: dir)
            throw CTestError("cannot bind the notify socket \(notifyPath): \(String(cString: strerror(errno)))")
        }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VTA_") && !$0.key.hasPrefix("LISTEN_") }
        env["NOTIFY_SOCKET"] = notifyPath
        let log = dir + "/vtad.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let logHandle = FileHandle(forWritingAtPath: log)
        process.executableURL = try SharedTestData.builtExecutable("vtad")
        process.arguments = ["--socket", socketPath, "--log-level", "info"] + arguments
        process.environment = env
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            close(notifyFD)
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
        try? logHandle?.close()
        guard waitForReady(timeout: 60) else {
            let log = self.log
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            close(notifyFD)
            try? FileManager.default.removeItem(atPath: dir)
            throw CTestError("vtad sent no READY=1 within 60 s\n--- log ---\n\(log)")
        }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        close(notifyFD)
        try? FileManager.default.removeItem(atPath: dir)
    }

    var log: String { (try? String(contentsOfFile: dir + "/vtad.log", encoding: .utf8)) ?? "(no log)" }

    private func waitForReady(timeout seconds: Int) -> Bool {
        let end = ContinuousClock.now + .seconds(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < end && process.isRunning {
            var p = pollfd(fd: notifyFD, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 100) > 0 {
                let n = recv(notifyFD, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if n > 0, String(decoding: buffer.prefix(n), as: UTF8.self).split(separator: "\n").contains("READY=1") { return true }
            }
        }
        return false
    }

    /// The daemon's count of finished jobs (status document, `jobs.done`).
    func jobsDone() throws -> Int64 {
        let status = try RemoteDevice(socketPath: socketPath).status()
        guard let done = status["jobs"]?["done"]?.intValue else {
            throw CTestError("the status document has no jobs.done")
        }
        return done
    }

    /// SIGTERM, then waits (SIGKILL after 30 s). Returns the exit status.
    @discardableResult
    func stop() -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let end = ContinuousClock.now + .seconds(30)
        while process.isRunning && ContinuousClock.now < end { usleep(10_000) }
        if process.isRunning {
            Issue.record("vtad did not stop within 30 s of SIGTERM\n\(log)")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationReason == .exit ? process.terminationStatus : nil
    }
}
