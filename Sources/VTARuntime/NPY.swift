/// NumPy `.npy` files (format 1.0–3.0) holding little-endian int8 or int32 arrays in C order:
/// what `vtactl matmul` reads and writes.
public struct NPYArray: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        case int8([Int8])
        case int32([Int32])
    }

    public var shape: [Int]
    public var values: Values

    public init(shape: [Int], values: Values) {
        self.shape = shape
        self.values = values
    }

    public var count: Int { shape.reduce(1, *) }
}

/// Why a `.npy` file could not be read.
public struct NPYError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}

public enum NPY {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Parses a `.npy` file.
    public static func read(_ bytes: [UInt8]) throws(NPYError) -> NPYArray {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw NPYError("not a .npy file (bad magic)") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw NPYError("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw NPYError("unsupported .npy version \(major)")
        }
        guard headerLength <= 65536, headerStart + headerLength <= bytes.count else { throw NPYError("truncated header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = value(of: "descr", in: header) else { throw NPYError("header has no 'descr'") }
        guard let order = value(of: "fortran_order", in: header) else { throw NPYError("header has no 'fortran_order'") }
        guard order == "False" else { throw NPYError("Fortran-order arrays are not supported; save with C order") }
        guard let shapeText = value(of: "shape", in: header) else { throw NPYError("header has no 'shape'") }
        var shape: [Int] = []
        for part in shapeText.trimmingCharacters(in: "()").split(separator: ",") {
            let t = part.trimmingCharacters(in: " ")
            if t.isEmpty { continue }
            guard let n = Int(t), n >= 0, n <= 1 << 31 else { throw NPYError("bad shape \(shapeText)") }
            shape.append(n)
        }
        let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        let data = headerStart + headerLength
        let quoted = descr.trimmingCharacters(in: "'\"")
        switch quoted {
        case "|i1", "<i1", "i1":
            guard bytes.count - data >= count else { throw NPYError("file has \(bytes.count - data) data bytes, shape needs \(count)") }
            return NPYArray(shape: shape, values: .int8(bytes[data..<(data + count)].map { Int8(bitPattern: $0) }))
        case "<i4":
            guard count <= (bytes.count - data) / 4 else { throw NPYError("file has \(bytes.count - data) data bytes, shape needs \(count * 4)") }
            var v = [Int32](repeating: 0, count: count)
            for i in 0..<count {
                let o = data + 4 * i
                v[i] = Int32(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
            }
            return NPYArray(shape: shape, values: .int32(v))
        default:
            throw NPYError("dtype \(quoted) is not supported; use int8 ('|i1') or little-endian int32 ('<i4')")
        }
    }

    /// Serialises an array as `.npy` version 1.0. The header's shape is the array's shape when it
    /// matches the number of values; otherwise the values are written as a flat 1-D array, so the
    /// file always describes its data truthfully.
    public static func write(_ array: NPYArray) -> [UInt8] {
        var array = array
        let valueCount: Int = switch array.values {
        case .int8(let v): v.count
        case .int32(let v): v.count
        }
        if array.shape.isEmpty || array.shape.contains(where: { $0 < 0 }) || array.count != valueCount { array.shape = [valueCount] }
        let descr: String
        var payload: [UInt8] = []
        switch array.values {
        case .int8(let v):
            descr = "|i1"
            payload = v.map { UInt8(bitPattern: $0) }
        case .int32(let v):
            descr = "<i4"
            payload.reserveCapacity(v.count * 4)
            for x in v {
                let u = UInt32(bitPattern: x)
                payload += [UInt8(truncatingIfNeeded: u), UInt8(truncatingIfNeeded: u >> 8), UInt8(truncatingIfNeeded: u >> 16), UInt8(truncatingIfNeeded: u >> 24)]
            }
        }
        let shapeText = array.shape.count == 1 ? "(\(array.shape[0]),)" : "(" + array.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad so that the data starts on a 64-byte boundary, ending the header with a newline.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let n = header.utf8.count
        return magic + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + payload
    }

    /// The index just past the first occurrence of `needle`.
    private static func find(_ needle: String, in hay: String) -> String.Index? {
        let n = Array(needle), h = Array(hay)
        guard n.count <= h.count else { return nil }
        for i in 0...(h.count - n.count) where Array(h[i..<(i + n.count)]) == n {
            return hay.index(hay.startIndex, offsetBy: i + n.count)
        }
        return nil
    }

    /// The text after `'key':` up to the next top-level comma (or the closing parenthesis of a tuple).
    private static func value(of key: String, in header: String) -> String? {
        guard let end = find("'\(key)':", in: header) ?? find("\"\(key)\":", in: header) else { return nil }
        var rest = header[end...].drop { $0 == " " }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        if let comma = rest.firstIndex(where: { $0 == "," || $0 == "}" }) { rest = rest[..<comma] }
        return rest.trimmingCharacters(in: " ")
    }
}

extension StringProtocol {
    /// Trims any of the given characters from both ends (no Foundation).
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
