import VTA

/// The header of a Xilinx `.bit` file: five tagged fields before the configuration data.
///
/// Layout: a 2-byte length (9) and 9 magic bytes, a 2-byte 1 and the tag `a`; then tagged fields
/// `a` design name, `b` part, `c` date, `d` time (each a 2-byte big-endian length and a
/// NUL-terminated string), and `e` with a 4-byte big-endian length followed by the data.
public struct XilinxBitHeader: Sendable, Hashable {
    /// The design name without the `;UserID=…;Version=…` suffix Vivado appends.
    public var designName: String
    /// The full `a` field (design name and tool details).
    public var designField: String
    /// The part, e.g. `7z020clg400` or `xczu3eg-sbva484-1-e`.
    public var part: String
    public var date: String
    public var time: String
    /// Where the configuration data starts in the file.
    public var dataOffset: Int
    /// Bytes of configuration data.
    public var dataLength: Int

    static let magic: [UInt8] = [0x00, 0x09, 0x0F, 0xF0, 0x0F, 0xF0, 0x0F, 0xF0, 0x0F, 0xF0, 0x00, 0x00, 0x01]

    /// Parses the header of a `.bit` file's bytes; `path` names the file in errors.
    public init(parsing bytes: [UInt8], path: String) throws(BoardLifecycleError) {
        func fail(_ reason: String) -> BoardLifecycleError { .invalidBitstream(path: path, reason: reason) }
        guard bytes.count >= Self.magic.count, Array(bytes[0..<Self.magic.count]) == Self.magic else {
            throw fail("it does not start with the Xilinx .bit header (00 09 0f f0 …); is it a .bin or .rbf?")
        }
        var at = Self.magic.count
        var fields: [UInt8: String] = [:]
        while true {
            guard at < bytes.count else { throw fail("the header ends at byte \(at) before the data field 'e'") }
            let tag = bytes[at]
            at += 1
            if tag == UInt8(ascii: "e") {
                guard at + 4 <= bytes.count else { throw fail("the data length at byte \(at) is cut off") }
                let length = bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) }
                at += 4
                guard at + length <= bytes.count else {
                    throw fail("the header announces \(length) data bytes at offset \(at) but the file has only "
                        + "\(bytes.count - at): the file is truncated")
                }
                guard length > 0, length % 4 == 0 else {
                    throw fail("the data length \(length) is not a positive multiple of 4 bytes")
                }
                guard let part = fields[UInt8(ascii: "b")] else { throw fail("the header has no part field 'b'") }
                let design = fields[UInt8(ascii: "a")] ?? ""
                designField = design
                designName = String(design.split(separator: ";", maxSplits: 1).first ?? "")
                self.part = part
                date = fields[UInt8(ascii: "c")] ?? ""
                time = fields[UInt8(ascii: "d")] ?? ""
                dataOffset = at
                dataLength = length
                return
            }
            guard (UInt8(ascii: "a")...UInt8(ascii: "d")).contains(tag) else {
                throw fail("unexpected field tag 0x\(String(tag, radix: 16)) at byte \(at - 1)")
            }
            guard at + 2 <= bytes.count else { throw fail("field '\(Character(Unicode.Scalar(tag)))' is cut off") }
            let length = Int(bytes[at]) << 8 | Int(bytes[at + 1])
            at += 2
            guard at + length <= bytes.count else { throw fail("field '\(Character(Unicode.Scalar(tag)))' runs past the end") }
            let text = bytes[at..<at + length].prefix { $0 != 0 }
            fields[tag] = String(decoding: text, as: UTF8.self)
            at += length
        }
    }

    /// The FPGA manager's `.bin` form: the data without the header, every 32-bit word byte-swapped
    /// (what `bootgen -process_bitstream bin` and PYNQ produce).
    public func binImage(of bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: dataLength)
        var i = 0
        while i < dataLength {
            let from = dataOffset + i
            out[i] = bytes[from + 3]
            out[i + 1] = bytes[from + 2]
            out[i + 2] = bytes[from + 1]
            out[i + 3] = bytes[from]
            i += 4
        }
        return out
    }
}

