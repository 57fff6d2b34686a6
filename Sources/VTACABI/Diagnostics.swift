import VTA
import VTARuntime

#if canImport(Glibc)
import Glibc
#endif

/// Why a C entry point refused a call. The C signatures carry at most an error code, so the
/// text goes to standard error (see `Diagnostics.report`).
enum CABIError: Error, CustomStringConvertible {
    /// A NULL, unknown or already freed handle or pointer.
    case badHandle(String)
    /// An argument outside what the call accepts (size, queue id, memory type, ...).
    case invalidArgument(String)
    /// The backend could not be opened (environment, configuration, daemon).
    case backend(String)
    /// The runtime refused or failed the operation.
    case runtime(RuntimeError)
    /// The device refused or failed the operation.
    case device(DeviceError)
    /// A run did not finish within the time `wait_cycles` allowed.
    case timedOut(String)

    var description: String {
        switch self {
        case .badHandle(let s), .invalidArgument(let s), .backend(let s), .timedOut(let s): return s
        case .runtime(let e): return e.description
        case .device(let e): return e.description
        }
    }
}

enum Diagnostics {
    /// Writes `libvta: <function>: <message>` as one line on standard error (newlines inside the
    /// message become "; "), so that a failed call is visible even where the C signature returns
    /// nothing.
    static func report(_ function: StaticString, _ message: String) {
        var text = message
        if text.contains("\n") { text = text.split(separator: "\n", omittingEmptySubsequences: true).joined(separator: "; ") }
        // One write(2) per line, so that lines from several threads do not interleave.
        var line = Array("libvta: \(function): \(text)\n".utf8)
        line.withUnsafeMutableBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(STDERR_FILENO, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { break }
                done += n
            }
        }
    }
}

/// Runs the body of a C entry point: an error is reported and turned into the C failure value.
@inline(__always)
func cEntry<R>(_ function: StaticString, failure: R, _ body: () throws(CABIError) -> R) -> R {
    do {
        return try body()
    } catch {
        Diagnostics.report(function, error.description)
        return failure
    }
}
