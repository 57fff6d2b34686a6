/*
 * swift-vta: the kernel uAPI the board backend talks to, declared from the tables of
 * shared/spec/linux-board-interfaces.md (§2.1 u-dma-buf, §2.2 zocl, §2.3 DMA-BUF heaps, §2.5 TVM
 * DE10 /dev/cma, §2.6 DRM PRIME, Appendix A). Our own declarations, so Swift and C share one
 * layout: the kernel's _IOR/_IOW macros and its uAPI headers do not import into Swift (and the
 * out-of-tree drivers' headers are not installed on a build machine anyway).
 *
 * Every struct size and every request number is checked against the spec's literal values at
 * compile time (_Static_assert), for the architecture being compiled. Numbers that depend on
 * sizeof(size_t) or on pointer size (zocl GET_HOST_BO, DRM VERSION) pick the right value by
 * themselves because they are computed from the struct.
 *
 * Only <stdint.h> and <stddef.h>, like vta_mmio.h.
 */
#ifndef VTA_UAPI_H
#define VTA_UAPI_H

#include <stddef.h>
#include <stdint.h>

/* ---- The generic Linux _IOC encoding (arm, arm64, x86 alike): direction bits 31-30, size bits
 *      29-16, type bits 15-8, number bits 7-0. ------------------------------------------------ */
#define VTA_IOC_NONE 0u
#define VTA_IOC_WRITE 1u
#define VTA_IOC_READ 2u
#define VTA_IOC(dir, type, nr, size)                                                            \
    ((unsigned long)(((uint32_t)(dir) << 30) | ((uint32_t)(size) << 16) | ((uint32_t)(type) << 8) | \
                     (uint32_t)(nr)))
#define VTA_IOR(type, nr, size) VTA_IOC(VTA_IOC_READ, (type), (nr), (size))
#define VTA_IOW(type, nr, size) VTA_IOC(VTA_IOC_WRITE, (type), (nr), (size))
#define VTA_IOWR(type, nr, size) VTA_IOC(VTA_IOC_READ | VTA_IOC_WRITE, (type), (nr), (size))

/* ============================================================================================
 * u-dma-buf (ikwzm, out-of-tree) v4.7+: magic 'U', u64 fields only, same layout on 32/64-bit.
 * ENOTTY from GET_DRV_INFO means an older module without ioctls (use sysfs instead).
 * ========================================================================================== */

/* GET_DRV_INFO: flags bits 7-0 ioctl version, bit 8 in-kernel functions, bit 12 OF dma config,
 * bit 13 OF reserved memory, bit 16 quirk mmap, bit 17 quirk mmap page. */
struct vta_udmabuf_drv_info {
    uint64_t flags;
    char version[16];
};

/* GET_DEV_INFO: flags bits 7-0 DMA mask bits, bit 9 dma-coherent, bits 12-10 mmap mode. */
struct vta_udmabuf_dev_info {
    uint64_t flags;
    uint64_t size;
    uint64_t addr;
};

/* GET_SYNC / SET_SYNC: flags bits 1-0 command (VTA_UDMABUF_SYNC_CMD_*), bits 3-2 direction,
 * bits 15-8 sync mode, bit 16 owner. */
struct vta_udmabuf_sync_args {
    uint64_t flags;
    uint64_t size;
    uint64_t offset;
};

/* EXPORT (marked "under development" upstream): flags bits 31-0 are the fd flags. */
struct vta_udmabuf_export {
    uint64_t flags;
    uint64_t size;
    uint64_t offset;
    uint64_t addr;
    int32_t fd;
};

