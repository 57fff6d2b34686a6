import Testing
import VTATestSupport
import VTA
import VTARuntime

// The example of docs/runtime.md, compiled and run exactly as printed there (kept in sync by
// hand: if this file stops compiling, the document is wrong too).

func addThreeAndClip() throws -> [Int8] {
    let runtime = try Runtime.open(.simulator())          // or .auto
    let config = runtime.config                            // 1x16_i8w8a32_15_15_18_17 by default
    let rows = 16                                          // ACC elements (each BATCH x BLOCK_OUT int32)

    // Device buffers: int32 inputs, int8 outputs.
    let input = try runtime.allocate(bytes: rows * config.accElemBytes, label: "x")
    let output = try runtime.allocate(bytes: rows * config.outElemBytes, label: "out")
    defer { try? runtime.free(input); try? runtime.free(output) }
    let x = (0..<(rows * config.batch * config.blockOut)).map { Int32($0 % 200) - 50 }
    try input.write(x)

    // Kernels: one micro-op per row, written as a loop over the rows.
    let add = try UopKernel.alu(config: config, .add, immediate: 3) { k in
        try k.loop(extent: rows, dstFactor: 1, srcFactor: 1)
        try k.push(dst: 0, src: 0)
    }
    let low = try UopKernel.alu(config: config, .max, immediate: 0) { k in
        try k.loop(extent: rows, dstFactor: 1, srcFactor: 1)
        try k.push(dst: 0, src: 0)
    }
    let high = try UopKernel.alu(config: config, .min, immediate: 100) { k in
        try k.loop(extent: rows, dstFactor: 1, srcFactor: 1)
        try k.push(dst: 0, src: 0)
    }

    let queue = try runtime.makeCommandQueue()
    try queue.loadBuffer2D(input, elementOffset: 0, xSize: rows, ySize: 1, xStride: rows,
                           sramIndex: 0, memory: .acc)        // compute stage
    try queue.pushALU(add)
    try queue.pushALU(low)
    try queue.pushALU(high)
    try queue.depPush(from: .compute, to: .store)             // results ready ...
    try queue.depPop(from: .compute, to: .store)              // ... before the store runs
    try queue.storeBuffer2D(sramIndex: 0, output, elementOffset: 0, xSize: rows, ySize: 1, xStride: rows)
    let report = try queue.synchronize()                       // appends FINISH, runs, waits
    print("ALU micro-op executions:", report.counters.aluCounter)

    return try output.read(Int8.self, count: rows * config.batch * config.blockOut)
}

@Test func documentedExampleComputesClippedSum() throws {
    let out = try addThreeAndClip()
    let config = HardwareConfig.standard
    let lanes = 16 * config.batch * config.blockOut
    #expect(out.count == lanes)
    for i in 0..<lanes {
        let x = i % 200 - 50                       // the example's input
        let want = min(max(x + 3, 0), 100)         // clip(x + 3, 0, 100)
        #expect(Int(out[i]) == want, "lane \(i)")
    }
}
