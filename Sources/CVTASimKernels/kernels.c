#include "vta_sim_kernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define VTA_X86 1
#endif

/* ---- index helpers ------------------------------------------------------------------------- */

/* Resolves one index: wrap modulo depth, or report it. Depths are powers of two. */
#define VTA_RESOLVE(var, depth, kindv)                                   \
    do {                                                                 \
        if (wrap) {                                                      \
            (var) &= (depth) - 1;                                        \
        } else if ((var) >= (depth)) {                                   \
            fault->kind = (kindv);                                       \
            fault->index = (var);                                        \
            return (kindv);                                              \
        }                                                                \
    } while (0)

/* ---- GEMM ---------------------------------------------------------------------------------- */

/* Dot products of one micro-op: sums[b][c] = sum_k inp[b][k] * wgt[c][k], exact in int32. */
static inline void gemm_dot_generic(int32_t *sums, const int16_t *in, const int16_t *wt,
                                    uint32_t B, uint32_t BI, uint32_t BO) {
    for (uint32_t b = 0; b < B; b++) {
        int32_t *srow = sums + b * BO;
        const int16_t *irow = in + b * BI;
        for (uint32_t c = 0; c < BO; c++) srow[c] = 0;
        for (uint32_t kp = 0; kp < BI / 2; kp++) {
            int32_t p0 = irow[2 * kp], p1 = irow[2 * kp + 1];
            const int16_t *w = wt + (size_t)kp * BO * 2;
            for (uint32_t c = 0; c < BO; c++) srow[c] += p0 * w[2 * c] + p1 * w[2 * c + 1];
        }
    }
}

#ifdef VTA_X86
__attribute__((target("avx2")))
static void gemm_dot_avx2(int32_t *sums, const int16_t *in, const int16_t *wt,
                          uint32_t B, uint32_t BI, uint32_t BO) {
    __m256i pairs[32];
    for (uint32_t b = 0; b < B; b++) {
        const int16_t *irow = in + b * BI;
        for (uint32_t kp = 0; kp < BI / 2; kp++) {
            int32_t pr;
            memcpy(&pr, irow + 2 * kp, 4);
            pairs[kp] = _mm256_set1_epi32(pr);
        }
        for (uint32_t c0 = 0; c0 < BO; c0 += 16) {
            __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
            const int16_t *w = wt + (size_t)c0 * 2;
            for (uint32_t kp = 0; kp < BI / 2; kp++) {
                const __m256i *wp = (const __m256i *)(w + (size_t)kp * BO * 2);
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(pairs[kp], _mm256_loadu_si256(wp)));
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(pairs[kp], _mm256_loadu_si256(wp + 1)));
            }
            _mm256_storeu_si256((__m256i *)(sums + b * BO + c0), s0);
            _mm256_storeu_si256((__m256i *)(sums + b * BO + c0 + 8), s1);
        }
    }
}

__attribute__((target("avx2")))
static void acc_add_avx2(int32_t *acc, const int32_t *sums, uint32_t n) {
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(acc + i));
        __m256i s = _mm256_loadu_si256((const __m256i *)(sums + i));
        _mm256_storeu_si256((__m256i *)(acc + i), _mm256_add_epi32(a, s));
    }
    for (; i < n; i++) acc[i] = (int32_t)((uint32_t)acc[i] + (uint32_t)sums[i]);
}
#endif

static int have_avx2(void) {
#ifdef VTA_X86
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("avx2") ? 1 : 0;
    return cached;
#else
    return 0;
#endif
}

