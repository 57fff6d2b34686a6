/*
 * vta/hw_spec.h: VTA's hardware constants and instruction layouts, for C code that builds
 * instructions by hand (the driver API) or needs the element sizes.
 *
 * The names are those of TVM's VTA headers (hw_spec.h and hw_spec_const.h together); the text is
 * swift-vta's. The configuration parameters default to the stock configuration
 * 1x16_i8w8a32_15_15_18_17 (vta_config.json with LOG_BATCH 0, LOG_BLOCK 4, 8-bit inputs and
 * weights, 32-bit accumulators, buffers 2^15 / 2^15 / 2^18 / 2^17 bytes). For another
 * configuration define the VTA_LOG_* parameters on the command line, as TVM's
 * `vta_config.py --cflags` prints them; everything below is derived from them. The library reads
 * its configuration at run time (VTA_CONFIG), so the two must agree.
 *
 * The instruction views are structs of bit-fields: with GCC and Clang on x86-64, AArch64 and
 * 32-bit ARM, fields are allocated from bit 0 in declaration order and a field never straddles a
 * 64-bit (instructions) or 32-bit (micro-ops) unit, which is the layout VTA decodes.
 */
#ifndef VTA_HW_SPEC_H_
#define VTA_HW_SPEC_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Configuration parameters (vta_config.json) ---- */
#ifndef VTA_LOG_INP_WIDTH
#define VTA_LOG_INP_WIDTH 3
#endif
#ifndef VTA_LOG_WGT_WIDTH
#define VTA_LOG_WGT_WIDTH 3
#endif
#ifndef VTA_LOG_ACC_WIDTH
#define VTA_LOG_ACC_WIDTH 5
#endif
#ifndef VTA_LOG_BATCH
#define VTA_LOG_BATCH 0
#endif
#ifndef VTA_LOG_BLOCK
#define VTA_LOG_BLOCK 4
#endif
#ifndef VTA_LOG_UOP_BUFF_SIZE
#define VTA_LOG_UOP_BUFF_SIZE 15
#endif
#ifndef VTA_LOG_INP_BUFF_SIZE
#define VTA_LOG_INP_BUFF_SIZE 15
#endif
#ifndef VTA_LOG_WGT_BUFF_SIZE
#define VTA_LOG_WGT_BUFF_SIZE 18
#endif
#ifndef VTA_LOG_ACC_BUFF_SIZE
#define VTA_LOG_ACC_BUFF_SIZE 17
#endif
#ifndef VTA_LOG_BLOCK_IN
#define VTA_LOG_BLOCK_IN VTA_LOG_BLOCK
#endif
#ifndef VTA_LOG_BLOCK_OUT
#define VTA_LOG_BLOCK_OUT VTA_LOG_BLOCK
#endif
/* Outputs have the input width; the output buffer has as many elements as the accumulator. */
#ifndef VTA_LOG_OUT_WIDTH
#define VTA_LOG_OUT_WIDTH VTA_LOG_INP_WIDTH
#endif
#ifndef VTA_LOG_OUT_BUFF_SIZE
#define VTA_LOG_OUT_BUFF_SIZE (VTA_LOG_ACC_BUFF_SIZE + VTA_LOG_OUT_WIDTH - VTA_LOG_ACC_WIDTH)
#endif
/* Memory bus width of the target (64 bits for pynq, de10nano and the simulators). */
#ifndef VTA_LOG_BUS_WIDTH
#define VTA_LOG_BUS_WIDTH 6
#endif

/* ---- Fixed widths ---- */
#define VTA_LOG_INS_WIDTH 7
#define VTA_INS_WIDTH (1 << VTA_LOG_INS_WIDTH)
#define VTA_LOG_UOP_WIDTH 5
#define VTA_UOP_WIDTH (1 << VTA_LOG_UOP_WIDTH)
#define VTA_BUS_WIDTH (1 << VTA_LOG_BUS_WIDTH)
#define VTA_OPCODE_BIT_WIDTH 3
#define VTA_ALU_OPCODE_BIT_WIDTH 3
#define VTA_MEMOP_ID_BIT_WIDTH 3
#define VTA_MEMOP_SRAM_ADDR_BIT_WIDTH 16
#define VTA_MEMOP_DRAM_ADDR_BIT_WIDTH 32
#define VTA_MEMOP_SIZE_BIT_WIDTH 16
#define VTA_MEMOP_STRIDE_BIT_WIDTH 16
#define VTA_MEMOP_PAD_BIT_WIDTH 4
/* Declared by the hardware, used by no instruction field: padding is always zero. */
#define VTA_MEMOP_PAD_VAL_BIT_WIDTH 2
#define VTA_LOOP_ITER_WIDTH 14
#define VTA_ALUOP_IMM_BIT_WIDTH 16
#define VTA_SHR_ARG_BIT_WIDTH (VTA_LOG_ACC_WIDTH)
#define VTA_MUL_ARG_BIT_WIDTH 8

