import CVTAKernel
import Testing

/// The request numbers and struct sizes Swift sees through CVTAKernel equal the tables of
/// shared/spec/linux-board-interfaces.md (typed in here from the spec, not computed).
@Suite struct UAPITests {
    static let is64Bit = MemoryLayout<Int>.size == 8

    @Test func uDMABufIoctls() {
        #expect(VTA_UDMABUF_IOCTL_GET_DRV_INFO == 0x8018_5501)
        #expect(VTA_UDMABUF_IOCTL_GET_SIZE == 0x8008_5502)
        #expect(VTA_UDMABUF_IOCTL_GET_DMA_ADDR == 0x8008_5503)
        #expect(VTA_UDMABUF_IOCTL_GET_SYNC_OWNER == 0x8004_5504)
        #expect(VTA_UDMABUF_IOCTL_SET_SYNC_FOR_CPU == 0x4008_5505)
        #expect(VTA_UDMABUF_IOCTL_SET_SYNC_FOR_DEVICE == 0x4008_5506)
        #expect(VTA_UDMABUF_IOCTL_GET_DEV_INFO == 0x8018_5507)
        #expect(VTA_UDMABUF_IOCTL_GET_SYNC == 0x8018_5508)
        #expect(VTA_UDMABUF_IOCTL_SET_SYNC == 0x4018_5509)
        #expect(VTA_UDMABUF_IOCTL_EXPORT == 0xC028_550A)
        #expect(MemoryLayout<vta_udmabuf_drv_info>.size == 24)
        #expect(MemoryLayout<vta_udmabuf_dev_info>.size == 24)
        #expect(MemoryLayout<vta_udmabuf_sync_args>.size == 24)
        #expect(MemoryLayout<vta_udmabuf_export>.size == 40)
        #expect(VTA_UDMABUF_DEV_INFO_DMA_COHERENT == 1 << 9)
    }

    @Test func zoclIoctls() {
        #expect(VTA_ZOCL_IOCTL_CREATE_BO == 0xC010_6440)
        #expect(VTA_ZOCL_IOCTL_USERPTR_BO == 0xC018_6441)
        #expect(VTA_ZOCL_IOCTL_GET_HOST_BO == (Self.is64Bit ? 0xC018_6442 : 0xC010_6442))
        #expect(VTA_ZOCL_IOCTL_MAP_BO == 0xC010_6443)
        #expect(VTA_ZOCL_IOCTL_SYNC_BO == 0xC018_6444)
        #expect(VTA_ZOCL_IOCTL_INFO_BO == 0xC018_6445)
        #expect(VTA_ZOCL_IOCTL_PWRITE_BO == 0xC020_6446)
        #expect(VTA_ZOCL_IOCTL_PREAD_BO == 0xC020_6447)
        #expect(MemoryLayout<vta_zocl_create_bo>.size == 16)
        #expect(MemoryLayout<vta_zocl_userptr_bo>.size == 24)
        #expect(MemoryLayout<vta_zocl_host_bo>.size == (Self.is64Bit ? 24 : 16))
        #expect(MemoryLayout<vta_zocl_map_bo>.size == 16)
        #expect(MemoryLayout<vta_zocl_sync_bo>.size == 24)
        #expect(MemoryLayout<vta_zocl_info_bo>.size == 24)
        #expect(MemoryLayout<vta_zocl_pwrite_bo>.size == 32)
        #expect(VTA_ZOCL_BO_FLAGS_CACHEABLE == 1 << 24)
        #expect(VTA_ZOCL_SYNC_BO_TO_DEVICE == 0 && VTA_ZOCL_SYNC_BO_FROM_DEVICE == 1)
        // Field order matters: CREATE_BO's handle sits after the 64-bit size.
        #expect(MemoryLayout<vta_zocl_create_bo>.offset(of: \.handle) == 8)
        #expect(MemoryLayout<vta_zocl_info_bo>.offset(of: \.paddr) == 16)
        #expect(MemoryLayout<vta_zocl_sync_bo>.offset(of: \.size) == 16)
    }

    @Test func drmDmaBufAndHeapIoctls() {
        #expect(VTA_DRM_IOCTL_GEM_CLOSE == 0x4008_6409)
        #expect(VTA_DRM_IOCTL_PRIME_HANDLE_TO_FD == 0xC00C_642D)
        #expect(VTA_DRM_IOCTL_PRIME_FD_TO_HANDLE == 0xC00C_642E)
        #expect(VTA_DRM_IOCTL_VERSION == (Self.is64Bit ? 0xC040_6400 : 0xC024_6400))
        #expect(MemoryLayout<vta_drm_gem_close>.size == 8)
        #expect(MemoryLayout<vta_drm_prime_handle>.size == 12)
        #expect(MemoryLayout<vta_drm_version>.size == (Self.is64Bit ? 64 : 36))
        #expect(VTA_DMA_BUF_IOCTL_SYNC == 0x4008_6200)
        #expect(VTA_DMA_HEAP_IOCTL_ALLOC == 0xC018_4800)
        #expect(VTA_UDMABUF_CREATE == 0x4018_7542)
        #expect(MemoryLayout<vta_dma_buf_sync>.size == 8)
        #expect(MemoryLayout<vta_dma_heap_allocation_data>.size == 24)
        #expect(MemoryLayout<vta_udmabuf_create>.size == 24)
        #expect(VTA_DMA_BUF_SYNC_READ == 1 && VTA_DMA_BUF_SYNC_WRITE == 2 && VTA_DMA_BUF_SYNC_RW == 3)
        #expect(VTA_DMA_BUF_SYNC_START == 0 && VTA_DMA_BUF_SYNC_END == 4)
    }

    @Test func tvmDE10CMAIoctls() {
        #expect(VTA_CMA_IOCTL_ALLOC_CACHED == 0xC004_F201)
        #expect(VTA_CMA_IOCTL_ALLOC_NONCACHED == 0xC004_F202)
        #expect(VTA_CMA_IOCTL_FREE == 0x4004_F203)
        #expect(VTA_CMA_IOCTL_GET_PHY_ADDR == 0xC004_F204)
        #expect(VTA_CMA_IOCTL_GET_SIZE == 0xC004_F205)
    }

    /// The header's _Static_asserts hold for the 32-bit and 64-bit board ABIs too (GET_HOST_BO and
    /// DRM VERSION differ between them): a compile for each board target must succeed.
    @Test(arguments: ["aarch64-linux-gnu", "armv7a-linux-gnueabihf"])
    func staticAssertsHoldOnBoardTargets(_ target: String) throws {
        let dir = try TempDir("vta-kit-uapi")
        try dir.write("uapi.c", "#include \"vta_uapi.h\"\nunsigned long host_bo(void) { return VTA_ZOCL_IOCTL_GET_HOST_BO; }\n")
        let r = try Tool.run(try Tool.clang(), ["--target=\(target)", "-ffreestanding", "-std=c11", "-Wall", "-Wextra",
                                                "-Werror", "-fsyntax-only", "-I", Repo.shimInclude, dir.path + "/uapi.c"])
        #expect(r.status == 0, "vta_uapi.h does not compile for \(target): \(r.stderr)")
    }
}
