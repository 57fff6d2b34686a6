/*
 * The driver API (vta/driver.h) end to end: instruction streams built by hand with the
 * hw_spec.h structs, in memory from VTAMemAlloc, run with VTADeviceRun, results compared with a
 * C computation. The programs are those of the upstream hardware test library (spec §8): GEMM,
 * ALU and blocked GEMM, addressed the way TVM's runtime does (absolute element addresses, DMA
 * base registers 0).
 *
 * Usage: driver_test [all|gemm|alu|blocked|threads]...  Prints "PASS <name>" per test; exits 0
 * when all pass, 1 on a wrong result, 2 when the library reported a failure.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vta/driver.h>
#include <vta/hw_spec.h>

#include "test_common.h"

#define WAIT_CYCLES 10000000u

/* ---- Instruction builders (every field not named is zero) ---- */

static VTAInsn mem_insn(int opcode, int type, uint32_t sram, uint32_t dram, uint32_t y, uint32_t x, uint32_t stride,
                        int pop_prev, int pop_next, int push_prev, int push_next) {
  VTAInsn in;
  memset(&in, 0, sizeof in);
  in.mem.opcode = (uint64_t)opcode;
  in.mem.pop_prev_dep = (uint64_t)pop_prev;
  in.mem.pop_next_dep = (uint64_t)pop_next;
  in.mem.push_prev_dep = (uint64_t)push_prev;
  in.mem.push_next_dep = (uint64_t)push_next;
  in.mem.memory_type = (uint64_t)type;
  in.mem.sram_base = sram;
  in.mem.dram_base = dram;
  in.mem.y_size = y;
  in.mem.x_size = x;
  in.mem.x_stride = stride;
  return in;
}

/* GEMM over `batch` x `in_feat` x `out_feat` tiles from micro-op `uop_offset` (spec §8.1). */
static VTAInsn gemm_insn(int uop_offset, int batch, int in_feat, int out_feat, int compressed,
                         int pop_prev, int pop_next, int push_prev, int push_next) {
  VTAInsn in;
  memset(&in, 0, sizeof in);
  in.gemm.opcode = VTA_OPCODE_GEMM;
  in.gemm.pop_prev_dep = (uint64_t)pop_prev;
  in.gemm.pop_next_dep = (uint64_t)pop_next;
  in.gemm.push_prev_dep = (uint64_t)push_prev;
  in.gemm.push_next_dep = (uint64_t)push_next;
  in.gemm.uop_bgn = (uint64_t)uop_offset;
  if (compressed) {
    in.gemm.uop_end = (uint64_t)(uop_offset + batch);
    in.gemm.iter_out = (uint64_t)in_feat;
    in.gemm.iter_in = (uint64_t)out_feat;
    in.gemm.src_factor_out = 1;
    in.gemm.wgt_factor_out = 1;
    in.gemm.dst_factor_in = 1;
    in.gemm.wgt_factor_in = (uint64_t)in_feat;
  } else {
    in.gemm.uop_end = (uint64_t)(uop_offset + batch * in_feat * out_feat);
    in.gemm.iter_out = 1;
    in.gemm.iter_in = 1;
  }
  return in;
}

static VTAInsn alu_insn(int opcode, int vector_size, int use_imm, int imm, int compressed, int push_next) {
  VTAInsn in;
  memset(&in, 0, sizeof in);
  in.alu.opcode = VTA_OPCODE_ALU;
  in.alu.push_next_dep = (uint64_t)push_next;
  in.alu.alu_opcode = (uint64_t)opcode;
  in.alu.use_imm = (uint64_t)use_imm;
  in.alu.imm = imm;
  if (compressed) {
    in.alu.uop_end = 1;
    in.alu.iter_out = 1;
    in.alu.iter_in = (uint64_t)vector_size;
    in.alu.dst_factor_in = 1;
    in.alu.src_factor_in = 1;
  } else {
    in.alu.uop_end = (uint64_t)vector_size;
    in.alu.iter_out = 1;
    in.alu.iter_in = 1;
  }
  return in;
}