/* ---- Tile shapes and value widths ---- */
#define VTA_BATCH (1 << VTA_LOG_BATCH)
#define VTA_BLOCK_IN (1 << VTA_LOG_BLOCK_IN)
#define VTA_BLOCK_OUT (1 << VTA_LOG_BLOCK_OUT)
#define VTA_INP_WIDTH (1 << VTA_LOG_INP_WIDTH)
#define VTA_WGT_WIDTH (1 << VTA_LOG_WGT_WIDTH)
#define VTA_ACC_WIDTH (1 << VTA_LOG_ACC_WIDTH)
#define VTA_OUT_WIDTH (1 << VTA_LOG_OUT_WIDTH)

/* Bits of one element (tile): INP [BATCH][BLOCK_IN], WGT [BLOCK_OUT][BLOCK_IN],
 * ACC and OUT [BATCH][BLOCK_OUT]. */
#define VTA_INP_MATRIX_WIDTH (VTA_INP_WIDTH * VTA_BATCH * VTA_BLOCK_IN)
#define VTA_WGT_MATRIX_WIDTH (VTA_WGT_WIDTH * VTA_BLOCK_OUT * VTA_BLOCK_IN)
#define VTA_ACC_MATRIX_WIDTH (VTA_ACC_WIDTH * VTA_BATCH * VTA_BLOCK_OUT)
#define VTA_OUT_MATRIX_WIDTH (VTA_OUT_WIDTH * VTA_BATCH * VTA_BLOCK_OUT)

/* Bus words per element (hardware DMA). */
#define VTA_INP_MAT_AXI_RATIO (VTA_INP_MATRIX_WIDTH / VTA_BUS_WIDTH)
#define VTA_WGT_MAT_AXI_RATIO (VTA_WGT_MATRIX_WIDTH / VTA_BUS_WIDTH)
#define VTA_ACC_MAT_AXI_RATIO (VTA_ACC_MATRIX_WIDTH / VTA_BUS_WIDTH)
#define VTA_OUT_MAT_AXI_RATIO (VTA_OUT_MATRIX_WIDTH / VTA_BUS_WIDTH)

/* Bytes of one element; LOAD/STORE dram_base and x_stride count these. */
#define VTA_INS_ELEM_BYTES (VTA_INS_WIDTH / 8)
#define VTA_UOP_ELEM_BYTES (VTA_UOP_WIDTH / 8)
#define VTA_INP_ELEM_BYTES (VTA_INP_MATRIX_WIDTH / 8)
#define VTA_WGT_ELEM_BYTES (VTA_WGT_MATRIX_WIDTH / 8)
#define VTA_ACC_ELEM_BYTES (VTA_ACC_MATRIX_WIDTH / 8)
#define VTA_OUT_ELEM_BYTES (VTA_OUT_MATRIX_WIDTH / 8)