#define VTA_UDMABUF_IOCTL_MAGIC 'U'
#define VTA_UDMABUF_GET_DRV_INFO_NR VTA_IOR(VTA_UDMABUF_IOCTL_MAGIC, 1, sizeof(struct vta_udmabuf_drv_info))
#define VTA_UDMABUF_GET_SIZE_NR VTA_IOR(VTA_UDMABUF_IOCTL_MAGIC, 2, sizeof(uint64_t))
#define VTA_UDMABUF_GET_DMA_ADDR_NR VTA_IOR(VTA_UDMABUF_IOCTL_MAGIC, 3, sizeof(uint64_t))
#define VTA_UDMABUF_GET_SYNC_OWNER_NR VTA_IOR(VTA_UDMABUF_IOCTL_MAGIC, 4, sizeof(uint32_t))
#define VTA_UDMABUF_SET_SYNC_FOR_CPU_NR VTA_IOW(VTA_UDMABUF_IOCTL_MAGIC, 5, sizeof(uint64_t))
#define VTA_UDMABUF_SET_SYNC_FOR_DEVICE_NR VTA_IOW(VTA_UDMABUF_IOCTL_MAGIC, 6, sizeof(uint64_t))
#define VTA_UDMABUF_GET_DEV_INFO_NR VTA_IOR(VTA_UDMABUF_IOCTL_MAGIC, 7, sizeof(struct vta_udmabuf_dev_info))
#define VTA_UDMABUF_GET_SYNC_NR VTA_IOR(VTA_UDMABUF_IOCTL_MAGIC, 8, sizeof(struct vta_udmabuf_sync_args))
#define VTA_UDMABUF_SET_SYNC_NR VTA_IOW(VTA_UDMABUF_IOCTL_MAGIC, 9, sizeof(struct vta_udmabuf_sync_args))
#define VTA_UDMABUF_EXPORT_NR VTA_IOWR(VTA_UDMABUF_IOCTL_MAGIC, 10, sizeof(struct vta_udmabuf_export))

static const unsigned long VTA_UDMABUF_IOCTL_GET_DRV_INFO = VTA_UDMABUF_GET_DRV_INFO_NR;
static const unsigned long VTA_UDMABUF_IOCTL_GET_SIZE = VTA_UDMABUF_GET_SIZE_NR;
static const unsigned long VTA_UDMABUF_IOCTL_GET_DMA_ADDR = VTA_UDMABUF_GET_DMA_ADDR_NR;
static const unsigned long VTA_UDMABUF_IOCTL_GET_SYNC_OWNER = VTA_UDMABUF_GET_SYNC_OWNER_NR;
static const unsigned long VTA_UDMABUF_IOCTL_SET_SYNC_FOR_CPU = VTA_UDMABUF_SET_SYNC_FOR_CPU_NR;
static const unsigned long VTA_UDMABUF_IOCTL_SET_SYNC_FOR_DEVICE = VTA_UDMABUF_SET_SYNC_FOR_DEVICE_NR;
static const unsigned long VTA_UDMABUF_IOCTL_GET_DEV_INFO = VTA_UDMABUF_GET_DEV_INFO_NR;
static const unsigned long VTA_UDMABUF_IOCTL_GET_SYNC = VTA_UDMABUF_GET_SYNC_NR;
static const unsigned long VTA_UDMABUF_IOCTL_SET_SYNC = VTA_UDMABUF_SET_SYNC_NR;
static const unsigned long VTA_UDMABUF_IOCTL_EXPORT = VTA_UDMABUF_EXPORT_NR;

/* The 64-bit value of SET_SYNC_FOR_CPU/_DEVICE and of the sysfs sync_for_cpu/_device files:
 * bits 63-32 offset, bits 31-4 size (16-byte granular), bits 3-2 direction, bit 0 = 1. */
enum {
    VTA_UDMABUF_SYNC_COMMAND_BIT = 1,
    VTA_UDMABUF_SYNC_DIRECTION_SHIFT = 2,
    VTA_UDMABUF_SYNC_OFFSET_SHIFT = 32,
    VTA_UDMABUF_SYNC_SIZE_GRANULE = 16,
};
/* Sync directions (sysfs `sync_direction`, bits 3-2 above). */
enum {
    VTA_UDMABUF_DIR_BIDIRECTIONAL = 0,
    VTA_UDMABUF_DIR_TO_DEVICE = 1,
    VTA_UDMABUF_DIR_FROM_DEVICE = 2,
};
/* SET_SYNC command field (flags bits 1-0). */
enum {
    VTA_UDMABUF_SYNC_CMD_FOR_CPU = 1,
    VTA_UDMABUF_SYNC_CMD_FOR_DEVICE = 3,
};
/* GET_DEV_INFO flag: the device is dma-coherent (no cache maintenance needed). */
static const uint64_t VTA_UDMABUF_DEV_INFO_DMA_COHERENT = 1ull << 9;

