import Foundation

/// Small bitstream and overlay files with real headers, for the programming tests.
public enum FakeBitstream {
    /// Configuration words: dummy padding, the bus-width pattern, the sync word 0xAA995566 and a
    /// few NOOPs, then `extra` counting words; written big-endian as in a `.bit`.
    public static func words(extra: Int = 8) -> [UInt32] {
        [0xFFFF_FFFF, 0xFFFF_FFFF, 0x0000_00BB, 0x1122_0044, 0xFFFF_FFFF, 0xAA99_5566, 0x2000_0000, 0x2000_0000]
            + (0..<UInt32(extra)).map { 0x3000_0000 | $0 }
    }

    /// A Xilinx `.bit`: the 13-byte preamble, fields a–d (NUL-terminated strings with 2-byte
    /// big-endian lengths) and e (4-byte length) with the words big-endian.
    public static func bit(design: String = "vta_wrapper;UserID=0XFFFFFFFF;Version=2020.1", part: String = "7z020clg400",
                           date: String = "2024/05/06", time: String = "12:34:56", words: [UInt32] = words()) -> [UInt8] {
        var out: [UInt8] = [0x00, 0x09, 0x0F, 0xF0, 0x0F, 0xF0, 0x0F, 0xF0, 0x0F, 0xF0, 0x00, 0x00, 0x01]
        for (tag, text) in [("a", design), ("b", part), ("c", date), ("d", time)] {
            let bytes = Array(text.utf8) + [0]
            out.append(UInt8(ascii: Unicode.Scalar(tag)!))
            out += [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)]
            out += bytes
        }
        out.append(UInt8(ascii: "e"))
        let length = words.count * 4
        out += [UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        for w in words { out += [UInt8(w >> 24), UInt8(w >> 16 & 0xFF), UInt8(w >> 8 & 0xFF), UInt8(w & 0xFF)] }
        return out
    }

    /// The same words as the FPGA manager wants them (`.bin`): little-endian.
    public static func bin(words: [UInt32] = words()) -> [UInt8] {
        words.flatMap { w in [UInt8(w & 0xFF), UInt8(w >> 8 & 0xFF), UInt8(w >> 16 & 0xFF), UInt8(w >> 24)] }
    }

    /// A minimal flattened device tree blob: the 40-byte header with magic 0xd00dfeed, then
    /// `payload` bytes (the kernel is not asked to parse it here).
    public static func dtbo(payload: Int = 88) -> [UInt8] {
        let total = 40 + payload
        func be(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        var out = [0xD0, 0x0D, 0xFE, 0xED] + be(total) + be(40) + be(total) + be(40) + be(17) + be(16) + be(0) + be(0) + be(0)
        out += (0..<payload).map { UInt8($0 & 0xFF) }
        return out
    }

    /// Writes bytes to a file.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}