/* On-chip buffer sizes (bytes) and depths (elements). */
#define VTA_UOP_BUFF_SIZE (1 << VTA_LOG_UOP_BUFF_SIZE)
#define VTA_INP_BUFF_SIZE (1 << VTA_LOG_INP_BUFF_SIZE)
#define VTA_WGT_BUFF_SIZE (1 << VTA_LOG_WGT_BUFF_SIZE)
#define VTA_ACC_BUFF_SIZE (1 << VTA_LOG_ACC_BUFF_SIZE)
#define VTA_OUT_BUFF_SIZE (1 << VTA_LOG_OUT_BUFF_SIZE)
#define VTA_LOG_UOP_BUFF_DEPTH (VTA_LOG_UOP_BUFF_SIZE - VTA_LOG_UOP_WIDTH + 3)
#define VTA_LOG_INP_BUFF_DEPTH (VTA_LOG_INP_BUFF_SIZE - VTA_LOG_BATCH - VTA_LOG_BLOCK_IN - VTA_LOG_INP_WIDTH + 3)
#define VTA_LOG_WGT_BUFF_DEPTH (VTA_LOG_WGT_BUFF_SIZE - VTA_LOG_BLOCK_OUT - VTA_LOG_BLOCK_IN - VTA_LOG_WGT_WIDTH + 3)
#define VTA_LOG_ACC_BUFF_DEPTH (VTA_LOG_ACC_BUFF_SIZE - VTA_LOG_BATCH - VTA_LOG_BLOCK_OUT - VTA_LOG_ACC_WIDTH + 3)
#define VTA_LOG_OUT_BUFF_DEPTH (VTA_LOG_OUT_BUFF_SIZE - VTA_LOG_BATCH - VTA_LOG_BLOCK_OUT - VTA_LOG_OUT_WIDTH + 3)
#define VTA_UOP_BUFF_DEPTH (VTA_UOP_BUFF_SIZE / VTA_UOP_ELEM_BYTES)
#define VTA_INP_BUFF_DEPTH (VTA_INP_BUFF_SIZE / VTA_INP_ELEM_BYTES)
#define VTA_WGT_BUFF_DEPTH (VTA_WGT_BUFF_SIZE / VTA_WGT_ELEM_BYTES)
#define VTA_ACC_BUFF_DEPTH (VTA_ACC_BUFF_SIZE / VTA_ACC_ELEM_BYTES)
#define VTA_OUT_BUFF_DEPTH (VTA_OUT_BUFF_SIZE / VTA_OUT_ELEM_BYTES)

/* ---- Identifiers ---- */
/* Instruction opcodes (bits 0..2 of every instruction). */
#define VTA_OPCODE_LOAD 0
#define VTA_OPCODE_STORE 1
#define VTA_OPCODE_GEMM 2
#define VTA_OPCODE_FINISH 3
#define VTA_OPCODE_ALU 4
/* ALU operations. MUL is executed by TVM's simulator, ignored by the Xilinx bitstreams. */
#define VTA_ALU_OPCODE_MIN 0
#define VTA_ALU_OPCODE_MAX 1
#define VTA_ALU_OPCODE_ADD 2
#define VTA_ALU_OPCODE_SHR 3
#define VTA_ALU_OPCODE_MUL 4
/* Memory types of LOAD/STORE (memory_type) and of VTALoadBuffer2D/VTAStoreBuffer2D. */
#define VTA_MEM_ID_UOP 0
#define VTA_MEM_ID_WGT 1
#define VTA_MEM_ID_INP 2
#define VTA_MEM_ID_ACC 3
#define VTA_MEM_ID_OUT 4
#define VTA_MEM_ID_ACC_8BIT 5
/* Pipeline stages, as the runtime's dependency calls number them. */
#define VTA_QID_LOAD 1
#define VTA_QID_COMPUTE 2
#define VTA_QID_STORE 3

/* ---- Instruction views (128 bits; the low 64-bit word comes first in memory) ---- */

/* The fields every instruction shares. pop/push: take or give one dependency token from or to
 * the previous/next pipeline stage (load -> compute -> store). */
typedef struct {
  uint64_t opcode : VTA_OPCODE_BIT_WIDTH;
  uint64_t pop_prev_dep : 1;
  uint64_t pop_next_dep : 1;
  uint64_t push_prev_dep : 1;
  uint64_t push_next_dep : 1;
  uint64_t pad_0 : 64 - VTA_OPCODE_BIT_WIDTH - 4;
  uint64_t pad_1 : 64;
} VTAGenericInsn;

/* LOAD and STORE. dram_base and x_stride count elements of memory_type; the pads (LOAD only)
 * insert zero rows before/after and zero elements at the start/end of each row. */
typedef struct {
  uint64_t opcode : VTA_OPCODE_BIT_WIDTH;
  uint64_t pop_prev_dep : 1;
  uint64_t pop_next_dep : 1;
  uint64_t push_prev_dep : 1;
  uint64_t push_next_dep : 1;
  uint64_t memory_type : VTA_MEMOP_ID_BIT_WIDTH;
  uint64_t sram_base : VTA_MEMOP_SRAM_ADDR_BIT_WIDTH;
  uint64_t dram_base : VTA_MEMOP_DRAM_ADDR_BIT_WIDTH;
  uint64_t y_size : VTA_MEMOP_SIZE_BIT_WIDTH;
  uint64_t x_size : VTA_MEMOP_SIZE_BIT_WIDTH;
  uint64_t x_stride : VTA_MEMOP_STRIDE_BIT_WIDTH;
  uint64_t y_pad_0 : VTA_MEMOP_PAD_BIT_WIDTH;
  uint64_t y_pad_1 : VTA_MEMOP_PAD_BIT_WIDTH;
  uint64_t x_pad_0 : VTA_MEMOP_PAD_BIT_WIDTH;
  uint64_t x_pad_1 : VTA_MEMOP_PAD_BIT_WIDTH;
} VTAMemInsn;

