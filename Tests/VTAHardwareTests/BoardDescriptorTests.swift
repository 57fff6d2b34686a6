import Foundation
import Testing
import VTA
import VTAHardware
import VTAHardwareTestSupport

/// The descriptor shipped beside a bitstream: writing, reading, the hash and the config handshake.
@Suite struct BoardDescriptorTests {
    /// A bitstream and its descriptor in a fresh directory.
    struct Fixture {
        let scratch: ScratchDirectory
        let bitstream: String
        var descriptorPath: String { scratch.path + "/design.vta.json" }

        init(config: HardwareConfig) throws {
            scratch = try ScratchDirectory("vta-descriptor")
            bitstream = scratch.path + "/design.bit"
            try FakeBitstream.write(FakeBitstream.bit(), to: bitstream)
            try BoardDescriptor.write(for: config, bitstreamAt: bitstream)
        }

        func json() throws -> JSONValue { try JSONValue.parse(String(contentsOfFile: descriptorPath, encoding: .utf8)) }

        /// Rewrites the descriptor with one top-level member replaced (or removed when nil).
        func replace(_ key: String, with value: JSONValue?) throws {
            guard case .object(var members) = try json() else { throw FakeTreeError("not an object") }
            if let value {
                if let i = members.firstIndex(where: { $0.0 == key }) { members[i].1 = value } else { members.append((key, value)) }
            } else {
                members.removeAll { $0.0 == key }
            }
            try JSONValue.object(members).serialized().write(toFile: descriptorPath, atomically: true, encoding: .utf8)
        }
    }

    let pynq = try! HardwareConfig.defaults(target: "pynq")

    @Test func roundTrip() throws {
        let f = try Fixture(config: pynq)
        defer { f.scratch.remove() }
        #expect(BoardDescriptor.path(forBitstream: f.bitstream) == f.descriptorPath)
        #expect(BoardDescriptor.path(forBitstream: "/x/design.bit.bin") == "/x/design.vta.json")
        let (descriptor, verified) = try BoardDescriptor.load(path: f.descriptorPath)
        #expect(verified)
        #expect(descriptor.config == pynq)
        #expect(descriptor.target == "pynq")
        #expect(descriptor.hwVersion == "0.0.2")
        #expect(descriptor.clockMHz == 100)
        #expect(descriptor.source == f.descriptorPath)
        #expect(descriptor.bitstream == "design.bit")
        #expect(descriptor.bitstreamSHA256 == SHA256.hex(FakeBitstream.bit()))
        let json = try f.json()
        #expect(json.objectValue?.map(\.0) == ["config", "target", "hw_ver", "clock_mhz", "bitstream", "bitstream_sha256"])
        #expect(json["config"] == pynq.json)
        try descriptor.check(against: pynq)
        // Without the bitstream beside it the descriptor still loads, unverified.
        try FileManager.default.removeItem(atPath: f.bitstream)
        #expect(try BoardDescriptor.load(path: f.descriptorPath).bitstreamVerified == false)
    }

