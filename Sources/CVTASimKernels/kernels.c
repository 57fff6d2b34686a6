#define _GNU_SOURCE
#include "vta_sim_kernels.h"
#include "kernels_internal.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int64_t vta_monotonic_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Every 4096 micro-op executions, stop if the run's deadline has passed. */
#define VTA_DEADLINE_CHECK()                                                                      \
    do {                                                                                          \
        if ((++work & 4095u) == 0 && s->deadline_ns != 0 && vta_monotonic_ns() > s->deadline_ns) { \
            fault->kind = VTA_FAULT_TIMEOUT;                                                      \
            fault->index = 0;                                                                     \
            return VTA_FAULT_TIMEOUT;                                                             \
        }                                                                                         \
    } while (0)

/* ---- GEMM ---------------------------------------------------------------------------------- */

/* The kernels below are written once as always-inline bodies and instantiated for the tile shapes
 * of real configurations (BLOCK 16 and 32), so loops over lanes have constant trip counts and
 * unroll into straight SIMD code; any other shape uses the same body with run-time sizes. */
#define VTA_INLINE static inline __attribute__((always_inline))

/* Dot products of one micro-op: sums[b][c] = sum_k inp[b][k] * wgt[c][k], exact in int32. */
VTA_INLINE void gemm_dot_generic(int32_t *sums, const int16_t *in, const int16_t *wt,
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

/* The GEMM loop nest for one tile shape. DOT computes `sums` for one micro-op. */
#define GEMM_NEST(DOT, ADD, FUSED_OUT)                                                            \
    const uint32_t lanes = B * BO;                                                                \
    const size_t inp_elem = (size_t)B * BI, wgt_elem = (size_t)BI * BO;                           \
    int32_t *const accm = s->acc; int8_t *const outm = s->out;                                    \
    const int16_t *const inpm = s->inp16, *const wgtm = s->wgt16;                                 \
    const uint32_t *const ud = s->uop_dst, *const us = s->uop_src, *const uw = s->uop_wgt;        \
    const uint32_t acc_depth = s->acc_depth, inp_depth = s->inp_depth, wgt_depth = s->wgt_depth;  \
    const uint32_t uop_depth = s->uop_depth;                                                      \
    const vta_loop L = *l;                                                                        \
    SUMS_DECL                                                                                     \
    uint32_t work = 0;                                                                            \
    for (uint32_t o = 0; o < L.iter_out; o++) {                                                   \
        for (uint32_t i = 0; i < L.iter_in; i++) {                                                \
            const uint32_t da = L.base_dst + o * L.dst_out + i * L.dst_in;                        \
            const uint32_t dx = L.base_src + o * L.src_out + i * L.src_in;                        \
            const uint32_t dw = L.base_wgt + o * L.wgt_out + i * L.wgt_in;                        \
            for (uint32_t u = L.uop_bgn; u < L.uop_end; u++) {                                    \
                uint32_t uu = u;                                                                  \
                VTA_DEADLINE_CHECK();                                                             \
                VTA_RESOLVE(uu, uop_depth, VTA_FAULT_UOP);                                        \
                uint32_t a = ud[uu] + da;                                                         \
                VTA_RESOLVE(a, acc_depth, VTA_FAULT_ACC);                                         \
                int32_t *acc = accm + (size_t)a * lanes;                                          \
                if (reset && !outm) {                                                             \
                    memset(acc, 0, lanes * sizeof(int32_t));                                      \
                    continue;                                                                     \
                }                                                                                 \
                uint32_t x = us[uu] + dx, w = uw[uu] + dw;                                        \
                VTA_RESOLVE(x, inp_depth, VTA_FAULT_INP);                                         \
                VTA_RESOLVE(w, wgt_depth, VTA_FAULT_WGT);                                         \
                const int16_t *in = inpm + (size_t)x * inp_elem;                                  \
                const int16_t *wt = wgtm + (size_t)w * wgt_elem;                                  \
                if (outm && !FUSED_OUT) {                                                         \
                    DOT(sums, in, wt);                                                            \
                    int8_t *ob = outm + (size_t)a * lanes;                                        \
                    for (uint32_t k = 0; k < lanes; k++) {                                        \
                        uint32_t r = (uint32_t)acc[k] + (uint32_t)sums[k];                        \
                        ob[k] = (int8_t)(uint8_t)r;                                               \
                        acc[k] = reset ? 0 : (int32_t)r;                                          \
                    }                                                                             \
                } else {                                                                          \
                    ADD(acc, in, wt);                                                             \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    return 0;

VTA_INLINE void gemm_add_generic(int32_t *acc, const int16_t *in, const int16_t *wt,
                                 uint32_t B, uint32_t BI, uint32_t BO, int32_t *sums) {
    gemm_dot_generic(sums, in, wt, B, BI, BO);
    for (uint32_t k = 0; k < B * BO; k++) acc[k] = (int32_t)((uint32_t)acc[k] + (uint32_t)sums[k]);
}

static int gemm_generic(const vta_sim_state *s, const vta_loop *l, int reset, int wrap, vta_fault *fault) {
    const uint32_t B = s->batch, BI = s->block_in, BO = s->block_out;
#define SUMS_DECL int32_t sums[64 * 64];
#define DOT_G(S, I, W) gemm_dot_generic(S, I, W, B, BI, BO)
#define ADD_G(A, I, W) gemm_add_generic(A, I, W, B, BI, BO, sums)
    GEMM_NEST(DOT_G, ADD_G, 0)
#undef SUMS_DECL
#undef DOT_G
#undef ADD_G
}

#ifdef VTA_X86
/* One micro-op for BO a multiple of 16: broadcast each input k-pair, multiply-add it with the
 * interleaved weight pairs of 16 outputs at a time, then add to (or return for) the accumulator. */
#define VTA_AVX2 __attribute__((target("avx2")))

VTA_INLINE VTA_AVX2 void gemm_uop_avx2(int32_t *acc, int8_t *out, const int16_t *in, const int16_t *wt,
                                       uint32_t B, uint32_t BI, uint32_t BO, int reset) {
    for (uint32_t b = 0; b < B; b++) {
        const int16_t *irow = in + b * BI;
        int32_t *arow = acc + b * BO;
        for (uint32_t c0 = 0; c0 < BO; c0 += 16) {
            __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
            const int16_t *w = wt + (size_t)c0 * 2;
            for (uint32_t kp = 0; kp < BI / 2; kp++) {
                int32_t pr;
                memcpy(&pr, irow + 2 * kp, 4);
                const __m256i p = _mm256_set1_epi32(pr);
                const __m256i *wp = (const __m256i *)(w + (size_t)kp * BO * 2);
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(p, _mm256_loadu_si256(wp)));
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(p, _mm256_loadu_si256(wp + 1)));
            }
            s0 = _mm256_add_epi32(s0, _mm256_loadu_si256((const __m256i *)(arow + c0)));
            s1 = _mm256_add_epi32(s1, _mm256_loadu_si256((const __m256i *)(arow + c0 + 8)));
            if (out) {
                /* Hardware: OUT gets the low byte of the (un-reset) sum. */
                int32_t r[16] __attribute__((aligned(32)));
                _mm256_store_si256((__m256i *)r, s0);
                _mm256_store_si256((__m256i *)(r + 8), s1);
                int8_t *orow = out + b * BO + c0;
                for (int k = 0; k < 16; k++) orow[k] = (int8_t)(uint8_t)(uint32_t)r[k];
                if (reset) { s0 = _mm256_setzero_si256(); s1 = _mm256_setzero_si256(); }
            }
            _mm256_storeu_si256((__m256i *)(arow + c0), s0);
            _mm256_storeu_si256((__m256i *)(arow + c0 + 8), s1);
        }
    }
}

#define DEFINE_GEMM_AVX2(NAME, BI_, BO_)                                                          \
    static VTA_AVX2 int NAME(const vta_sim_state *s, const vta_loop *l, int reset, int wrap,     \
                             vta_fault *fault) {                                                 \
        const uint32_t B = s->batch, BI = (BI_), BO = (BO_);                                     \
        GEMM_NEST(DOT_V, ADD_V, 1)                                                               \
    }
#define SUMS_DECL int32_t *sums = NULL; /* the fused kernel writes OUT itself; this branch is dead */
#define DOT_V(S, I, W) (void)0
#define ADD_V(A, I, W) gemm_uop_avx2(A, outm ? outm + (size_t)a * lanes : NULL, I, W, B, BI, BO, reset)
DEFINE_GEMM_AVX2(gemm_avx2_16x16, 16, 16)
DEFINE_GEMM_AVX2(gemm_avx2_32x32, 32, 32)
DEFINE_GEMM_AVX2(gemm_avx2_any, s->block_in, s->block_out)
#undef SUMS_DECL
#undef DOT_V
#undef ADD_V
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

int vta_gemm_serial(const vta_sim_state *s, const vta_loop *l, int reset, int wrap, vta_fault *fault) {
    fault->kind = VTA_FAULT_NONE;
    if (l->uop_end <= l->uop_bgn || l->iter_out == 0 || l->iter_in == 0) return 0;
#ifdef VTA_X86
    if (have_avx2() && s->block_out % 16 == 0 && s->block_in <= 64) {
        if (s->block_in == 16 && s->block_out == 16) return gemm_avx2_16x16(s, l, reset, wrap, fault);
        if (s->block_in == 32 && s->block_out == 32) return gemm_avx2_32x32(s, l, reset, wrap, fault);
        return gemm_avx2_any(s, l, reset, wrap, fault);
    }
#endif
    return gemm_generic(s, l, reset, wrap, fault);
}

/* ---- ALU ----------------------------------------------------------------------------------- */

VTA_INLINE int32_t shr_fsim(int32_t x, int32_t y, int use_imm) {
    if (y >= 0) {
        if (y >= 32) return use_imm ? (x >> 31) : (x >> (y & 31));
        return x >> y;
    }
    uint32_t n = (uint32_t)0 - (uint32_t)y;
    if (n >= 32) return use_imm ? 0 : (int32_t)((uint32_t)x << (n & 31));
    return (int32_t)((uint32_t)x << n);
}

VTA_INLINE int32_t shr_hw(int32_t x, int32_t y) {
    int32_t n = (int32_t)(((uint32_t)y & 31u) ^ 16u) - 16; /* low 5 bits as a signed number */
    return n >= 0 ? (x >> n) : (int32_t)((uint32_t)x << (uint32_t)(-n));
}

/* The ALU loop nest for one operation EXPR(x, y); y is the immediate or the source lane.
 * A shift by an immediate is the same for every lane, so it is resolved once per instruction. */
#define ALU_NEST(EXPR)                                                                            \
    for (uint32_t o = 0; o < L.iter_out; o++) {                                                   \
        for (uint32_t i = 0; i < L.iter_in; i++) {                                                \
            const uint32_t dd = L.base_dst + o * L.dst_out + i * L.dst_in;                        \
            const uint32_t ds = L.base_src + o * L.src_out + i * L.src_in;                        \
            for (uint32_t u = L.uop_bgn; u < L.uop_end; u++) {                                    \
                uint32_t uu = u;                                                                  \
                VTA_DEADLINE_CHECK();                                                             \
                VTA_RESOLVE(uu, uop_depth, VTA_FAULT_UOP);                                        \
                uint32_t dix = ud[uu] + dd, six = us[uu] + ds;                                    \
                VTA_RESOLVE(dix, acc_depth, VTA_FAULT_ACC);                                       \
                VTA_RESOLVE(six, acc_depth, VTA_FAULT_SRC);                                       \
                int32_t *d = accm + (size_t)dix * lanes;                                          \
                const int32_t *sv = accm + (size_t)six * lanes;                                   \
                if (use_imm) {                                                                    \
                    for (uint32_t k = 0; k < lanes; k++) { int32_t x = d[k], y = imm; d[k] = (EXPR); } \
                } else {                                                                          \
                    for (uint32_t k = 0; k < lanes; k++) { int32_t x = d[k], y = sv[k]; d[k] = (EXPR); } \
                }                                                                                 \
                if (outm) {                                                                       \
                    int8_t *ob = outm + (size_t)dix * lanes;                                      \
                    if (noop) memset(ob, 0, lanes);                                               \
                    else for (uint32_t k = 0; k < lanes; k++) ob[k] = (int8_t)(uint8_t)(uint32_t)d[k]; \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }

VTA_INLINE int alu_body(const vta_sim_state *s, const vta_loop *l, uint32_t lanes, int op, int use_imm,
                        int32_t imm, int shr_mode, int mul_noop, int wrap, vta_fault *fault) {
    int32_t *const accm = s->acc;
    int8_t *const outm = s->out;
    const uint32_t *const ud = s->uop_dst, *const us = s->uop_src;
    const uint32_t acc_depth = s->acc_depth, uop_depth = s->uop_depth;
    const vta_loop L = *l;
    const int noop = op > 4 || (op == 4 && mul_noop);
    uint32_t work = 0;
    switch (op) {
    case 0: ALU_NEST(x < y ? x : y) break;
    case 1: ALU_NEST(x < y ? y : x) break;
    case 2: ALU_NEST((int32_t)((uint32_t)x + (uint32_t)y)) break;
    case 3:
        if (use_imm) {
            /* One amount for every lane: resolve the direction once per instruction. */
            int n;
            if (shr_mode == VTA_SHR_HW5) n = (int)(((uint32_t)imm & 31u) ^ 16u) - 16;
            else if (imm > -32 && imm < 32) n = imm;
            else { ALU_NEST(shr_fsim(x, y, 1)) break; }
            if (n >= 0) { ALU_NEST(x >> n) }
            else { const uint32_t m = (uint32_t)(-n); ALU_NEST((int32_t)((uint32_t)x << m)) }
        } else if (shr_mode == VTA_SHR_HW5) {
            ALU_NEST(shr_hw(x, y))
        } else {
            ALU_NEST(shr_fsim(x, y, 0))
        }
        break;
    case 4:
        if (!mul_noop) { ALU_NEST((int32_t)((uint32_t)x * (uint32_t)y)) }
        else { ALU_NEST(x) }
        break;
    default: ALU_NEST(x) break;
    }
    return 0;
}

static int alu_generic(const vta_sim_state *s, const vta_loop *l, int op, int use_imm, int32_t imm,
                       int shr_mode, int mul_noop, int wrap, vta_fault *fault) {
    return alu_body(s, l, s->batch * s->block_out, op, use_imm, imm, shr_mode, mul_noop, wrap, fault);
}

#ifdef VTA_X86
#define DEFINE_ALU_AVX2(NAME, LANES)                                                              \
    static VTA_AVX2 int NAME(const vta_sim_state *s, const vta_loop *l, int op, int use_imm,     \
                             int32_t imm, int shr_mode, int mul_noop, int wrap, vta_fault *fault) { \
        return alu_body(s, l, (LANES), op, use_imm, imm, shr_mode, mul_noop, wrap, fault);       \
    }
DEFINE_ALU_AVX2(alu_avx2_16, 16)
DEFINE_ALU_AVX2(alu_avx2_32, 32)
DEFINE_ALU_AVX2(alu_avx2_64, 64)
DEFINE_ALU_AVX2(alu_avx2_any, s->batch * s->block_out)
#endif

int vta_alu_serial(const vta_sim_state *s, const vta_loop *l, int op, int use_imm, int32_t imm,
                      int shr_mode, int mul_noop, int wrap, vta_fault *fault) {
    fault->kind = VTA_FAULT_NONE;
    if (l->uop_end <= l->uop_bgn || l->iter_out == 0 || l->iter_in == 0) return 0;
#ifdef VTA_X86
    if (have_avx2()) {
        switch (s->batch * s->block_out) {
        case 16: return alu_avx2_16(s, l, op, use_imm, imm, shr_mode, mul_noop, wrap, fault);
        case 32: return alu_avx2_32(s, l, op, use_imm, imm, shr_mode, mul_noop, wrap, fault);
        case 64: return alu_avx2_64(s, l, op, use_imm, imm, shr_mode, mul_noop, wrap, fault);
        default: return alu_avx2_any(s, l, op, use_imm, imm, shr_mode, mul_noop, wrap, fault);
        }
    }
#endif
    return alu_generic(s, l, op, use_imm, imm, shr_mode, mul_noop, wrap, fault);
}

/* ---- conversions --------------------------------------------------------------------------- */

void vta_convert_inp(int16_t *dst, const int8_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = src[i];
}

static void convert_wgt_generic(int16_t *dst, const int8_t *src, uint32_t block_in, uint32_t block_out) {
    for (uint32_t kp = 0; kp < block_in / 2; kp++)
        for (uint32_t c = 0; c < block_out; c++) {
            dst[((size_t)kp * block_out + c) * 2] = src[(size_t)c * block_in + 2 * kp];
            dst[((size_t)kp * block_out + c) * 2 + 1] = src[(size_t)c * block_in + 2 * kp + 1];
        }
}

#ifdef VTA_X86
/* 16x16 tile: sign-extend each output row c to 8 int16 k-pairs (32-bit units), then transpose the
 * two 8x8 blocks of 32-bit units so that each k-pair row holds outputs c..c+7 contiguously. */
static VTA_AVX2 void convert_wgt_16x16_avx2(int16_t *dst, const int8_t *src) {
    for (int half = 0; half < 2; half++) {
        __m256i r[8];
        for (int c = 0; c < 8; c++)
            r[c] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(src + (half * 8 + c) * 16)));
        __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
        __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
        __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
        __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
        __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
        __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
        __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
        __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
        __m256i o[8];
        o[0] = _mm256_permute2x128_si256(u0, u4, 0x20); o[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
        o[1] = _mm256_permute2x128_si256(u1, u5, 0x20); o[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
        o[2] = _mm256_permute2x128_si256(u2, u6, 0x20); o[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
        o[3] = _mm256_permute2x128_si256(u3, u7, 0x20); o[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
        /* o[kp] = pairs (c = half*8 .. half*8+7, kp); destination row kp holds 16 outputs x 2. */
        for (int kp = 0; kp < 8; kp++)
            _mm256_storeu_si256((__m256i *)(dst + ((size_t)kp * 16 + half * 8) * 2), o[kp]);
    }
}
#endif

void vta_convert_wgt(int16_t *dst, const int8_t *src, uint32_t block_in, uint32_t block_out) {
#ifdef VTA_X86
    if (block_in == 16 && block_out == 16 && have_avx2()) {
        convert_wgt_16x16_avx2(dst, src);
        return;
    }
#endif
    convert_wgt_generic(dst, src, block_in, block_out);
}

void vta_convert_acc8(int32_t *dst, const int8_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = src[i];
}

void vta_narrow_acc(int8_t *dst, const int32_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = (int8_t)(uint8_t)(uint32_t)src[i];
}