_Static_assert(sizeof(struct vta_udmabuf_drv_info) == 24, "u-dma-buf drv_info is 24 bytes (spec §2.1)");
_Static_assert(sizeof(struct vta_udmabuf_dev_info) == 24, "u-dma-buf dev_info is 24 bytes");
_Static_assert(sizeof(struct vta_udmabuf_sync_args) == 24, "u-dma-buf sync_args is 24 bytes");
_Static_assert(sizeof(struct vta_udmabuf_export) == 40, "u-dma-buf export is 40 bytes");
_Static_assert(VTA_UDMABUF_GET_DRV_INFO_NR == 0x80185501ul, "U_DMA_BUF_IOCTL_GET_DRV_INFO");
_Static_assert(VTA_UDMABUF_GET_SIZE_NR == 0x80085502ul, "U_DMA_BUF_IOCTL_GET_SIZE");
_Static_assert(VTA_UDMABUF_GET_DMA_ADDR_NR == 0x80085503ul, "U_DMA_BUF_IOCTL_GET_DMA_ADDR");
_Static_assert(VTA_UDMABUF_GET_SYNC_OWNER_NR == 0x80045504ul, "U_DMA_BUF_IOCTL_GET_SYNC_OWNER");
_Static_assert(VTA_UDMABUF_SET_SYNC_FOR_CPU_NR == 0x40085505ul, "U_DMA_BUF_IOCTL_SET_SYNC_FOR_CPU");
_Static_assert(VTA_UDMABUF_SET_SYNC_FOR_DEVICE_NR == 0x40085506ul, "U_DMA_BUF_IOCTL_SET_SYNC_FOR_DEVICE");
_Static_assert(VTA_UDMABUF_GET_DEV_INFO_NR == 0x80185507ul, "U_DMA_BUF_IOCTL_GET_DEV_INFO");
_Static_assert(VTA_UDMABUF_GET_SYNC_NR == 0x80185508ul, "U_DMA_BUF_IOCTL_GET_SYNC");
_Static_assert(VTA_UDMABUF_SET_SYNC_NR == 0x40185509ul, "U_DMA_BUF_IOCTL_SET_SYNC");
_Static_assert(VTA_UDMABUF_EXPORT_NR == 0xC028550Aul, "U_DMA_BUF_IOCTL_EXPORT");

/* ============================================================================================
 * Xilinx XRT zocl (DRM driver, edge platforms): DRM_IOWR(DRM_COMMAND_BASE + n), type 'd'.
 * The first eight entries have been stable across XRT 2019-2024; re-verify later ones.
 * ========================================================================================== */

#define VTA_DRM_IOCTL_BASE 'd'
#define VTA_DRM_COMMAND_BASE 0x40

struct vta_zocl_create_bo {
    uint64_t size;
    uint32_t handle; /* out */
    uint32_t flags;  /* bits 15-0 memory bank, VTA_ZOCL_BO_FLAGS_CACHEABLE */
};

struct vta_zocl_userptr_bo {
    uint64_t addr;
    uint64_t size;
    uint32_t handle; /* out */
    uint32_t flags;
};

/* Wraps a page-aligned range of zocl's reserved host memory. size_t: 24 bytes on arm64,
 * 16 on arm32, hence two request numbers. */
struct vta_zocl_host_bo {
    uint64_t paddr;
    size_t size;
    uint32_t handle; /* out */
};

