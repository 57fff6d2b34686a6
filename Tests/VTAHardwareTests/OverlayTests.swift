import Foundation
import Testing
import VTA
import VTAHardware
import VTAHardwareTestSupport

/// Device-tree overlays through a fake configfs, with a fake kernel applying them.
@Suite struct OverlayTests {
    func withTree(configfs: Bool = true, _ body: (FakeBoardTree, ScratchDirectory) throws -> Void) throws {
        let scratch = try ScratchDirectory("vta-overlay")
        defer { scratch.remove() }
        let tree = try FakeBoardTree.pynqZ2(at: scratch.path + "/root")
        if configfs { try tree.mountConfigfs() }
        try body(tree, scratch)
    }

    @Test func overlayIsWrittenInOneGoAndApplied() throws {
        try withTree { tree, scratch in
            let kernel = try FakeKernel(tree: tree)
            defer { kernel.stop() }
            let dtbo = scratch.path + "/vta.dtbo"
            let blob = FakeBitstream.dtbo()
            try FakeBitstream.write(blob, to: dtbo)
            let overlay = try DeviceTreeOverlay(name: "vta", roots: tree.roots)
            #expect(!overlay.exists)
            try overlay.apply(dtbo: dtbo)
            #expect(overlay.exists)
            #expect(overlay.status == "applied")
            #expect(FileManager.default.contents(atPath: overlay.directory + "/dtbo").map { [UInt8]($0) } == blob)
            #expect(kernel.log.withLock { $0 } == ["apply vta (\(blob.count) bytes)"])
            #expect(throws: BoardLifecycleError.overlayExists(name: "vta", path: overlay.directory)) {
                try overlay.apply(dtbo: dtbo)
            }
        }
    }

    @Test func anOverlayLeftUnappliedIsAnErrorWithItsStatus() throws {
        try withTree { tree, scratch in
            let kernel = try FakeKernel(tree: tree, overlays: .leaveUnapplied)
            defer { kernel.stop() }
            let dtbo = scratch.path + "/vta.dtbo"
            try FakeBitstream.write(FakeBitstream.dtbo(), to: dtbo)
            let overlay = try DeviceTreeOverlay(roots: tree.roots)
            do throws(BoardLifecycleError) {
                try overlay.apply(dtbo: dtbo, timeout: .milliseconds(300))
                Issue.record("an unapplied overlay was reported as applied")
            } catch {
                #expect(error == .overlayNotApplied(name: "vta", path: overlay.directory, status: "unapplied"))
                #expect(error.description.contains("status reads \"unapplied\""))
            }
        }
    }

    @Test func configfsProblemsSayWhatToDo() throws {
        try withTree(configfs: false) { tree, scratch in
            let dtbo = scratch.path + "/vta.dtbo"
            try FakeBitstream.write(FakeBitstream.dtbo(), to: dtbo)
            let overlay = try DeviceTreeOverlay(roots: tree.roots)
            #expect(throws: BoardLifecycleError.configfsNotMounted(path: tree.roots.configfs)) { try overlay.apply(dtbo: dtbo) }
            #expect(BoardLifecycleError.configfsNotMounted(path: "/sys/kernel/config").description
                == "configfs is not mounted at /sys/kernel/config: mount it with `mount -t configfs none /sys/kernel/config`")
            try tree.mountConfigfs(withOverlaySupport: false)
            #expect(throws: BoardLifecycleError.noOverlaySupport(path: tree.roots.configfs)) { try overlay.apply(dtbo: dtbo) }
        }
    }

    @Test func blobsAndNamesAreCheckedFirst() throws {
        try withTree { tree, scratch in
            let notDTB = scratch.path + "/vta.dts"
            try FakeBitstream.write(Array("/dts-v1/; /plugin/; / { };".utf8) + [UInt8](repeating: 32, count: 40), to: notDTB)
            let overlay = try DeviceTreeOverlay(roots: tree.roots)
            do throws(BoardLifecycleError) {
                try overlay.apply(dtbo: notDTB)
                Issue.record("a source file was applied")
            } catch {
                #expect(error.description.contains("not a compiled device tree"))
                #expect(error.description.contains("dtc -@ -I dts -O dtb"))
            }
            #expect(!overlay.exists)
            #expect(throws: BoardLifecycleError.invalidOverlay(path: scratch.path + "/missing.dtbo", reason: "no such file")) {
                try overlay.apply(dtbo: scratch.path + "/missing.dtbo")
            }
            for bad in ["", "..", "a/b", "vta overlay"] {
                #expect(throws: BoardLifecycleError.invalidOverlayName(bad)) { try DeviceTreeOverlay(name: bad, roots: tree.roots) }
            }
        }
    }

    @Test func removalIsRmdir() throws {
        try withTree { tree, _ in
            let overlay = try DeviceTreeOverlay(name: "old-vta", roots: tree.roots)
            try overlay.remove()  // absent: nothing to do
            // configfs attributes are not directory entries; an overlay directory is empty to rmdir.
            try FileManager.default.createDirectory(atPath: overlay.directory, withIntermediateDirectories: false)
            try overlay.remove()
            #expect(!overlay.exists)
            // A real directory with files cannot be rmdir'ed: the kernel's reason is passed on.
            try FileManager.default.createDirectory(atPath: overlay.directory, withIntermediateDirectories: false)
            try tree.write(overlay.directory + "/stray", "x")
            #expect(throws: BoardLifecycleError.overlayRemovalFailed(path: overlay.directory, reason: "Directory not empty")) {
                try overlay.remove()
            }
        }
    }
}
