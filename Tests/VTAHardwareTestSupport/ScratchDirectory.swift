import Foundation

/// A fresh directory under /tmp for one test, removed by `remove()`.
public struct ScratchDirectory: Sendable {
    public let path: String

    /// Creates `/tmp/<prefix>-<uuid>`.
    public init(_ prefix: String = "vta-hw") throws {
        path = "/tmp/\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func remove() {
        // Fake trees contain read-only files (e.g. sysfs attributes made 0444 by a test); make them
        // writable again so the removal succeeds for non-root runs too.
        if let walker = FileManager.default.enumerator(atPath: path) {
            for case let relative as String in walker {
                _ = chmod(path + "/" + relative, 0o755)
            }
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}