struct vta_zocl_map_bo {
    uint32_t handle;
    uint32_t pad;
    uint64_t offset; /* out: fake offset for mmap on the DRM fd */
};

struct vta_zocl_sync_bo {
    uint32_t handle;
    uint32_t dir; /* VTA_ZOCL_SYNC_BO_TO_DEVICE / _FROM_DEVICE */
    uint64_t offset;
    uint64_t size;
};

struct vta_zocl_info_bo {
    uint32_t handle;
    uint32_t flags; /* out in newer headers, padding in old ones */
    uint64_t size;  /* out */
    uint64_t paddr; /* out: the DMA address (CPU physical without an SMMU) */
};

/* PWRITE_BO and PREAD_BO. */
struct vta_zocl_pwrite_bo {
    uint32_t handle;
    uint32_t pad;
    uint64_t offset;
    uint64_t size;
    uint64_t data_ptr;
};

/* Current zocl keeps only these of the user flags (the old COHERENT/CMA bits are dropped). */
static const uint32_t VTA_ZOCL_BO_FLAGS_CACHEABLE = 1u << 24;
static const uint32_t VTA_ZOCL_BO_FLAGS_EXECBUF = 1u << 31;
static const uint32_t VTA_ZOCL_BO_FLAGS_BANK_MASK = 0xFFFFu;
enum {
    VTA_ZOCL_SYNC_BO_TO_DEVICE = 0,
    VTA_ZOCL_SYNC_BO_FROM_DEVICE = 1,
};

#define VTA_ZOCL_CREATE_BO_NR VTA_IOWR(VTA_DRM_IOCTL_BASE, VTA_DRM_COMMAND_BASE + 0, sizeof(struct vta_zocl_create_bo))
#define VTA_ZOCL_USERPTR_BO_NR VTA_IOWR(VTA_DRM_IOCTL_BASE, VTA_DRM_COMMAND_BASE + 1, sizeof(struct vta_zocl_userptr_bo))
#define VTA_ZOCL_GET_HOST_BO_NR VTA_IOWR(VTA_DRM_IOCTL_BASE, VTA_DRM_COMMAND_BASE + 2, sizeof(struct vta_zocl_host_bo))
#define VTA_ZOCL_MAP_BO_NR VTA_IOWR(VTA_DRM_IOCTL_BASE, VTA_DRM_COMMAND_BASE + 3, sizeof(struct vta_zocl_map_bo))
#define VTA_ZOCL_SYNC_BO_NR VTA_IOWR(VTA_DRM_IOCTL_BASE, VTA_DRM_COMMAND_BASE + 4, sizeof(struct vta_zocl_sync_bo))
#define VTA_ZOCL_INFO_BO_NR VTA_IOWR(VTA_DRM_IOCTL_BASE, VTA_DRM_COMMAND_BASE + 5, sizeof(struct vta_zocl_info_bo))
#define VTA_ZOCL_PWRITE_BO_NR VTA_IOWR(VTA_DRM_IOCTL_BASE, VTA_DRM_COMMAND_BASE + 6, sizeof(struct vta_zocl_pwrite_bo))
#define VTA_ZOCL_PREAD_BO_NR VTA_IOWR(VTA_DRM_IOCTL_BASE, VTA_DRM_COMMAND_BASE + 7, sizeof(struct vta_zocl_pwrite_bo))

static const unsigned long VTA_ZOCL_IOCTL_CREATE_BO = VTA_ZOCL_CREATE_BO_NR;
static const unsigned long VTA_ZOCL_IOCTL_USERPTR_BO = VTA_ZOCL_USERPTR_BO_NR;
/* 0xC0186442 with a 64-bit size_t (arm64), 0xC0106442 with a 32-bit one (arm32). */
static const unsigned long VTA_ZOCL_IOCTL_GET_HOST_BO = VTA_ZOCL_GET_HOST_BO_NR;
static const unsigned long VTA_ZOCL_IOCTL_MAP_BO = VTA_ZOCL_MAP_BO_NR;
static const unsigned long VTA_ZOCL_IOCTL_SYNC_BO = VTA_ZOCL_SYNC_BO_NR;
static const unsigned long VTA_ZOCL_IOCTL_INFO_BO = VTA_ZOCL_INFO_BO_NR;
static const unsigned long VTA_ZOCL_IOCTL_PWRITE_BO = VTA_ZOCL_PWRITE_BO_NR;
static const unsigned long VTA_ZOCL_IOCTL_PREAD_BO = VTA_ZOCL_PREAD_BO_NR;

