import Foundation
import Glibc
import VTA
import VTABoardEmulator
import VTAHardware

/// A temporary directory under /tmp (short paths) removed on deinit.
final class TemporaryDirectory {
    let path: String
    init(_ prefix: String = "vta-board") {
        var template = Array("/tmp/\(prefix)-XXXXXX".utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// An in-process emulated board on a fresh devmem file, started and stopped with the test.
final class EmulatedBoard {
    let directory = TemporaryDirectory()
    let emulator: BoardEmulator
    let target: TargetProfile
    let config: HardwareConfig
    var devmem: String { directory.path + "/devmem" }

    init(board: String = "pynq", config: HardwareConfig = .standard, irqFifo: Bool = false,
         fault: BoardEmulator.Fault? = nil, faultAfter: Int = 0, lateBy: Duration = .milliseconds(300),
         dmaBytes: Int? = nil, uio: Bool = false) throws {
        target = TargetProfile.named(board)!
        self.config = config
        let fifo = irqFifo ? directory.path + "/irq" : nil
        if uio { try FileManager.default.createDirectory(atPath: directory.path + "/dev", withIntermediateDirectories: true) }
        emulator = try BoardEmulator(options: .init(config: config, target: target, devmemPath: directory.path + "/devmem",
                                                   irqFifo: fifo, fault: fault, faultAfter: faultAfter, lateBy: lateBy,
                                                   dmaBytes: dmaBytes, uioRegisterFile: uio ? directory.path + "/dev/uio0" : nil))
        emulator.start()
    }

    deinit { emulator.stop() }

    var irqFifo: String { directory.path + "/irq" }

    func options(completion: BoardOptions.Completion = .poll, selfTest: Bool = true) -> BoardOptions {
        BoardOptions(config: config, board: target, registers: .devMem(path: devmem), memory: .auto, completion: completion, selfTest: selfTest)
    }

    func open(completion: BoardOptions.Completion = .poll, selfTest: Bool = true) throws -> FPGADevice {
        try FPGADevice(options: options(completion: completion, selfTest: selfTest))
    }
}
