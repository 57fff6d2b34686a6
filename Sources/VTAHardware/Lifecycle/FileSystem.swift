import Glibc

/// A failed file operation: which path and the kernel's reason.
struct HostFileError: Error, Sendable {
    let path: String
    let reason: String
    let code: Int32

    init(path: String, code: Int32) {
        self.path = path
        self.code = code
        reason = HostFiles.errorText(code)
    }

    init(path: String, reason: String) {
        self.path = path
        self.reason = reason
        code = 0
    }
}


/// The few file operations discovery and programming need, on plain Glibc (no Foundation in
/// `VTAHardware`). Writes to sysfs and configfs attributes are one `write` call each: the kernel
/// acts on each write, so splitting a value would be wrong (spec §5.2).
enum HostFiles {
    /// `strerror` text for an errno value.
    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// Names in a directory, without `.` and `..`; empty if it cannot be read.
    static func directoryEntries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The path with every symlink resolved, or nil if it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// The last path component.
    static func baseName(_ path: String) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        guard let slash = trimmed.lastIndex(of: "/") else { return trimmed }
        return String(trimmed[trimmed.index(after: slash)...])
    }

    /// Everything before the last path component (`.` when there is none).
    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Whether this process may write the path, judged with the effective (filesystem) ids as
    /// `open` will be (`faccessat(AT_EACCESS)`), not the real ids `access` uses.
    static func canWrite(_ path: String) -> Bool { faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0 }

    /// The whole file.
    static func readAll(_ path: String) throws(HostFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw HostFileError(path: path, code: errno) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw HostFileError(path: path, code: errno)
            }
            if n == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// Writes `bytes` to an existing file (a sysfs or configfs attribute) with exactly one
    /// `write` call. A short write is an error: the kernel saw a partial value.
    /// `create` adds `O_CREAT`, harmless on configfs (the attribute exists as soon as its
    /// directory does) and needed where the directory is an ordinary one (relocated roots).
    static func writeOnce(_ path: String, _ bytes: [UInt8], truncate: Bool = true, create: Bool = false) throws(HostFileError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC | (truncate ? O_TRUNC : 0) | (create ? O_CREAT : 0), 0o644)
        guard fd >= 0 else { throw HostFileError(path: path, code: errno) }
        var n: Int
        repeat {
            n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        } while n < 0 && errno == EINTR
        let writeErrno = errno
        let closed = close(fd)
        let closeErrno = errno
        if n < 0 { throw HostFileError(path: path, code: writeErrno) }
        if n != bytes.count {
            throw HostFileError(path: path, reason: "only \(n) of \(bytes.count) bytes were accepted in one write")
        }
        // configfs binary attributes act when the file is closed; its error arrives here.
        if closed != 0 { throw HostFileError(path: path, code: closeErrno) }
    }

    static func writeOnce(_ path: String, _ text: String) throws(HostFileError) { try writeOnce(path, Array(text.utf8)) }

    /// Creates `path` and missing parents (mode 0755).
    static func makeDirectories(_ path: String) throws(HostFileError) {
        if isDirectory(path) { return }
        let parent = directoryName(path)
        if parent != path && parent != "." && parent != "/" { try makeDirectories(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw HostFileError(path: path, code: errno) }
    }

    /// Writes a new file next to `path` and renames it into place, so readers (the kernel's
    /// firmware loader) never see half a file.
    static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(HostFileError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw HostFileError(path: temporary, code: errno) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                unlink(temporary)
                throw HostFileError(path: temporary, code: code)
            }
            offset += n
        }
        if fsync(fd) != 0 || close(fd) != 0 {
            let code = errno
            unlink(temporary)
            throw HostFileError(path: temporary, code: code)
        }
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw HostFileError(path: path, code: code)
        }
    }
}

extension HostFiles {
/// Polls `condition` until it returns a value or `timeout` passes; sleeps `interval` between tries.
static func waitFor<T>(timeout: Duration, interval: Duration = .milliseconds(5), _ condition: () -> T?) -> T? {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        if let value = condition() { return value }
        if clock.now >= deadline { return nil }
        let (seconds, attoseconds) = interval.components
        usleep(UInt32(clamping: seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
    }
}

}

extension HostFiles {
    /// Whole milliseconds of a duration, for `poll(2)` timeouts (clamped to `Int32`).
    static func milliseconds(of duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
