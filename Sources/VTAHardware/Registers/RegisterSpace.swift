import CVTAKernel
import Glibc

/// The register windows of one board, addressed by physical address.
public final class RegisterSpace: @unchecked Sendable {
    public let windows: [RegisterWindow]

    public init(windows: [RegisterWindow]) { self.windows = windows }

    /// A register resolved to its window and offset, for loops that touch it often.
    public struct Bound {
        public let register: Register
        let window: RegisterWindow
        let offset: Int
        @inline(__always) public func read() -> UInt32 { window.read32(offset: offset) }
        @inline(__always) public func write(_ value: UInt32) { window.write32(offset: offset, value) }
    }

    /// Resolves a register, or says which windows exist.
    public func bind(_ register: Register) throws(BoardError) -> Bound {
        try bind(register.address, name: register.name)
    }

    func bind(_ address: UInt64, name: String) throws(BoardError) -> Bound {
        guard address & 3 == 0, let w = windows.first(where: { $0.contains(address) }) else {
            throw .registerOutOfRange(address: address, windows: windows.map { "\($0.label): 0x\(String($0.physicalBase, radix: 16))+0x\(String($0.length, radix: 16))" }.joined(separator: ", "))
        }
        return Bound(register: Register(name, address), window: w, offset: Int(address - w.physicalBase))
    }

    /// `name = 0x........` lines for the given registers.
    public func dump(_ registers: [Register]) -> String {
        registers.map { r -> String in
            guard let b = try? bind(r) else { return "\(r.name) (0x\(String(r.address, radix: 16))) unmapped" }
            return "\(r.name)=0x" + hex32(b.read())
        }.joined(separator: " ")
    }
}

/// Eight hex digits.
func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}
