// swift-tools-version: 6.1
// swift-vta benchmarks (ordo-one/benchmark). Kept out of the root package so CI and `make test`
// never build the benchmark framework. Run with `make bench-swift` from the repository root.
import PackageDescription

let package = Package(
    name: "swift-vta-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "swift-vta", path: ".."),
        // The trait list also switches off the default "RuntimeInterposer" trait, whose extra
        // dependency is not available here (docs/architecture.md, "Benchmarks").
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "VTABenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "VTA", package: "swift-vta"),
                .product(name: "VTASimulator", package: "swift-vta"),
                .product(name: "VTARuntime", package: "swift-vta"),
                .product(name: "VTAClient", package: "swift-vta"),
            ],
            path: "Benchmarks/VTABenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
