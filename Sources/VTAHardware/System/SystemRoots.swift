import Glibc

/// Where the kernel's interfaces live. Every path the board backend touches is built from these
/// roots, so tests point them at fake trees (spec: linux-board-interfaces §8) and run the same code.
public struct SystemRoots: Sendable, Hashable {
    /// sysfs (`/sys`).
    public var sys: String
    /// Device nodes (`/dev`).
    public var dev: String
    /// Runtime state (`/run`); `/run/udev/control` tells whether udevd runs.
    public var run: String
    /// configfs mount point holding `device-tree/overlays` (`/sys/kernel/config`).
    public var configfs: String
    /// Firmware search directory the FPGA manager loads from (`/lib/firmware`).
    public var firmware: String
    /// procfs (`/proc`).
    public var proc: String

    public init(sys: String = "/sys", dev: String = "/dev", run: String = "/run",
                configfs: String = "/sys/kernel/config", firmware: String = "/lib/firmware", proc: String = "/proc") {
        self.sys = sys
        self.dev = dev
        self.run = run
        self.configfs = configfs
        self.firmware = firmware
        self.proc = proc
    }

    /// The real system.
    public static let live = SystemRoots()

    /// All roots under one directory (`ROOT/sys`, `ROOT/dev`, `ROOT/run`, `ROOT/sys/kernel/config`,
    /// `ROOT/lib/firmware`, `ROOT/proc`), the layout of the fake trees used in tests.
    public static func under(_ root: String) -> SystemRoots {
        SystemRoots(sys: root + "/sys", dev: root + "/dev", run: root + "/run", configfs: root + "/sys/kernel/config",
                    firmware: root + "/lib/firmware", proc: root + "/proc")
    }

    /// Whether udevd is running (it creates `/run/udev/control`); without it the udev monitor is
    /// silent and discovery falls back to walking sysfs.
    public var udevIsRunning: Bool { access(run + "/udev/control", F_OK) == 0 }
}

/// Reading sysfs attributes: small text files with a trailing newline, numbers in decimal or hex.
public enum SysfsAttribute {
    /// The file's contents without trailing whitespace, or nil if it cannot be read.
    public static func read(_ path: String) -> String? {
        guard var bytes = readBytes(path) else { return nil }
        while let last = bytes.last, last == 0x0A || last == 0x20 || last == 0x09 || last == 0x0D || last == 0 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Raw bytes (for `compatible` lists and big-endian `reg` cells), or nil.
    public static func readBytes(_ path: String) -> [UInt8]? { try? HostFiles.readAll(path) }

    /// Parses `0x43c00000`, `0x0000000043c00000`, `43c00000` (hex) as sysfs prints addresses.
    public static func parseHex(_ text: String) -> UInt64? {
        var t = Substring(text.trimmingCharacters())
        if t.hasPrefix("0x") || t.hasPrefix("0X") { t = t.dropFirst(2) }
        guard !t.isEmpty else { return nil }
        return UInt64(t, radix: 16)
    }

    /// Parses a decimal number, or hex with a `0x` prefix.
    public static func parseNumber(_ text: String) -> UInt64? {
        let t = text.trimmingCharacters()
        if t.hasPrefix("0x") || t.hasPrefix("0X") { return parseHex(t) }
        return UInt64(t)
    }

    /// A NUL-separated string list (device-tree `compatible`).
    public static func parseStringList(_ bytes: [UInt8]) -> [String] {
        bytes.split(separator: 0, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `KEY=VALUE` lines of a `uevent` file.
    public static func parseUevent(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return out
    }
}

extension String {
    /// The string without leading and trailing ASCII whitespace and NULs.
    func trimmingCharacters() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "\0" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