static VTAInsn finish_insn(int pop_prev, int pop_next) {
  VTAInsn in;
  memset(&in, 0, sizeof in);
  in.generic.opcode = VTA_OPCODE_FINISH;
  in.generic.pop_prev_dep = (uint64_t)pop_prev;
  in.generic.pop_next_dep = (uint64_t)pop_next;
  return in;
}

static VTAUop make_uop(int dst, int src, int wgt) {
  VTAUop u;
  memset(&u, 0, sizeof u);
  u.dst_idx = (uint32_t)dst;
  u.src_idx = (uint32_t)src;
  u.wgt_idx = (uint32_t)wgt;
  return u;
}

/* ---- Device memory helpers ---- */

static void* dev_alloc(size_t bytes) {
  void* p = VTAMemAlloc(bytes, VTA_CACHED);
  TEST_REQUIRE(p != NULL, "VTAMemAlloc(%zu) failed", bytes);
  return p;
}

/* The element address of `p` for elements of `elem_bytes` (TVM's runtime addressing). */
static uint32_t elem_addr(void* p, int elem_bytes) {
  vta_phy_addr_t phys = VTAMemGetPhyAddr(p);
  TEST_REQUIRE(phys != 0, "VTAMemGetPhyAddr failed");
  TEST_REQUIRE(phys % (vta_phy_addr_t)elem_bytes == 0, "buffer at 0x%llx is not aligned to %d", (unsigned long long)phys, elem_bytes);
  return (uint32_t)(phys / (vta_phy_addr_t)elem_bytes);
}

/* Copies the program into device memory, runs it, frees it. Returns VTADeviceRun's status. */
static int run_program(VTADeviceHandle dev, const VTAInsn* insns, int count) {
  void* mem = dev_alloc(sizeof(VTAInsn) * (size_t)count);
  VTAMemCopyFromHost(mem, insns, sizeof(VTAInsn) * (size_t)count);
  VTAFlushCache(mem, VTAMemGetPhyAddr(mem), (int)(sizeof(VTAInsn) * (size_t)count));
  int status = VTADeviceRun(dev, VTAMemGetPhyAddr(mem), (uint32_t)count, WAIT_CYCLES);
  VTAMemFree(mem);
  return status;
}

static void* dev_upload(const void* host, size_t bytes) {
  void* p = dev_alloc(bytes);
  VTAMemCopyFromHost(p, host, bytes);
  VTAFlushCache(p, VTAMemGetPhyAddr(p), (int)bytes);
  return p;
}

static void dev_download(void* host, void* dev, size_t bytes) {
  VTAInvalidateCache(dev, VTAMemGetPhyAddr(dev), (int)bytes);
  VTAMemCopyToHost(host, dev, bytes);
}

/* ---- GEMM (spec §8.3) ---- */

