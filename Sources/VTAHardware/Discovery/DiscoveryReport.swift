import VTA

/// Everything discovery found on a board, the verdict on each UIO device and how it was found.
/// `text` is what `vtactl board info` prints; `json` the same for scripts.
public struct DiscoveryReport: Sendable, Hashable {
    public var method: DiscoveryMethod
    /// The board target the UIO devices were judged against.
    public var target: TargetProfile
    /// The UIO name and parent compatible that were required.
    public var uioName: String
    public var compatible: String?
    public var uio: [DiscoveredUIO]
    public var udmabufs: [DiscoveredUDMABuf]
    /// Render and primary DRM nodes of every driver.
    public var drmNodes: [DiscoveredDRMNode]
    public var fpgaManagers: [DiscoveredFPGAManager]
    /// Legacy PYNQ `/dev/xlnk` (libcma) exists.
    public var hasXlnk: Bool
    /// TVM's DE10-Nano `/dev/cma` exists.
    public var hasCMA: Bool
    /// How the scan was made and what to do about what is missing.
    public var notes: [String]

    /// The VTA register window: the first accepted UIO device.
    public var acceptedUIO: DiscoveredUIO? { uio.first(where: \.accepted) }

    /// zocl's render node, the DRM node that provides DMA memory (never another driver's).
    public var zoclRenderNode: DiscoveredDRMNode? { drmNodes.first { $0.isRenderNode && $0.isZocl } }

    // MARK: Text

    /// Human-readable lines.
    public var text: String {
        var lines: [String] = []
        lines.append("discovery: \(method.rawValue)")
        let wanted = compatible.map { ", compatible \"\($0)\"" } ?? ""
        lines.append("target: \(target.name) (UIO \"\(uioName)\"\(wanted), registers at \(sysfsHex(target.fetchBase)))")
        lines.append("UIO devices:" + (uio.isEmpty ? " none" : ""))
        for device in uio {
            let verdict = device.accepted ? "accepted" : "not accepted"
            lines.append("  \(device.sysname) \"\(device.name)\" \(device.devnode ?? "(no node)"): \(verdict)")
            for reason in device.rejectionReasons { lines.append("    - \(reason)") }
            for map in device.maps {
                let name = map.name.isEmpty ? "" : " \"\(map.name)\""
                lines.append("    map \(map.index): \(sysfsHex(map.start)) size \(sysfsHex(map.size))\(name)")
            }
            let compatibles = device.parentCompatible.isEmpty ? "none" : device.parentCompatible.joined(separator: ", ")
            lines.append("    parent \(device.parentDevice ?? "none"), compatible \(compatibles)")
        }
        lines.append("DMA buffers (u-dma-buf):" + (udmabufs.isEmpty ? " none" : ""))
        for buffer in udmabufs {
            let address = buffer.physicalAddress.map(sysfsHex) ?? "unknown address"
            let size = buffer.size.map { "\($0) bytes" } ?? "unknown size"
            let coherent = buffer.dmaCoherent.map { $0 ? ", coherent" : ", not coherent" } ?? ""
            lines.append("  \(buffer.name) [\(buffer.className)] \(buffer.devnode ?? "(no node)"): \(address), \(size)\(coherent)")
        }
        lines.append("DRM nodes:" + (drmNodes.isEmpty ? " none" : ""))
        let zocl = zoclRenderNode
        for node in drmNodes {
            let role = node == zocl ? "zocl DMA memory" : node.isZocl ? "zocl primary node: not used" : "ignored"
            lines.append("  \(node.sysname) \(node.devnode ?? "(no node)"): driver \(node.driver ?? "none"), "
                + "parent \(node.platformDevice ?? "none") (\(role))")
        }
        lines.append("FPGA managers:" + (fpgaManagers.isEmpty ? " none" : ""))
        for manager in fpgaManagers {
            let flags = manager.flags.map { ", flags \(sysfsHex($0))" } ?? ""
            let loading = manager.canLoadFirmware ? "" : " (no firmware attribute: load through an overlay)"
            lines.append("  \(manager.sysname) \"\(manager.name)\": state \(manager.state)\(flags)\(loading)")
        }
        lines.append("legacy: /dev/xlnk \(hasXlnk ? "present" : "absent"), /dev/cma \(hasCMA ? "present" : "absent")")
        for note in notes { lines.append("note: \(note)") }
        return lines.joined(separator: "\n")
    }

    // MARK: JSON

    public var json: JSONValue {
        func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
        func number(_ v: UInt64?) -> JSONValue { v.map { .string(sysfsHex($0)) } ?? .null }
        func strings(_ list: [String]) -> JSONValue { .array(list.map(JSONValue.string)) }
        return .object([
            ("method", .string(method.rawValue)),
            ("target", .string(target.name)),
            ("uio_name", .string(uioName)),
            ("compatible", optional(compatible)),
            ("accepted_uio", optional(acceptedUIO?.sysname)),
            ("uio", .array(uio.map { d in
                .object([
                    ("sysname", .string(d.sysname)), ("devnode", optional(d.devnode)), ("name", .string(d.name)),
                    ("version", .string(d.version)),
                    ("maps", .array(d.maps.map { m in
                        .object([("index", .int(Int64(m.index))), ("addr", .string(sysfsHex(m.address))),
                                 ("size", .string(sysfsHex(m.size))), ("offset", .string(sysfsHex(m.offset))),
                                 ("name", .string(m.name))])
                    })),
                    ("parent", optional(d.parentDevice)), ("parent_compatible", strings(d.parentCompatible)),
                    ("of_name", optional(d.ofName)), ("accepted", .bool(d.accepted)),
                    ("rejection_reasons", strings(d.rejectionReasons)),
                ])
            })),
            ("udmabufs", .array(udmabufs.map { b in
                .object([
                    ("class", .string(b.className)), ("name", .string(b.name)), ("phys_addr", number(b.physicalAddress)),
                    ("size", b.size.map { .int(Int64(clamping: $0)) } ?? .null),
                    ("dma_coherent", b.dmaCoherent.map(JSONValue.bool) ?? .null), ("devnode", optional(b.devnode)),
                ])
            })),
            ("drm", .array(drmNodes.map { n in
                .object([
                    ("sysname", .string(n.sysname)), ("devnode", optional(n.devnode)), ("driver", optional(n.driver)),
                    ("platform_device", optional(n.platformDevice)), ("compatible", strings(n.compatible)),
                    ("zocl", .bool(n.isZocl && n.isRenderNode)),
                ])
            })),
            ("zocl_render_node", optional(zoclRenderNode?.devnode)),
            ("fpga_managers", .array(fpgaManagers.map { m in
                .object([
                    ("sysname", .string(m.sysname)), ("name", .string(m.name)), ("state", .string(m.state)),
                    ("flags", number(m.flags)), ("firmware_attribute", .bool(m.canLoadFirmware)),
                ])
            })),
            ("xlnk", .bool(hasXlnk)),
            ("cma", .bool(hasCMA)),
            ("notes", strings(notes)),
        ])
    }
}
