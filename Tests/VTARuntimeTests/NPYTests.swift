import Foundation
import Testing
import VTATestSupport
import VTARuntime

/// Builds a .npy file by hand from the format description (version 1.0: magic, version bytes,
/// little-endian uint16 header length, an ASCII dict padded with spaces and ending in a newline so
/// the data starts at a multiple of 64; version 2.0: uint32 header length).
func handNPY(descr: String, fortran: Bool = false, shape: String, data: [UInt8], version: UInt8 = 1, alignment: Int = 64) -> [UInt8] {
    var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
    let prefix = version == 1 ? 10 : 12
    let total = prefix + header.utf8.count + 1
    header += String(repeating: " ", count: (alignment - total % alignment) % alignment) + "\n"
    let n = header.utf8.count
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    bytes += version == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)]
    return bytes + Array(header.utf8) + data
}

func leBytes(_ v: [Int32]) -> [UInt8] {
    v.flatMap { x -> [UInt8] in
        let u = UInt32(bitPattern: x)
        return [UInt8(u & 0xFF), UInt8((u >> 8) & 0xFF), UInt8((u >> 16) & 0xFF), UInt8(u >> 24)]
    }
}

@Suite("NPY files")
struct NPYTests {
    @Test("write then read round-trips int8 and int32 arrays of shape (N,) and (M,K)")
    func roundTrip() throws {
        var rng = SplitMix64(seed: 9)
        let arrays = [
            NPYArray(shape: [7], values: .int8(rng.int8s(7))),
            NPYArray(shape: [3, 5], values: .int8(rng.int8s(15))),
            NPYArray(shape: [1], values: .int8([-128])),
            NPYArray(shape: [9], values: .int32(rng.int32s(9, in: Int(Int32.min)...Int(Int32.max)))),
            NPYArray(shape: [4, 6], values: .int32(rng.int32s(24, in: -1000...1000))),
            NPYArray(shape: [200, 3], values: .int32(rng.int32s(600, in: Int(Int32.min)...Int(Int32.max)))),
        ]
        for a in arrays {
            let bytes = NPY.write(a)
            #expect(try NPY.read(bytes) == a, "shape \(a.shape)")
        }
    }

