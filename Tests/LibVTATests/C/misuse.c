/*
 * Misuse of every kind the C signatures allow: NULL, unknown and freed handles, double frees,
 * bad sizes, bad queue ids and memory types, micro-op recording outside a kernel, broken kernel
 * callbacks, programs that deadlock or lack FINISH. Each call must fail cleanly (an error value
 * where the signature has one, a "libvta: <function>:" line on standard error in every case) and
 * the library must still work afterwards.
 *
 * For each misuse the program prints "EXPECT <function>" on standard output; the test compares
 * these with the error lines. Exits 0 when every call failed as it should and the final runs
 * succeed; 1 otherwise (a crash is a signal, which the test reports too).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vta/driver.h>
#include <vta/hw_spec.h>
#include <vta/runtime.h>

static int failures = 0;

#define EXPECT(function) printf("EXPECT %s\n", #function)
#define MUST(cond)                                                         \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "misuse.c:%d: expected %s\n", __LINE__, #cond);     \
      failures++;                                                          \
    }                                                                      \
  } while (0)

static VTAInsn finish_insn(int pop_next) {
  VTAInsn in;
  memset(&in, 0, sizeof in);
  in.generic.opcode = VTA_OPCODE_FINISH;
  in.generic.pop_next_dep = (uint64_t)pop_next;
  return in;
}

/* ---- Kernel callbacks that break the recording rules ---- */
static int returns_error(void* s) { (void)s; VTAUopPush(0, 0, 0, 0, 0, 0, 0, 0); return 1; }
static int records_nothing(void* s) { (void)s; return 0; }
static int three_loops(void* s) {
  (void)s;
  VTAUopLoopBegin(2, 1, 1, 0);
  VTAUopLoopBegin(2, 1, 1, 0);
  VTAUopLoopBegin(2, 1, 1, 0);
  VTAUopPush(0, 0, 0, 0, 0, 0, 0, 0);
  return 0;
}
static int same_dst(void* s) {
  (void)s;
  VTAUopPush(0, 0, 5, 0, 0, 0, 0, 0);
  VTAUopPush(0, 0, 5, 1, 1, 0, 0, 0);
  return 0;
}
static int mixed_modes(void* s) {
  (void)s;
  VTAUopPush(0, 0, 0, 0, 0, 0, 0, 0);
  VTAUopPush(1, 0, 1, 0, 0, VTA_ALU_OPCODE_ADD, 1, 1);
  return 0;
}
static int bad_alu_opcode(void* s) { (void)s; VTAUopPush(1, 0, 0, 0, 0, 7, 1, 1); return 0; }
static int huge_immediate(void* s) { (void)s; VTAUopPush(1, 0, 0, 0, 0, VTA_ALU_OPCODE_ADD, 1, 100000); return 0; }
static int index_too_large(void* s) { (void)s; VTAUopPush(0, 0, VTA_ACC_BUFF_DEPTH * 4, 0, 0, 0, 0, 0); return 0; }
static void* inner_slot = NULL;
static int nested(void* s) {
  (void)s;
  VTAUopPush(0, 0, 0, 0, 0, 0, 0, 0);
  MUST(VTAPushGEMMOp(&inner_slot, records_nothing, NULL, 0) != 0);
  return 0;
}
static int endless(void* s) {
  (void)s;
  VTAUopLoopBegin(16383, 0, 0, 0);
  VTAUopLoopBegin(16383, 0, 0, 0);
  VTAUopPush(0, 0, 0, 0, 0, 0, 0, 0);
  VTAUopLoopEnd();
  VTAUopLoopEnd();
  return 0;
}
static int add_one(void* s) {
  (void)s;
  VTAUopLoopBegin(4, 1, 1, 0);
  VTAUopPush(1, 0, 0, 0, 0, VTA_ALU_OPCODE_ADD, 1, 1);
  VTAUopLoopEnd();
  return 0;
}

