/* TEMPORARY minimal MMIO accessors (replaced by the kernel-interface branch). */
#ifndef VTA_MMIO_H
#define VTA_MMIO_H
#include <stdint.h>
#include <stddef.h>
static inline uint32_t vta_mmio_read32(const volatile void *base, size_t offset) {
    return *(const volatile uint32_t *)((const volatile char *)base + offset);
}
static inline void vta_mmio_write32(volatile void *base, size_t offset, uint32_t value) {
    *(volatile uint32_t *)((volatile char *)base + offset) = value;
}
static inline void vta_io_wmb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void vta_io_rmb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void vta_io_mb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
#endif