_Static_assert(sizeof(struct vta_zocl_create_bo) == 16, "zocl CREATE_BO is 16 bytes (spec §2.2)");
_Static_assert(sizeof(struct vta_zocl_userptr_bo) == 24, "zocl USERPTR_BO is 24 bytes");
_Static_assert(sizeof(struct vta_zocl_host_bo) == (sizeof(size_t) == 8 ? 24 : 16),
               "zocl GET_HOST_BO is 24 bytes on arm64, 16 on arm32");
_Static_assert(sizeof(struct vta_zocl_map_bo) == 16, "zocl MAP_BO is 16 bytes");
_Static_assert(sizeof(struct vta_zocl_sync_bo) == 24, "zocl SYNC_BO is 24 bytes");
_Static_assert(sizeof(struct vta_zocl_info_bo) == 24, "zocl INFO_BO is 24 bytes");
_Static_assert(sizeof(struct vta_zocl_pwrite_bo) == 32, "zocl PWRITE_BO/PREAD_BO are 32 bytes");
_Static_assert(VTA_ZOCL_CREATE_BO_NR == 0xC0106440ul, "DRM_IOCTL_ZOCL_CREATE_BO");
_Static_assert(VTA_ZOCL_USERPTR_BO_NR == 0xC0186441ul, "DRM_IOCTL_ZOCL_USERPTR_BO");
_Static_assert(VTA_ZOCL_GET_HOST_BO_NR == (sizeof(size_t) == 8 ? 0xC0186442ul : 0xC0106442ul),
               "DRM_IOCTL_ZOCL_GET_HOST_BO (arm64 / arm32)");
_Static_assert(VTA_ZOCL_MAP_BO_NR == 0xC0106443ul, "DRM_IOCTL_ZOCL_MAP_BO");
_Static_assert(VTA_ZOCL_SYNC_BO_NR == 0xC0186444ul, "DRM_IOCTL_ZOCL_SYNC_BO");
_Static_assert(VTA_ZOCL_INFO_BO_NR == 0xC0186445ul, "DRM_IOCTL_ZOCL_INFO_BO");
_Static_assert(VTA_ZOCL_PWRITE_BO_NR == 0xC0206446ul, "DRM_IOCTL_ZOCL_PWRITE_BO");
_Static_assert(VTA_ZOCL_PREAD_BO_NR == 0xC0206447ul, "DRM_IOCTL_ZOCL_PREAD_BO");

/* ============================================================================================
 * DRM core: GEM close, PRIME, VERSION (libdrm's drmGetVersion is preferred for VERSION).
 * ========================================================================================== */

struct vta_drm_gem_close {
    uint32_t handle;
    uint32_t pad;
};

struct vta_drm_prime_handle {
    uint32_t handle;
    uint32_t flags; /* DRM_CLOEXEC | DRM_RDWR for HANDLE_TO_FD */
    int32_t fd;
};

/* int major, minor, patch; then three (size_t length, char *string) pairs: 64 bytes on arm64,
 * 36 on arm32. */
struct vta_drm_version {
    int32_t version_major;
    int32_t version_minor;
    int32_t version_patchlevel;
    size_t name_len;
    char *name;
    size_t date_len;
    char *date;
    size_t desc_len;
    char *desc;
};