/// An FPGA device name reduced to what identifies the silicon: `xc7z020clg484-1` and
/// `7z020clg400` are both `7z020`; `xczu3eg-sbva484-1-e` is `zu3eg`; `xck26-sfvc784-2LV-c` is `k26`.
public enum FPGAPart {
    public static func device(_ part: String) -> String {
        var s = Substring(part.lowercased())
        for prefix in ["xc", "xa", "xq"] where s.hasPrefix(prefix) {
            s = s.dropFirst(prefix.count)
            break
        }
        s = s.prefix { $0 != "-" }
        // [digits][letters][digits], then an UltraScale+ class suffix (eg, ev, cg, dr).
        var out = ""
        var rest = s[...]
        func take(_ predicate: (Character) -> Bool) {
            let run = rest.prefix(while: predicate)
            out += run
            rest = rest.dropFirst(run.count)
        }
        take { $0.isASCII && $0.isNumber }
        take { $0.isASCII && $0.isLetter }
        take { $0.isASCII && $0.isNumber }
        for suffix in ["eg", "ev", "cg", "dr"] where rest.hasPrefix(suffix) {
            out += suffix
            break
        }
        return out.isEmpty ? part.lowercased() : out
    }

    /// Whether a bitstream's part and a board's part name the same device.
    public static func matches(_ bitstreamPart: String, _ boardPart: String) -> Bool {
        device(bitstreamPart) == device(boardPart)
    }
}

/// A bitstream file as given on the command line.
public struct BitstreamFile: Sendable, Hashable {
    public enum Format: String, Sendable, Hashable {
        /// Xilinx `.bit`: header + data in configuration-port byte order.
        case bit
        /// Xilinx `.bin` / `.bit.bin`: header stripped, words swapped; loaded as is.
        case bin
        /// Intel raw binary file; loaded as is.
        case rbf
    }

    public var path: String
    public var format: Format
    public var bytes: [UInt8]
    /// The parsed header of a `.bit` file.
    public var header: XilinxBitHeader?

    /// Reads and checks a bitstream; the format follows the extension.
    public init(path: String) throws(BoardLifecycleError) {
        let name = HostFiles.baseName(path).lowercased()
        let format: Format
        if name.hasSuffix(".bit") {
            format = .bit
        } else if name.hasSuffix(".bin") {
            format = .bin
        } else if name.hasSuffix(".rbf") {
            format = .rbf
        } else {
            throw .invalidBitstream(path: path, reason: "unknown format: the name must end in .bit, .bin (.bit.bin) or .rbf")
        }
        guard HostFiles.isRegularFile(path) else {
            throw .invalidBitstream(path: path, reason: HostFiles.exists(path) ? "not a regular file" : "no such file")
        }
        let bytes: [UInt8]
        do { bytes = try HostFiles.readAll(path) } catch { throw .invalidBitstream(path: path, reason: error.reason) }
        guard !bytes.isEmpty else { throw .invalidBitstream(path: path, reason: "the file is empty") }
        self.path = path
        self.format = format
        self.bytes = bytes
        header = format == .bit ? try XilinxBitHeader(parsing: bytes, path: path) : nil
        if format == .bin && bytes.count % 4 != 0 {
            throw .invalidBitstream(path: path, reason: "a .bin image must be whole 32-bit words; it has \(bytes.count) bytes")
        }
    }

    /// The file name without directory and bitstream extensions (`/x/vta.bit.bin` → `vta`).
    public var stem: String { HostFiles.baseName(Self.stemPath(path)) }

    /// The path without its bitstream extensions.
    static func stemPath(_ path: String) -> String {
        var p = Substring(path)
        for ext in [".bit.bin", ".bit", ".bin", ".rbf"] where p.lowercased().hasSuffix(ext) {
            p = p.dropLast(ext.count)
            break
        }
        return String(p)
    }

    /// The bytes the FPGA manager loads: the `.bin` image of a `.bit`, anything else unchanged.
    public var loadableImage: [UInt8] { header.map { $0.binImage(of: bytes) } ?? bytes }

    /// The extension of the staged file (`bin` or `rbf`).
    public var loadableExtension: String { format == .rbf ? "rbf" : "bin" }

    /// Refuses a `.bit` built for another FPGA than the board's (`.bin`/`.rbf` carry no part).
    public func checkPart(for target: TargetProfile) throws(BoardLifecycleError) {
        guard let header else { return }
        if !FPGAPart.matches(header.part, target.fpgaPart) {
            throw .partMismatch(path: path, bitstreamPart: header.part, board: target.name, boardPart: target.fpgaPart)
        }
    }
}
