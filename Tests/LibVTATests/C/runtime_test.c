/*
 * The runtime API (vta/runtime.h) end to end: a blocked int8 matrix multiply with
 * requantisation, C = clip((A x B^T + bias) >> SHIFT, -127, 127), built the way TVM's generated
 * code drives the runtime: buffer handles and VTABufferCopy, 2-D loads and stores,
 * micro-op kernels with loops recorded through VTAPushGEMMOp/VTAPushALUOp callbacks (one
 * call-site slot holding several kernels keyed by signature), dependency push/pop between the
 * load, compute and store stages, and VTASynchronize once per block row. Compared with a C
 * computation.
 *
 * Usage: runtime_test [--serial] [--dump] [--threads]  (--serial sets VTA_DEBUG_FORCE_SERIAL,
 * --dump VTA_DEBUG_DUMP_INSN | VTA_DEBUG_DUMP_UOP; --threads runs worker threads alongside that
 * allocate, copy and free buffers and run their own small programs through the shared queue).
 * Prints "PASS runtime blocked gemm" (and "PASS runtime threads") and exits 0 on success, 1 on a
 * wrong result, 2 when the library reported a failure.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vta/hw_spec.h>
#include <vta/runtime.h>

#include "test_common.h"

/* Problem size in tiles: M rows of A (batch tiles), K and N in BLOCK_IN / BLOCK_OUT tiles. */
enum { MT = 8, KT = 8, NT = 6 };
/* Block size in tiles: rows, K tiles and N tiles per block. */
enum { BM = 4, BK = 4, BN = 3 };
enum { SHIFT = 6 };

#define M (MT * VTA_BATCH)
#define K (KT * VTA_BLOCK_IN)
#define N (NT * VTA_BLOCK_OUT)

static int check_status(int status, const char* what) {
  if (status != 0) {
    fprintf(stderr, "%s returned %d\n", what, status);
    exit(2);
  }
  return status;
}

/* GEMM kernel of one block: for each row tile r (outer loop) and K tile k (inner loop), every
 * N tile n: ACC[r*BN + n] += INP[r*BK + k] x WGT[n*BK + k]. */
static int gemm_kernel(void* signature) {
  (void)signature;
  VTAUopLoopBegin(BM, BN, BK, 0);
  VTAUopLoopBegin(BK, 0, 1, 1);
  for (int n = 0; n < BN; n++) VTAUopPush(0, 0, (uint32_t)n, 0, (uint32_t)(n * BK), 0, 0, 0);
  VTAUopLoopEnd();
  VTAUopLoopEnd();
  return 0;
}

/* ALU kernels over the block's BM*BN accumulator tiles, chosen by the signature:
 * 0 = shift right by SHIFT, 1 = max with -127, 2 = min with 127. */
static int alu_kernel(void* signature) {
  int which = *(int*)signature;
  static const uint32_t opcode[3] = {VTA_ALU_OPCODE_SHR, VTA_ALU_OPCODE_MAX, VTA_ALU_OPCODE_MIN};
  static const int32_t imm[3] = {SHIFT, -127, 127};
  VTAUopLoopBegin(BM * BN, 1, 1, 0);
  VTAUopPush(1, 0, 0, 0, 0, opcode[which], 1, imm[which]);
  VTAUopLoopEnd();
  return 0;
}

/* The call-site slots, as TVM's generated code keeps them (static, NULL at first). */
static void* gemm_slot = NULL;
static void* alu_slot = NULL;

/* The command queue is one per process: threads that build programs take turns (upstream's
 * contract). Everything else may run concurrently. */
static pthread_mutex_t queue_mutex = PTHREAD_MUTEX_INITIALIZER;

enum { WORKERS = 3, ROUNDS = 40 };

/* A worker's ALU kernel: ACC[0..4) += worker index + 1 (the signature). */
static int add_kernel(void* signature) {
  int value = *(int*)signature;
  VTAUopLoopBegin(4, 1, 1, 0);
  VTAUopPush(1, 0, 0, 0, 0, VTA_ALU_OPCODE_ADD, 1, value);
  VTAUopLoopEnd();
  return 0;
}