static int gemm_test(VTADeviceHandle dev, int batch, int in_ch, int out_ch, int compressed) {
  const int bt = batch / VTA_BATCH, it = in_ch / VTA_BLOCK_IN, ot = out_ch / VTA_BLOCK_OUT;
  const int uop_count = compressed ? bt : bt * it * ot;
  int8_t* inputs = malloc((size_t)batch * (size_t)in_ch);
  int8_t* weights = malloc((size_t)out_ch * (size_t)in_ch);
  int32_t* biases = malloc(sizeof(int32_t) * (size_t)batch * (size_t)out_ch);
  int8_t* want = malloc((size_t)batch * (size_t)out_ch);
  int8_t* got = malloc((size_t)batch * (size_t)out_ch);
  void* packed = malloc(sizeof(int32_t) * (size_t)batch * (size_t)out_ch + (size_t)out_ch * (size_t)in_ch);
  for (int i = 0; i < batch * in_ch; i++) inputs[i] = (int8_t)test_rand();
  for (int i = 0; i < out_ch * in_ch; i++) weights[i] = (int8_t)test_rand();
  for (int i = 0; i < batch * out_ch; i++) biases[i] = (int32_t)(test_rand() & 0x7fffffff);
  for (int i = 0; i < batch; i++)
    for (int j = 0; j < out_ch; j++) {
      uint32_t acc = (uint32_t)biases[i * out_ch + j];
      for (int k = 0; k < in_ch; k++) acc += (uint32_t)(inputs[i * in_ch + k] * weights[j * in_ch + k]);
      want[i * out_ch + j] = (int8_t)(uint8_t)acc;
    }

  VTAUop* uops = malloc(sizeof(VTAUop) * (size_t)uop_count);
  int n = 0;
  if (compressed) {
    for (int i = 0; i < bt; i++) uops[n++] = make_uop(i * ot, i * it, 0);
  } else {
    for (int i = 0; i < bt; i++)
      for (int j = 0; j < it; j++)
        for (int k = 0; k < ot; k++) uops[n++] = make_uop(i * ot + k, i * it + j, k * it + j);
  }
  void* d_uop = dev_upload(uops, sizeof(VTAUop) * (size_t)uop_count);
  pack_tiles(packed, inputs, batch, in_ch, VTA_BATCH, VTA_BLOCK_IN, 1);
  void* d_inp = dev_upload(packed, (size_t)batch * (size_t)in_ch);
  pack_tiles(packed, weights, out_ch, in_ch, VTA_BLOCK_OUT, VTA_BLOCK_IN, 1);
  void* d_wgt = dev_upload(packed, (size_t)out_ch * (size_t)in_ch);
  pack_tiles(packed, biases, batch, out_ch, VTA_BATCH, VTA_BLOCK_OUT, 4);
  void* d_acc = dev_upload(packed, sizeof(int32_t) * (size_t)batch * (size_t)out_ch);
  void* d_out = dev_alloc((size_t)batch * (size_t)out_ch);

  VTAInsn p[7];
  p[0] = mem_insn(VTA_OPCODE_LOAD, VTA_MEM_ID_UOP, 0, elem_addr(d_uop, VTA_UOP_ELEM_BYTES), 1, (uint32_t)uop_count, (uint32_t)uop_count, 0, 0, 0, 0);
  p[1] = mem_insn(VTA_OPCODE_LOAD, VTA_MEM_ID_ACC, 0, elem_addr(d_acc, VTA_ACC_ELEM_BYTES), 1, (uint32_t)(bt * ot), (uint32_t)(bt * ot), 0, 0, 1, 0);
  p[2] = mem_insn(VTA_OPCODE_LOAD, VTA_MEM_ID_WGT, 0, elem_addr(d_wgt, VTA_WGT_ELEM_BYTES), 1, (uint32_t)(it * ot), (uint32_t)(it * ot), 0, 1, 0, 0);
  p[3] = mem_insn(VTA_OPCODE_LOAD, VTA_MEM_ID_INP, 0, elem_addr(d_inp, VTA_INP_ELEM_BYTES), 1, (uint32_t)(bt * it), (uint32_t)(bt * it), 0, 0, 0, 1);
  p[4] = gemm_insn(0, bt, it, ot, compressed, 1, 0, 0, 1);
  p[5] = mem_insn(VTA_OPCODE_STORE, VTA_MEM_ID_OUT, 0, elem_addr(d_out, VTA_OUT_ELEM_BYTES), 1, (uint32_t)(bt * ot), (uint32_t)(bt * ot), 1, 0, 1, 0);
  p[6] = finish_insn(0, 1);
  int status = run_program(dev, p, 7);
  int bad = 0;
  if (status != 0) {
    fprintf(stderr, "gemm_test: VTADeviceRun returned %d\n", status);
    bad = -1;
  } else {
    dev_download(packed, d_out, (size_t)batch * (size_t)out_ch);
    unpack_tiles(got, packed, batch, out_ch, VTA_BATCH, VTA_BLOCK_OUT, 1);
    bad = compare_int8("gemm_test", got, want, batch, out_ch);
  }
  VTAMemFree(d_uop); VTAMemFree(d_inp); VTAMemFree(d_wgt); VTAMemFree(d_acc); VTAMemFree(d_out);
  free(inputs); free(weights); free(biases); free(want); free(got); free(packed); free(uops);
  return bad;
}

