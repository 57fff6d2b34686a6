/* Internal to CVTASimKernels: the serial loop nests that split.c runs on two threads. */
#ifndef VTA_KERNELS_INTERNAL_H
#define VTA_KERNELS_INTERNAL_H
#include "vta_sim_kernels.h"

int vta_gemm_serial(const vta_sim_state *s, const vta_loop *l, int reset, int wrap, vta_fault *fault);
int vta_alu_serial(const vta_sim_state *s, const vta_loop *l, int op, int use_imm, int32_t imm,
                   int shr_mode, int mul_noop, int wrap, vta_fault *fault);
#endif
