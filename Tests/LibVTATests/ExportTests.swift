import Foundation
import Testing

@Suite("libvta.so exports the C API")
struct ExportTests {
    /// Every function of spec §6.1 (runtime) and §7.1 (driver).
    static let runtimeFunctions = [
        "VTABufferAlloc", "VTABufferFree", "VTABufferCopy", "VTARuntimeShutdown", "VTATLSCommandHandle", "VTABufferCPUPtr",
        "VTAWriteBarrier", "VTAReadBarrier", "VTASetDebugMode", "VTALoadBuffer2D", "VTAStoreBuffer2D", "VTAUopPush",
        "VTAUopLoopBegin", "VTAUopLoopEnd", "VTAPushGEMMOp", "VTAPushALUOp", "VTADepPush", "VTADepPop", "VTASynchronize",
    ]
    static let driverFunctions = [
        "VTADeviceAlloc", "VTADeviceFree", "VTADeviceRun", "VTAMemAlloc", "VTAMemFree", "VTAMemGetPhyAddr",
        "VTAMemCopyFromHost", "VTAMemCopyToHost", "VTAFlushCache", "VTAInvalidateCache", "VTAProgram",
    ]
    /// What driver.h binds the address-taking functions to under USE_VTA64.
    static let wideFunctions = ["VTADeviceRun64", "VTAMemGetPhyAddr64", "VTAFlushCache64", "VTAInvalidateCache64"]

    @Test("nm -D lists every runtime (§6.1) and driver (§7.1) function as a defined text symbol")
    func exports() throws {
        let workspace = try CWorkspace()
        defer { workspace.remove() }
        let nm = try runProgram("/usr/bin/env", ["nm", "-D", "--defined-only", workspace.installedLibrary],
                                environment: ProcessInfo.processInfo.environment)
        try #require(nm.status == 0, "nm failed: \(nm)")
        var defined: Set<String> = []
        for line in nm.stdout.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 3, f[1] == "T" { defined.insert(String(f[2])) }
        }
        for name in Self.runtimeFunctions + Self.driverFunctions + Self.wideFunctions {
            #expect(defined.contains(name), "libvta.so does not export \(name)")
        }
    }
}