/* ---- ALU (spec §8.2) ---- */

static int alu_test(VTADeviceHandle dev, int opcode, int use_imm, int batch, int vector_size, int compressed) {
  const int tx = vector_size / VTA_BLOCK_OUT, sets = use_imm ? 1 : 2, uop_count = compressed ? 1 : tx;
  const int bt = batch / VTA_BATCH, row = vector_size * sets;
  int32_t* acc = malloc(sizeof(int32_t) * (size_t)batch * (size_t)row);
  int32_t* imm = malloc(sizeof(int32_t) * (size_t)bt);
  int8_t* want = malloc((size_t)batch * (size_t)vector_size);
  int8_t* got = malloc((size_t)batch * (size_t)vector_size);
  void* packed = malloc(sizeof(int32_t) * (size_t)batch * (size_t)row);
  for (int b = 0; b < bt; b++)
    imm[b] = opcode == VTA_ALU_OPCODE_SHR ? test_rand_range(-8, 7) : test_rand_range(-16384, 16383);
  for (int i = 0; i < batch * row; i++) {
    if (opcode == VTA_ALU_OPCODE_SHR) acc[i] = test_rand_range(-8, 7);
    else if (opcode == VTA_ALU_OPCODE_ADD) acc[i] = test_rand_range(-32, 31);
    else acc[i] = test_rand_range(-64, 63);
  }
  for (int i = 0; i < batch; i++)
    for (int j = 0; j < vector_size; j++) {
      int32_t x = acc[i * row + j];
      int32_t y = use_imm ? imm[i / VTA_BATCH] : acc[i * row + vector_size + j];
      int32_t r = 0;
      switch (opcode) {
        case VTA_ALU_OPCODE_MIN: r = x < y ? x : y; break;
        case VTA_ALU_OPCODE_MAX: r = x < y ? y : x; break;
        case VTA_ALU_OPCODE_ADD: r = (int32_t)((uint32_t)x + (uint32_t)y); break;
        case VTA_ALU_OPCODE_SHR: r = y >= 0 ? x >> y : (int32_t)((uint32_t)x << -y); break;
      }
      want[i * vector_size + j] = (int8_t)(uint8_t)r;
    }
  VTAUop* uops = malloc(sizeof(VTAUop) * (size_t)uop_count);
  if (compressed) uops[0] = make_uop(0, tx, 0);
  else for (int i = 0; i < tx; i++) uops[i] = make_uop(i, tx + i, 0);
  void* d_uop = dev_upload(uops, sizeof(VTAUop) * (size_t)uop_count);
  pack_tiles(packed, acc, batch, row, VTA_BATCH, VTA_BLOCK_OUT, 4);
  void* d_acc = dev_upload(packed, sizeof(int32_t) * (size_t)batch * (size_t)row);
  void* d_out = dev_alloc((size_t)batch * (size_t)vector_size);
  uint32_t acc_base = elem_addr(d_acc, VTA_ACC_ELEM_BYTES), out_base = elem_addr(d_out, VTA_OUT_ELEM_BYTES);

  const int count = 3 * bt + 2;
  VTAInsn* p = malloc(sizeof(VTAInsn) * (size_t)count);
  int n = 0;
  p[n++] = mem_insn(VTA_OPCODE_LOAD, VTA_MEM_ID_UOP, 0, elem_addr(d_uop, VTA_UOP_ELEM_BYTES), 1, (uint32_t)uop_count, (uint32_t)uop_count, 0, 0, 0, 0);
  for (int b = 0; b < bt; b++) {
    p[n++] = mem_insn(VTA_OPCODE_LOAD, VTA_MEM_ID_ACC, 0, acc_base + (uint32_t)(b * tx * sets), 1, (uint32_t)(tx * sets), (uint32_t)(tx * sets), 0, b > 0, 0, 0);
    p[n++] = alu_insn(opcode, tx, use_imm, imm[b], compressed, 1);
    p[n++] = mem_insn(VTA_OPCODE_STORE, VTA_MEM_ID_OUT, 0, out_base + (uint32_t)(b * tx), 1, (uint32_t)tx, (uint32_t)tx, 1, 0, 1, 0);
  }
  p[n++] = finish_insn(0, 1);
  int status = run_program(dev, p, n);
  int bad;
  if (status != 0) {
    fprintf(stderr, "alu_test(op %d): VTADeviceRun returned %d\n", opcode, status);
    bad = -1;
  } else {
    dev_download(packed, d_out, (size_t)batch * (size_t)vector_size);
    unpack_tiles(got, packed, batch, vector_size, VTA_BATCH, VTA_BLOCK_OUT, 1);
    bad = compare_int8("alu_test", got, want, batch, vector_size);
  }
  VTAMemFree(d_uop); VTAMemFree(d_acc); VTAMemFree(d_out);
  free(acc); free(imm); free(want); free(got); free(packed); free(uops); free(p);
  return bad;
}