static void* worker(void* raw) {
  int index = *(int*)raw, add = index + 1;
  long failures = 0;
  static void* slots[WORKERS];
  VTACommandHandle cmd = VTATLSCommandHandle();
  for (int round = 0; round < ROUNDS; round++) {
    /* Buffer churn, concurrently with everything else. */
    size_t size = 64 + (size_t)((round * 97 + index * 31) % 4000);
    uint8_t* host = malloc(size);
    uint8_t* back = malloc(size);
    for (size_t i = 0; i < size; i++) host[i] = (uint8_t)(i * 7 + (size_t)round + (size_t)index);
    void* buf = VTABufferAlloc(size);
    if (!buf) { failures++; free(host); free(back); continue; }
    VTABufferCopy(host, 0, buf, 0, size, VTA_MEMCPY_H2D);
    VTAReadBarrier(cmd, buf, 8, 0, (uint32_t)size);
    VTAWriteBarrier(cmd, buf, 8, 0, (uint32_t)size);
    VTABufferCopy(buf, 0, back, 0, size, VTA_MEMCPY_D2H);
    if (memcmp(host, back, size) != 0 || VTABufferCPUPtr(cmd, buf) == NULL) failures++;
    VTABufferFree(buf);
    free(host);
    free(back);

    /* A small program of its own through the shared queue. */
    int32_t in[4 * VTA_BATCH * VTA_BLOCK_OUT];
    int8_t out[4 * VTA_BATCH * VTA_BLOCK_OUT];
    for (int i = 0; i < 4 * VTA_BATCH * VTA_BLOCK_OUT; i++) in[i] = i + round;
    void* acc = VTABufferAlloc(sizeof in);
    void* res = VTABufferAlloc(sizeof out);
    if (!acc || !res) { failures++; continue; }
    VTABufferCopy(in, 0, acc, 0, sizeof in, VTA_MEMCPY_H2D);
    pthread_mutex_lock(&queue_mutex);
    VTALoadBuffer2D(cmd, acc, 0, 4, 1, 4, 0, 0, 0, 0, 0, VTA_MEM_ID_ACC);
    if (VTAPushALUOp(&slots[index], add_kernel, &add, sizeof add) != 0) failures++;
    VTADepPush(cmd, 2, 3);
    VTADepPop(cmd, 2, 3);
    VTAStoreBuffer2D(cmd, 0, VTA_MEM_ID_OUT, res, 0, 4, 1, 4);
    VTASynchronize(cmd, 1u << 31);
    pthread_mutex_unlock(&queue_mutex);
    VTABufferCopy(res, 0, out, 0, sizeof out, VTA_MEMCPY_D2H);
    for (int i = 0; i < 4 * VTA_BATCH * VTA_BLOCK_OUT; i++)
      if (out[i] != (int8_t)(i + round + add)) { failures++; break; }
    VTABufferFree(acc);
    VTABufferFree(res);
  }
  return (void*)failures;
}

