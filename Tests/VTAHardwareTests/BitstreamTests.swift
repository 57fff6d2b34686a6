import Foundation
import Testing
import VTA
import VTAHardware
import VTAHardwareTestSupport

/// Xilinx `.bit` headers, the `.bin` conversion and the part check.
@Suite struct BitstreamTests {
    @Test func headerFieldsAreRead() throws {
        let bytes = FakeBitstream.bit()
        let header = try XilinxBitHeader(parsing: bytes, path: "x.bit")
        #expect(header.designName == "vta_wrapper")
        #expect(header.designField == "vta_wrapper;UserID=0XFFFFFFFF;Version=2020.1")
        #expect(header.part == "7z020clg400")
        #expect(header.date == "2024/05/06")
        #expect(header.time == "12:34:56")
        #expect(header.dataLength == FakeBitstream.words().count * 4)
        #expect(header.dataOffset + header.dataLength == bytes.count)
    }

    @Test func binImageIsTheDataWithEveryWordSwapped() throws {
        let bytes = FakeBitstream.bit()
        let header = try XilinxBitHeader(parsing: bytes, path: "x.bit")
        let image = header.binImage(of: bytes)
        #expect(image == FakeBitstream.bin())
        // The sync word 0xAA995566 appears little-endian in the .bin.
        #expect(image[20..<24] == [0x66, 0x55, 0x99, 0xAA])
    }

    @Test func damagedHeadersAreRefusedWithTheReason() throws {
        let good = FakeBitstream.bit()
        #expect(throws: BoardLifecycleError.self) { try XilinxBitHeader(parsing: Array(good.dropLast(4)), path: "t.bit") }
        do throws(BoardLifecycleError) {
            _ = try XilinxBitHeader(parsing: Array(good.dropLast(4)), path: "t.bit")
        } catch {
            #expect(error.description.hasPrefix("bitstream t.bit: the header announces 64 data bytes"))
            #expect(error.description.hasSuffix("the file is truncated"))
        }
        do throws(BoardLifecycleError) {
            _ = try XilinxBitHeader(parsing: FakeBitstream.bin(), path: "raw.bit")
            Issue.record("a .bin image was taken for a .bit")
        } catch {
            #expect(error == .invalidBitstream(path: "raw.bit",
                                               reason: "it does not start with the Xilinx .bit header (00 09 0f f0 …); is it a .bin or .rbf?"))
        }
        var odd = FakeBitstream.bit(words: [0xAA99_5566])
        odd.removeLast()
        odd[odd.count - 4] = 3  // the length's low byte: announce the 3 bytes that are left
        #expect(throws: BoardLifecycleError.invalidBitstream(path: "odd.bit",
                                                             reason: "the data length 3 is not a positive multiple of 4 bytes")) {
            try XilinxBitHeader(parsing: odd, path: "odd.bit")
        }
    }

    @Test func partNamesReduceToTheDevice() {
        #expect(FPGAPart.device("xc7z020clg484-1") == "7z020")
        #expect(FPGAPart.device("7z020clg400") == "7z020")
        #expect(FPGAPart.device("xczu3eg-sbva484-1-e") == "zu3eg")
        #expect(FPGAPart.device("xczu7ev-ffvc1156-2-e") == "zu7ev")
        #expect(FPGAPart.device("xck26-sfvc784-2LV-c") == "k26")
        #expect(FPGAPart.matches("7z020clg400", TargetProfile.pynq.fpgaPart))
        #expect(!FPGAPart.matches("xczu3eg-sbva484-1-e", TargetProfile.pynq.fpgaPart))
        #expect(!FPGAPart.matches("7z010clg400", TargetProfile.pynq.fpgaPart))
    }

    @Test func filesAreCheckedByFormat() throws {
        let scratch = try ScratchDirectory("vta-bitstream")
        defer { scratch.remove() }
        let bit = scratch.path + "/design.bit"
        try FakeBitstream.write(FakeBitstream.bit(part: "xczu3eg-sbva484-1-e"), to: bit)
        let file = try BitstreamFile(path: bit)
        #expect(file.format == .bit)
        #expect(file.stem == "design")
        #expect(file.loadableImage == FakeBitstream.bin())
        #expect(throws: BoardLifecycleError.partMismatch(path: bit, bitstreamPart: "xczu3eg-sbva484-1-e", board: "pynq",
                                                         boardPart: "xc7z020clg484-1")) {
            try file.checkPart(for: .pynq)
        }
        try file.checkPart(for: .ultra96)
        let message = BoardLifecycleError.partMismatch(path: bit, bitstreamPart: "xczu3eg-sbva484-1-e", board: "pynq",
                                                       boardPart: "xc7z020clg484-1").description
        #expect(message.contains("built for xczu3eg-sbva484-1-e (zu3eg), but board pynq has xc7z020clg484-1 (7z020)"))

        let binPath = scratch.path + "/design.bit.bin"
        try FakeBitstream.write(FakeBitstream.bin(), to: binPath)
        let bin = try BitstreamFile(path: binPath)
        #expect(bin.format == .bin && bin.stem == "design" && bin.loadableImage == FakeBitstream.bin())
        try bin.checkPart(for: .pynq)  // no header, nothing to check

        let rbf = scratch.path + "/vta.rbf"
        try FakeBitstream.write([1, 2, 3], to: rbf)
        let intel = try BitstreamFile(path: rbf)
        #expect(intel.loadableExtension == "rbf" && intel.loadableImage == [1, 2, 3])

        try FakeBitstream.write([1, 2, 3], to: scratch.path + "/short.bin")
        #expect(throws: BoardLifecycleError.invalidBitstream(path: scratch.path + "/short.bin",
                                                             reason: "a .bin image must be whole 32-bit words; it has 3 bytes")) {
            try BitstreamFile(path: scratch.path + "/short.bin")
        }
        #expect(throws: BoardLifecycleError.invalidBitstream(path: scratch.path + "/none.bit", reason: "no such file")) {
            try BitstreamFile(path: scratch.path + "/none.bit")
        }
        try FakeBitstream.write([1], to: scratch.path + "/design.xclbin")
        #expect(throws: BoardLifecycleError.self) { try BitstreamFile(path: scratch.path + "/design.xclbin") }
    }
}