/* ---- Blocked GEMM with virtual threads (spec §8.4) ---- */

static int blocked_gemm_test(VTADeviceHandle dev, int batch, int channels, int block, int compressed, int vt) {
  const int in = channels, out = channels;
  const int B = VTA_BATCH, BI = VTA_BLOCK_IN, BO = VTA_BLOCK_OUT;
  const int bb = block / B, bi = block / BI, bo = block / BO;
  const int uops_per_thread = compressed ? bb : bb * bi * bo;
  const int uop_count = uops_per_thread * vt;
  int8_t* inputs = malloc((size_t)batch * (size_t)in);
  int8_t* weights = malloc((size_t)out * (size_t)in);
  int32_t* biases = malloc(sizeof(int32_t) * (size_t)batch * (size_t)out);
  int8_t* want = malloc((size_t)batch * (size_t)out);
  int8_t* got = malloc((size_t)batch * (size_t)out);
  void* packed = malloc(sizeof(int32_t) * (size_t)batch * (size_t)out + (size_t)out * (size_t)in);
  for (int i = 0; i < batch * in; i++) inputs[i] = (int8_t)test_rand();
  for (int i = 0; i < out * in; i++) weights[i] = (int8_t)test_rand();
  for (int i = 0; i < batch * out; i++) biases[i] = (int32_t)(test_rand() & 0x7fffffff);
  for (int i = 0; i < batch; i++)
    for (int j = 0; j < out; j++) {
      uint32_t acc = (uint32_t)biases[i * out + j];
      for (int k = 0; k < in; k++) acc += (uint32_t)(inputs[i * in + k] * weights[j * in + k]);
      want[i * out + j] = (int8_t)(uint8_t)acc;
    }
  VTAUop* uops = malloc(sizeof(VTAUop) * (size_t)uop_count);
  int n = 0;
  for (int t = 0; t < vt; t++) {
    int src_off = t * bb * bi, wgt_off = t * bo * bi;
    if (compressed) {
      for (int i = 0; i < bb; i++) uops[n++] = make_uop(i * bo, src_off + i * bi, wgt_off);
    } else {
      for (int i = 0; i < bb; i++)
        for (int j = 0; j < bi; j++)
          for (int k = 0; k < bo; k++) uops[n++] = make_uop(i * bo + k, src_off + i * bi + j, wgt_off + k * bi + j);
    }
  }
  void* d_uop = dev_upload(uops, sizeof(VTAUop) * (size_t)uop_count);
  pack_tiles(packed, inputs, batch, in, B, BI, 1);
  void* d_inp = dev_upload(packed, (size_t)batch * (size_t)in);
  pack_tiles(packed, weights, out, in, BO, BI, 1);
  void* d_wgt = dev_upload(packed, (size_t)out * (size_t)in);
  pack_tiles(packed, biases, batch, out, B, BO, 4);
  void* d_acc = dev_upload(packed, sizeof(int32_t) * (size_t)batch * (size_t)out);
  void* d_out = dev_alloc((size_t)batch * (size_t)out);
  uint32_t inp_base = elem_addr(d_inp, VTA_INP_ELEM_BYTES), wgt_base = elem_addr(d_wgt, VTA_WGT_ELEM_BYTES);
  uint32_t acc_base = elem_addr(d_acc, VTA_ACC_ELEM_BYTES), out_base = elem_addr(d_out, VTA_OUT_ELEM_BYTES);

  const int count = (batch / block) * (out / block) * (2 + 3 * in / block) + 2;
  VTAInsn* p = malloc(sizeof(VTAInsn) * (size_t)count);
  n = 0;
  p[n++] = mem_insn(VTA_OPCODE_LOAD, VTA_MEM_ID_UOP, 0, elem_addr(d_uop, VTA_UOP_ELEM_BYTES), 1, (uint32_t)uop_count, (uint32_t)uop_count, 0, 0, 0, 0);
  for (int i = 0; i < batch; i += block)
    for (int j = 0; j < out; j += block) {
      uint32_t acc_elem = (uint32_t)((i / B * out + j) / BO);
      p[n++] = mem_insn(VTA_OPCODE_LOAD, VTA_MEM_ID_ACC, 0, acc_base + acc_elem, (uint32_t)bb, (uint32_t)bo, (uint32_t)(out / BO),
                        0, i > 0 || j > 0, vt == 1, 0);
      for (int k = 0; k < in; k += block * vt)
        for (int l = 0; l < block * vt; l += block) {
          int last = (k + l == in - block);
          int pop = vt == 1 ? 1 : ((i > 0 || j > 0 || k > 0 || l > 0) && (k + l != block * vt - block));
          int push_prev = vt == 1 ? !last : ((k + l != in - vt * block) && (!last || j != out - block || i != batch - block));
          p[n++] = mem_insn(VTA_OPCODE_LOAD, VTA_MEM_ID_WGT, (uint32_t)(l / BI * bo), wgt_base + (uint32_t)((j / BO * in + k + l) / BI),
                            (uint32_t)bo, (uint32_t)bi, (uint32_t)(in / BI), 0, pop, 0, 0);
          p[n++] = mem_insn(VTA_OPCODE_LOAD, VTA_MEM_ID_INP, (uint32_t)(l / BI * bb), inp_base + (uint32_t)((i / B * in + k + l) / BI),
                            (uint32_t)bb, (uint32_t)bi, (uint32_t)(in / BI), 0, 0, 0, 1);
          p[n++] = gemm_insn((l / block) * uops_per_thread, bb, bi, bo, compressed, 1, 0, push_prev, last);
        }
      p[n++] = mem_insn(VTA_OPCODE_STORE, VTA_MEM_ID_OUT, 0, out_base + acc_elem, (uint32_t)bb, (uint32_t)bo, (uint32_t)(out / BO), 1, 0, 1, 0);
    }
  p[n++] = finish_insn(0, 1);
  TEST_REQUIRE(n == count, "built %d instructions, expected %d", n, count);
  int status = run_program(dev, p, n);
  int bad;
  if (status != 0) {
    fprintf(stderr, "blocked_gemm_test: VTADeviceRun returned %d\n", status);
    bad = -1;
  } else {
    dev_download(packed, d_out, (size_t)batch * (size_t)out);
    unpack_tiles(got, packed, batch, out, B, BO, 1);
    bad = compare_int8("blocked_gemm_test", got, want, batch, out);
  }
  VTAMemFree(d_uop); VTAMemFree(d_inp); VTAMemFree(d_wgt); VTAMemFree(d_acc); VTAMemFree(d_out);
  free(inputs); free(weights); free(biases); free(want); free(got); free(packed); free(uops); free(p);
  return bad;
}

