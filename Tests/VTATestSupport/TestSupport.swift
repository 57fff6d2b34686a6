import Foundation
import VTA

// Helpers every test target needs: where the shared conformance data and the built binaries are,
// a clear failure when they are missing, and seeded randomness.

/// Thrown when something the tests need (the shared data, a built binary) is missing, so the test
/// fails with a message saying what to provide instead of silently checking nothing.
public struct MissingTestData: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

public enum SharedTestData {
    /// The package root: this file is <root>/Tests/VTATestSupport/TestSupport.swift.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `<root>/../shared/conformance`.
    public static var conformanceDirectory: URL {
        packageRoot.appendingPathComponent("../shared/conformance").standardizedFileURL
    }

    public static func missing(_ path: String) -> MissingTestData {
        MissingTestData(description: "shared conformance data missing: \(path) is not readable. The tests need the golden "
            + "files in <package root>/../shared/conformance (see its README.md).")
    }

    /// A readable file under the conformance directory.
    public static func url(_ relativePath: String) throws -> URL {
        let url = conformanceDirectory.appendingPathComponent(relativePath)
        guard FileManager.default.isReadableFile(atPath: url.path) else { throw missing(url.path) }
        return url
    }

    /// Raw bytes of a file under the conformance directory.
    public static func bytes(_ relativePath: String) throws -> [UInt8] {
        let url = conformanceDirectory.appendingPathComponent(relativePath)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw missing(url.path) }
        return [UInt8](data)
    }

    /// Sorted `*.json` files in a subdirectory of the conformance data.
    public static func files(in sub: String) throws -> [URL] {
        let dir = conformanceDirectory.appendingPathComponent(sub)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { throw missing(dir.path) }
        return names.filter { $0.hasSuffix(".json") }.sorted().map { dir.appendingPathComponent($0) }
    }

    public static func json(_ url: URL) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw missing(url.path) }
        return try JSONValue.parse(bytes: [UInt8](data))
    }

    /// A conformance JSON file parsed with the library's parser.
    public static func json(_ relativePath: String) throws -> JSONValue {
        try json(conformanceDirectory.appendingPathComponent(relativePath))
    }

    /// A built executable of this package: next to the test bundle (on Linux `Bundle.main` is the
    /// build directory), or in `<package root>/.build/debug`.
    public static func builtExecutable(_ name: String) throws -> URL {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent(name),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name),
            packageRoot.appendingPathComponent(".build/debug/\(name)"),
        ]
        for c in candidates where FileManager.default.isExecutableFile(atPath: c.path) { return c }
        throw MissingTestData(description: "the \(name) binary was not found (looked in \(candidates.map(\.path))); "
            + "build it with `swift build --build-tests`")
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): small, seedable and good enough for test data.
public struct SplitMix64: RandomNumberGenerator {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    public mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
    public mutating func int8s(_ n: Int) -> [Int8] { (0..<n).map { _ in Int8(truncatingIfNeeded: next()) } }
}
