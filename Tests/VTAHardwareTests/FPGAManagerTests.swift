import Foundation
import Testing
import VTA
@testable import VTAHardware
import VTAHardwareTestSupport

/// Loading through the FPGA manager's sysfs attributes, with a fake kernel thread on the tree.
@Suite struct FPGAManagerTests {
    struct Fixture {
        let scratch: ScratchDirectory
        let tree: FakeBoardTree
        var roots: SystemRoots { tree.roots }
        var manager: String { tree.fpgaManagerPath() }

        init(_ board: (String) throws -> FakeBoardTree = { try .pynqZ2(at: $0) }) throws {
            scratch = try ScratchDirectory("vta-fpga")
            tree = try board(scratch.path + "/root")
        }

        /// A `.bit` (or other) file outside the tree.
        func file(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = scratch.path + "/" + name
            try FakeBitstream.write(bytes, to: path)
            return path
        }

        func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }
    }

    @Test func bitIsStagedAsBinAndLoaded() throws {
        let f = try Fixture()
        defer { f.scratch.remove() }
        let kernel = try FakeKernel(tree: f.tree)
        defer { kernel.stop() }
        try f.tree.write(f.manager + "/flags", "10\n")  // left over from a partial load
        let bitstream = try BitstreamFile(path: try f.file("1x16_i8w8a32_15_15_18_17.bit", FakeBitstream.bit()))
        let manager = try FPGAManager.find(roots: f.roots)
        let name = try manager.program(bitstream, target: .pynq)
        #expect(name == "vta/1x16_i8w8a32_15_15_18_17.bin")
        let staged = f.roots.firmware + "/" + name
        #expect(FileManager.default.contents(atPath: staged).map { [UInt8]($0) } == FakeBitstream.bin())
        #expect(kernel.loadedImages.withLock { $0[name] } == FakeBitstream.bin())
        #expect(f.read(f.manager + "/flags") == "0")
        #expect(manager.state == "operating")
        #expect(FileManager.default.fileExists(atPath: f.roots.run + "/lock/vta-fpga.lock"))
        // No temporary staging files are left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.roots.firmware + "/vta") == ["1x16_i8w8a32_15_15_18_17.bin"])
    }

    @Test func rbfIsLoadedAsItIs() throws {
        let f = try Fixture()
        defer { f.scratch.remove() }
        let kernel = try FakeKernel(tree: f.tree)
        defer { kernel.stop() }
        let bytes: [UInt8] = [0xFF, 0xFF, 0x6A, 0x00, 0x01]
        let name = try FPGAManager.find(roots: f.roots).program(try BitstreamFile(path: try f.file("vta.rbf", bytes)), target: nil)
        #expect(name == "vta/vta.rbf")
        #expect(kernel.loadedImages.withLock { $0[name] } == bytes)
    }

    @Test func aFailedLoadReportsStateAndStatus() throws {
        let f = try Fixture()
        defer { f.scratch.remove() }
        let kernel = try FakeKernel(tree: f.tree, firmware: .fail(state: "write error", status: "reconfig CRC error"))
        defer { kernel.stop() }
        let bitstream = try BitstreamFile(path: try f.file("bad.bit", FakeBitstream.bit()))
        do throws(BoardLifecycleError) {
            try FPGAManager.find(roots: f.roots).program(bitstream, target: .pynq)
            Issue.record("a failed load was reported as success")
        } catch {
            guard case .programmingFailed(let manager, let state, let status, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(manager == f.manager)
            #expect(state == "write error")
            #expect(status == "reconfig CRC error")
            #expect(error.description.contains("state \"write error\", status \"reconfig CRC error\""))
        }
    }

    @Test func aLoadThatNeverFinishesTimesOut() throws {
        let f = try Fixture()
        defer { f.scratch.remove() }
        let kernel = try FakeKernel(tree: f.tree, firmware: .hang)
        defer { kernel.stop() }
        let bitstream = try BitstreamFile(path: try f.file("slow.bin", FakeBitstream.bin()))
        #expect(throws: BoardLifecycleError.programmingFailed(manager: f.manager, state: "write init", status: "",
                                                              detail: "still not operating after 0.3 seconds")) {
            try FPGAManager.find(roots: f.roots).program(bitstream, target: nil, timeout: .milliseconds(300))
        }
        // The kernel did receive the request.
        #expect(kernel.log.withLock { $0.first?.hasPrefix("load vta/slow.bin") } == true)
    }

    @Test func wrongPartIsRefusedBeforeAnythingChanges() throws {
        let f = try Fixture()
        defer { f.scratch.remove() }
        let kernel = try FakeKernel(tree: f.tree)
        defer { kernel.stop() }
        let bitstream = try BitstreamFile(path: try f.file("zu3eg.bit", FakeBitstream.bit(part: "xczu3eg-sbva484-1-e")))
        #expect(throws: BoardLifecycleError.self) { try FPGAManager.find(roots: f.roots).program(bitstream, target: .pynq) }
        #expect(!FileManager.default.fileExists(atPath: f.roots.firmware + "/vta"))
        #expect(kernel.log.withLock { $0 }.isEmpty)
    }

    @Test func mainlineManagersAndMissingManagersAreExplained() throws {
        let f = try Fixture { root in
            let tree = try FakeBoardTree(root: root)
            try tree.addFPGAManager(sysname: "fpga0", name: "Xilinx Zynq FPGA Manager", busPath: "devices/soc0/amba",
                                    platformDevice: "f8007000.devcfg", compatible: ["xlnx,zynq-devcfg-1.0"],
                                    driver: "fpga_manager_zynq", state: "operating", xilinxAttributes: false)
            return tree
        }
        defer { f.scratch.remove() }
        let manager = try FPGAManager.find(roots: f.roots)
        #expect(!manager.canLoadFirmware)
        #expect(throws: BoardLifecycleError.noFirmwareAttribute(manager: f.manager)) { try manager.checkPermissions() }
        #expect(BoardLifecycleError.noFirmwareAttribute(manager: f.manager).description.contains("firmware-name"))

        let empty = try ScratchDirectory("vta-nofpga")
        defer { empty.remove() }
        let bare = try FakeBoardTree(root: empty.path)
        #expect(throws: BoardLifecycleError.noFPGAManager(classDirectory: bare.roots.sys + "/class/fpga_manager")) {
            try FPGAManager.find(roots: bare.roots)
        }
    }

    @Test func withoutRootNothingIsWrittenAndTheRefusalSaysWhy() throws {
        let f = try Fixture()
        defer { f.scratch.remove() }
        // sysfs attributes belong to root; an ordinary user may not write them.
        #expect(chmod(f.manager + "/firmware", 0o400) == 0)
        #expect(chmod(f.manager + "/flags", 0o444) == 0)
        let path = try f.file("vta.bit", FakeBitstream.bit())
        let roots = f.roots
        let outcome = Unprivileged.run { () -> BoardLifecycleError? in
            do throws(BoardLifecycleError) {
                let bitstream = try BitstreamFile(path: path)
                try FPGAManager.find(roots: roots).program(bitstream, target: .pynq)
                return nil
            } catch {
                return error
            }
        }
        let error = try #require(outcome, "an unprivileged load was not refused")
        guard case .notPermitted(let refused, _, let action) = error else {
            Issue.record("unexpected error \(error)")
            return
        }
        #expect(refused == f.manager + "/firmware")
        #expect(action == "loading a bitstream")
        #expect(error.description.contains("needs root"))
        #expect(!FileManager.default.fileExists(atPath: roots.firmware + "/vta"))
        #expect(f.read(f.manager + "/state") == "operating\n")
    }

    @Test func aHeldLockMakesALoadWaitAndGiveUp() throws {
        let f = try Fixture()
        defer { f.scratch.remove() }
        let held = try FPGALock.acquire(roots: f.roots)
        let bitstream = try BitstreamFile(path: try f.file("vta.bin", FakeBitstream.bin()))
        #expect(throws: BoardLifecycleError.lockBusy(path: held.path, waited: .milliseconds(200))) {
            try FPGAManager.find(roots: f.roots).program(bitstream, target: nil, timeout: .milliseconds(200))
        }
        #expect(!FileManager.default.fileExists(atPath: f.roots.firmware + "/vta"))
        withExtendedLifetime(held) {}
    }
}