/* ---- Several threads using the driver at once ---- */

struct thread_arg {
  int index;
  int failures;
};

static void* thread_main(void* raw) {
  struct thread_arg* arg = raw;
  VTADeviceHandle dev = VTADeviceAlloc();
  if (!dev) { arg->failures = 1; return NULL; }
  for (int round = 0; round < 4; round++) {
    /* Each thread runs its own programs on its own buffers. */
    if (alu_test(dev, (arg->index + round) % 2 ? VTA_ALU_OPCODE_ADD : VTA_ALU_OPCODE_MAX, round % 2, VTA_BATCH * 4, VTA_BLOCK_OUT * 4, round % 2) != 0)
      arg->failures++;
    if (gemm_test(dev, VTA_BATCH * 2, VTA_BLOCK_IN * 2, VTA_BLOCK_OUT * 2, round % 2) != 0) arg->failures++;
  }
  VTADeviceFree(dev);
  return NULL;
}

static int threads_test(void) {
  enum { N = 4 };
  pthread_t t[N];
  struct thread_arg args[N];
  for (int i = 0; i < N; i++) {
    args[i].index = i;
    args[i].failures = 0;
    TEST_REQUIRE(pthread_create(&t[i], NULL, thread_main, &args[i]) == 0, "pthread_create");
  }
  int bad = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    bad += args[i].failures;
  }
  return bad;
}

