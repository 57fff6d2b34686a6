/* Two-thread execution of large GEMM/ALU loop nests (bit-exact with serial execution). */
#define _GNU_SOURCE
#include "vta_sim_kernels.h"
#include "kernels_internal.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define VTA_X86 1
#endif

/* ---- splitting large loop nests across two threads ------------------------------------------ */

/* One helper thread, shared by every simulator in the process. The caller runs one half itself and
 * hands the other to the helper; if the helper is busy (another simulator is using it) the caller
 * simply runs both halves. The helper spins briefly between jobs (instructions arrive microseconds
 * apart in a busy run) and then sleeps on a condition variable. */
typedef struct {
    int is_alu;
    const vta_sim_state *s;
    vta_loop loop;
    int reset, op, use_imm, shr_mode, mul_noop;
    int32_t imm;
} vta_job;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;   /* one user of the helper at a time */
static pthread_mutex_t pool_sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static atomic_int pool_state;  /* 0 idle, 1 job posted, 2 job done */
static atomic_int pool_sleeping;
static vta_job pool_job;
static int pool_started;
static atomic_int parallelism = -1;

static int run_job(const vta_job *j) {
    vta_fault f;
    if (j->is_alu) return vta_alu_serial(j->s, &j->loop, j->op, j->use_imm, j->imm, j->shr_mode, j->mul_noop, 1, &f);
    return vta_gemm_serial(j->s, &j->loop, j->reset, 1, &f);
}

static atomic_int pool_result;

/* pool_state: 0 idle, 1 job posted, 4 claimed by the helper, 2 done. The helper claims a posted
 * job with a compare-and-swap; the caller, once its own half is done, takes an unclaimed job back
 * the same way. So the caller never waits for a helper that the OS has not scheduled. */
static void *pool_main(void *arg) {
    (void)arg;
    for (;;) {
        /* Spin for at most ~30 us after the last job, then sleep: a busy run hands over work
         * every few microseconds, an idle process must not burn a CPU (possibly an SMT sibling of
         * the thread doing the real work). */
        unsigned spins = 0;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            int expected = 1;
            if (atomic_compare_exchange_strong(&pool_state, &expected, 4)) break;
            if ((++spins & 255) != 0) {
#ifdef VTA_X86
                _mm_pause();
#endif
                continue;
            }
            struct timespec t1;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 30000) continue;
            /* Sleep until a job is posted. Posting happens under the same lock, so the wake-up
             * cannot be lost. */
            pthread_mutex_lock(&pool_sleep_lock);
            atomic_store(&pool_sleeping, 1);
            while (atomic_load(&pool_state) != 1) pthread_cond_wait(&pool_wake, &pool_sleep_lock);
            atomic_store(&pool_sleeping, 0);
            pthread_mutex_unlock(&pool_sleep_lock);
            clock_gettime(CLOCK_MONOTONIC, &t0);
        }
        atomic_store(&pool_result, run_job(&pool_job));
        atomic_store_explicit(&pool_state, 2, memory_order_release);
    }
    return NULL;
}

static void pool_start(void) {
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pool_started = pthread_create(&t, &a, pool_main, NULL) == 0;
    pthread_attr_destroy(&a);
}

void vta_set_parallelism(int threads) { atomic_store(&parallelism, threads < 1 ? 1 : threads); }

static int parallel_enabled(void) {
    int p = atomic_load(&parallelism);
    if (p < 0) {
        /* VTA_SIM_THREADS=1 turns splitting off (e.g. to leave a core to other work). */
        const char *env = getenv("VTA_SIM_THREADS");
        if (env && *env) p = atoi(env) >= 2 ? 2 : 1;
        else p = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
        atomic_store(&parallelism, p);
    }
    return p >= 2;
}

/* Runs two halves, one on the helper. Returns 0 if it could not (the caller runs them serially),
 * 1 if both halves ran, 2 if a half stopped at the deadline. */
static int run_split(const vta_job *a, const vta_job *b) {
    if (pthread_once(&pool_once, pool_start) != 0 || !pool_started) return 0;
    if (pthread_mutex_trylock(&pool_lock) != 0) return 0;
    pool_job = *b;
    pthread_mutex_lock(&pool_sleep_lock);
    atomic_store(&pool_state, 1);
    if (atomic_load(&pool_sleeping)) pthread_cond_signal(&pool_wake);
    pthread_mutex_unlock(&pool_sleep_lock);
    int ra = run_job(a);
    int rb;
    int expected = 1;
    if (atomic_compare_exchange_strong(&pool_state, &expected, 0)) {
        /* The helper never started it (busy machine): run it here. */
        rb = run_job(b);
    } else {
        while (atomic_load_explicit(&pool_state, memory_order_acquire) != 2) {
#ifdef VTA_X86
            _mm_pause();
#endif
        }
        rb = atomic_load(&pool_result);
        atomic_store(&pool_state, 0);
    }
    pthread_mutex_unlock(&pool_lock);
    return (ra == VTA_FAULT_TIMEOUT || rb == VTA_FAULT_TIMEOUT) ? 2 : 1;
}

typedef struct { uint64_t lo, hi; } span;

static int spans_overlap(span a, span b) { return !(a.hi < b.lo || b.hi < a.lo); }

