import ArgumentParser
import VTA

/// `vtactl decode`: hex instructions (or micro-ops) to JSON fields.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode 32-hex-char instructions (or 8-hex-char micro-ops with --uop) to JSON.",
        discussion: """
            Prints a JSON array with one {"struct", "fields"} object per word. The struct follows
            the opcode as the TVM headers do: LOAD/STORE -> VTAMemInsn, GEMM/FINISH -> VTAGemInsn,
            ALU -> VTAAluInsn, undefined opcodes 5-7 -> VTAGemInsn. --struct forces one view.
            """)

    @OptionGroup var configOptions: ConfigOptions
    @Flag(name: .long, help: "Decode 32-bit micro-ops (8 hex characters each).") var uop = false
    @Option(name: .long, help: "Force a struct view: VTAMemInsn, VTAGemInsn or VTAAluInsn.") var `struct`: String?
    @Argument(help: "Hex words in memory byte order.") var hex: [String] = []

    func run() throws {
        let config = try configOptions.load()
        guard !hex.isEmpty else { throw CLIError("no hex words given") }
        var forced: StructKind?
        if let name = `struct` {
            guard let k = StructKind(rawValue: name), k != .uop || uop else {
                throw CLIError("--struct \(name) is not an instruction struct; use VTAMemInsn, VTAGemInsn or VTAAluInsn")
            }
            forced = k
        }
        var out: [JSONValue] = []
        for (i, text) in hex.enumerated() {
            let fieldsJSON: JSONValue
            let kind: StructKind
            let digits = text.hasPrefix("0x") || text.hasPrefix("0X") ? text.count - 2 : text.count
            let expected = uop ? 8 : 32
            guard digits == expected else {
                throw CLIError("word \(i) (\"\(text)\"): \(uop ? "a micro-op" : "an instruction") is \(expected) hex characters, found \(digits)")
            }
            if uop {
                guard let bytes = Hex.decode(text) else { throw CLIError("word \(i) (\"\(text)\"): not hexadecimal") }
                guard let word = MicroOpBytes.word(bytes) else {
                    throw CLIError("word \(i) (\"\(text)\"): a micro-op is 8 hex characters, found \(text.count)")
                }
                kind = .uop
                fieldsJSON = fieldsObject(config.isa.uop.decode(InstructionWord(uop: word)))
            } else {
                guard let bytes = Hex.decode(text) else { throw CLIError("word \(i) (\"\(text)\"): not hexadecimal") }
                guard let word = InstructionWord(bytes: bytes) else {
                    throw CLIError("word \(i) (\"\(text)\"): an instruction is 32 hex characters, found \(text.count)")
                }
                kind = forced ?? Instruction.structKind(forOpcode: word.opcodeBits)
                fieldsJSON = fieldsObject(config.isa.layout(kind).decode(word))
            }
            out.append(.object([("struct", .string(kind.rawValue)), ("fields", fieldsJSON)]))
        }
        print(JSONValue.array(out).serialized(pretty: true))
    }

    private func fieldsObject(_ fields: [(String, Int64)]) -> JSONValue {
        .object(fields.map { ($0.0, .int($0.1)) })
    }
}

/// `vtactl encode`: JSON fields on stdin to hex words.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode a JSON array of {\"struct\", \"fields\"} objects (stdin) to hex, one word per line.",
        discussion: """
            The input is what `vtactl decode` prints. Missing fields are zero; a value that does not
            fit its field, an unknown field or an unknown struct is an error naming the object.
            """)

    @OptionGroup var configOptions: ConfigOptions

    func run() throws {
        let config = try configOptions.load()
        let input = readStandardInput()
        let json: JSONValue
        do { json = try JSONValue.parse(bytes: input) } catch { throw CLIError("standard input: \(error.description)") }
        guard case .array(let items) = json else { throw CLIError("standard input: expected a JSON array, found \(json.kindName)") }
        var lines: [String] = []
        for (i, item) in items.enumerated() {
            guard case .object = item else { throw CLIError("item \(i): expected an object, found \(item.kindName)") }
            guard let structName = item["struct"]?.stringValue else { throw CLIError("item \(i): missing \"struct\" (a string)") }
            guard let kind = StructKind(rawValue: structName) else {
                throw CLIError("item \(i): \(ISAError.unknownStruct(structName).description)")
            }
            guard case .object(let members)? = item["fields"] else { throw CLIError("item \(i): missing \"fields\" (an object)") }
            var values: [(String, Int64)] = []
            for (name, v) in members {
                switch v {
                case .int(let n): values.append((name, n))
                case .bool(let b): values.append((name, b ? 1 : 0))
                default: throw CLIError("item \(i): \(structName).\(name) is \(v.kindName); it must be an integer")
                }
            }
            let word: InstructionWord
            do { word = try config.isa.layout(kind).encode(values) } catch { throw CLIError("item \(i): \(error.description)") }
            lines.append(kind == .uop ? Hex.encode(MicroOpBytes.bytes(UInt32(truncatingIfNeeded: word.low))) : word.hex)
        }
        if !lines.isEmpty { print(lines.joined(separator: "\n")) }
    }
}

/// `vtactl disasm`: a binary instruction stream (or hex words) to readable text.
struct DisasmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disasm",
        abstract: "Disassemble a binary instruction stream (16 bytes per instruction), or hex words with --hex.")

    @OptionGroup var configOptions: ConfigOptions
    @Flag(name: .long, help: "Arguments are 32-hex-char instruction words, not a file.") var hex = false
    @Flag(name: .long, help: "Arguments are 8-hex-char micro-op words (implies --hex).") var uop = false
    @Argument(help: "The stream file, or hex words with --hex.") var inputs: [String] = []

    func run() throws {
        let config = try configOptions.load()
        let dis = Disassembler(config: config)
        if uop {
            for (i, text) in inputs.enumerated() {
                guard let bytes = Hex.decode(text), let w = MicroOpBytes.word(bytes) else {
                    throw CLIError("word \(i) (\"\(text)\"): expected 8 hex characters")
                }
                print("\(i): \(dis.describe(uop: w))")
            }
            return
        }
        var words: [InstructionWord] = []
        if hex {
            guard !inputs.isEmpty else { throw CLIError("no hex words given") }
            for (i, text) in inputs.enumerated() {
                guard let bytes = Hex.decode(text) else { throw CLIError("word \(i) (\"\(text)\"): not hexadecimal") }
                guard let w = InstructionWord(bytes: bytes) else {
                    throw CLIError("word \(i) (\"\(text)\"): an instruction is 32 hex characters, found \(text.count)")
                }
                words.append(w)
            }
        } else {
            guard inputs.count == 1 else { throw CLIError("give exactly one instruction stream file (or --hex WORDS)") }
            let bytes = try readBinaryFile(inputs[0], what: "instruction stream")
            guard bytes.count % 16 == 0 else {
                throw CLIError("\(inputs[0]): \(bytes.count) bytes is not a whole number of 16-byte instructions (\(bytes.count % 16) bytes left over)")
            }
            words.reserveCapacity(bytes.count / 16)
            var i = 0
            while i < bytes.count {
                words.append(InstructionWord(bytes: bytes[i..<i + 16])!)
                i += 16
            }
        }
        if !words.isEmpty { print(dis.listing(words)) }
    }
}