    @Test("written files follow the .npy 1.0 layout")
    func writtenLayout() throws {
        let bytes = NPY.write(NPYArray(shape: [3, 4], values: .int32(Array(-6..<6).map { Int32($0) * 1000 })))
        #expect(Array(bytes[0..<6]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59])   // \x93NUMPY
        #expect(bytes[6] == 1 && bytes[7] == 0)
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{") && header.hasSuffix("\n"))
        #expect(header.contains("'descr': '<i4'"))
        #expect(header.contains("'fortran_order': False"))
        #expect(header.contains("'shape': (3, 4)"))
        #expect(Array(bytes[(10 + headerLength)...]) == leBytes(Array(-6..<6).map { Int32($0) * 1000 }))

        let one = NPY.write(NPYArray(shape: [5], values: .int8([1, -1, 2, -2, 127])))
        let h1 = Int(one[8]) | Int(one[9]) << 8
        let header1 = String(decoding: one[10..<(10 + h1)], as: UTF8.self)
        #expect(header1.contains("'descr': '|i1'") && header1.contains("'shape': (5,)"))
        #expect(Array(one[(10 + h1)...]) == [1, 0xFF, 2, 0xFE, 127])
    }

    @Test("reads hand-built files: versions 1.0 and 2.0, 16-byte alignment, int8 spellings")
    func handBuilt() throws {
        let v32: [Int32] = [1, -2, 65536, Int32.min, Int32.max, 0]
        let a = try NPY.read(handNPY(descr: "<i4", shape: "(2, 3)", data: leBytes(v32)))
        #expect(a == NPYArray(shape: [2, 3], values: .int32(v32)))
        let b = try NPY.read(handNPY(descr: "|i1", shape: "(4,)", data: [0x80, 0x7F, 0x00, 0xFF]))
        #expect(b == NPYArray(shape: [4], values: .int8([-128, 127, 0, -1])))
        let c = try NPY.read(handNPY(descr: "<i4", shape: "(3,)", data: leBytes([7, 8, 9]), version: 2))
        #expect(c == NPYArray(shape: [3], values: .int32([7, 8, 9])))
        let d = try NPY.read(handNPY(descr: "|i1", shape: "(2, 2)", data: [1, 2, 3, 4], alignment: 16))
        #expect(d == NPYArray(shape: [2, 2], values: .int8([1, 2, 3, 4])))
    }

    @Test("rejects Fortran order, unsupported dtypes, truncated data and bad headers")
    func rejections() {
        func rejects(_ bytes: [UInt8], _ what: String) {
            do {
                let a = try NPY.read(bytes)
                Issue.record("\(what): accepted as \(a.shape)")
            } catch {
                #expect(!error.description.isEmpty)
            }
        }
        rejects(handNPY(descr: "<i4", fortran: true, shape: "(2, 2)", data: leBytes([1, 2, 3, 4])), "Fortran order")
        rejects(handNPY(descr: "<f4", shape: "(2,)", data: [0, 0, 128, 63, 0, 0, 0, 64]), "float32")
        rejects(handNPY(descr: ">i4", shape: "(1,)", data: [0, 0, 0, 1]), "big-endian int32")
        rejects(handNPY(descr: "<i8", shape: "(1,)", data: [UInt8](repeating: 0, count: 8)), "int64")
        rejects(handNPY(descr: "|u1", shape: "(1,)", data: [1]), "uint8")
        rejects(handNPY(descr: "<i4", shape: "(10,)", data: leBytes([1, 2, 3])), "truncated int32 data")
        rejects(handNPY(descr: "|i1", shape: "(3, 4)", data: [UInt8](repeating: 1, count: 11)), "truncated int8 data")
        rejects(Array(handNPY(descr: "|i1", shape: "(4,)", data: [1, 2, 3, 4]).prefix(30)), "truncated header")
        rejects([0x93] + Array("NUMPX".utf8) + [1, 0, 0, 0], "bad magic")
        rejects([], "empty file")
        rejects(Array(handNPY(descr: "|i1", shape: "(1,)", data: [1]).enumerated().map { $0.offset == 6 ? 9 : $0.element }), "version 9")
    }

    static let numpyAvailable: Bool = {
        guard let p = try? runPython("import numpy") else { return false }
        return p.status == 0
    }()

    static func runPython(_ script: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("cross-check with numpy's own files", .enabled(if: numpyAvailable, "python3 with numpy is not installed"))
    func numpyCrossCheck() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vta-npy-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // numpy writes: int8 (3, 5) = arange(15) - 7, int32 (6,) with extremes.
        let gen = try Self.runPython("""
            import numpy as np
            np.save('\(dir.path)/a.npy', (np.arange(15, dtype=np.int8) - 7).reshape(3, 5))
            np.save('\(dir.path)/b.npy', np.array([0, -1, 2**31 - 1, -2**31, 123456, -654321], dtype='<i4'))
            np.save('\(dir.path)/f.npy', np.asfortranarray(np.arange(6, dtype='<i4').reshape(2, 3)))
            np.save('\(dir.path)/g.npy', np.arange(3, dtype='<f8'))
            """)
        try #require(gen.status == 0)
        func file(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: dir.appendingPathComponent(name))) }
        #expect(try NPY.read(file("a.npy")) == NPYArray(shape: [3, 5], values: .int8((0..<15).map { Int8($0 - 7) })))
        #expect(try NPY.read(file("b.npy")) == NPYArray(shape: [6], values: .int32([0, -1, Int32.max, Int32.min, 123456, -654321])))
        #expect(throws: NPYError.self) { try NPY.read(file("f.npy")) }
        #expect(throws: NPYError.self) { try NPY.read(file("g.npy")) }

        // numpy reads ours.
        try Data(NPY.write(NPYArray(shape: [2, 3], values: .int32([1, -2, 3, -4, 5, Int32.min])))).write(to: dir.appendingPathComponent("c.npy"))
        try Data(NPY.write(NPYArray(shape: [4], values: .int8([-128, 0, 1, 127])))).write(to: dir.appendingPathComponent("d.npy"))
        let check = try Self.runPython("""
            import numpy as np
            c = np.load('\(dir.path)/c.npy'); d = np.load('\(dir.path)/d.npy')
            print(c.dtype.str, c.shape, c.flatten().tolist(), d.dtype.str, d.shape, d.tolist())
            """)
        #expect(check.status == 0)
        #expect(check.output.trimmingCharacters(in: .whitespacesAndNewlines)
                == "<i4 (2, 3) [1, -2, 3, -4, 5, -2147483648] |i1 (4,) [-128, 0, 1, 127]")
    }
}