    @Test func eachMismatchIsOneLine() throws {
        let f = try Fixture(config: pynq)
        defer { f.scratch.remove() }
        let descriptor = try BoardDescriptor.load(path: f.descriptorPath).descriptor
        let batch = try HardwareConfig(target: "pynq", logBatch: 1)
        do throws(BoardDescriptorError) {
            try descriptor.check(against: batch)
            Issue.record("a LOG_BATCH mismatch was accepted")
        } catch {
            #expect(error == .configMismatch(path: f.descriptorPath,
                                             differences: [ConfigDifference(key: "LOG_BATCH", expected: "1", found: "0")]))
            #expect(error.description.split(separator: "\n").last == "LOG_BATCH: expected 1, found 0")
        }
        let several = try HardwareConfig(target: "ultra96", hwVersion: "0.0.1", logAccWidth: 4, logWgtBuffSize: 17,
                                          logAccBuffSize: 16)
        #expect(descriptor.differences(from: several).map(\.description) == [
            "TARGET: expected \"ultra96\", found \"pynq\"",
            "HW_VER: expected \"0.0.1\", found \"0.0.2\"",
            "LOG_ACC_WIDTH: expected 4, found 5",
            "LOG_WGT_BUFF_SIZE: expected 17, found 18",
            "LOG_ACC_BUFF_SIZE: expected 16, found 17",
        ])
        #expect(descriptor.differences(from: several, includeTarget: false).map(\.key)
            == ["LOG_ACC_WIDTH", "LOG_WGT_BUFF_SIZE", "LOG_ACC_BUFF_SIZE"])
        // Same hardware on another target: only the target (and board facts) differ.
        #expect(throws: BoardDescriptorError.self) { try descriptor.check(against: try pynq.retargeted("ultra96")) }
        try descriptor.check(against: try pynq.retargeted("ultra96"), includeTarget: false)
    }

    @Test func aChangedBitstreamIsCaughtByItsHash() throws {
        let f = try Fixture(config: pynq)
        defer { f.scratch.remove() }
        try FakeBitstream.write(FakeBitstream.bit(words: FakeBitstream.words(extra: 9)), to: f.bitstream)
        do throws(BoardDescriptorError) {
            _ = try BoardDescriptor.load(path: f.descriptorPath)
            Issue.record("a changed bitstream passed its hash check")
        } catch {
            guard case .bitstreamMismatch(let path, let bitstream, let expected, let found) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path == f.descriptorPath)
            #expect(bitstream == f.bitstream)
            #expect(expected == SHA256.hex(FakeBitstream.bit()))
            #expect(found == SHA256.hex(FakeBitstream.bit(words: FakeBitstream.words(extra: 9))))
        }
    }

    @Test func malformedFilesNameTheFileAndTheKey() throws {
        let f = try Fixture(config: pynq)
        defer { f.scratch.remove() }
        let path = f.descriptorPath
        let original = try String(contentsOfFile: path, encoding: .utf8)

        try "{\"config\": ".write(toFile: path, atomically: true, encoding: .utf8)
        do throws(BoardDescriptorError) {
            _ = try BoardDescriptor.load(path: path)
            Issue.record("truncated JSON was accepted")
        } catch {
            guard case .malformed(let p, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(p == path)
            #expect(error.description.hasPrefix("board descriptor \(path) is not valid JSON"))
        }

        let cases: [(String, JSONValue?, BoardDescriptorError)] = [
            ("clock_mhz", nil, .missingKey(path: path, key: "clock_mhz")),
            ("clock_mhz", .string("100"), .invalidKey(path: path, key: "clock_mhz",
                                                     reason: "must be an integer from 1 to 2000 (MHz), found \"100\"")),
            ("target", .string("ultra96"), .invalidKey(path: path, key: "target",
                                                      reason: "is \"ultra96\" but config.TARGET is \"pynq\"")),
            ("hw_ver", .string("0.0.1"), .invalidKey(path: path, key: "hw_ver",
                                                    reason: "is \"0.0.1\" but config.HW_VER is \"0.0.2\"")),
            ("bitstream_sha256", .string("abc"), .invalidKey(path: path, key: "bitstream_sha256",
                                                            reason: "must be 64 hexadecimal digits, found \"abc\"")),
            ("bitstream", .string("../x.bit"), .invalidKey(path: path, key: "bitstream",
                                                          reason: "must be a file name in the descriptor's directory, not a path")),
            ("vendor", .string("x"), .unknownKey(path: path, key: "vendor")),
        ]
        for (key, value, expected) in cases {
            try original.write(toFile: path, atomically: true, encoding: .utf8)
            try f.replace(key, with: value)
            #expect(throws: expected) { try BoardDescriptor.load(path: path) }
        }

        try original.write(toFile: path, atomically: true, encoding: .utf8)
        var config = pynq.json.objectValue ?? []
        config[5].1 = .int(9)  // LOG_BATCH out of range
        try f.replace("config", with: .object(config))
        do throws(BoardDescriptorError) {
            _ = try BoardDescriptor.load(path: path)
            Issue.record("an invalid config was accepted")
        } catch {
            guard case .invalidKey(let p, let key, let reason) = error else { Issue.record("unexpected \(error)"); return }
            #expect(p == path && key == "config")
            #expect(reason.contains("LOG_BATCH = 9 is out of range"))
        }

        #expect(throws: BoardDescriptorError.missing(path: f.scratch.path + "/none.vta.json")) {
            try BoardDescriptor.load(path: f.scratch.path + "/none.vta.json")
        }
    }
}
