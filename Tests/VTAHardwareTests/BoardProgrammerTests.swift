import Foundation
import Testing
import VTA
import VTAHardware
import VTAHardwareTestSupport

/// The whole `vtactl board program` sequence on a fake Pynq-Z2 with a fake kernel.
@Suite struct BoardProgrammerTests {
    struct Fixture {
        let scratch: ScratchDirectory
        let tree: FakeBoardTree
        let kernel: FakeKernel
        var roots: SystemRoots { tree.roots }

        init(firmware: FakeKernel.Firmware = .operate) throws {
            scratch = try ScratchDirectory("vta-program")
            tree = try FakeBoardTree.pynqZ2(at: scratch.path + "/root")
            try tree.mountConfigfs()
            kernel = try FakeKernel(tree: tree, firmware: firmware)
        }

        func cleanup() {
            kernel.stop()
            scratch.remove()
        }

        func write(_ name: String, _ bytes: [UInt8], in dir: String? = nil) throws -> String {
            let path = (dir ?? scratch.path) + "/" + name
            try FileManager.default.createDirectory(atPath: dir ?? scratch.path, withIntermediateDirectories: true)
            try FakeBitstream.write(bytes, to: path)
            return path
        }

        var log: [String] { kernel.log.withLock { $0 } }
        var staged: Bool { FileManager.default.fileExists(atPath: roots.firmware + "/vta") }
    }

    @Test func bitstreamDescriptorAndOverlayInTheSafeOrder() throws {
        let f = try Fixture()
        defer { f.cleanup() }
        let bit = try f.write("design.bit", FakeBitstream.bit())
        try BoardDescriptor.write(for: try HardwareConfig.defaults(target: "pynq"), bitstreamAt: bit)
        let dtbo = try f.write("design.dtbo", FakeBitstream.dtbo())
        // The previous design's overlay is still applied (configfs shows it as an empty directory).
        let old = try DeviceTreeOverlay(name: "vta", roots: f.roots)
        try FileManager.default.createDirectory(atPath: old.directory, withIntermediateDirectories: false)

        let result = try BoardProgrammer(roots: f.roots).program(BoardProgramRequest(bitstream: bit, overlay: dtbo))
        #expect(result.board?.name == "pynq")  // from the descriptor
        #expect(result.firmwareName == "vta/design.bin")
        #expect(result.descriptor?.bitstream == "design.bit")
        #expect(result.lines.contains { $0.hasSuffix("pynq_1x16_i8w8a32_15_15_18_17, 100 MHz, SHA-256 verified") })
        #expect(result.lines.contains("part matches board pynq (xc7z020clg484-1)"))
        #expect(result.lines.contains("removed the previous overlay vta"))
        #expect(result.lines.contains("overlay vta applied from \(dtbo)"))
        // The old overlay was gone before the load; the new one was applied after it.
        #expect(f.log == ["load vta/design.bin (64 bytes) overlays []", "apply vta (128 bytes)"])
        #expect(old.status == "applied")
    }

    @Test func aDesignNameIsLookedUpInTheFirmwareDirectory() throws {
        let f = try Fixture()
        defer { f.cleanup() }
        let dir = f.roots.firmware + "/vta"
        let bit = try f.write("1x16_i8w8a32_15_15_18_17.bit", FakeBitstream.bit(), in: dir)
        let dtbo = try f.write("1x16_i8w8a32_15_15_18_17.dtbo", FakeBitstream.dtbo(), in: dir)
        let programmer = BoardProgrammer(roots: f.roots)
        #expect(programmer.resolve("1x16_i8w8a32_15_15_18_17") == (bit, dtbo) as (String, String?))
        #expect(programmer.resolve("other") == ("other", nil) as (String, String?))

        let result = try programmer.program(BoardProgramRequest(bitstream: "1x16_i8w8a32_15_15_18_17", board: "pynq"))
        #expect(result.overlay == dtbo)
        #expect(result.lines.contains { $0.hasPrefix("no board descriptor at \(dir)/1x16_i8w8a32_15_15_18_17.vta.json") })
        #expect(f.log == ["load vta/1x16_i8w8a32_15_15_18_17.bin (64 bytes) overlays []", "apply vta (128 bytes)"])
        // Loading the staged .bin again does not copy it onto itself (same file, same inode).
        let staged = dir + "/1x16_i8w8a32_15_15_18_17.bin"
        let inode = try FileManager.default.attributesOfItem(atPath: staged)[.systemFileNumber] as? Int
        try f.tree.detachOverlayAttributes("vta")
        let again = try programmer.program(BoardProgramRequest(bitstream: staged))
        #expect(again.firmwareName == "vta/1x16_i8w8a32_15_15_18_17.bin")
        #expect(try FileManager.default.attributesOfItem(atPath: staged)[.systemFileNumber] as? Int == inode)
    }