#define VTA_DRM_GEM_CLOSE_NR VTA_IOW(VTA_DRM_IOCTL_BASE, 0x09, sizeof(struct vta_drm_gem_close))
#define VTA_DRM_PRIME_HANDLE_TO_FD_NR VTA_IOWR(VTA_DRM_IOCTL_BASE, 0x2d, sizeof(struct vta_drm_prime_handle))
#define VTA_DRM_PRIME_FD_TO_HANDLE_NR VTA_IOWR(VTA_DRM_IOCTL_BASE, 0x2e, sizeof(struct vta_drm_prime_handle))
#define VTA_DRM_VERSION_NR VTA_IOWR(VTA_DRM_IOCTL_BASE, 0x00, sizeof(struct vta_drm_version))

static const unsigned long VTA_DRM_IOCTL_GEM_CLOSE = VTA_DRM_GEM_CLOSE_NR;
static const unsigned long VTA_DRM_IOCTL_PRIME_HANDLE_TO_FD = VTA_DRM_PRIME_HANDLE_TO_FD_NR;
static const unsigned long VTA_DRM_IOCTL_PRIME_FD_TO_HANDLE = VTA_DRM_PRIME_FD_TO_HANDLE_NR;
static const unsigned long VTA_DRM_IOCTL_VERSION = VTA_DRM_VERSION_NR;

_Static_assert(sizeof(struct vta_drm_gem_close) == 8, "drm_gem_close is 8 bytes");
_Static_assert(sizeof(struct vta_drm_prime_handle) == 12, "drm_prime_handle is 12 bytes");
_Static_assert(sizeof(void *) != 8 || sizeof(struct vta_drm_version) == 64, "drm_version is 64 bytes on 64-bit");
_Static_assert(sizeof(void *) != 4 || sizeof(struct vta_drm_version) == 36, "drm_version is 36 bytes on 32-bit");
_Static_assert(VTA_DRM_GEM_CLOSE_NR == 0x40086409ul, "DRM_IOCTL_GEM_CLOSE");
_Static_assert(VTA_DRM_PRIME_HANDLE_TO_FD_NR == 0xC00C642Dul, "DRM_IOCTL_PRIME_HANDLE_TO_FD");
_Static_assert(VTA_DRM_PRIME_FD_TO_HANDLE_NR == 0xC00C642Eul, "DRM_IOCTL_PRIME_FD_TO_HANDLE");
_Static_assert(VTA_DRM_VERSION_NR == (sizeof(void *) == 8 ? 0xC0406400ul : 0xC0246400ul),
               "DRM_IOCTL_VERSION (arm64 / arm32)");

/* ============================================================================================
 * dma-buf CPU-access bracketing, DMA-BUF heaps, mainline (memfd) udmabuf.
 * ========================================================================================== */

struct vta_dma_buf_sync {
    uint64_t flags; /* VTA_DMA_BUF_SYNC_* */
};
enum {
    VTA_DMA_BUF_SYNC_READ = 1 << 0,
    VTA_DMA_BUF_SYNC_WRITE = 2 << 0,
    VTA_DMA_BUF_SYNC_RW = VTA_DMA_BUF_SYNC_READ | VTA_DMA_BUF_SYNC_WRITE,
    VTA_DMA_BUF_SYNC_START = 0 << 2,
    VTA_DMA_BUF_SYNC_END = 1 << 2,
};

struct vta_dma_heap_allocation_data {
    uint64_t len;
    uint32_t fd;         /* out */
    uint32_t fd_flags;   /* O_RDWR | O_CLOEXEC */
    uint64_t heap_flags; /* must be 0 */
};

/* Mainline udmabuf (Linux 4.20, /dev/udmabuf): memfd pages as a dma-buf, NOT contiguous. */
struct vta_udmabuf_create {
    uint32_t memfd;
    uint32_t flags;
    uint64_t offset;
    uint64_t size;
};

#define VTA_DMA_BUF_SYNC_NR VTA_IOW('b', 0, sizeof(struct vta_dma_buf_sync))
#define VTA_DMA_HEAP_ALLOC_NR VTA_IOWR('H', 0, sizeof(struct vta_dma_heap_allocation_data))
#define VTA_UDMABUF_CREATE_NR VTA_IOW('u', 0x42, sizeof(struct vta_udmabuf_create))

