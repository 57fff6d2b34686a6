/*
 * SIMD kernels for the swift-vta simulator's hot loops.
 *
 * The Swift simulator owns all state and semantics; these functions only run the inner loop nests
 * of GEMM and ALU instructions and the operand conversions done on LOAD, where per-element Swift
 * code would be too slow. Every function is pure over the buffers it is given.
 *
 * Operand layouts (chosen so GEMM is a chain of 16-bit multiply-add-pairs with no horizontal sums):
 *   inp16 element: int16 [BATCH][BLOCK_IN]                      (sign-extended input tile)
 *   wgt16 element: int16 [BLOCK_IN/2][BLOCK_OUT][2]             (k pairs interleaved per output c)
 *   acc   element: int32 [BATCH][BLOCK_OUT]
 *   out   element: int8  [BATCH][BLOCK_OUT]                     (hardware profile only)
 */
#ifndef VTA_SIM_KERNELS_H
#define VTA_SIM_KERNELS_H

#include <stdint.h>
#include <stddef.h>

typedef struct {
    int32_t *acc;
    int8_t *out;              /* NULL: no separate OUT buffer (fsim profile) */
    const int16_t *inp16;
    const int16_t *wgt16;
    const uint32_t *uop_dst;
    const uint32_t *uop_src;
    const uint32_t *uop_wgt;
    uint32_t acc_depth, inp_depth, wgt_depth, uop_depth;
    uint32_t batch, block_in, block_out;
    /* CLOCK_MONOTONIC deadline in nanoseconds (0: none). Long loop nests check it every few
     * thousand micro-ops and stop with VTA_FAULT_TIMEOUT, so no instruction runs unbounded. */
    int64_t deadline_ns;
} vta_sim_state;

typedef struct {
    uint32_t uop_bgn, uop_end, iter_out, iter_in;
    uint32_t dst_out, dst_in, src_out, src_in, wgt_out, wgt_in;
    /* Added to every index; used when a loop nest is split between threads. Zero otherwise. */
    uint32_t base_dst, base_src, base_wgt;
} vta_loop;

/* Which index left its SRAM (fsim profile traps instead of wrapping). */
enum { VTA_FAULT_NONE = 0, VTA_FAULT_UOP = 1, VTA_FAULT_ACC = 2, VTA_FAULT_INP = 3, VTA_FAULT_WGT = 4, VTA_FAULT_SRC = 5, VTA_FAULT_TIMEOUT = 6 };

/* CLOCK_MONOTONIC now, in nanoseconds. */
int64_t vta_monotonic_ns(void);

typedef struct {
    int32_t kind;
    uint32_t index;
} vta_fault;

/* ALU behaviour variants. */
enum { VTA_SHR_FSIM = 0, VTA_SHR_HW5 = 1 };

/* GEMM loop nest. wrap != 0: indices wrap modulo the (power-of-two) depths, as the HLS RTL does;
 * wrap == 0: an index >= depth stops the instruction and is reported in *fault (fsim). Returns 0 or
 * the fault kind. reset: zero ACC rows (and, when state->out is set, write OUT <- low8(acc + dot)). */
int vta_gemm(const vta_sim_state *s, const vta_loop *l, int reset, int wrap, vta_fault *fault);

/* ALU loop nest. op: 0 MIN 1 MAX 2 ADD 3 SHR 4 MUL, anything else = no-op on ACC (hardware).
 * mul_noop: MUL leaves ACC unchanged (hardware). When state->out is set every touched lane's OUT
 * byte is written (0 for no-op ops). */
int vta_alu(const vta_sim_state *s, const vta_loop *l, int op, int use_imm, int32_t imm,
            int shr_mode, int mul_noop, int wrap, vta_fault *fault);

/* Number of threads the kernels may use for one large instruction (1 disables splitting). A loop
 * nest is split only when its halves provably touch disjoint accumulator rows and no index can
 * leave its SRAM, so results are bit-identical to serial execution. Default: 2 if the machine has
 * at least 2 CPUs. */
void vta_set_parallelism(int threads);

/* Sign-extends n int8 values to int16. */
void vta_convert_inp(int16_t *dst, const int8_t *src, size_t n);
/* Converts one [BO][BI] int8 weight tile to the interleaved int16 layout above. */
void vta_convert_wgt(int16_t *dst, const int8_t *src, uint32_t block_in, uint32_t block_out);
/* Sign-extends n int8 values to int32 (ACC_8BIT loads). */
void vta_convert_acc8(int32_t *dst, const int8_t *src, size_t n);
/* Narrows n int32 values to their low 8 bits (fsim STORE). */
void vta_narrow_acc(int8_t *dst, const int32_t *src, size_t n);

#endif