/* GEMM: for o < iter_out, i < iter_in, u in [uop_bgn, uop_end):
 * ACC[uop.dst + o*dst_factor_out + i*dst_factor_in] +=
 *   INP[uop.src + o*src_factor_out + i*src_factor_in] x WGT[uop.wgt + o*wgt_factor_out + i*wgt_factor_in]^T
 * (reset_reg: zero the accumulator rows instead). FINISH uses this view with every field 0 but
 * the opcode and dependency flags. */
typedef struct {
  uint64_t opcode : VTA_OPCODE_BIT_WIDTH;
  uint64_t pop_prev_dep : 1;
  uint64_t pop_next_dep : 1;
  uint64_t push_prev_dep : 1;
  uint64_t push_next_dep : 1;
  uint64_t reset_reg : 1;
  uint64_t uop_bgn : VTA_LOG_UOP_BUFF_DEPTH;
  uint64_t uop_end : VTA_LOG_UOP_BUFF_DEPTH + 1;
  uint64_t iter_out : VTA_LOOP_ITER_WIDTH;
  uint64_t iter_in : VTA_LOOP_ITER_WIDTH;
  uint64_t dst_factor_out : VTA_LOG_ACC_BUFF_DEPTH;
  uint64_t dst_factor_in : VTA_LOG_ACC_BUFF_DEPTH;
  uint64_t src_factor_out : VTA_LOG_INP_BUFF_DEPTH;
  uint64_t src_factor_in : VTA_LOG_INP_BUFF_DEPTH;
  uint64_t wgt_factor_out : VTA_LOG_WGT_BUFF_DEPTH;
  uint64_t wgt_factor_in : VTA_LOG_WGT_BUFF_DEPTH;
} VTAGemInsn;

/* ALU: the same loop nest; both operands index the accumulator (src with the src factors), or
 * the second operand is the sign-extended immediate when use_imm is set. */
typedef struct {
  uint64_t opcode : VTA_OPCODE_BIT_WIDTH;
  uint64_t pop_prev_dep : 1;
  uint64_t pop_next_dep : 1;
  uint64_t push_prev_dep : 1;
  uint64_t push_next_dep : 1;
  uint64_t reset_reg : 1;
  uint64_t uop_bgn : VTA_LOG_UOP_BUFF_DEPTH;
  uint64_t uop_end : VTA_LOG_UOP_BUFF_DEPTH + 1;
  uint64_t iter_out : VTA_LOOP_ITER_WIDTH;
  uint64_t iter_in : VTA_LOOP_ITER_WIDTH;
  uint64_t dst_factor_out : VTA_LOG_ACC_BUFF_DEPTH;
  uint64_t dst_factor_in : VTA_LOG_ACC_BUFF_DEPTH;
  uint64_t src_factor_out : VTA_LOG_ACC_BUFF_DEPTH;
  uint64_t src_factor_in : VTA_LOG_ACC_BUFF_DEPTH;
  uint64_t alu_opcode : VTA_ALU_OPCODE_BIT_WIDTH;
  uint64_t use_imm : 1;
  int64_t imm : VTA_ALUOP_IMM_BIT_WIDTH;
} VTAAluInsn;

/* One instruction, through any of its views. */
typedef union {
  VTAGenericInsn generic;
  VTAMemInsn mem;
  VTAGemInsn gemm;
  VTAAluInsn alu;
} VTAInsn;

/* A micro-op (32 bits): accumulator row, input row (GEMM) or second accumulator row (ALU), and
 * weight row (GEMM only). */
#define VTA_UOP_SRC_IDX_WIDTH \
  (VTA_LOG_INP_BUFF_DEPTH > VTA_LOG_ACC_BUFF_DEPTH ? VTA_LOG_INP_BUFF_DEPTH : VTA_LOG_ACC_BUFF_DEPTH)
typedef struct {
  uint32_t dst_idx : VTA_LOG_ACC_BUFF_DEPTH;
  uint32_t src_idx : VTA_UOP_SRC_IDX_WIDTH;
  uint32_t wgt_idx : VTA_LOG_WGT_BUFF_DEPTH;
} VTAUop;

#ifdef __cplusplus
}
#endif

#endif /* VTA_HW_SPEC_H_ */
