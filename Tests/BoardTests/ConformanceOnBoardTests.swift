import Foundation
import Testing
import VTA
import VTAHardware
import VTARuntime
import VTASimulator
import VTATestSupport

@Suite("Conformance programs through FPGADevice and the emulated board")
struct ConformanceOnBoardTests {
    /// Every program runs on one board (scrubbed between programs, as a fresh bitstream would
    /// be) and must equal both the program's hardware expectations and the simulator's
    /// hardware profile, byte for byte.
    @Test("all conformance programs, in process", arguments: ["pynq", "de10nano"])
    func allPrograms(board name: String) throws {
        let files = try SharedTestData.files(in: "programs")
        #expect(files.count >= 60)
        // One emulated board per configuration (a bitstream implements one).
        var boards: [String: (EmulatedBoard, FPGADevice)] = [:]
        var failures: [String] = []
        var ran = 0
        for file in files {
            let program = try ProgramFile(json: try SharedTestData.json(file))
            let key = program.config.bitstreamName
            if boards[key] == nil {
                let b = try EmulatedBoard(board: name, config: program.config)
                boards[key] = (b, try b.open())
            }
            let (_, device) = boards[key]!
            ran += 1
            try device.scrub()
            let onBoard = try ProgramExecution.run(program, on: device, hardwareExpectations: true)
            let sim = try SimulatorDevice(config: program.config, profile: .hardware)
            let onSim = try ProgramExecution.run(program, on: sim, hardwareExpectations: true)
            if !onBoard.mismatches.isEmpty { failures.append("\(program.name): \(onBoard.mismatches)") }
            for (name, bytes) in onSim.buffers where onBoard.buffers[name] != bytes {
                failures.append("\(program.name): buffer \(name) differs from the simulator")
            }
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(ran == files.count)
        #expect(boards.values.reduce(0) { $0 + $1.0.emulator.runs } >= files.count * 2)  // each program and its scrub
    }
}
