import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Logs one line per event to stderr. Under systemd (JOURNAL_STREAM set) each line starts with a
/// `<N>` syslog priority prefix, which journald turns into the entry's priority; otherwise lines
/// carry a timestamp and the level.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String
    let journal: Bool

    public init(label: String, journal: Bool) {
        self.label = label
        self.journal = journal
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let meta = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let line: String
        if journal {
            let priority = switch event.level {
            case .trace, .debug: 7
            case .info: 6
            case .notice: 5
            case .warning: 4
            case .error: 3
            case .critical: 2
            }
            line = "<\(priority)>\(event.message)\(meta)\n"
        } else {
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            let ms = String(ts.tv_nsec / 1_000_000)
            line = "\(ts.tv_sec).\(String(repeating: "0", count: 3 - ms.count))\(ms) \(event.level) \(label): \(event.message)\(meta)\n"
        }
        // write(2) rather than stdio: one syscall per line, no shared FILE state.
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
