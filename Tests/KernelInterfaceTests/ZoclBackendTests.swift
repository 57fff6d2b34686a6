import Glibc
import Testing
import VTA
import VTAHardware

/// ZoclBackend where there is no zocl: the error must say what was found and that XRT's zocl is
/// needed, not fail obscurely.
@Suite struct ZoclBackendTests {
    /// The error's text, or nil when `body` did not throw.
    static func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { return "\(error)" }
    }

    @Test func thisMachineHasNoZoclAndSaysSo() throws {
        let message = try #require(Self.message { _ = try ZoclBackend() }, "a zocl render node was found on a build machine")
        #expect(message.contains("no zocl render node"), "\(message)")
        #expect(message.contains("XRT"))
        // Either the DRM devices that exist are listed, or libdrm's "none" is reported.
        #expect(message.contains("DRM render nodes found") || message.contains("no DRM render nodes were found"))
        #expect(ZoclBackend.describeAvailability().hasPrefix("zocl: none"))
    }

    @Test func listsTheRenderNodesThatAreNotZocl() throws {
        let dir = try TempDir()
        try dir.write("sys/class/drm/renderD128/uevent", "MAJOR=226\nMINOR=128\nDEVNAME=dri/renderD128\n")
        try dir.write("sys/class/drm/card0/uevent", "DEVNAME=dri/card0\n")
        try dir.makeFile("dev/dri/renderD128", size: 4096)
        let message = Self.message { _ = try ZoclBackend(roots: .under(dir.path)) }
        #expect(message?.contains(dir.path + "/dev/dri/renderD128") == true, "\(message ?? "no error")")
        #expect(message?.contains("not a DRM device") == true)
        #expect(message?.contains("card0") == false, "only render nodes are candidates")
    }

    @Test func emptyDRMClassIsReported() throws {
        let dir = try TempDir()
        let message = Self.message { _ = try ZoclBackend(roots: .under(dir.path)) }
        #expect(message?.contains("no DRM render nodes were found") == true, "\(message ?? "no error")")
        #expect(message?.contains(dir.path + "/sys/class/drm") == true)
    }

    @Test func explicitNodeMustBeZocl() throws {
        let dir = try TempDir()
        try dir.makeFile("dev/dri/renderD130", size: 4096)
        let relative = Self.message { _ = try ZoclBackend(roots: .under(dir.path), renderNode: "dri/renderD130") }
        #expect(relative?.contains(dir.path + "/dev/dri/renderD130 is not a zocl render node") == true, "\(relative ?? "no error")")
        let missing = Self.message { _ = try ZoclBackend(renderNode: dir.path + "/dev/dri/renderD999") }
        #expect(missing?.contains("errno \(ENOENT)") == true, "\(missing ?? "no error")")
    }
}
