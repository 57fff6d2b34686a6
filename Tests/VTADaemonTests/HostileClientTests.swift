import CVTAKernel
import Foundation
import Testing
import VTATestSupport
import VTA
import VTAClient
import VTAProtocol
import VTARuntime

#if canImport(Glibc)
import Glibc
#endif

// MARK: - Hostile programs

extension VTADaemonTests {
    /// One hostile submission: what it is, what the error must mention, and whether the daemon
    /// counts it as a rejected job (verifier refusals and streams outside the client's buffers
    /// are; a count above the announced limit is a limit error, not a job).
    struct Hostile {
        let name: String
        let needles: [String]
        let countsAsRejected: Bool
        let submit: () throws -> Void
    }

    @Test("hostile programs are rejected with their reason, and the daemon keeps serving")
    func hostileProgramsAreRejected() throws {
        let vtad = try VTAD()
        defer { vtad.stop() }
        let attacker = try RawStreamClient(socketPath: vtad.socketPath)
        let victim = try RawStreamClient(socketPath: vtad.socketPath)
        let bystander = try TinyALUClient(socketPath: vtad.socketPath)
        let limit = Int(attacker.device.limits.maxJobInstructions)
        var goodJobs = 0

        func goodJobStillWorks(_ context: String) {
            do {
                let x = bystander.input(client: 1, job: goodJobs)
                let (out, _) = try bystander.run(x, add: 5)
                #expect(out == TinyALUClient.expected(x, add: 5), "after \(context): wrong result")
                goodJobs += 1
            } catch {
                Issue.record("after \(context): a good job failed: \(error)")
            }
        }

        // Controls: the same shapes of program, pointed at the client's own buffers, run. So the
        // rejections below are about the addresses and flags, not the program skeletons.
        try attacker.submit(attacker.storeProgram(to: attacker.data.deviceAddress))
        try attacker.submit(attacker.loadProgram(from: attacker.data.deviceAddress))
        try victim.submit(victim.storeProgram(to: victim.data.deviceAddress))  // leaves a valid stream in victim.insn
        goodJobs += 3
        let victimPattern = [UInt8](repeating: 0x33, count: 4096)
        try victim.data.write(victimPattern)

        let a = attacker
        let own = a.data.deviceAddress
        let cases: [Hostile] = [
            Hostile(name: "STORE outside every buffer", needles: ["rejected", "STORE", "outside every buffer"], countsAsRejected: true) {
                try a.submit(a.storeProgram(to: 0xF000_0000))
            },
            Hostile(name: "STORE straddling the end of the client's buffer", needles: ["STORE", "outside every buffer"], countsAsRejected: true) {
                try a.submit(a.storeProgram(to: own + 4096 - 16, elements: 2))
            },
            Hostile(name: "STORE into another client's buffer", needles: ["STORE", "outside every buffer"], countsAsRejected: true) {
                try a.submit(a.storeProgram(to: victim.data.deviceAddress))
            },
            Hostile(name: "LOAD from another client's buffer", needles: ["LOAD", "outside every buffer"], countsAsRejected: true) {
                try a.submit(a.loadProgram(from: victim.data.deviceAddress))
            },
            Hostile(name: "deadlocking tokens", needles: ["deadlock", "load module"], countsAsRejected: true) {
                try a.submit([.load(MemoryInstruction(deps: [.popNext, .pushNext], memoryType: .inp, dramBase: a.element(own, .inp),
                                                      ySize: 1, xSize: 1, xStride: 1)),
                              .finish(.popPrev)])
            },
            Hostile(name: "tokens left over for the next job", needles: ["left over"], countsAsRejected: true) {
                let load = MemoryInstruction(deps: .pushNext, memoryType: .inp, dramBase: a.element(own, .inp), ySize: 1, xSize: 1, xStride: 1)
                try a.submit([.load(load), .load(load), .finish(.popPrev)])
            },
            Hostile(name: "no FINISH", needles: ["must end with FINISH"], countsAsRejected: true) {
                try a.submit([.load(MemoryInstruction(memoryType: .inp, dramBase: a.element(own, .inp), ySize: 1, xSize: 1, xStride: 1))])
            },
            Hostile(name: "a STORE that can run after FINISH", needles: ["after the final FINISH"], countsAsRejected: true) {
                try a.submit([.store(MemoryInstruction(memoryType: .out, dramBase: a.element(own, .out), ySize: 1, xSize: 1, xStride: 1)),
                              .finish([])])
            },
            Hostile(name: "undefined opcode", needles: ["opcode 5 is undefined"], countsAsRejected: true) {
                try a.submit([InstructionWord(low: 5), try a.config.isa.encode(.finish([]))])
            },
            Hostile(name: "undefined memory type", needles: ["memory type 7 is undefined"], countsAsRejected: true) {
                try a.submit(try a.encode([.load(MemoryInstruction(deps: [], memoryTypeBits: 7, sramBase: 0, dramBase: a.element(own, .inp),
                                                                   ySize: 1, xSize: 1, xStride: 1, yPad0: 0, yPad1: 0, xPad0: 0, xPad1: 0)),
                                           .finish([])]))
            },
            Hostile(name: "absurd transfer sizes (SRAM overrun)", needles: ["beyond the depth"], countsAsRejected: true) {
                try a.submit([.load(MemoryInstruction(deps: .pushNext, memoryType: .inp, dramBase: a.element(own, .inp),
                                                      ySize: 65535, xSize: 65535, xStride: 65535)),
                              .finish(.popPrev)])
            },
            Hostile(name: "instruction count above the daemon's limit", needles: ["\(limit + 1) instructions", "\(limit)"], countsAsRejected: false) {
                try a.submit(try a.encode(a.storeProgram(to: own)), count: limit + 1)
            },
            Hostile(name: "instruction count beyond the client's buffer", needles: ["not inside one of your buffers"], countsAsRejected: true) {
                try a.submit(try a.encode(a.storeProgram(to: own)), count: 100_000)
            },
            Hostile(name: "instructions in another client's buffer", needles: ["not inside one of your buffers"], countsAsRejected: true) {
                try a.submit(try a.encode(a.storeProgram(to: own)), address: victim.insn.deviceAddress)
            },
            Hostile(name: "instruction address that wraps around 2^64", needles: ["not inside one of your buffers"], countsAsRejected: true) {
                try a.submit(try a.encode(a.storeProgram(to: own)), address: UInt64.max - 15)
            },
        ]
        for c in cases {
            expectFailure(c.name, mentioning: c.needles) { try c.submit() }
            #expect(vtad.isRunning, "vtad died on: \(c.name)\n\(vtad.log)")
            guard vtad.isRunning else { return }
            goodJobStillWorks(c.name)
        }
        #expect(try victim.data.read(UInt8.self, count: 4096) == victimPattern, "the victim's buffer was modified")
        // The attacker's connection is still usable for good work.
        try attacker.submit(attacker.storeProgram(to: attacker.data.deviceAddress))
        goodJobs += 1

        let rejected = Int64(cases.filter(\.countsAsRejected).count)
        let (status, _) = try VTACtl.status(vtad.socketPath)
        #expect(status.int("jobs", "rejected") == rejected, "\(status.serialized())")
        #expect(status.int("jobs", "done") == Int64(goodJobs), "\(status.serialized())")
        #expect(status.int("jobs", "failed") == 0, "nothing hostile may reach the device: \(status.serialized())")
        let metrics = try VTACtl.run(["metrics", "--socket", vtad.socketPath])
        #expect(metrics.stdout.contains("vtad_jobs_total{result=\"rejected\"} \(rejected)\n"), "\(metrics)")
    }
}

