// swift-tools-version: 6.2
// swift-vta: the Swift driver, runtime and daemon for the VTA deep-learning accelerator.
import PackageDescription

let package = Package(
    name: "swift-vta",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "VTA", targets: ["VTA"]),
        .library(name: "VTASimulator", targets: ["VTASimulator"]),
        .library(name: "VTARuntime", targets: ["VTARuntime"]),
        .library(name: "VTAClient", targets: ["VTAClient"]),
        .library(name: "VTAHardware", targets: ["VTAHardware"]),
        // libvta.so: TVM's VTA driver and runtime C API (docs/c-api.md).
        .library(name: "vta", type: .dynamic, targets: ["VTACABI"]),
        .executable(name: "vtactl", targets: ["vtactl"]),
        .executable(name: "vtad", targets: ["vtad"]),
        .executable(name: "vta-board-emu", targets: ["vta-board-emu"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // Core: configuration, ISA, Device protocol. Pure Swift, no OS calls.
        .target(name: "VTA", path: "Sources/VTA"),
        // SIMD kernels for the simulator's hot loops (GEMM dot products, ALU lanes, padded copies).
        .target(
            name: "CVTASimKernels",
            path: "Sources/CVTASimKernels",
            cSettings: [.unsafeFlags(["-O3"])]
        ),
        .target(name: "VTASimulator", dependencies: ["VTA", "CVTASimKernels"], path: "Sources/VTASimulator"),
        // Linux calls Swift's Glibc overlay hides (fd passing, memfd, peer credentials, sd_notify).
        .target(
            name: "CVTAKernel",
            path: "kernel-interface/CVTAKernel",
            sources: ["vta_kernel.c"],
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // System libraries: libudev (discovery, hotplug) and libdrm (zocl render nodes, PRIME).
        .systemLibrary(
            name: "CLibUdev", path: "kernel-interface/CLibUdev", pkgConfig: "libudev",
            providers: [.apt(["libudev-dev"])]
        ),
        .systemLibrary(
            name: "CLibDRM", path: "kernel-interface/CLibDRM", pkgConfig: "libdrm",
            providers: [.apt(["libdrm-dev"])]
        ),
        // The board: register windows, DMA memory, cache maintenance, completion, discovery.
        .target(
            name: "VTAHardware",
            dependencies: ["VTA", "VTASimulator", "CVTAKernel", "CLibUdev", "CLibDRM"],
            path: "Sources/VTAHardware"
        ),
        // The emulated board: registers and DMA memory in a file, the simulator behind them.
        .target(
            name: "VTABoardEmulator",
            dependencies: ["VTA", "VTAHardware", "VTASimulator", "CVTAKernel"],
            path: "Sources/VTABoardEmulator"
        ),
        .executableTarget(
            name: "vta-board-emu",
            dependencies: ["VTA", "VTAHardware", "VTABoardEmulator", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/vta-board-emu"
        ),
        // The daemon's wire protocol: one file defines every message.
        .target(name: "VTAProtocol", dependencies: ["CVTAKernel"], path: "Sources/VTAProtocol"),
        // The daemon core: sessions, verification, scheduling, metrics, systemd.
        .target(
            name: "VTAService",
            dependencies: ["VTA", "VTASimulator", "VTAHardware", "VTAProtocol", "CVTAKernel", .product(name: "Logging", package: "swift-log")],
            path: "Sources/VTAService"
        ),
        // Client side of the daemon: RemoteDevice.
        .target(name: "VTAClient", dependencies: ["VTA", "VTAProtocol", "CVTAKernel"], path: "Sources/VTAClient"),
        .target(name: "VTARuntime", dependencies: ["VTA", "VTASimulator", "VTAClient", "VTAHardware"], path: "Sources/VTARuntime"),
        // The C ABI of TVM's VTA driver.h/runtime.h on the runtime; its headers are in include/vta.
        .target(
            name: "VTACABI", dependencies: ["VTA", "VTASimulator", "VTARuntime", "VTAClient", "VTAHardware"],
            path: "Sources/VTACABI", exclude: ["include"]
        ),
        .executableTarget(
            name: "vtad",
            dependencies: ["VTA", "VTASimulator", "VTAService", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")],
            path: "Sources/vtad"
        ),
        .executableTarget(
            name: "vtactl",
            dependencies: [
                "VTA", "VTASimulator", "VTARuntime", "VTAClient", "VTAHardware",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/vtactl"
        ),
        // Helpers shared by the test targets (data and binary lookup, seeded randomness).
        .target(name: "VTATestSupport", dependencies: ["VTA"], path: "Tests/VTATestSupport"),
        // Fake sysfs/dev/configfs trees of real boards for the board backend's tests.
        .target(name: "VTAHardwareTestSupport", dependencies: ["VTA", "VTAHardware"], path: "Tests/VTAHardwareTestSupport"),
        .testTarget(name: "VTATests", dependencies: ["VTA", "VTATestSupport"], path: "Tests/VTATests"),
        .testTarget(name: "VTASimulatorTests", dependencies: ["VTA", "VTASimulator", "VTATestSupport"], path: "Tests/VTASimulatorTests"),
        .testTarget(name: "VTARuntimeTests", dependencies: ["VTA", "VTASimulator", "VTARuntime", "VTATestSupport"], path: "Tests/VTARuntimeTests"),
        .testTarget(name: "VTACtlTests", dependencies: ["VTA", "vtactl", "VTATestSupport"], path: "Tests/VTACtlTests"),
        // C programs compiled at test time against the installed headers and libvta.so.
        .testTarget(
            name: "LibVTATests", dependencies: ["VTA", "VTACABI", "VTAClient", "VTABoardEmulator", "VTATestSupport", "vtad"],
            path: "Tests/LibVTATests", exclude: ["C"]
        ),
        .testTarget(
            name: "BoardTests",
            dependencies: ["VTA", "VTAHardware", "VTABoardEmulator", "VTARuntime", "VTASimulator", "VTATestSupport", "VTAHardwareTestSupport",
                           "vta-board-emu", "vtactl"],
            path: "Tests/BoardTests"
        ),
        .testTarget(
            name: "KernelInterfaceTests",
            dependencies: ["VTA", "VTAHardware", "CVTAKernel", "VTATestSupport"],
            path: "Tests/KernelInterfaceTests"
        ),
        .testTarget(
            name: "VTAHardwareTests",
            dependencies: ["VTA", "VTAHardware", "VTAHardwareTestSupport", "VTATestSupport"],
            path: "Tests/VTAHardwareTests"
        ),
        .testTarget(
            name: "VTADaemonTests",
            dependencies: ["VTA", "VTAProtocol", "VTAClient", "VTARuntime", "VTASimulator", "VTABoardEmulator", "CVTAKernel", "VTATestSupport", "vtad", "vtactl"],
            path: "Tests/VTADaemonTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)