static void driver_misuse(void) {
  char local[64];
  EXPECT(VTAMemAlloc); MUST(VTAMemAlloc(0, VTA_CACHED) == NULL);
  EXPECT(VTAMemAlloc); MUST(VTAMemAlloc((size_t)-1, VTA_CACHED) == NULL);
  EXPECT(VTAMemFree); VTAMemFree(NULL);
  EXPECT(VTAMemFree); VTAMemFree(local);
  void* p = VTAMemAlloc(4096, VTA_CACHED);
  MUST(p != NULL);
  vta_phy_addr_t phys = VTAMemGetPhyAddr(p);
  MUST(phys != 0);
  MUST(VTAMemGetPhyAddr((char*)p + 100) == phys + 100);
  EXPECT(VTAMemFree); VTAMemFree((char*)p + 16);
  EXPECT(VTAMemGetPhyAddr); MUST(VTAMemGetPhyAddr(NULL) == 0);
  EXPECT(VTAMemGetPhyAddr); MUST(VTAMemGetPhyAddr(local) == 0);
  static char big[8192];
  EXPECT(VTAMemCopyFromHost); VTAMemCopyFromHost(p, big, sizeof big);
  EXPECT(VTAMemCopyFromHost); VTAMemCopyFromHost(local, big, 16);
  EXPECT(VTAMemCopyFromHost); VTAMemCopyFromHost(p, NULL, 16);
  EXPECT(VTAMemCopyToHost); VTAMemCopyToHost(big, local, 16);
  EXPECT(VTAMemCopyToHost); VTAMemCopyToHost(big, (char*)p + 4000, 200);
  EXPECT(VTAFlushCache); VTAFlushCache(p, phys + 64, 16);
  EXPECT(VTAFlushCache); VTAFlushCache(p, phys, -1);
  EXPECT(VTAInvalidateCache); VTAInvalidateCache(p, phys, 8192);
  EXPECT(VTAInvalidateCache); VTAInvalidateCache(NULL, 0, 16);
  VTAMemFree(p);
  EXPECT(VTAMemFree); VTAMemFree(p); /* double free */
  EXPECT(VTAProgram); VTAProgram(NULL);

  EXPECT(VTADeviceFree); VTADeviceFree(NULL);
  EXPECT(VTADeviceFree); VTADeviceFree(local);
  EXPECT(VTADeviceRun); MUST(VTADeviceRun(NULL, 0x1000, 1, 1000) == -1);
  EXPECT(VTADeviceRun); MUST(VTADeviceRun(local, 0x1000, 1, 1000) == -1);
  VTADeviceHandle dev = VTADeviceAlloc();
  MUST(dev != NULL);
  void* insns = VTAMemAlloc(4 * sizeof(VTAInsn), VTA_CACHED);
  MUST(insns != NULL);
  vta_phy_addr_t ip = VTAMemGetPhyAddr(insns);
  EXPECT(VTADeviceRun); MUST(VTADeviceRun(dev, ip, 0, 1000) == -1);
  EXPECT(VTADeviceRun); MUST(VTADeviceRun(dev, ip, 5, 1000) == -1);      /* past the buffer */
  EXPECT(VTADeviceRun); MUST(VTADeviceRun(dev, 0x10, 1, 1000) == -1);    /* not device memory */
  /* FINISH waits for a store->compute token that nothing pushes: a deadlock, reported. */
  VTAInsn deadlock = finish_insn(1);
  VTAMemCopyFromHost(insns, &deadlock, sizeof deadlock);
  EXPECT(VTADeviceRun); MUST(VTADeviceRun(dev, ip, 1, 1000) == 2);
  /* A stream without FINISH. */
  VTAInsn noop;
  memset(&noop, 0, sizeof noop);
  noop.mem.opcode = VTA_OPCODE_LOAD;
  noop.mem.memory_type = VTA_MEM_ID_INP;
  VTAMemCopyFromHost(insns, &noop, sizeof noop);
  EXPECT(VTADeviceRun); MUST(VTADeviceRun(dev, ip, 1, 1000) != 0);
  /* A legal program far too long for its wait_cycles budget (1000 = the 1 s minimum): GEMM loops
   * of 16383 x 16383. The run is stopped and reported as a timeout. */
  VTAInsn slow[2];
  memset(slow, 0, sizeof slow);
  slow[0].gemm.opcode = VTA_OPCODE_GEMM;
  slow[0].gemm.uop_end = 1;
  slow[0].gemm.iter_out = 16383;
  slow[0].gemm.iter_in = 16383;
  slow[1] = finish_insn(0);
  VTAMemCopyFromHost(insns, slow, sizeof slow);
  EXPECT(VTADeviceRun); MUST(VTADeviceRun(dev, ip, 2, 1000) == 1);
  /* The device still works: a lone FINISH. */
  VTAInsn finish = finish_insn(0);
  VTAMemCopyFromHost(insns, &finish, sizeof finish);
  MUST(VTADeviceRun(dev, ip, 1, 1000) == 0);
  VTAMemFree(insns);
  VTADeviceFree(dev);
  EXPECT(VTADeviceFree); VTADeviceFree(dev); /* double free */
  EXPECT(VTADeviceRun); MUST(VTADeviceRun(dev, 0x1000, 1, 1000) == -1);
}

