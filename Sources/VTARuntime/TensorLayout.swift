import VTA

/// Packing between row-major matrices and VTA's blocked DRAM layouts for one configuration
/// (spec §2.12): a matrix is cut into tiles, tiles are laid out row-major over the tile grid,
/// and each tile is row-major inside. Edges are padded with zeros to whole tiles.
public struct TensorLayout: Sendable {
    public let config: HardwareConfig
    public init(config: HardwareConfig) { self.config = config }

    /// Tile grid of a `rows` x `cols` matrix cut into `tileRows` x `tileCols` tiles.
    public static func tiles(_ n: Int, _ tile: Int) -> Int { (n + tile - 1) / tile }

    /// Generic tiling: row-major `values` -> tiles in row-major tile order, zero-padded.
    /// Total on any input: values missing from a short array read as zero, extra values are
    /// ignored, and non-positive sizes give an empty result (callers that care check the count).
    public static func pack<T: BinaryInteger>(_ values: [T], rows: Int, cols: Int, tileRows: Int, tileCols: Int) -> [T] {
        guard rows > 0, cols > 0, tileRows > 0, tileCols > 0 else { return [] }
        let tr = tiles(rows, tileRows), tc = tiles(cols, tileCols)
        var out = [T](repeating: 0, count: tr * tc * tileRows * tileCols)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    let tileRow = r / tileRows, inRow = r % tileRows
                    for c in 0..<cols where r * cols + c < src.count {
                        let tile = tileRow * tc + c / tileCols
                        dst[(tile * tileRows + inRow) * tileCols + c % tileCols] = src[r * cols + c]
                    }
                }
            }
        }
        return out
    }

    /// The inverse of `pack`, dropping the padding (total like `pack`: missing tiles read as zero).
    public static func unpack<T: BinaryInteger>(_ tiled: [T], rows: Int, cols: Int, tileRows: Int, tileCols: Int) -> [T] {
        guard rows > 0, cols > 0, tileRows > 0, tileCols > 0 else { return [] }
        let tc = tiles(cols, tileCols)
        var out = [T](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                let tile = (r / tileRows) * tc + c / tileCols
                let i = (tile * tileRows + r % tileRows) * tileCols + c % tileCols
                if i < tiled.count { out[r * cols + c] = tiled[i] }
            }
        }
        return out
    }

    /// Input activations (int8, `rows` x `cols`) as INP elements `[BATCH][BLOCK_IN]`.
    public func packInput(_ v: [Int8], rows: Int, cols: Int) -> [Int8] {
        Self.pack(v, rows: rows, cols: cols, tileRows: config.batch, tileCols: config.blockIn)
    }

    /// Weights (int8, `rows` = output channels x `cols` = input channels) as WGT elements `[BLOCK_OUT][BLOCK_IN]`.
    public func packWeights(_ v: [Int8], rows: Int, cols: Int) -> [Int8] {
        Self.pack(v, rows: rows, cols: cols, tileRows: config.blockOut, tileCols: config.blockIn)
    }

    /// Accumulator values (int32) as ACC elements `[BATCH][BLOCK_OUT]`.
    public func packAccumulator(_ v: [Int32], rows: Int, cols: Int) -> [Int32] {
        Self.pack(v, rows: rows, cols: cols, tileRows: config.batch, tileCols: config.blockOut)
    }

    /// OUT elements `[BATCH][BLOCK_OUT]` back to a row-major int8 matrix.
    public func unpackOutput(_ v: [Int8], rows: Int, cols: Int) -> [Int8] {
        Self.unpack(v, rows: rows, cols: cols, tileRows: config.batch, tileCols: config.blockOut)
    }
}