/* Min/max of a micro-op field over the instruction's range. */
static span uop_span(const uint32_t *field, uint32_t bgn, uint32_t end) {
    span r = { UINT64_MAX, 0 };
    for (uint32_t u = bgn; u < end; u++) {
        if (field[u] < r.lo) r.lo = field[u];
        if (field[u] > r.hi) r.hi = field[u];
    }
    return r;
}

/* Index span of one half: o in [o0, o1), i in [i0, i1). */
static span half_span(span u, uint32_t f_out, uint32_t f_in, uint32_t o0, uint32_t o1, uint32_t i0, uint32_t i1) {
    span r = { u.lo + (uint64_t)o0 * f_out + (uint64_t)i0 * f_in,
               u.hi + (uint64_t)(o1 - 1) * f_out + (uint64_t)(i1 - 1) * f_in };
    return r;
}

/* Decides whether the nest can be split, and builds the two halves. Splits iter_out when it is at
 * least 2, otherwise iter_in. Requires: the micro-op range and every index within its SRAM (so no
 * fault and no wrap-around can occur), the halves' written rows disjoint, and (for the ALU) neither
 * half reading rows the other writes. */
static int plan_split(const vta_sim_state *s, const vta_loop *l, int is_alu, uint64_t min_work,
                      vta_loop *a, vta_loop *b) {
    const uint64_t n = (uint64_t)l->iter_out * l->iter_in * (l->uop_end - l->uop_bgn);
    if (n < min_work || l->uop_end > s->uop_depth) return 0;
    if (l->base_dst | l->base_src | l->base_wgt) return 0;
    int split_out = l->iter_out >= 2;
    if (!split_out && l->iter_in < 2) return 0;
    const span ud = uop_span(s->uop_dst, l->uop_bgn, l->uop_end);
    const span us = uop_span(s->uop_src, l->uop_bgn, l->uop_end);
    const uint32_t O = l->iter_out, I = l->iter_in;
    const uint32_t h = split_out ? O / 2 : I / 2;
    uint32_t ao1 = split_out ? h : O, bo0 = split_out ? h : 0, ai1 = split_out ? I : h, bi0 = split_out ? 0 : h;
    span da = half_span(ud, l->dst_out, l->dst_in, 0, ao1, 0, ai1);
    span db = half_span(ud, l->dst_out, l->dst_in, bo0, O, bi0, I);
    span sa = half_span(us, l->src_out, l->src_in, 0, ao1, 0, ai1);
    span sb = half_span(us, l->src_out, l->src_in, bo0, O, bi0, I);
    uint64_t src_depth = is_alu ? s->acc_depth : s->inp_depth;
    if (da.hi >= s->acc_depth || db.hi >= s->acc_depth || sa.hi >= src_depth || sb.hi >= src_depth) return 0;
    if (spans_overlap(da, db)) return 0;
    if (is_alu && (spans_overlap(sa, db) || spans_overlap(sb, da))) return 0;
    if (!is_alu) {
        const span uw = uop_span(s->uop_wgt, l->uop_bgn, l->uop_end);
        span wa = half_span(uw, l->wgt_out, l->wgt_in, 0, ao1, 0, ai1);
        span wb = half_span(uw, l->wgt_out, l->wgt_in, bo0, O, bi0, I);
        if (wa.hi >= s->wgt_depth || wb.hi >= s->wgt_depth) return 0;
    }
    *a = *l;
    *b = *l;
    if (split_out) {
        a->iter_out = h;
        b->iter_out = O - h;
        b->base_dst = h * l->dst_out; b->base_src = h * l->src_out; b->base_wgt = h * l->wgt_out;
    } else {
        a->iter_in = h;
        b->iter_in = I - h;
        b->base_dst = h * l->dst_in; b->base_src = h * l->src_in; b->base_wgt = h * l->wgt_in;
    }
    return 1;
}

int vta_gemm(const vta_sim_state *s, const vta_loop *l, int reset, int wrap, vta_fault *fault) {
    vta_loop la, lb;
    fault->kind = VTA_FAULT_NONE;
    if (!reset && parallel_enabled() && plan_split(s, l, 0, 96, &la, &lb)) {
        vta_job a = { 0, s, la, reset, 0, 0, 0, 0, 0 }, b = a;
        b.loop = lb;
        int r = run_split(&a, &b);
        if (r == 2) { fault->kind = VTA_FAULT_TIMEOUT; return VTA_FAULT_TIMEOUT; }
        if (r) return 0;
    }
    return vta_gemm_serial(s, l, reset, wrap, fault);
}

int vta_alu(const vta_sim_state *s, const vta_loop *l, int op, int use_imm, int32_t imm,
            int shr_mode, int mul_noop, int wrap, vta_fault *fault) {
    vta_loop la, lb;
    fault->kind = VTA_FAULT_NONE;
    if (parallel_enabled() && plan_split(s, l, 1, 256, &la, &lb)) {
        vta_job a = { 1, s, la, 0, op, use_imm, shr_mode, mul_noop, imm }, b = a;
        b.loop = lb;
        int r = run_split(&a, &b);
        if (r == 2) { fault->kind = VTA_FAULT_TIMEOUT; return VTA_FAULT_TIMEOUT; }
        if (r) return 0;
    }
    return vta_alu_serial(s, l, op, use_imm, imm, shr_mode, mul_noop, wrap, fault);
}

