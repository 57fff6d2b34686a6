import Foundation
import Synchronization
import Testing
import VTA
@testable import VTAHardware
import VTAHardwareTestSupport

/// The libudev adapter against this machine's real /sys (spec §8 item 4: the `mem` class exists
/// even in containers), and the udev-less fallbacks of discovery and of the monitor.
@Suite struct UdevTests {
    @Test func libudevEnumeratesTheMemClass() throws {
        let records = UdevScanner().scan(subsystem: "mem")
        let null = try #require(records.first { $0.sysname == "null" }, "libudev found no mem/null: \(records.map(\.sysname))")
        let zero = try #require(records.first { $0.sysname == "zero" })
        #expect(null.devnode == "/dev/null")
        #expect(zero.devnode == "/dev/zero")
        #expect(null.subsystem == "mem")
        #expect(FileManager.default.fileExists(atPath: null.syspath + "/dev"))
        // The same devices as the sysfs walk sees, in the same order.
        let walked = SysfsScanner(roots: .live).scan(subsystem: "mem")
        #expect(walked.map(\.sysname) == records.map(\.sysname))
        #expect(walked.map(\.devnode) == records.map(\.devnode))
    }

    @Test func liveDiscoveryFallsBackToSysfsWithoutUdevd() {
        let udevd = FileManager.default.fileExists(atPath: "/run/udev/control")
        #expect(SystemRoots.live.udevIsRunning == udevd)
        let report = BoardDiscovery.discover(target: .pynq)
        #expect(report.method == (udevd ? .udev : .sysfs))
        if !udevd {
            #expect(report.notes.contains { $0.hasPrefix("udev is not running (/run/udev/control is absent)") })
        }
    }

    @Test func relocatedRootsAlwaysWalkSysfs() throws {
        let scratch = try ScratchDirectory("vta-udev")
        defer { scratch.remove() }
        let tree = try FakeBoardTree.pynqZ2(at: scratch.path)
        // Even with a control socket in the fake /run, libudev would read the real /sys.
        try FileManager.default.createDirectory(atPath: tree.root + "/run/udev", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: tree.root + "/run/udev/control", contents: nil))
        #expect(tree.roots.udevIsRunning)
        #expect(BoardDiscovery.method(for: tree.roots) == .sysfs)
        #expect(BoardDiscovery.discover(target: .pynq, roots: tree.roots).acceptedUIO?.sysname == "uio0")
    }

    @Test func naturalOrderPutsUio2BeforeUio10() {
        #expect(["uio10", "uio2", "uio1", "renderD128", "card0"].sorted(by: DiscoverySchema.naturalOrder)
            == ["card0", "renderD128", "uio1", "uio2", "uio10"])
    }
}

/// The monitor's periodic-rescan fallback on a fake tree.
@Suite struct MonitorTests {
    /// Collects a stream's events in the background.
    final class Collector: Sendable {
        let events = Mutex<[DeviceEvent]>([])
        let finished = Atomic<Bool>(false)

        init(_ stream: AsyncStream<DeviceEvent>) {
            Task { [self] in
                for await event in stream { events.withLock { $0.append(event) } }
                finished.store(true, ordering: .releasing)
            }
        }

        /// Waits up to 5 s for an event matching `predicate`.
        func wait(for predicate: (DeviceEvent) -> Bool) async -> DeviceEvent? {
            for _ in 0..<500 {
                if let found = events.withLock({ $0.first(where: predicate) }) { return found }
                try? await Task.sleep(for: .milliseconds(10))
            }
            return nil
        }

        func waitUntilFinished() async -> Bool {
            for _ in 0..<500 {
                if finished.load(ordering: .acquiring) { return true }
                try? await Task.sleep(for: .milliseconds(10))
            }
            return false
        }
    }

    @Test func rescanEmitsAddAndRemoveForAUIODevice() async throws {
        let scratch = try ScratchDirectory("vta-monitor")
        defer { scratch.remove() }
        let tree = try FakeBoardTree.pynqZ2(at: scratch.path)
        let monitor = try UdevMonitor(roots: tree.roots, rescanInterval: .milliseconds(20))
        #expect(monitor.method == .sysfs)
        let collector = Collector(monitor.events)

        try tree.addUIO(sysname: "uio1", name: "vta", busPath: "devices/soc0/amba_pl", platformDevice: "43c10000.vta",
                        ofPath: "amba_pl/vta@43c10000", compatible: ["generic-uio"],
                        maps: [.init(name: "ctrl", address: 0x43C1_0000, size: 0x1000)], format: .padded32)
        let added = await collector.wait { $0.action == .add }
        #expect(added?.subsystem == "uio")
        #expect(added?.sysname == "uio1")
        #expect(added?.devnode == tree.root + "/dev/uio1")
        #expect(added?.synthetic == true)

        try tree.removeUIO(sysname: "uio1")
        let removed = await collector.wait { $0.action == .remove }
        #expect(removed?.sysname == "uio1")
        #expect(removed?.subsystem == "uio")

        // Devices present before the monitor started are not reported as added.
        #expect(collector.events.withLock { $0.filter { $0.sysname == "uio0" } }.isEmpty)
        monitor.stop()
        #expect(await collector.waitUntilFinished())
    }

    @Test func stoppingTwiceLeavesOtherMonitorsAlone() async throws {
        let scratch = try ScratchDirectory("vta-monitor")
        defer { scratch.remove() }
        let tree = try FakeBoardTree.pynqZ2(at: scratch.path)
        let first = try UdevMonitor(roots: tree.roots, rescanInterval: .milliseconds(20))
        first.stop()
        // The second monitor's stop eventfd is likely to get the first one's old number.
        let second = try UdevMonitor(roots: tree.roots, rescanInterval: .milliseconds(20))
        let collector = Collector(second.events)
        first.stop()
        try tree.addUIO(sysname: "uio7", name: "vta", busPath: "devices/soc0/amba_pl", platformDevice: "43c70000.vta",
                        ofPath: "amba_pl/vta@43c70000", compatible: ["generic-uio"],
                        maps: [.init(name: "ctrl", address: 0x43C7_0000, size: 0x1000)], format: .padded32)
        #expect(await collector.wait { $0.action == .add && $0.sysname == "uio7" } != nil)
        second.stop()
    }

    @Test func liveMonitorWithoutUdevdRescans() async throws {
        let monitor = try UdevMonitor(rescanInterval: .seconds(60))
        #expect(monitor.method == (SystemRoots.live.udevIsRunning ? .udev : .sysfs))
        let collector = Collector(monitor.events)
        monitor.stop()
        monitor.stop()
        #expect(await collector.waitUntilFinished())
    }
}
