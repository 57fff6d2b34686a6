import Glibc

/// A device-tree overlay applied through configfs (`<configfs>/device-tree/overlays/<name>`,
/// spec §5.2; linux-xlnx, linux-socfpga and Raspberry Pi kernels): `mkdir`, the whole `.dtbo`
/// in one write to `dtbo`, then `status` must read `applied`; `rmdir` removes it and the devices
/// it created.
public struct DeviceTreeOverlay: Sendable, Hashable {
    public let name: String
    public let roots: SystemRoots

    /// The configfs `dtbo` attribute takes at most 1 MiB.
    public static let maximumSize = 1 << 20
    /// A flattened device tree starts with 0xd00dfeed (big-endian).
    static let fdtMagic: [UInt8] = [0xD0, 0x0D, 0xFE, 0xED]

    public init(name: String = "vta", roots: SystemRoots = .live) throws(BoardLifecycleError) {
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        guard !name.isEmpty, name != ".", name != "..", allowed else { throw .invalidOverlayName(name) }
        self.name = name
        self.roots = roots
    }

    /// `<configfs>/device-tree/overlays`, after checking that configfs is mounted and has overlays.
    public static func overlaysDirectory(roots: SystemRoots) throws(BoardLifecycleError) -> String {
        let dir = roots.configfs + "/device-tree/overlays"
        if HostFiles.isDirectory(dir) { return dir }
        if !HostFiles.isDirectory(roots.configfs) || HostFiles.directoryEntries(roots.configfs).isEmpty {
            throw .configfsNotMounted(path: roots.configfs)
        }
        throw .noOverlaySupport(path: roots.configfs)
    }

    /// This overlay's configfs directory.
    public var directory: String { roots.configfs + "/device-tree/overlays/" + name }
    /// Whether an overlay of this name exists (applied or not).
    public var exists: Bool { HostFiles.isDirectory(directory) }
    /// `status`: `applied` or `unapplied`, nil when absent.
    public var status: String? { SysfsAttribute.read(directory + "/status") }

    /// Refuses early when this process may not create overlays (not root).
    public func checkPermissions() throws(BoardLifecycleError) {
        let dir = try Self.overlaysDirectory(roots: roots)
        if !HostFiles.canWrite(dir) { throw .notPermitted(path: dir, uid: geteuid(), action: "applying an overlay") }
    }

    /// Reads and checks a `.dtbo` (FDT magic, size limit) without applying it.
    public static func readBlob(_ path: String) throws(BoardLifecycleError) -> [UInt8] {
        guard HostFiles.isRegularFile(path) else {
            throw .invalidOverlay(path: path, reason: HostFiles.exists(path) ? "not a regular file" : "no such file")
        }
        let blob: [UInt8]
        do { blob = try HostFiles.readAll(path) } catch { throw .invalidOverlay(path: path, reason: error.reason) }
        guard blob.count >= 40, Array(blob.prefix(4)) == fdtMagic else {
            throw .invalidOverlay(path: path, reason: "not a compiled device tree (no 0xd00dfeed magic); "
                + "compile the source with `dtc -@ -I dts -O dtb -o x.dtbo x.dtso`")
        }
        guard blob.count <= maximumSize else {
            throw .invalidOverlay(path: path, reason: "\(blob.count) bytes exceeds configfs's \(maximumSize)-byte limit")
        }
        return blob
    }

    /// Applies a `.dtbo` file and waits up to `timeout` for `status` to read `applied`.
    /// A failed overlay's directory is removed again so the next attempt starts clean.
    public func apply(dtbo path: String, timeout: Duration = .seconds(10)) throws(BoardLifecycleError) {
        let blob = try Self.readBlob(path)
        _ = try Self.overlaysDirectory(roots: roots)
        if exists { throw .overlayExists(name: name, path: directory) }
        if mkdir(directory, 0o755) != 0 {
            let code = errno
            if code == EACCES || code == EPERM {
                throw .notPermitted(path: directory, uid: geteuid(), action: "applying an overlay")
            }
            throw .writeFailed(path: directory, reason: HostFiles.errorText(code))
        }
        do {
            try HostFiles.writeOnce(directory + "/dtbo", blob, truncate: false, create: true)
        } catch {
            try? remove()
            throw .writeFailed(path: error.path, reason: error.reason + " (the kernel rejected the overlay; see dmesg)")
        }
        var last = "missing"
        let applied = HostFiles.waitFor(timeout: timeout, interval: .milliseconds(10)) { () -> Bool? in
            last = status ?? "missing"
            return last == "applied" ? true : nil
        }
        guard applied == true else {
            try? remove()
            throw .overlayNotApplied(name: name, path: directory, status: last)
        }
    }

    /// Removes the overlay (`rmdir`); the kernel removes the devices it created. Absent is fine.
    public func remove() throws(BoardLifecycleError) {
        guard exists else { return }
        if rmdir(directory) != 0 {
            throw .overlayRemovalFailed(path: directory, reason: HostFiles.errorText(errno))
        }
    }
}
