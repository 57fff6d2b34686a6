/*
 * vta/driver.h: the VTA driver interface of swift-vta's libvta.
 *
 * The same functions, types and constants as TVM's VTA driver header, so code written against
 * that header compiles unchanged; the text and the implementation are swift-vta's. The device
 * behind these calls is chosen at run time (VTA_BACKEND, see docs/c-api.md): the in-process
 * simulator, or the vtad daemon, where memory is shared with the daemon and every run is
 * verified before it reaches the accelerator.
 *
 * Errors never abort the process: a failing call writes one line starting with "libvta:" to
 * standard error and returns NULL, 0 or a non-zero status, as its signature allows.
 * Every function may be called from any thread.
 */
#ifndef VTA_DRIVER_H_
#define VTA_DRIVER_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The `cached` argument of VTAMemAlloc. */
#define VTA_CACHED 1
#define VTA_NOT_CACHED 0

/* The largest physically contiguous buffer the runtime asks for (bytes). */
#ifndef VTA_MAX_XFER
#define VTA_MAX_XFER (1 << 25)
#endif

/* Page size of the device memory allocators. */
#define VTA_PAGE_BITS 12
#define VTA_PAGE_BYTES (1 << VTA_PAGE_BITS)

/* An opaque device context. */
typedef void* VTADeviceHandle;

/*
 * A physical (device) address: 32 bits, or 64 bits when USE_VTA64 is defined. libvta exports
 * both widths; with USE_VTA64 the declarations below bind to the 64-bit entry points (the same
 * C names, linked to the symbols with a "64" suffix). The 32-bit entry points report an address
 * that does not fit 32 bits as an error instead of truncating it.
 */
#define VTA_STRINGIFY_(x) #x
#define VTA_STRINGIFY(x) VTA_STRINGIFY_(x)
#ifdef USE_VTA64
typedef uint64_t vta_phy_addr_t;
#define VTA_PHY_ADDR_ABI(name) __asm__(VTA_STRINGIFY(__USER_LABEL_PREFIX__) #name "64")
#else
typedef uint32_t vta_phy_addr_t;
#define VTA_PHY_ADDR_ABI(name)
#endif

/* Creates a device context (opening the backend on first use); NULL if that fails. */
VTADeviceHandle VTADeviceAlloc(void);

/* Releases a device context. */
void VTADeviceFree(VTADeviceHandle handle);

/*
 * Runs insn_count 16-byte instructions starting at physical byte address insn_phy_addr (which
 * must lie in memory from VTAMemAlloc) and waits until FINISH. wait_cycles bounds the wait: here
 * it is read as microseconds, at least one second (docs/c-api.md).
 * Returns 0 on success, 1 on timeout, 2 if the device rejected the program or could not complete
 * it (e.g. a dependency deadlock, or the daemon's verifier refused it), -1 for invalid arguments.
 */
int VTADeviceRun(VTADeviceHandle device, vta_phy_addr_t insn_phy_addr, uint32_t insn_count, uint32_t wait_cycles)
    VTA_PHY_ADDR_ABI(VTADeviceRun);

/* Allocates size bytes of device-accessible, physically contiguous memory; returns its CPU
 * address, or NULL. */
void* VTAMemAlloc(size_t size, int cached);

/* Frees memory from VTAMemAlloc. */
void VTAMemFree(void* buf);

/* The physical address of a pointer into memory from VTAMemAlloc (0 on error). */
vta_phy_addr_t VTAMemGetPhyAddr(void* buf) VTA_PHY_ADDR_ABI(VTAMemGetPhyAddr);

/* Copies size bytes from host memory into device memory (dst lies in VTAMemAlloc memory). */
void VTAMemCopyFromHost(void* dst, const void* src, size_t size);

/* Copies size bytes from device memory (src lies in VTAMemAlloc memory) to host memory. */
void VTAMemCopyToHost(void* dst, const void* src, size_t size);

/* Writes the CPU caches back for size bytes at vir_addr / phy_addr (same memory, both views). */
void VTAFlushCache(void* vir_addr, vta_phy_addr_t phy_addr, int size) VTA_PHY_ADDR_ABI(VTAFlushCache);

/* Discards the CPU cache lines for size bytes at vir_addr / phy_addr. */
void VTAInvalidateCache(void* vir_addr, vta_phy_addr_t phy_addr, int size) VTA_PHY_ADDR_ABI(VTAInvalidateCache);

/* Programs a bitstream. TVM's header does not declare it, its simulator driver provides it as a
 * no-op; here too (the daemon owns the board's bitstream). */
void VTAProgram(const char* bitstream);

#ifdef __cplusplus
}
#endif

#endif /* VTA_DRIVER_H_ */