/* ---- main ---- */

static int failures = 0;

static void report(const char* name, int result) {
  if (result == 0) {
    printf("PASS %s\n", name);
  } else {
    printf("FAIL %s\n", name);
    failures++;
  }
  fflush(stdout);
}

static int wants(int argc, char** argv, const char* name) {
  if (argc < 2) return 1;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], name) == 0 || strcmp(argv[i], "all") == 0) return 1;
  return 0;
}

int main(int argc, char** argv) {
  VTADeviceHandle dev = VTADeviceAlloc();
  if (!dev) {
    fprintf(stderr, "VTADeviceAlloc failed\n");
    return 2;
  }
  if (wants(argc, argv, "gemm")) {
    report("gemm uncompressed", gemm_test(dev, 4 * VTA_BATCH, 4 * VTA_BLOCK_IN, 4 * VTA_BLOCK_OUT, 0));
    report("gemm compressed", gemm_test(dev, 4 * VTA_BATCH, 4 * VTA_BLOCK_IN, 4 * VTA_BLOCK_OUT, 1));
  }
  if (wants(argc, argv, "alu")) {
    static const struct { int op; const char* name; } ops[] = {
        {VTA_ALU_OPCODE_MIN, "min"}, {VTA_ALU_OPCODE_MAX, "max"}, {VTA_ALU_OPCODE_ADD, "add"}, {VTA_ALU_OPCODE_SHR, "shr"}};
    for (int o = 0; o < 4; o++)
      for (int imm = 1; imm >= 0; imm--)
        for (int c = 1; c >= 0; c--) {
          char name[64];
          snprintf(name, sizeof name, "alu %s %s %s", ops[o].name, imm ? "imm" : "vector", c ? "compressed" : "uncompressed");
          report(name, alu_test(dev, ops[o].op, imm, 16, 128, c));
        }
  }
  if (wants(argc, argv, "blocked")) {
    report("blocked gemm compressed vt=2", blocked_gemm_test(dev, 256, 256, 4 * VTA_BLOCK_OUT, 1, 2));
    report("blocked gemm uncompressed vt=2", blocked_gemm_test(dev, 256, 256, 4 * VTA_BLOCK_OUT, 0, 2));
    report("blocked gemm compressed vt=1", blocked_gemm_test(dev, 256, 256, 4 * VTA_BLOCK_OUT, 1, 1));
    report("blocked gemm uncompressed vt=1", blocked_gemm_test(dev, 256, 256, 4 * VTA_BLOCK_OUT, 0, 1));
  }
  if (wants(argc, argv, "threads")) report("threads", threads_test());
  VTADeviceFree(dev);
  printf("%d failures\n", failures);
  return failures ? 1 : 0;
}
