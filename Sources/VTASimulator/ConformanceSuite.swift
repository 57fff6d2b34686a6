import VTA

/// Checks an implementation against the shared conformance data: encoding vectors in both
/// directions, and programs under a simulator profile.
public enum ConformanceSuite {
    /// One checked item: a vector or a program.
    public struct Result: Sendable {
        public let name: String
        /// nil: pass; otherwise what was wrong.
        public let failure: String?
        public var passed: Bool { failure == nil }
    }

    /// Checks every instruction and micro-op vector of an `encodings*.json` document: the hex
    /// decodes to exactly the listed fields (with the listed struct view), and the fields encode
    /// to exactly the hex.
    public static func checkEncodings(_ json: JSONValue, fileName: String) -> [Result] {
        guard let cfgJSON = json["config"] else { return [Result(name: fileName, failure: "missing config")] }
        let config: HardwareConfig
        do { config = try HardwareConfig(json: cfgJSON) } catch { return [Result(name: fileName, failure: "config: \(error)")] }
        var results: [Result] = []

        // The layout the file documents must be the layout we compute.
        if let layout = json["layout"] {
            for kind in StructKind.allCases {
                let mine = config.isa.layout(kind).json
                if let theirs = layout[kind.rawValue], theirs != mine {
                    results.append(Result(name: "\(fileName) layout \(kind.rawValue)", failure: "computed layout differs from the file's"))
                } else {
                    results.append(Result(name: "\(fileName) layout \(kind.rawValue)", failure: nil))
                }
            }
        }
        let vectors = (json["instructions"]?.arrayValue ?? []).map { ($0, false) } + (json["uops"]?.arrayValue ?? []).map { ($0, true) }
        for (i, (v, isUop)) in vectors.enumerated() {
            let name = "\(fileName) #\(i) \(v["tag"]?.stringValue ?? (isUop ? "uop" : "insn"))"
            results.append(Result(name: name, failure: checkVector(v, isUop: isUop, config: config)))
        }
        return results
    }

    private static func checkVector(_ v: JSONValue, isUop: Bool, config: HardwareConfig) -> String? {
        guard let structName = v["struct"]?.stringValue, let kind = StructKind(rawValue: structName) else { return "bad struct" }
        guard let hex = v["hex"]?.stringValue, let bytes = Hex.decode(hex) else { return "bad hex" }
        guard case .object(let fields)? = v["fields"] else { return "bad fields" }
        let layout = config.isa.layout(kind)
        let word: InstructionWord
        if isUop {
            guard let w = MicroOpBytes.word(bytes) else { return "micro-op hex is not 4 bytes" }
            word = InstructionWord(uop: w)
        } else {
            guard let w = InstructionWord(bytes: bytes) else { return "instruction hex is not 16 bytes" }
            word = w
        }
        // Decode direction.
        let decoded = Dictionary(uniqueKeysWithValues: layout.decode(word))
        for (name, value) in fields {
            guard let want = value.intValue else { return "field \(name) is not an integer" }
            guard let got = decoded[name] else { return "decoder has no field \(name)" }
            if got != want { return "decode: \(name) = \(got), expected \(want)" }
        }
        if decoded.count != fields.count { return "decode: \(decoded.count) fields, the vector lists \(fields.count)" }
        // Encode direction.
        do {
            let encoded = try layout.encode(fields.map { ($0.0, $0.1.intValue ?? 0) })
            let encodedHex = isUop ? Hex.encode(MicroOpBytes.bytes(UInt32(truncatingIfNeeded: encoded.low))) : encoded.hex
            if encodedHex != hex.lowercased() { return "encode: \(encodedHex), expected \(hex)" }
        } catch {
            return "encode: \(error)"
        }
        // The typed codec must agree with the field codec whenever the struct is the opcode's.
        if !isUop, Instruction.structKind(forOpcode: word.opcodeBits) == kind, word.opcodeBits != 3 {
            let typed = config.isa.decode(word)
            do {
                let again = try config.isa.encode(typed)
                if layout.decode(again).map(\.1) != layout.decode(word).map(\.1) { return "typed codec round trip differs" }
            } catch {
                return "typed encode: \(error)"
            }
        }
        return nil
    }

    /// Runs one program and compares it with its expectations for the profile.
    public static func checkProgram(_ json: JSONValue, fileName: String, profile: SimulatorProfile) -> Result {
        let program: ProgramFile
        do { program = try ProgramFile(json: json) } catch { return Result(name: fileName, failure: "\(error)") }
        do {
            let outcome = try ProgramRunner(program: program, profile: profile).run()
            return Result(name: program.name, failure: outcome.mismatches.isEmpty ? nil : outcome.mismatches.joined(separator: "; "))
        } catch {
            return Result(name: program.name, failure: "\(error)")
        }
    }
}