static const unsigned long VTA_DMA_BUF_IOCTL_SYNC = VTA_DMA_BUF_SYNC_NR;
static const unsigned long VTA_DMA_HEAP_IOCTL_ALLOC = VTA_DMA_HEAP_ALLOC_NR;
static const unsigned long VTA_UDMABUF_CREATE = VTA_UDMABUF_CREATE_NR;

_Static_assert(sizeof(struct vta_dma_buf_sync) == 8, "dma_buf_sync is 8 bytes");
_Static_assert(sizeof(struct vta_dma_heap_allocation_data) == 24, "dma_heap_allocation_data is 24 bytes");
_Static_assert(sizeof(struct vta_udmabuf_create) == 24, "udmabuf_create is 24 bytes");
_Static_assert(VTA_DMA_BUF_SYNC_NR == 0x40086200ul, "DMA_BUF_IOCTL_SYNC");
_Static_assert(VTA_DMA_HEAP_ALLOC_NR == 0xC0184800ul, "DMA_HEAP_IOCTL_ALLOC");
_Static_assert(VTA_UDMABUF_CREATE_NR == 0x40187542ul, "UDMABUF_CREATE");

/* ============================================================================================
 * TVM's DE10-Nano /dev/cma module (3rdparty/cma): magic 0xF2, one 32-bit payload each.
 * ALLOC_* take the size and return the CPU virtual address; GET_PHY_ADDR takes it and returns
 * the physical address (the DE10 driver adds 0x80000000 for the ACP window itself).
 * ========================================================================================== */

#define VTA_CMA_IOCTL_MAGIC 0xF2
#define VTA_CMA_ALLOC_CACHED_NR VTA_IOWR(VTA_CMA_IOCTL_MAGIC, 1, sizeof(uint32_t))
#define VTA_CMA_ALLOC_NONCACHED_NR VTA_IOWR(VTA_CMA_IOCTL_MAGIC, 2, sizeof(uint32_t))
#define VTA_CMA_FREE_NR VTA_IOW(VTA_CMA_IOCTL_MAGIC, 3, sizeof(uint32_t))
#define VTA_CMA_GET_PHY_ADDR_NR VTA_IOWR(VTA_CMA_IOCTL_MAGIC, 4, sizeof(uint32_t))
#define VTA_CMA_GET_SIZE_NR VTA_IOWR(VTA_CMA_IOCTL_MAGIC, 5, sizeof(uint32_t))

static const unsigned long VTA_CMA_IOCTL_ALLOC_CACHED = VTA_CMA_ALLOC_CACHED_NR;
static const unsigned long VTA_CMA_IOCTL_ALLOC_NONCACHED = VTA_CMA_ALLOC_NONCACHED_NR;
static const unsigned long VTA_CMA_IOCTL_FREE = VTA_CMA_FREE_NR;
static const unsigned long VTA_CMA_IOCTL_GET_PHY_ADDR = VTA_CMA_GET_PHY_ADDR_NR;
static const unsigned long VTA_CMA_IOCTL_GET_SIZE = VTA_CMA_GET_SIZE_NR;

_Static_assert(VTA_CMA_ALLOC_CACHED_NR == 0xC004F201ul, "CMA_ALLOC_CACHED");
_Static_assert(VTA_CMA_ALLOC_NONCACHED_NR == 0xC004F202ul, "CMA_ALLOC_NONCACHED");
_Static_assert(VTA_CMA_FREE_NR == 0x4004F203ul, "CMA_FREE");
_Static_assert(VTA_CMA_GET_PHY_ADDR_NR == 0xC004F204ul, "CMA_GET_PHY_ADDR");
_Static_assert(VTA_CMA_GET_SIZE_NR == 0xC004F205ul, "CMA_GET_SIZE");

#endif /* VTA_UAPI_H */
