import Foundation
import Synchronization
import VTAHardware

/// Plays the kernel's part on a fake tree, on its own thread: loads what is written to the FPGA
/// manager's `firmware` and applies overlays whose `dtbo` was written.
///
/// A real kernel loads inside the `write(2)` to `firmware`; files cannot do that, so while the
/// fake kernel runs, the manager reads `write init` until it has handled the request. Code under
/// test must therefore wait for a final state, as it must on drivers that finish asynchronously.
public final class FakeKernel: Sendable {
    public enum Firmware: Sendable {
        /// Load succeeds: `state` becomes `operating`.
        case operate
        /// Load fails with this state and status (e.g. `write error`, `reconfig CRC error`).
        case fail(state: String, status: String)
        /// Never finishes (a hung driver): `state` stays `write init`.
        case hang
    }

    public enum Overlays: Sendable {
        /// `status` becomes `applied` once a valid blob was written.
        case apply
        /// `status` stays `unapplied` (a target label missing from the base tree).
        case leaveUnapplied
    }

    /// What the fake kernel did, in order: `load <name> (<n> bytes)`, `apply <overlay>`,
    /// `missing firmware <name>`, with the overlays present at load time.
    public let log = Mutex<[String]>([])
    /// The bytes of each loaded firmware file, by name.
    public let loadedImages = Mutex<[String: [UInt8]]>([:])

    private let tree: FakeBoardTree
    private let firmware: Firmware
    private let overlays: Overlays
    private let manager: String
    private let running = Atomic<Bool>(true)
    private let done = Atomic<Bool>(false)

    public init(tree: FakeBoardTree, firmware: Firmware = .operate, overlays: Overlays = .apply, manager: String = "fpga0") throws {
        self.tree = tree
        self.firmware = firmware
        self.overlays = overlays
        self.manager = tree.fpgaManagerPath(manager)
        if FileManager.default.fileExists(atPath: self.manager) {
            try tree.write(self.manager + "/state", "write init\n")
        }
        let thread = Thread { [self] in
            while running.load(ordering: .acquiring) {
                step()
                usleep(2000)
            }
            done.store(true, ordering: .releasing)
        }
        thread.start()
    }

    /// Stops the thread and waits for it.
    public func stop() {
        running.store(false, ordering: .releasing)
        while !done.load(ordering: .acquiring) { usleep(1000) }
    }

    deinit { running.store(false, ordering: .releasing) }

    private func step() {
        handleFirmwareRequest()
        handleOverlays()
    }

    private func handleFirmwareRequest() {
        let request = manager + "/firmware"
        guard let data = FileManager.default.contents(atPath: request), !data.isEmpty else { return }
        let name = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        // Consume the request so a second write is seen as a new one.
        _ = truncate(request, 0)
        let overlaysNow = (try? FileManager.default.contentsOfDirectory(atPath: tree.roots.configfs + "/device-tree/overlays")) ?? []
        guard let image = FileManager.default.contents(atPath: tree.roots.firmware + "/" + name) else {
            log.withLock { $0.append("missing firmware \(name)") }
            try? tree.write(manager + "/state", "firmware request error\n")
            return
        }
        log.withLock { $0.append("load \(name) (\(image.count) bytes) overlays [\(overlaysNow.sorted().joined(separator: ","))]") }
        loadedImages.withLock { $0[name] = [UInt8](image) }
        switch firmware {
        case .operate:
            try? tree.write(manager + "/state", "operating\n")
        case .fail(let state, let status):
            try? tree.write(manager + "/status", status + "\n")
            try? tree.write(manager + "/state", state + "\n")
        case .hang:
            break
        }
    }

    private func handleOverlays() {
        let dir = tree.roots.configfs + "/device-tree/overlays"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for name in names {
            let overlay = dir + "/" + name
            // Attributes are not created with the directory (files cannot appear by themselves), so
            // an overlay without a blob stays an empty directory that rmdir can remove.
            guard !FileManager.default.fileExists(atPath: overlay + "/status"),
                  let blob = FileManager.default.contents(atPath: overlay + "/dtbo"), !blob.isEmpty else { continue }
            guard blob.count >= 4, Array(blob.prefix(4)) == [0xD0, 0x0D, 0xFE, 0xED] else {
                try? tree.write(overlay + "/status", "unapplied\n")
                continue
            }
            switch overlays {
            case .apply:
                log.withLock { $0.append("apply \(name) (\(blob.count) bytes)") }
                try? tree.write(overlay + "/status", "applied\n")
            case .leaveUnapplied:
                try? tree.write(overlay + "/status", "unapplied\n")
            }
        }
    }
}