    @Test func refusalsHappenBeforeTheSystemChanges() throws {
        let f = try Fixture()
        defer { f.cleanup() }
        let programmer = BoardProgrammer(roots: f.roots)
        let bit = try f.write("design.bit", FakeBitstream.bit())
        try BoardDescriptor.write(for: try HardwareConfig.defaults(target: "pynq"), bitstreamAt: bit)

        // The descriptor is for pynq, the user says ultra96.
        #expect(throws: BoardLifecycleError.boardMismatch(descriptor: f.scratch.path + "/design.vta.json",
                                                          descriptorTarget: "pynq", board: "ultra96")) {
            try programmer.program(BoardProgramRequest(bitstream: bit, board: "ultra96"))
        }
        // A simulator is not a board.
        #expect(throws: BoardLifecycleError.unknownBoard(name: "sim", known: ["pynq", "ultra96", "zcu104", "de10nano"])) {
            try programmer.program(BoardProgramRequest(bitstream: bit, board: "sim"))
        }
        // A bitstream for another FPGA.
        let zu3eg = try f.write("zu3eg.bit", FakeBitstream.bit(part: "xczu3eg-sbva484-1-e"))
        #expect(throws: BoardLifecycleError.partMismatch(path: zu3eg, bitstreamPart: "xczu3eg-sbva484-1-e", board: "pynq",
                                                         boardPart: "xc7z020clg484-1")) {
            try programmer.program(BoardProgramRequest(bitstream: zu3eg, board: "pynq"))
        }
        // A bitstream that no longer matches its descriptor.
        try FakeBitstream.write(FakeBitstream.bit(words: FakeBitstream.words(extra: 2)), to: bit)
        do throws(BoardLifecycleError) {
            _ = try programmer.program(BoardProgramRequest(bitstream: bit))
            Issue.record("a bitstream with a stale descriptor was loaded")
        } catch {
            guard case .descriptor(.bitstreamMismatch) = error else { Issue.record("unexpected \(error)"); return }
        }
        // A broken overlay is found before programming, not after.
        let plain = try f.write("plain.bin", FakeBitstream.bin())
        let bad = try f.write("bad.dtbo", [1, 2, 3])
        #expect(throws: BoardLifecycleError.self) { try programmer.program(BoardProgramRequest(bitstream: plain, overlay: bad)) }

        #expect(!f.staged)
        #expect(f.log.isEmpty)
    }

    @Test func aFailedLoadLeavesNoOverlayApplied() throws {
        let f = try Fixture(firmware: .fail(state: "write error", status: "reconfig incompatible image"))
        defer { f.cleanup() }
        let bin = try f.write("design.bin", FakeBitstream.bin())
        let dtbo = try f.write("design.dtbo", FakeBitstream.dtbo())
        #expect(throws: BoardLifecycleError.programmingFailed(manager: f.tree.fpgaManagerPath(), state: "write error",
                                                              status: "reconfig incompatible image", detail: "")) {
            try BoardProgrammer(roots: f.roots).program(BoardProgramRequest(bitstream: bin, overlay: dtbo))
        }
        #expect(!(try DeviceTreeOverlay(roots: f.roots).exists))
        #expect(f.log == ["load vta/design.bin (64 bytes) overlays []"])
    }

    @Test func withoutRootTheRequestIsRefused() throws {
        let f = try Fixture()
        defer { f.cleanup() }
        #expect(chmod(f.tree.fpgaManagerPath() + "/firmware", 0o400) == 0)
        let bin = try f.write("design.bin", FakeBitstream.bin())
        let roots = f.roots
        let error = Unprivileged.run { () -> BoardLifecycleError? in
            do throws(BoardLifecycleError) {
                _ = try BoardProgrammer(roots: roots).program(BoardProgramRequest(bitstream: bin))
                return nil
            } catch {
                return error
            }
        }
        #expect(error?.description.hasPrefix("not permitted to write \(f.tree.fpgaManagerPath())/firmware") == true)
        #expect(!f.staged)
        #expect(f.log.isEmpty)
    }
}