int main(int argc, char** argv) {
  int serial = 0, dump = 0, threads = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--serial") == 0) serial = 1;
    if (strcmp(argv[i], "--dump") == 0) dump = 1;
    if (strcmp(argv[i], "--threads") == 0) threads = 1;
  }
  VTACommandHandle cmd = VTATLSCommandHandle();
  if (!cmd) return 2;
  int flags = (serial ? VTA_DEBUG_FORCE_SERIAL : 0) | (dump ? VTA_DEBUG_DUMP_INSN | VTA_DEBUG_DUMP_UOP : 0);
  VTASetDebugMode(cmd, flags);

  /* Host data and the reference. */
  static int8_t a[M * K], b[N * K], c[M * N], want[M * N];
  static int32_t bias[M * N];
  for (int i = 0; i < M * K; i++) a[i] = (int8_t)test_rand();
  for (int i = 0; i < N * K; i++) b[i] = (int8_t)test_rand();
  for (int i = 0; i < M * N; i++) bias[i] = test_rand_range(-20000, 20000);
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      int32_t acc = bias[i * N + j];
      for (int k = 0; k < K; k++) acc += a[i * K + k] * b[j * K + k];
      acc >>= SHIFT;
      want[i * N + j] = (int8_t)(acc < -127 ? -127 : acc > 127 ? 127 : acc);
    }

  /* Device buffers (handles), filled through VTABufferCopy from packed host copies. */
  void* A = VTABufferAlloc(sizeof a);
  void* Bw = VTABufferAlloc(sizeof b);
  void* BIAS = VTABufferAlloc(sizeof bias);
  void* C = VTABufferAlloc(sizeof c);
  TEST_REQUIRE(A && Bw && BIAS && C, "VTABufferAlloc failed");
  static int8_t packed8[M * K > N * K ? M * K : N * K];
  static int32_t packed32[M * N];
  pack_tiles(packed8, a, M, K, VTA_BATCH, VTA_BLOCK_IN, 1);
  VTABufferCopy(packed8, 0, A, 0, sizeof a, VTA_MEMCPY_H2D);
  pack_tiles(packed8, b, N, K, VTA_BLOCK_OUT, VTA_BLOCK_IN, 1);
  /* Two copies at byte offsets, to exercise them. */
  VTABufferCopy(packed8, 0, Bw, 0, sizeof b / 2, VTA_MEMCPY_H2D);
  VTABufferCopy(packed8, sizeof b / 2, Bw, sizeof b / 2, sizeof b - sizeof b / 2, VTA_MEMCPY_H2D);
  pack_tiles(packed32, bias, M, N, VTA_BATCH, VTA_BLOCK_OUT, 4);
  /* Through the CPU pointer, then a read barrier, as generated code does. */
  memcpy(VTABufferCPUPtr(cmd, BIAS), packed32, sizeof bias);
  VTAReadBarrier(cmd, BIAS, 32, 0, M * N);

  pthread_t workers[WORKERS];
  int indices[WORKERS];
  for (int w = 0; threads && w < WORKERS; w++) {
    indices[w] = w;
    TEST_REQUIRE(pthread_create(&workers[w], NULL, worker, &indices[w]) == 0, "pthread_create");
  }

  const int alu_ops[3] = {0, 1, 2};
  for (int bm = 0; bm < MT / BM; bm++) {
    pthread_mutex_lock(&queue_mutex);
    /* One batch (one VTASynchronize) per block row. */
    for (int bn = 0; bn < NT / BN; bn++) {
      int first_block = (bn == 0), last_block = (bn == NT / BN - 1);
      /* The accumulator is reused: wait until the previous block's store has read it. */
      if (!first_block) check_status(VTADepPop(cmd, 3, 2), "VTADepPop(3, 2)");
      VTALoadBuffer2D(cmd, BIAS, (uint32_t)(bm * BM * NT + bn * BN), BN, BM, NT, 0, 0, 0, 0, 0, VTA_MEM_ID_ACC);
      for (int bk = 0; bk < KT / BK; bk++) {
        int first_k = first_block && bk == 0, last_k = last_block && bk == KT / BK - 1;
        /* The input and weight SRAM is reused: wait until the previous GEMM has read it. */
        if (!first_k) check_status(VTADepPop(cmd, 2, 1), "VTADepPop(2, 1)");
        VTALoadBuffer2D(cmd, A, (uint32_t)(bm * BM * KT + bk * BK), BK, BM, KT, 0, 0, 0, 0, 0, VTA_MEM_ID_INP);
        VTALoadBuffer2D(cmd, Bw, (uint32_t)(bn * BN * KT + bk * BK), BK, BN, KT, 0, 0, 0, 0, 0, VTA_MEM_ID_WGT);
        check_status(VTADepPush(cmd, 1, 2), "VTADepPush(1, 2)");
        check_status(VTADepPop(cmd, 1, 2), "VTADepPop(1, 2)");
        check_status(VTAPushGEMMOp(&gemm_slot, gemm_kernel, NULL, 0), "VTAPushGEMMOp");
        if (!last_k) check_status(VTADepPush(cmd, 2, 1), "VTADepPush(2, 1)");
      }
      for (int op = 0; op < 3; op++)
        check_status(VTAPushALUOp(&alu_slot, alu_kernel, (void*)&alu_ops[op], sizeof(int)), "VTAPushALUOp");
      check_status(VTADepPush(cmd, 2, 3), "VTADepPush(2, 3)");
      check_status(VTADepPop(cmd, 2, 3), "VTADepPop(2, 3)");
      VTAStoreBuffer2D(cmd, 0, VTA_MEM_ID_OUT, C, (uint32_t)(bm * BM * NT + bn * BN), BN, BM, NT);
      if (!last_block) check_status(VTADepPush(cmd, 3, 2), "VTADepPush(3, 2)");
    }
    VTASynchronize(cmd, 1u << 31);
    pthread_mutex_unlock(&queue_mutex);
  }
  long worker_failures = 0;
  for (int w = 0; threads && w < WORKERS; w++) {
    void* result = NULL;
    pthread_join(workers[w], &result);
    worker_failures += (long)result;
  }
  VTAWriteBarrier(cmd, C, 8, 0, M * N);
  VTABufferCopy(C, 0, packed8, 0, sizeof c, VTA_MEMCPY_D2H);
  unpack_tiles(c, packed8, M, N, VTA_BATCH, VTA_BLOCK_OUT, 1);
  int bad = compare_int8("runtime blocked gemm", c, want, M, N);
  /* Every kernel was recorded once: the slots were filled in and reused. */
  TEST_REQUIRE(gemm_slot != NULL && alu_slot != NULL, "the kernel slots were not filled in");

  VTABufferFree(A);
  VTABufferFree(Bw);
  VTABufferFree(BIAS);
  VTABufferFree(C);
  VTARuntimeShutdown();
  if (threads) {
    if (worker_failures) fprintf(stderr, "runtime threads: %ld failures\n", worker_failures);
    printf("%s runtime threads\n", worker_failures ? "FAIL" : "PASS");
  }
  if (bad) {
    printf("FAIL runtime blocked gemm\n");
    return 1;
  }
  printf("PASS runtime blocked gemm\n");
  return worker_failures ? 1 : 0;
}
