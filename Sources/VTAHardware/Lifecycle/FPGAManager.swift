import Glibc
import VTA

/// An FPGA manager (`<sys>/class/fpga_manager/fpgaN`, spec §5.1) and bitstream loading through
/// linux-xlnx's `flags` and `firmware` attributes: the bitstream is staged under the firmware
/// directory, `flags` set to 0 (full reconfiguration), its name written to `firmware` (the kernel
/// loads it during that write) and `state` read back.
public struct FPGAManager: Sendable, Hashable {
    /// The device's sysfs directory.
    public let path: String
    public let sysname: String
    public let roots: SystemRoots

    /// Where staged bitstreams go, relative to the firmware directory.
    public static let stagingDirectory = "vta"

    /// The first FPGA manager (`fpga0` on every supported board), or the one named `sysname`.
    public static func find(roots: SystemRoots = .live, sysname: String? = nil) throws(BoardLifecycleError) -> FPGAManager {
        let classDir = roots.sys + "/class/fpga_manager"
        let names = HostFiles.directoryEntries(classDir).sorted(by: DiscoverySchema.naturalOrder)
        guard let name = sysname.map({ names.contains($0) ? $0 : nil }) ?? names.first else {
            throw .noFPGAManager(classDirectory: classDir)
        }
        return FPGAManager(path: classDir + "/" + name, sysname: name, roots: roots)
    }

    public init(path: String, sysname: String, roots: SystemRoots) {
        self.path = path
        self.sysname = sysname
        self.roots = roots
    }

    /// `name`, e.g. "Xilinx Zynq FPGA Manager".
    public var name: String? { SysfsAttribute.read(path + "/name") }
    /// `state`, e.g. `operating` or `write error`.
    public var state: String? { SysfsAttribute.read(path + "/state") }
    /// `status` error lines (newer kernels), empty when fine.
    public var status: String? { SysfsAttribute.read(path + "/status") }
    /// linux-xlnx `flags` (hex).
    public var flags: UInt64? { SysfsAttribute.read(path + "/flags").flatMap(SysfsAttribute.parseHex) }
    /// Whether the kernel can load a bitstream by name (linux-xlnx `firmware` attribute).
    public var canLoadFirmware: Bool { HostFiles.exists(path + "/firmware") }

    // MARK: Permissions

    /// Every path `program` writes: `firmware`, `flags`, the staging directory (or the firmware
    /// directory that will hold it) and the lock directory.
    public var pathsToWrite: [String] {
        var paths = [path + "/firmware"]
        if HostFiles.exists(path + "/flags") { paths.append(path + "/flags") }
        let staging = roots.firmware + "/" + Self.stagingDirectory
        paths.append(HostFiles.isDirectory(staging) ? staging : roots.firmware)
        let lockDir = HostFiles.directoryName(FPGALock.path(roots: roots))
        paths.append(HostFiles.isDirectory(lockDir) ? lockDir : roots.run)
        return paths
    }

    /// Refuses early, before anything changes, when this process may not write what loading
    /// needs (not root).
    public func checkPermissions() throws(BoardLifecycleError) {
        guard canLoadFirmware else { throw .noFirmwareAttribute(manager: path) }
        for p in pathsToWrite where !HostFiles.canWrite(p) {
            throw .notPermitted(path: p, uid: geteuid(), action: "loading a bitstream")
        }
    }

    // MARK: Loading

    /// Copies the loadable image (`.bin` of a `.bit`, or the file as it is) to
    /// `<firmware>/vta/<stem>.bin|rbf`, atomically.
    /// - Returns: the name to write to `firmware` (relative to the firmware directory).
    public func stage(_ bitstream: BitstreamFile) throws(BoardLifecycleError) -> String {
        let relative = Self.stagingDirectory + "/" + bitstream.stem + "." + bitstream.loadableExtension
        let destination = roots.firmware + "/" + relative
        // A bitstream already in place (vta-program@NAME.service) is not copied onto itself.
        if let source = HostFiles.realPath(bitstream.path), source == HostFiles.realPath(destination) {
            return relative
        }
        do {
            try HostFiles.makeDirectories(roots.firmware + "/" + Self.stagingDirectory)
            try HostFiles.writeAtomically(destination, bitstream.loadableImage)
        } catch {
            throw .stagingFailed(path: destination, reason: "\(error.path): \(error.reason)")
        }
        return relative
    }

    /// Loads a staged image: `flags` (full reconfiguration by default), then the name to
    /// `firmware`, then waits for `state` to read `operating`. The kernel loads during the write;
    /// the wait covers drivers that finish asynchronously.
    public func load(firmware relativeName: String, flags: UInt64 = 0, timeout: Duration = .seconds(10)) throws(BoardLifecycleError) {
        guard canLoadFirmware else { throw .noFirmwareAttribute(manager: path) }
        if HostFiles.exists(path + "/flags") {
            do { try HostFiles.writeOnce(path + "/flags", String(flags, radix: 16)) } catch {
                throw .writeFailed(path: error.path, reason: error.reason)
            }
        }
        do { try HostFiles.writeOnce(path + "/firmware", relativeName) } catch {
            throw .programmingFailed(manager: path, state: state ?? "unreadable", status: status ?? "",
                                     detail: "the kernel refused \(relativeName): \(error.reason)")
        }
        var last = ""
        let reached = HostFiles.waitFor(timeout: timeout, interval: .milliseconds(10)) { () -> Bool? in
            last = state ?? "unreadable"
            if last == "operating" { return true }
            return last.hasSuffix("error") ? false : nil
        }
        guard reached == true else {
            let detail = reached == nil ? "still not operating after \(timeout)" : ""
            throw .programmingFailed(manager: path, state: last, status: status ?? "", detail: detail)
        }
    }

    /// Checks, stages and loads a bitstream under the FPGA lock (taken here unless `lock` is
    /// given).
    /// - Parameters:
    ///   - target: the board, to refuse a `.bit` for another part; nil skips the check.
    /// - Returns: the firmware name that was loaded.
    @discardableResult
    public func program(_ bitstream: BitstreamFile, target: TargetProfile?, lock: FPGALock? = nil,
                        timeout: Duration = .seconds(10)) throws(BoardLifecycleError) -> String {
        if let target { try bitstream.checkPart(for: target) }
        try checkPermissions()
        let held: FPGALock
        if let lock { held = lock } else { held = try FPGALock.acquire(roots: roots, timeout: timeout) }
        let name = try stage(bitstream)
        try load(firmware: name, timeout: timeout)
        withExtendedLifetime(held) {}
        return name
    }
}