int vta_gemm(const vta_sim_state *s, const vta_loop *l, int reset, int wrap, vta_fault *fault) {
    const uint32_t B = s->batch, BI = s->block_in, BO = s->block_out;
    const uint32_t lanes = B * BO;
    const size_t inp_elem = (size_t)B * BI, wgt_elem = (size_t)BI * BO;
    fault->kind = VTA_FAULT_NONE;
    if (l->uop_end <= l->uop_bgn) return 0;
    int32_t sums[64 * 64];
    const int simd = have_avx2() && BO % 16 == 0 && BI <= 64;
    for (uint32_t o = 0; o < l->iter_out; o++) {
        for (uint32_t i = 0; i < l->iter_in; i++) {
            for (uint32_t u0 = l->uop_bgn; u0 < l->uop_end; u0++) {
                uint32_t u = u0;
                VTA_RESOLVE(u, s->uop_depth, VTA_FAULT_UOP);
                uint32_t a = s->uop_dst[u] + o * l->dst_out + i * l->dst_in;
                VTA_RESOLVE(a, s->acc_depth, VTA_FAULT_ACC);
                int32_t *acc = s->acc + (size_t)a * lanes;
                if (reset && !s->out) {
                    /* fsim: only the accumulator is touched. */
                    memset(acc, 0, lanes * sizeof(int32_t));
                    continue;
                }
                uint32_t x = s->uop_src[u] + o * l->src_out + i * l->src_in;
                uint32_t w = s->uop_wgt[u] + o * l->wgt_out + i * l->wgt_in;
                VTA_RESOLVE(x, s->inp_depth, VTA_FAULT_INP);
                VTA_RESOLVE(w, s->wgt_depth, VTA_FAULT_WGT);
                const int16_t *in = s->inp16 + (size_t)x * inp_elem;
                const int16_t *wt = s->wgt16 + (size_t)w * wgt_elem;
#ifdef VTA_X86
                if (simd) {
                    gemm_dot_avx2(sums, in, wt, B, BI, BO);
                } else
#endif
                {
                    gemm_dot_generic(sums, in, wt, B, BI, BO);
                }
                if (s->out) {
                    /* Hardware: OUT gets the low bits of the (un-reset) result. */
                    int8_t *out = s->out + (size_t)a * lanes;
                    for (uint32_t k = 0; k < lanes; k++) {
                        uint32_t r = (uint32_t)acc[k] + (uint32_t)sums[k];
                        out[k] = (int8_t)(uint8_t)r;
                        acc[k] = reset ? 0 : (int32_t)r;
                    }
                } else {
#ifdef VTA_X86
                    if (simd) {
                        acc_add_avx2(acc, sums, lanes);
                        continue;
                    }
#endif
                    for (uint32_t k = 0; k < lanes; k++) acc[k] = (int32_t)((uint32_t)acc[k] + (uint32_t)sums[k]);
                }
            }
        }
    }
    return 0;
}

/* ---- ALU ----------------------------------------------------------------------------------- */

static inline int32_t shr_fsim(int32_t x, int32_t y, int use_imm) {
    if (y >= 0) {
        if (y >= 32) return use_imm ? (x >> 31) : (x >> (y & 31));
        return x >> y;
    }
    uint32_t n = (uint32_t)0 - (uint32_t)y;
    if (n >= 32) return use_imm ? 0 : (int32_t)((uint32_t)x << (n & 31));
    return (int32_t)((uint32_t)x << n);
}

static inline int32_t shr_hw(int32_t x, int32_t y) {
    int32_t n = (int32_t)(((uint32_t)y & 31u) ^ 16u) - 16; /* low 5 bits as a signed number */
    return n >= 0 ? (x >> n) : (int32_t)((uint32_t)x << (uint32_t)(-n));
}

/* One micro-op's lanes for a given operation; the compiler vectorises each instantiation. */
#define ALU_LANES(EXPR)                                                         \
    do {                                                                        \
        if (use_imm) {                                                          \
            for (uint32_t k = 0; k < lanes; k++) { int32_t x = d[k], y = imm; d[k] = (EXPR); } \
        } else {                                                                \
            for (uint32_t k = 0; k < lanes; k++) { int32_t x = d[k], y = sv[k]; d[k] = (EXPR); } \
        }                                                                       \
    } while (0)

