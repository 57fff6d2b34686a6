/*
 * vta/runtime.h: the VTA runtime interface of swift-vta's libvta.
 *
 * The same functions, types and constants as TVM's VTA runtime header (without its dependency
 * on TVM's own headers), so TVM-compiled modules and hand-written C link against libvta
 * unchanged. The text and the implementation are swift-vta's (docs/c-api.md lists the
 * differences). The runtime builds VTA instruction streams and micro-op kernels just in time in
 * one process-wide command queue, and runs them with VTASynchronize.
 *
 * Errors never abort the process: a failing call writes one line starting with "libvta:" to
 * standard error and returns NULL or -1 where its signature allows, otherwise does nothing.
 * Every function may be called from any thread; the command queue is one object shared by the
 * whole process (despite the "TLS" in VTATLSCommandHandle), so threads that build programs
 * concurrently must coordinate between themselves, as with upstream.
 */
#ifndef VTA_RUNTIME_H_
#define VTA_RUNTIME_H_

#include <stddef.h>
#include <stdint.h>

#include "driver.h"

#ifdef __cplusplus
extern "C" {
#endif

/* kind_mask values of VTABufferCopy: bit value 1 = `to` is a buffer handle, 2 = `from` is. */
#define VTA_MEMCPY_H2D 1
#define VTA_MEMCPY_D2H 2
#define VTA_MEMCPY_D2D 3

/* Debug flags of VTASetDebugMode. */
#define VTA_DEBUG_DUMP_INSN (1 << 1)          /* print every instruction at VTASynchronize */
#define VTA_DEBUG_DUMP_UOP (1 << 2)           /* print each kernel when it is first loaded */
#define VTA_DEBUG_SKIP_READ_BARRIER (1 << 3)  /* VTAReadBarrier does nothing */
#define VTA_DEBUG_SKIP_WRITE_BARRIER (1 << 4) /* VTAWriteBarrier does nothing */
#define VTA_DEBUG_FORCE_SERIAL (1 << 5)       /* rewrite dependencies so modules never overlap */

/* Alignment of host-side staging memory (kept for source compatibility). */
#define ALLOC_ALIGNMENT 64

/* The command queue handle. */
typedef void* VTACommandHandle;

/* Allocates a device buffer of size bytes; returns its handle (not the data pointer), or NULL. */
void* VTABufferAlloc(size_t size);

/* Frees a buffer handle from VTABufferAlloc. */
void VTABufferFree(void* buffer);

/* Copies size bytes; kind_mask says which of from/to are buffer handles (VTA_MEMCPY_*), the
 * others are host pointers. Offsets are in bytes. kind_mask 0 does nothing. */
void VTABufferCopy(const void* from, size_t from_offset, void* to, size_t to_offset, size_t size, int kind_mask);

/* Destroys the command queue; the next call that needs it creates a new one. */
void VTARuntimeShutdown(void);

/* The process-wide command queue handle, created on first use (NULL if the device cannot be
 * opened). */
VTACommandHandle VTATLSCommandHandle(void);

/* The CPU address of a buffer handle; any other pointer is returned unchanged. */
void* VTABufferCPUPtr(VTACommandHandle cmd, void* buffer);

/* Makes device writes to elements [start, start + extent) of elem_bits-bit elements of a buffer
 * visible to the CPU. */
void VTAWriteBarrier(VTACommandHandle cmd, void* buffer, uint32_t elem_bits, uint32_t start, uint32_t extent);

/* Makes CPU writes to those elements visible to the device. */
void VTAReadBarrier(VTACommandHandle cmd, void* buffer, uint32_t elem_bits, uint32_t start, uint32_t extent);

/* Sets the VTA_DEBUG_* flags. */
void VTASetDebugMode(VTACommandHandle cmd, int debug_flag);

/*
 * Queues a 2-D load: y_size rows of x_size elements, rows x_stride elements apart, starting at
 * element src_elem_offset of the buffer handle src_dram_addr, into on-chip memory
 * dst_memory_type (VTA_MEM_ID_*) at element dst_sram_index, with zero padding around it.
 */
void VTALoadBuffer2D(VTACommandHandle cmd, void* src_dram_addr, uint32_t src_elem_offset, uint32_t x_size,
                     uint32_t y_size, uint32_t x_stride, uint32_t x_pad_before, uint32_t y_pad_before,
                     uint32_t x_pad_after, uint32_t y_pad_after, uint32_t dst_sram_index,
                     uint32_t dst_memory_type);

/* Queues a 2-D store from the output memory (src_memory_type VTA_MEM_ID_OUT) at src_sram_index
 * to the buffer handle dst_dram_addr at element dst_elem_offset. */
void VTAStoreBuffer2D(VTACommandHandle cmd, uint32_t src_sram_index, uint32_t src_memory_type, void* dst_dram_addr,
                      uint32_t dst_elem_offset, uint32_t x_size, uint32_t y_size, uint32_t x_stride);

/* Kernel recording, valid only inside the finit callback of VTAPushGEMMOp / VTAPushALUOp.
 * mode 0 = GEMM, 1 = ALU; opcode is a VTA_ALU_OPCODE_* value. */
void VTAUopPush(uint32_t mode, uint32_t reset_out, uint32_t dst_index, uint32_t src_index, uint32_t wgt_index,
                uint32_t opcode, uint32_t use_imm, int32_t imm_val);

/* Declares a loop level (before the first VTAUopPush; at most two; outermost first). */
void VTAUopLoopBegin(uint32_t extent, uint32_t dst_factor, uint32_t src_factor, uint32_t wgt_factor);

/* Closes a loop level. */
void VTAUopLoopEnd(void);

/*
 * Queues a GEMM (ALU) kernel. *uop_handle is a per-call-site slot that must start as NULL;
 * the kernel of each (slot, signature) is recorded once by calling finit(signature), which must
 * call the recording functions above and return 0. signature points to nbytes (0 or 4) bytes.
 * Returns 0, or -1 on error.
 */
int VTAPushGEMMOp(void** uop_handle, int (*finit)(void*), void* signature, int nbytes);
int VTAPushALUOp(void** uop_handle, int (*finit)(void*), void* signature, int nbytes);

/* Dependency tokens between neighbouring stages (1 load, 2 compute, 3 store): a push is sent by
 * from_qid after its queued work; a pop makes the next instruction of to_qid wait for one.
 * Return 0, or -1 on error. */
int VTADepPush(VTACommandHandle cmd, int from_qid, int to_qid);
int VTADepPop(VTACommandHandle cmd, int from_qid, int to_qid);

/* Runs the queued program and waits for it (wait_cycles as for VTADeviceRun). */
void VTASynchronize(VTACommandHandle cmd, uint32_t wait_cycles);

#ifdef __cplusplus
}
#endif

#endif /* VTA_RUNTIME_H_ */