static void runtime_misuse(void) {
  char local[64];
  VTACommandHandle cmd = VTATLSCommandHandle();
  MUST(cmd != NULL);
  MUST(VTATLSCommandHandle() == cmd);
  EXPECT(VTABufferAlloc); MUST(VTABufferAlloc(0) == NULL);
  EXPECT(VTABufferFree); VTABufferFree(NULL);
  EXPECT(VTABufferFree); VTABufferFree(local);
  void* buf = VTABufferAlloc(1024);
  MUST(buf != NULL);
  void* data = VTABufferCPUPtr(cmd, buf);
  MUST(data != NULL && data != buf);
  MUST(VTABufferCPUPtr(cmd, local) == local);
  EXPECT(VTABufferCPUPtr); MUST(VTABufferCPUPtr(NULL, buf) == NULL);
  EXPECT(VTABufferCPUPtr); MUST(VTABufferCPUPtr(local, buf) == NULL);
  EXPECT(VTAMemFree); VTAMemFree(data); /* belongs to the handle */
  EXPECT(VTABufferCopy); VTABufferCopy(local, 0, buf, 0, 16, 7);
  EXPECT(VTABufferCopy); VTABufferCopy(local, 0, buf, 1000, 64, VTA_MEMCPY_H2D);
  EXPECT(VTABufferCopy); VTABufferCopy(buf, 0, local, 0, 2048, VTA_MEMCPY_D2H);
  EXPECT(VTABufferCopy); VTABufferCopy(local, 0, local, 0, 16, VTA_MEMCPY_H2D); /* `to` is no handle */
  EXPECT(VTABufferCopy); VTABufferCopy(NULL, 0, buf, 0, 16, VTA_MEMCPY_H2D);
  VTABufferCopy(NULL, 0, buf, 0, 0, VTA_MEMCPY_H2D); /* an empty copy needs no host pointer */
  EXPECT(VTAWriteBarrier); VTAWriteBarrier(cmd, buf, 32, 0, 1000);
  EXPECT(VTAReadBarrier); VTAReadBarrier(cmd, local, 8, 0, 1);
  EXPECT(VTASetDebugMode); VTASetDebugMode(NULL, 0);

  EXPECT(VTALoadBuffer2D); VTALoadBuffer2D(NULL, buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, VTA_MEM_ID_INP);
  EXPECT(VTALoadBuffer2D); VTALoadBuffer2D(cmd, local, 0, 1, 1, 1, 0, 0, 0, 0, 0, VTA_MEM_ID_INP);
  EXPECT(VTALoadBuffer2D); VTALoadBuffer2D(cmd, buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, 9);
  EXPECT(VTALoadBuffer2D); VTALoadBuffer2D(cmd, buf, 0, 1000, 1, 1000, 0, 0, 0, 0, 0, VTA_MEM_ID_INP);
  EXPECT(VTALoadBuffer2D); VTALoadBuffer2D(cmd, buf, 0xFFFFFFFFu, 1, 1, 1, 0, 0, 0, 0, 0, VTA_MEM_ID_INP);
  EXPECT(VTALoadBuffer2D); VTALoadBuffer2D(cmd, buf, 0, 1, 1, 1, 0, 0, 0, 0, VTA_INP_BUFF_DEPTH, VTA_MEM_ID_INP);
  EXPECT(VTALoadBuffer2D); VTALoadBuffer2D(cmd, buf, 0, 1, 1, 1, 16, 0, 0, 0, 0, VTA_MEM_ID_INP);
  EXPECT(VTAStoreBuffer2D); VTAStoreBuffer2D(cmd, 0, VTA_MEM_ID_INP, buf, 0, 1, 1, 1);
  EXPECT(VTAStoreBuffer2D); VTAStoreBuffer2D(cmd, 0, VTA_MEM_ID_OUT, NULL, 0, 1, 1, 1);
  EXPECT(VTADepPush); MUST(VTADepPush(NULL, 1, 2) == -1);
  EXPECT(VTADepPush); MUST(VTADepPush(cmd, 1, 3) == -1);
  EXPECT(VTADepPush); MUST(VTADepPush(cmd, 0, 9) == -1);
  EXPECT(VTADepPop); MUST(VTADepPop(cmd, 2, 2) == -1);
  EXPECT(VTADepPop); MUST(VTADepPop(cmd, 3, 4) == -1);

  EXPECT(VTAUopPush); VTAUopPush(0, 0, 0, 0, 0, 0, 0, 0);
  EXPECT(VTAUopLoopBegin); VTAUopLoopBegin(1, 0, 0, 0);
  EXPECT(VTAUopLoopEnd); VTAUopLoopEnd();
  static void* slot = NULL;
  EXPECT(VTAPushGEMMOp); MUST(VTAPushGEMMOp(NULL, records_nothing, NULL, 0) == -1);
  EXPECT(VTAPushGEMMOp); MUST(VTAPushGEMMOp(&slot, NULL, NULL, 0) == -1);
  int sig = 0;
  EXPECT(VTAPushGEMMOp); MUST(VTAPushGEMMOp(&slot, records_nothing, &sig, 3) == -1);
  EXPECT(VTAPushGEMMOp); MUST(VTAPushGEMMOp(&slot, records_nothing, NULL, 4) == -1);
  EXPECT(VTAPushGEMMOp); MUST(VTAPushGEMMOp(&slot, returns_error, NULL, 0) == -1);
  sig = 1;
  EXPECT(VTAPushGEMMOp); MUST(VTAPushGEMMOp(&slot, records_nothing, &sig, 4) == -1);
  sig = 2;
  EXPECT(VTAPushGEMMOp); MUST(VTAPushGEMMOp(&slot, three_loops, &sig, 4) == -1);
  sig = 3;
  EXPECT(VTAPushGEMMOp); MUST(VTAPushGEMMOp(&slot, same_dst, &sig, 4) == -1);
  sig = 4;
  EXPECT(VTAUopPush); EXPECT(VTAPushGEMMOp); MUST(VTAPushGEMMOp(&slot, mixed_modes, &sig, 4) == -1);
  sig = 5;
  EXPECT(VTAUopPush); EXPECT(VTAPushALUOp); MUST(VTAPushALUOp(&slot, bad_alu_opcode, &sig, 4) == -1);
  sig = 6;
  EXPECT(VTAUopPush); EXPECT(VTAPushALUOp); MUST(VTAPushALUOp(&slot, huge_immediate, &sig, 4) == -1);
  sig = 7;
  EXPECT(VTAPushGEMMOp); MUST(VTAPushGEMMOp(&slot, index_too_large, &sig, 4) == -1);
  sig = 8;
  /* An ALU kernel queued as GEMM. */
  EXPECT(VTAPushGEMMOp); MUST(VTAPushGEMMOp(&slot, add_one, &sig, 4) == -1);
  void* garbage = local;
  EXPECT(VTAPushGEMMOp); MUST(VTAPushGEMMOp(&garbage, add_one, NULL, 0) == -1);
  static void* outer_slot = NULL;
  EXPECT(VTAPushGEMMOp); MUST(VTAPushGEMMOp(&outer_slot, nested, NULL, 0) == 0);

  /* A batch that deadlocks: the compute stage waits for a store token nothing sends. The
   * failure is reported and the queued work dropped. */
  MUST(VTADepPop(cmd, 3, 2) == 0);
  VTALoadBuffer2D(cmd, buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, VTA_MEM_ID_ACC);
  EXPECT(VTASynchronize); VTASynchronize(cmd, 1000);
  EXPECT(VTASynchronize); VTASynchronize(NULL, 1000);
  /* A batch that outlasts its wait_cycles: reported as a timeout, the work dropped. */
  static void* endless_slot = NULL;
  MUST(VTAPushGEMMOp(&endless_slot, endless, NULL, 0) == 0);
  EXPECT(VTASynchronize); VTASynchronize(cmd, 0);

  /* The queue works again: ACC[0..3] += 1 on 16 int32 values, stored as int8. */
  int32_t in[4 * VTA_BATCH * VTA_BLOCK_OUT];
  for (int i = 0; i < 4 * VTA_BATCH * VTA_BLOCK_OUT; i++) in[i] = i;
  void* acc = VTABufferAlloc(sizeof in);
  void* out = VTABufferAlloc(4 * VTA_OUT_ELEM_BYTES);
  MUST(acc != NULL && out != NULL);
  VTABufferCopy(in, 0, acc, 0, sizeof in, VTA_MEMCPY_H2D);
  static void* add_slot = NULL;
  VTALoadBuffer2D(cmd, acc, 0, 4, 1, 4, 0, 0, 0, 0, 0, VTA_MEM_ID_ACC);
  MUST(VTAPushALUOp(&add_slot, add_one, NULL, 0) == 0);
  MUST(VTADepPush(cmd, 2, 3) == 0);
  MUST(VTADepPop(cmd, 2, 3) == 0);
  VTAStoreBuffer2D(cmd, 0, VTA_MEM_ID_OUT, out, 0, 4, 1, 4);
  VTASynchronize(cmd, 1u << 31);
  int8_t result[4 * VTA_BATCH * VTA_BLOCK_OUT];
  VTABufferCopy(out, 0, result, 0, sizeof result, VTA_MEMCPY_D2H);
  for (int i = 0; i < 4 * VTA_BATCH * VTA_BLOCK_OUT; i++) MUST(result[i] == (int8_t)(i + 1));

  VTABufferFree(buf);
  EXPECT(VTABufferFree); VTABufferFree(buf); /* double free */
  EXPECT(VTABufferCopy); VTABufferCopy(local, 0, buf, 0, 16, VTA_MEMCPY_H2D); /* freed handle */
  VTABufferFree(acc);
  VTABufferFree(out);
  VTARuntimeShutdown();
  VTARuntimeShutdown();
}

int main(void) {
  driver_misuse();
  runtime_misuse();
  fflush(stdout);
  if (failures) {
    fprintf(stderr, "misuse: %d calls did not fail as they should\n", failures);
    return 1;
  }
  printf("misuse: every call failed cleanly\n");
  return 0;
}
