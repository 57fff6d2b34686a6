/*
 * swift-vta: device register access, device-ordering barriers and data-cache maintenance.
 *
 * Why C: Swift has no `volatile`, so plain loads and stores to a register window may be merged,
 * hoisted out of a polling loop or dropped in release builds. The accessors below are volatile
 * and inline to single load/store instructions.
 *
 * Why not C11/Swift atomics for ordering: their fences are inner-shareable (`dmb ish`), i.e.
 * CPU-to-CPU only. Ordering towards a device needs the outer-shareable or full-system forms,
 * and cache maintenance must be completed with a DSB (spec: linux-board-interfaces §3.4, §3.5).
 *
 * Only <stdint.h> and <stddef.h>: the header also compiles with -ffreestanding for the board
 * targets (aarch64, armv7), which is how the tests check the emitted instructions.
 */
#ifndef VTA_MMIO_H
#define VTA_MMIO_H

#include <stddef.h>
#include <stdint.h>

/* ---- Register access: one naturally aligned, volatile access each (no memcpy: Device memory
 *      faults on unaligned or `DC ZVA` accesses). `offset` is in bytes from `base`. ---------- */

static inline uint32_t vta_mmio_read32(const volatile void *base, size_t offset) {
    return *(const volatile uint32_t *)((const volatile uint8_t *)base + offset);
}

static inline void vta_mmio_write32(volatile void *base, size_t offset, uint32_t value) {
    *(volatile uint32_t *)((volatile uint8_t *)base + offset) = value;
}

/* 64-bit accesses are single instructions on aarch64 and x86-64; on armv7 the compiler may split
 * them into two 32-bit accesses (low word first), which is what 64-bit AXI-Lite registers expect. */
static inline uint64_t vta_mmio_read64(const volatile void *base, size_t offset) {
    return *(const volatile uint64_t *)((const volatile uint8_t *)base + offset);
}

static inline void vta_mmio_write64(volatile void *base, size_t offset, uint64_t value) {
    *(volatile uint64_t *)((volatile uint8_t *)base + offset) = value;
}

/* ---- Barriers ------------------------------------------------------------------------------ */

/* Before a doorbell/start store: earlier stores (buffer contents, argument registers) become
 * visible to the device first. aarch64 `dmb oshst` is what Linux's writel() uses; armv7 uses
 * `dsb st` like the kernel's wmb() (a DMB would not wait for stores still in the buffer on the
 * way to an outer cache); x86 stores are ordered, `sfence` covers write-combining mappings. */
static inline void vta_io_wmb(void) {
#if defined(__aarch64__)
    __asm__ __volatile__("dmb oshst" ::: "memory");
#elif defined(__arm__)
    __asm__ __volatile__("dsb st" ::: "memory");
#elif defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("sfence" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* After observing DONE, before reading results: later loads are not satisfied early. */
static inline void vta_io_rmb(void) {
#if defined(__aarch64__)
    __asm__ __volatile__("dmb oshld" ::: "memory");
#elif defined(__arm__)
    __asm__ __volatile__("dmb osh" ::: "memory");
#elif defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("lfence" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* Full barrier: every earlier access (and cache maintenance) completes before any later one. */
static inline void vta_io_mb(void) {
#if defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("dsb sy" ::: "memory");
#elif defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("mfence" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* ---- Data-cache maintenance from user space ------------------------------------------------
 * Only aarch64 allows it at EL0 (Linux sets SCTLR_EL1.UCI/UCT; on some Cortex-A53 errata the
 * kernel traps and emulates the instructions, which is slower but still correct). ARMv7 cache
 * maintenance is privileged, so there (and on x86, which is coherent) these report "unsupported"
 * and the caller must use a kernel sync path (u-dma-buf ioctls, zocl SYNC_BO) or an uncached
 * mapping. */

/* Smallest data-cache line in bytes (CTR_EL0.DminLine: 4 << bits[19:16]); 0 where user space
 * cannot maintain caches. */
static inline size_t vta_dcache_line_size(void) {
#if defined(__aarch64__)
    uint64_t ctr;
    __asm__ __volatile__("mrs %0, ctr_el0" : "=r"(ctr));
    return (size_t)4 << ((ctr >> 16) & 0xF);
#else
    return 0;
#endif
}

/* Cleans [p, p+n) to the point of coherency (DC CVAC per line) and waits for completion (DSB SY),
 * so a non-coherent DMA master reads what the CPU wrote. 0, or -1 where unsupported. */
static inline int vta_dcache_clean_range(const void *p, size_t n) {
#if defined(__aarch64__)
    if (n == 0) return 0;
    const uintptr_t line = (uintptr_t)vta_dcache_line_size();
    const uintptr_t end = (uintptr_t)p + n;
    for (uintptr_t a = (uintptr_t)p & ~(line - 1); a < end; a += line)
        __asm__ __volatile__("dc cvac, %0" : : "r"(a) : "memory");
    __asm__ __volatile__("dsb sy" ::: "memory");
    return 0;
#else
    (void)p;
    (void)n;
    return -1;
#endif
}

/* Cleans and invalidates [p, p+n) to the point of coherency (DC CIVAC per line; EL0 has no
 * invalidate-only DC IVAC) and waits (DSB SY), so the CPU reads what a DMA master wrote. Needed
 * after every device write even if the CPU never touched the range: speculative prefetches can
 * pull stale lines in meanwhile. 0, or -1 where unsupported. */
static inline int vta_dcache_clean_invalidate_range(const void *p, size_t n) {
#if defined(__aarch64__)
    if (n == 0) return 0;
    const uintptr_t line = (uintptr_t)vta_dcache_line_size();
    const uintptr_t end = (uintptr_t)p + n;
    for (uintptr_t a = (uintptr_t)p & ~(line - 1); a < end; a += line)
        __asm__ __volatile__("dc civac, %0" : : "r"(a) : "memory");
    __asm__ __volatile__("dsb sy" ::: "memory");
    return 0;
#else
    (void)p;
    (void)n;
    return -1;
#endif
}

#endif /* VTA_MMIO_H */
