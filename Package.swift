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
        .executable(name: "vtactl", targets: ["vtactl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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
        .target(name: "VTARuntime", dependencies: ["VTA", "VTASimulator"], path: "Sources/VTARuntime"),
        .executableTarget(
            name: "vtactl",
            dependencies: [
                "VTA", "VTASimulator", "VTARuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/vtactl"
        ),
        .testTarget(name: "VTATests", dependencies: ["VTA"], path: "Tests/VTATests"),
        .testTarget(name: "VTASimulatorTests", dependencies: ["VTA", "VTASimulator"], path: "Tests/VTASimulatorTests"),
        .testTarget(name: "VTARuntimeTests", dependencies: ["VTA", "VTASimulator", "VTARuntime"], path: "Tests/VTARuntimeTests"),
        .testTarget(name: "VTACtlTests", dependencies: ["VTA", "vtactl"], path: "Tests/VTACtlTests"),
    ],
    swiftLanguageModes: [.v6]
)