// MARK: - Malformed frames

/// A frame with every header field under the test's control.
func frame(type: UInt16, payload: [UInt8] = [], requestID: UInt32 = 7, magic: UInt32 = WireProtocol.magic,
           version: UInt16 = WireProtocol.version, lengthDelta: Int = 0, reserved: UInt64 = 0) -> [UInt8] {
    var b: [UInt8] = []
    func le<T: FixedWidthInteger>(_ v: T) { for i in 0..<(T.bitWidth / 8) { b.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
    le(magic)
    le(version)
    le(type)
    le(UInt32(truncatingIfNeeded: payload.count + lengthDelta))
    le(requestID)
    le(reserved)
    return b + payload
}

func helloPayload(reserved: UInt32 = 0) -> [UInt8] {
    var w = MessageWriter(type: .hello, requestID: 0)
    w.u32(WireProtocol.daemonVersion)
    w.u32(reserved)
    return Array(w.finish().dropFirst(WireProtocol.headerSize))
}

extension VTADaemonTests {
    struct BadFrame {
        let name: String
        let bytes: [UInt8]
        var fds = 0
        /// Send HELLO first on this connection.
        var afterHello = false
        let code: ErrorCode
        let needle: String
        /// The request id the ERROR must echo (0 when the header itself was unreadable).
        var echoedID: UInt32 = 0
    }

    @Test("malformed frames get an ERROR (or a closed connection), never a crash or a leaked descriptor")
    func malformedFramesNeverCrashTheDaemon() throws {
        let vtad = try VTAD()
        defer { vtad.stop() }
        let baselineFDs = vtad.openDescriptors
        #expect(!baselineFDs.isEmpty)
        let max = WireProtocol.maxMessageSize
        let valid = frame(type: MessageType.hello.rawValue, payload: helloPayload())
        let cases: [BadFrame] = [
            BadFrame(name: "truncated header", bytes: Array(valid.prefix(10)), code: .malformed, needle: "shorter than the 24-byte header"),
            BadFrame(name: "wrong magic", bytes: frame(type: 1, payload: helloPayload(), magic: 0x4441_5457), code: .malformed, needle: "bad magic"),
            BadFrame(name: "wrong version", bytes: frame(type: 1, payload: helloPayload(), version: 2), code: .unsupportedVersion, needle: "version 2"),
            BadFrame(name: "header length larger than the packet", bytes: frame(type: 1, payload: helloPayload(), lengthDelta: 4),
                     code: .malformed, needle: "header says 12 payload bytes"),
            BadFrame(name: "header length smaller than the packet", bytes: frame(type: 1, payload: helloPayload(), lengthDelta: -8),
                     code: .malformed, needle: "header says 0 payload bytes"),
            BadFrame(name: "non-zero reserved header bytes", bytes: frame(type: 1, payload: helloPayload(), reserved: 1 << 40),
                     code: .malformed, needle: "reserved header bytes must be zero"),
            BadFrame(name: "non-zero reserved payload field", bytes: frame(type: 1, payload: helloPayload(reserved: 9)),
                     code: .malformed, needle: "reserved field must be zero", echoedID: 7),
            BadFrame(name: "payload too long", bytes: frame(type: 1, payload: helloPayload() + [0, 0, 0, 0]),
                     code: .malformed, needle: "unexpected payload bytes", echoedID: 7),
            BadFrame(name: "payload too short", bytes: frame(type: MessageType.alloc.rawValue, payload: [1, 0, 0, 0]), afterHello: true,
                     code: .malformed, needle: "too short", echoedID: 7),
            BadFrame(name: "oversized message (> 64 KiB)", bytes: frame(type: MessageType.status.rawValue, payload: [UInt8](repeating: 0xAB, count: max + 4000)),
                     afterHello: true, code: .malformed, needle: "larger than \(max)"),
            BadFrame(name: "a message of exactly 64 KiB", bytes: frame(type: MessageType.status.rawValue, payload: [UInt8](repeating: 0, count: max - 24)),
                     afterHello: true, code: .malformed, needle: "unexpected payload bytes", echoedID: 7),
            BadFrame(name: "HELLO carrying a memfd", bytes: valid, fds: 1, code: .malformed, needle: "must not carry file descriptors"),
            BadFrame(name: "STATUS carrying four memfds", bytes: frame(type: MessageType.status.rawValue), fds: 4, afterHello: true,
                     code: .malformed, needle: "must not carry file descriptors"),
            BadFrame(name: "eight descriptors (more than the daemon receives)", bytes: frame(type: MessageType.status.rawValue), fds: 8,
                     afterHello: true, code: .malformed, needle: "too many descriptors"),
            BadFrame(name: "oversized message carrying a memfd", bytes: frame(type: 1, payload: [UInt8](repeating: 1, count: max)), fds: 2,
                     code: .malformed, needle: "larger than \(max)"),
            BadFrame(name: "ALLOC before HELLO", bytes: frame(type: MessageType.alloc.rawValue, payload: [0, 16, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)),
                     code: .notReady, needle: "HELLO first", echoedID: 7),
            BadFrame(name: "SUBMIT before HELLO", bytes: frame(type: MessageType.submit.rawValue, payload: [UInt8](repeating: 0, count: 24)),
                     code: .notReady, needle: "HELLO first", echoedID: 7),
            BadFrame(name: "STATUS before HELLO", bytes: frame(type: MessageType.status.rawValue), code: .notReady, needle: "HELLO first", echoedID: 7),
            BadFrame(name: "unknown type", bytes: frame(type: 99), code: .unknownType, needle: "unknown message type 99", echoedID: 7),
            BadFrame(name: "type 0", bytes: frame(type: 0), afterHello: true, code: .unknownType, needle: "unknown message type 0", echoedID: 7),
            BadFrame(name: "a reply type sent as a request", bytes: frame(type: MessageType.jobDone.rawValue, payload: [UInt8](repeating: 0, count: 96)),
                     afterHello: true, code: .unknownType, needle: "is a reply", echoedID: 7),
            BadFrame(name: "ALLOC of 0 bytes", bytes: frame(type: MessageType.alloc.rawValue, payload: [UInt8](repeating: 0, count: 16)), afterHello: true,
                     code: .limitExceeded, needle: "outside 1...", echoedID: 7),
            BadFrame(name: "ALLOC with a bad alignment", bytes: frame(type: MessageType.alloc.rawValue, payload: [0, 16, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]),
                     afterHello: true, code: .malformed, needle: "alignment 3", echoedID: 7),
            BadFrame(name: "FREE of an unknown handle", bytes: frame(type: MessageType.free.rawValue, payload: [42, 0, 0, 0, 0, 0, 0, 0]), afterHello: true,
                     code: .noSuchHandle, needle: "handle 42", echoedID: 7),
            BadFrame(name: "CANCEL of an unknown job", bytes: frame(type: MessageType.cancel.rawValue, payload: [1, 2, 3, 4, 0, 0, 0, 0]), afterHello: true,
                     code: .noSuchJob, needle: "is not queued", echoedID: 7),
            BadFrame(name: "SUBMIT with flags", bytes: frame(type: MessageType.submit.rawValue, payload: [UInt8](repeating: 0, count: 16) + [1, 0, 0, 0, 0, 0, 0, 0]),
                     afterHello: true, code: .malformed, needle: "flags must be 0", echoedID: 7),
        ]
        for c in cases {
            let raw = try RawClient(vtad.socketPath)
            if c.afterHello { try raw.hello() }
            var fds: [Int32] = []
            for i in 0..<c.fds {
                let f = vta_memfd_create("test-fd-\(i)")
                try #require(f >= 0)
                fds.append(f)
            }
            if c.fds > 4 { try raw.sendWithManyFDs(c.bytes, fds: fds) } else { try raw.send(c.bytes, fds: fds) }
            for f in fds { close(f) }
            let reply = try raw.receiveReply()
            let e = errorReply(reply)
            #expect(e?.code == c.code, "\(c.name): expected \(c.code), got \(e.map { "\($0.code.map { "\($0)" } ?? "?"): \($0.text)" } ?? "no ERROR")")
            #expect(e?.text.contains(c.needle) == true, "\(c.name): the error does not mention \"\(c.needle)\": \(e?.text ?? "-")")
            #expect(reply?.header.requestID == c.echoedID, "\(c.name): request id")
            // The connection stays usable after a bad request.
            try raw.hello()
            #expect(vtad.isRunning, "vtad died on: \(c.name)\n\(vtad.log)")
            guard vtad.isRunning else { return }
            #expect(try vtad.status().int("clients") ?? 0 >= 1, "\(c.name): a fresh client does not work")
        }

        // An empty packet reads as end-of-stream on SOCK_SEQPACKET: the daemon hangs up, and lives.
        do {
            let raw = try RawClient(vtad.socketPath)
            try raw.hello()
            try raw.send([])
            #expect(try raw.receiveReply() == nil, "the daemon should close a connection that sends an empty packet")
            #expect(vtad.isRunning)
        }

        // Random bytes, then valid headers of every type with random payloads (after HELLO).
        var rng = SplitMix64(seed: 0xBAD_F00D)
        var raw = try RawClient(vtad.socketPath)
        for i in 0..<300 {
            let bytes = rng.bytes(1 + Int(rng.next() % 200))
            try raw.send(bytes)
            let reply = try raw.receiveReply()
            #expect(errorReply(reply)?.code == .malformed || errorReply(reply)?.code == .unsupportedVersion, "random packet \(i)")
        }
        raw = try RawClient(vtad.socketPath)
        try raw.hello()
        var replies = 0
        for i in 0..<600 {
            let type = UInt16(1 + rng.next() % 17)
            var payload = rng.bytes(Int(rng.next() % 48))
            if type == MessageType.alloc.rawValue, payload.count >= 8 {
                payload[3...7] = [0, 0, 0, 0, 0]  // keep sizes below 16 MiB so the pool does not fill up
            }
            try raw.send(frame(type: type, payload: payload, requestID: UInt32(i)))
            guard let reply = try raw.receiveReply() else {
                Issue.record("random request \(i) (type \(type)): the daemon closed the connection")
                break
            }
            #expect(reply.header.requestID == UInt32(i), "request \(i) (type \(type)): reply to another request")
            replies += 1
        }
        #expect(replies == 600)
        #expect(vtad.isRunning, "\(vtad.log)")

        // A real client still gets real work done.
        let client = try TinyALUClient(socketPath: vtad.socketPath)
        let x = client.input(client: 2, job: 3)
        #expect(try client.run(x, add: 7).out == TinyALUClient.expected(x, add: 7))

        // Every descriptor that arrived with a request was closed, and every connection's too.
        _ = consume raw
        _ = consume client
        var now: [Int: String] = [:]
        // (The baseline may include the socket vtad used to send READY=1, closed just after.)
        let settled = waitUntil(timeout: .seconds(20)) {
            now = vtad.openDescriptors
            return now.allSatisfy { baselineFDs[$0.key] == $0.value }
        }
        #expect(!now.values.contains { $0.contains("test-fd") }, "a descriptor sent by the test is still open in vtad")
        #expect(settled, "vtad has \(now.count) descriptors open, \(baselineFDs.count) at the start: descriptors leak\nat the end: \(now.sorted { $0.key < $1.key })\nat the start: \(baselineFDs.sorted { $0.key < $1.key })")
    }
}
