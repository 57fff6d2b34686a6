import VTA

/// What `vtactl board program` asks for.
public struct BoardProgramRequest: Sendable, Hashable {
    /// A bitstream path, or a bare design name looked up in `<firmware>/vta` (see
    /// `BoardProgrammer.resolve`).
    public var bitstream: String
    /// A `.dtbo` to apply after programming.
    public var overlay: String?
    /// The board target (`pynq`, `ultra96`, ...); when nil, the descriptor's target is used.
    public var board: String?
    /// The configfs name of the overlay; an overlay of this name is removed before programming.
    public var overlayName: String
    /// How long to wait for `operating`, `applied` and the lock.
    public var timeout: Duration

    public init(bitstream: String, overlay: String? = nil, board: String? = nil, overlayName: String = "vta",
                timeout: Duration = .seconds(10)) {
        self.bitstream = bitstream
        self.overlay = overlay
        self.board = board
        self.overlayName = overlayName
        self.timeout = timeout
    }
}

/// What was done, for the command's output.
public struct BoardProgramResult: Sendable {
    public var bitstream: BitstreamFile
    /// The name written to the FPGA manager's `firmware` (relative to the firmware directory).
    public var firmwareName: String
    public var board: TargetProfile?
    public var descriptor: BoardDescriptor?
    /// The `.dtbo` applied, if any.
    public var overlay: String?
    /// One line per step.
    public var lines: [String]
}

/// Loads a bitstream and its overlay the safe way (spec §5.7): check everything that can be
/// checked first (file, header, part, descriptor, permissions), take the FPGA lock, stage the
/// image, remove the old overlay so no driver sits on the old design, program, apply the new
/// overlay. Root only; it belongs in `vtactl board program` and `vta-program@.service`, never in
/// the daemon.
public struct BoardProgrammer: Sendable {
    public let roots: SystemRoots

    public init(roots: SystemRoots = .live) { self.roots = roots }

    /// The file a request names, and the overlay that goes with it.
    ///
    /// A bare name (no `/`, and no such file in the current directory) is a design staged in
    /// `<firmware>/vta`: the first of `NAME.bit`, `NAME.bit.bin`, `NAME.bin`, `NAME.rbf`, with
    /// `NAME.dtbo` beside it as the overlay when present. This is how `vta-program@NAME.service`
    /// calls it. A path is used as given, with no implied overlay.
    public func resolve(_ bitstream: String) -> (bitstream: String, overlay: String?) {
        guard !bitstream.contains("/"), !HostFiles.exists(bitstream) else { return (bitstream, nil) }
        let dir = roots.firmware + "/" + FPGAManager.stagingDirectory + "/"
        for ext in [".bit", ".bit.bin", ".bin", ".rbf"] where HostFiles.isRegularFile(dir + bitstream + ext) {
            let overlay = dir + bitstream + ".dtbo"
            return (dir + bitstream + ext, HostFiles.isRegularFile(overlay) ? overlay : nil)
        }
        return (bitstream, nil)
    }

    /// Programs the FPGA as `request` says.
    public func program(_ request: BoardProgramRequest) throws(BoardLifecycleError) -> BoardProgramResult {
        let resolved = resolve(request.bitstream)
        let overlayPath = request.overlay ?? resolved.overlay
        var lines: [String] = []

        // 1. Everything that can be refused without touching the system.
        let bitstream = try BitstreamFile(path: resolved.bitstream)
        if let h = bitstream.header {
            lines.append("bitstream \(bitstream.path): design \(h.designName), part \(h.part), built \(h.date) \(h.time)")
        } else {
            lines.append("bitstream \(bitstream.path): \(bitstream.format.rawValue) image, \(bitstream.bytes.count) bytes")
        }
        var board = try request.board.map { name throws(BoardLifecycleError) in try Self.board(named: name) }
        let descriptorPath = BoardDescriptor.path(forBitstream: bitstream.path)
        var descriptor: BoardDescriptor?
        if HostFiles.exists(descriptorPath) {
            let loaded: (descriptor: BoardDescriptor, bitstreamVerified: Bool)
            do { loaded = try BoardDescriptor.load(path: descriptorPath) } catch { throw .descriptor(error) }
            descriptor = loaded.descriptor
            let describes = loaded.descriptor.bitstream
            let check = describes == HostFiles.baseName(bitstream.path)
                ? "SHA-256 verified" : "describes \(describes), not this file: SHA-256 not checked"
            lines.append("descriptor \(descriptorPath): \(loaded.descriptor.config.cfgString), "
                + "\(loaded.descriptor.clockMHz) MHz, \(check)")
            if let chosen = board, chosen.name != loaded.descriptor.target {
                throw .boardMismatch(descriptor: descriptorPath, descriptorTarget: loaded.descriptor.target, board: chosen.name)
            }
            if board == nil, let profile = TargetProfile.named(loaded.descriptor.target), profile.isBoard { board = profile }
        } else {
            lines.append("no board descriptor at \(descriptorPath): the configuration cannot be checked at open")
        }
        if let board {
            try bitstream.checkPart(for: board)
            if bitstream.header != nil { lines.append("part matches board \(board.name) (\(board.fpgaPart))") }
        } else if bitstream.header != nil {
            lines.append("no --board and no descriptor: the bitstream's part was not checked")
        }
        let manager = try FPGAManager.find(roots: roots)
        try manager.checkPermissions()
        let overlay = try DeviceTreeOverlay(name: request.overlayName, roots: roots)
        if let overlayPath {
            _ = try DeviceTreeOverlay.readBlob(overlayPath)
            try overlay.checkPermissions()
        }
        let staleOverlay = (try? DeviceTreeOverlay.overlaysDirectory(roots: roots)) != nil && overlay.exists
        if staleOverlay { try overlay.checkPermissions() }

        // 2. Change the system, under the lock.
        let lock = try FPGALock.acquire(roots: roots, timeout: request.timeout)
        let firmwareName = try manager.stage(bitstream)
        lines.append("staged as \(roots.firmware)/\(firmwareName)")
        if staleOverlay {
            try overlay.remove()
            lines.append("removed the previous overlay \(overlay.name)")
        }
        try manager.load(firmware: firmwareName, timeout: request.timeout)
        lines.append("\(manager.sysname) (\(manager.name ?? "FPGA manager")): \(manager.state ?? "operating")")
        if let overlayPath {
            try overlay.apply(dtbo: overlayPath, timeout: request.timeout)
            lines.append("overlay \(overlay.name) applied from \(overlayPath)")
        }
        withExtendedLifetime(lock) {}
        return BoardProgramResult(bitstream: bitstream, firmwareName: firmwareName, board: board, descriptor: descriptor,
                                  overlay: overlayPath, lines: lines)
    }

    /// A board target by name (simulator targets are not boards).
    public static func board(named name: String) throws(BoardLifecycleError) -> TargetProfile {
        guard let profile = TargetProfile.named(name), profile.isBoard else {
            throw .unknownBoard(name: name, known: TargetProfile.all.filter(\.isBoard).map(\.name))
        }
        return profile
    }
}