#define ALU_BODY(OPCODE_CASES)                                                                    \
    for (uint32_t o = 0; o < l->iter_out; o++) {                                                  \
        for (uint32_t i = 0; i < l->iter_in; i++) {                                               \
            for (uint32_t u0 = l->uop_bgn; u0 < l->uop_end; u0++) {                               \
                uint32_t u = u0;                                                                  \
                VTA_RESOLVE(u, s->uop_depth, VTA_FAULT_UOP);                                      \
                uint32_t dix = s->uop_dst[u] + o * l->dst_out + i * l->dst_in;                    \
                uint32_t six = s->uop_src[u] + o * l->src_out + i * l->src_in;                    \
                VTA_RESOLVE(dix, s->acc_depth, VTA_FAULT_ACC);                                    \
                VTA_RESOLVE(six, s->acc_depth, VTA_FAULT_SRC);                                    \
                int32_t *d = s->acc + (size_t)dix * lanes;                                        \
                const int32_t *sv = s->acc + (size_t)six * lanes;                                 \
                OPCODE_CASES                                                                      \
                if (s->out) {                                                                     \
                    int8_t *ob = s->out + (size_t)dix * lanes;                                    \
                    if (noop) memset(ob, 0, lanes);                                               \
                    else for (uint32_t k = 0; k < lanes; k++) ob[k] = (int8_t)(uint8_t)(uint32_t)d[k]; \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }

#define ALU_SWITCH                                                                               \
    switch (op) {                                                                                \
    case 0: ALU_LANES(x < y ? x : y); break;                                                     \
    case 1: ALU_LANES(x < y ? y : x); break;                                                     \
    case 2: ALU_LANES((int32_t)((uint32_t)x + (uint32_t)y)); break;                              \
    case 3:                                                                                      \
        if (shr_mode == VTA_SHR_HW5) ALU_LANES(shr_hw(x, y));                                    \
        else ALU_LANES(shr_fsim(x, y, use_imm));                                                 \
        break;                                                                                   \
    case 4:                                                                                      \
        if (!mul_noop) ALU_LANES((int32_t)((uint32_t)x * (uint32_t)y));                          \
        break;                                                                                   \
    default: break;                                                                              \
    }

static int alu_generic(const vta_sim_state *s, const vta_loop *l, int op, int use_imm, int32_t imm,
                       int shr_mode, int mul_noop, int wrap, vta_fault *fault) {
    const uint32_t lanes = s->batch * s->block_out;
    const int noop = op > 4 || (op == 4 && mul_noop);
    ALU_BODY(ALU_SWITCH)
    return 0;
}

#ifdef VTA_X86
__attribute__((target("avx2")))
static int alu_avx2(const vta_sim_state *s, const vta_loop *l, int op, int use_imm, int32_t imm,
                    int shr_mode, int mul_noop, int wrap, vta_fault *fault) {
    const uint32_t lanes = s->batch * s->block_out;
    const int noop = op > 4 || (op == 4 && mul_noop);
    ALU_BODY(ALU_SWITCH)
    return 0;
}
#endif

int vta_alu(const vta_sim_state *s, const vta_loop *l, int op, int use_imm, int32_t imm,
            int shr_mode, int mul_noop, int wrap, vta_fault *fault) {
    fault->kind = VTA_FAULT_NONE;
    if (l->uop_end <= l->uop_bgn) return 0;
#ifdef VTA_X86
    if (have_avx2()) return alu_avx2(s, l, op, use_imm, imm, shr_mode, mul_noop, wrap, fault);
#endif
    return alu_generic(s, l, op, use_imm, imm, shr_mode, mul_noop, wrap, fault);
}

/* ---- conversions --------------------------------------------------------------------------- */

void vta_convert_inp(int16_t *dst, const int8_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = src[i];
}

void vta_convert_wgt(int16_t *dst, const int8_t *src, uint32_t block_in, uint32_t block_out) {
    for (uint32_t kp = 0; kp < block_in / 2; kp++)
        for (uint32_t c = 0; c < block_out; c++) {
            dst[((size_t)kp * block_out + c) * 2] = src[(size_t)c * block_in + 2 * kp];
            dst[((size_t)kp * block_out + c) * 2 + 1] = src[(size_t)c * block_in + 2 * kp + 1];
        }
}

void vta_convert_acc8(int32_t *dst, const int8_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = src[i];
}

void vta_narrow_acc(int8_t *dst, const int32_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = (int8_t)(uint8_t)(uint32_t)src[i];
}
