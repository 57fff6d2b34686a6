/*
 * Checks vta/hw_spec.h: prints every derived constant as "NAME VALUE" (the Swift test compares
 * them with HardwareConfig for the configuration the program was compiled for), and with the
 * argument "examples" encodes the example instructions of the reference (spec §2.10, default
 * configuration) through the header's bit-field structs and compares the bytes.
 */
#include <stdio.h>
#include <string.h>

#include <vta/driver.h>
#include <vta/hw_spec.h>
#include <vta/runtime.h>

#define PRINT(name) printf("%s %lld\n", #name, (long long)(name))

static int check_bytes(const char* what, const void* got, const unsigned char* want, size_t n) {
  if (memcmp(got, want, n) == 0) return 0;
  fprintf(stderr, "%s: bytes differ:\n  got ", what);
  for (size_t i = 0; i < n; i++) fprintf(stderr, "%02x ", ((const unsigned char*)got)[i]);
  fprintf(stderr, "\n want ");
  for (size_t i = 0; i < n; i++) fprintf(stderr, "%02x ", want[i]);
  fprintf(stderr, "\n");
  return 1;
}

static int examples(void) {
  int bad = 0;
  VTAInsn in;
  memset(&in, 0, sizeof in);
  in.mem.opcode = VTA_OPCODE_LOAD;
  in.mem.pop_next_dep = 1;
  in.mem.push_next_dep = 1;
  in.mem.memory_type = VTA_MEM_ID_INP;
  in.mem.sram_base = 0x0123;
  in.mem.dram_base = 0x89ABCDEF;
  in.mem.y_size = 4;
  in.mem.x_size = 5;
  in.mem.x_stride = 16;
  in.mem.y_pad_0 = 1;
  in.mem.y_pad_1 = 2;
  in.mem.x_pad_0 = 3;
  in.mem.x_pad_1 = 15;
  static const unsigned char load[16] = {0x50, 0x8d, 0x04, 0xbc, 0x37, 0xaf, 0x26, 0x02,
                                         0x04, 0x00, 0x05, 0x00, 0x10, 0x00, 0x21, 0xf3};
  bad += check_bytes("LOAD INP", &in, load, 16);

  memset(&in, 0, sizeof in);
  in.mem.opcode = VTA_OPCODE_STORE;
  in.mem.pop_prev_dep = 1;
  in.mem.push_prev_dep = 1;
  in.mem.memory_type = VTA_MEM_ID_OUT;
  in.mem.sram_base = 7;
  in.mem.dram_base = 0x1000;
  in.mem.y_size = 1;
  in.mem.x_size = 8;
  in.mem.x_stride = 8;
  static const unsigned char store[16] = {0x29, 0x1e, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
                                          0x01, 0x00, 0x08, 0x00, 0x08, 0x00, 0x00, 0x00};
  bad += check_bytes("STORE OUT", &in, store, 16);

  memset(&in, 0, sizeof in);
  in.gemm.opcode = VTA_OPCODE_GEMM;
  in.gemm.pop_prev_dep = 1;
  in.gemm.push_next_dep = 1;
  in.gemm.uop_bgn = 0x10;
  in.gemm.uop_end = 0x20;
  in.gemm.iter_out = 3;
  in.gemm.iter_in = 5;
  in.gemm.dst_factor_out = 1;
  in.gemm.dst_factor_in = 2;
  in.gemm.src_factor_out = 3;
  in.gemm.src_factor_in = 4;
  in.gemm.wgt_factor_out = 5;
  in.gemm.wgt_factor_in = 6;
  static const unsigned char gemm[16] = {0x4a, 0x10, 0x00, 0x04, 0x18, 0x00, 0x0a, 0x00,
                                         0x01, 0x10, 0xc0, 0x00, 0x08, 0x50, 0x80, 0x01};
  bad += check_bytes("GEMM", &in, gemm, 16);

  memset(&in, 0, sizeof in);
  in.alu.opcode = VTA_OPCODE_ALU;
  in.alu.push_next_dep = 1;
  in.alu.uop_bgn = 1;
  in.alu.uop_end = 2;
  in.alu.iter_out = 1;
  in.alu.iter_in = 8;
  in.alu.dst_factor_in = 1;
  in.alu.src_factor_in = 1;
  in.alu.alu_opcode = VTA_ALU_OPCODE_SHR;
  in.alu.use_imm = 1;
  in.alu.imm = -3;
  static const unsigned char alu[16] = {0x44, 0x01, 0x40, 0x00, 0x08, 0x00, 0x10, 0x00,
                                        0x00, 0x08, 0x00, 0x00, 0x02, 0xb0, 0xfd, 0xff};
  bad += check_bytes("ALU SHR", &in, alu, 16);
  if (in.alu.imm != -3) {
    fprintf(stderr, "ALU imm reads back as %lld, expected -3 (sign extension)\n", (long long)in.alu.imm);
    bad++;
  }

  memset(&in, 0, sizeof in);
  in.generic.opcode = VTA_OPCODE_FINISH;
  in.generic.pop_next_dep = 1;
  static const unsigned char finish[16] = {0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  bad += check_bytes("FINISH", &in, finish, 16);

  VTAUop u;
  memset(&u, 0, sizeof u);
  u.dst_idx = 5;
  u.src_idx = 6;
  u.wgt_idx = 7;
  static const unsigned char uop[4] = {0x05, 0x30, 0xc0, 0x01};
  bad += check_bytes("micro-op", &u, uop, 4);
  return bad;
}

int main(int argc, char** argv) {
  if (sizeof(VTAInsn) != 16 || sizeof(VTAUop) != 4) {
    fprintf(stderr, "sizeof(VTAInsn) = %zu, sizeof(VTAUop) = %zu; expected 16 and 4\n", sizeof(VTAInsn), sizeof(VTAUop));
    return 1;
  }
  PRINT(VTA_BATCH); PRINT(VTA_BLOCK_IN); PRINT(VTA_BLOCK_OUT);
  PRINT(VTA_LOG_BLOCK_IN); PRINT(VTA_LOG_BLOCK_OUT);
  PRINT(VTA_INP_WIDTH); PRINT(VTA_WGT_WIDTH); PRINT(VTA_ACC_WIDTH); PRINT(VTA_OUT_WIDTH); PRINT(VTA_LOG_OUT_WIDTH);
  PRINT(VTA_UOP_BUFF_SIZE); PRINT(VTA_INP_BUFF_SIZE); PRINT(VTA_WGT_BUFF_SIZE); PRINT(VTA_ACC_BUFF_SIZE);
  PRINT(VTA_OUT_BUFF_SIZE); PRINT(VTA_LOG_OUT_BUFF_SIZE);
  PRINT(VTA_UOP_BUFF_DEPTH); PRINT(VTA_INP_BUFF_DEPTH); PRINT(VTA_WGT_BUFF_DEPTH); PRINT(VTA_ACC_BUFF_DEPTH);
  PRINT(VTA_OUT_BUFF_DEPTH);
  PRINT(VTA_LOG_UOP_BUFF_DEPTH); PRINT(VTA_LOG_INP_BUFF_DEPTH); PRINT(VTA_LOG_WGT_BUFF_DEPTH); PRINT(VTA_LOG_ACC_BUFF_DEPTH);
  PRINT(VTA_INP_ELEM_BYTES); PRINT(VTA_WGT_ELEM_BYTES); PRINT(VTA_ACC_ELEM_BYTES); PRINT(VTA_OUT_ELEM_BYTES);
  PRINT(VTA_UOP_ELEM_BYTES); PRINT(VTA_INS_ELEM_BYTES);
  PRINT(VTA_LOG_BUS_WIDTH);
  PRINT(VTA_INP_MAT_AXI_RATIO); PRINT(VTA_WGT_MAT_AXI_RATIO); PRINT(VTA_ACC_MAT_AXI_RATIO); PRINT(VTA_OUT_MAT_AXI_RATIO);
  PRINT(VTA_PAGE_BYTES);
  /* The other headers' constants, which are fixed. */
  PRINT(VTA_MAX_XFER); PRINT(VTA_CACHED); PRINT(VTA_NOT_CACHED); PRINT(VTA_MEMCPY_D2D); PRINT(VTA_DEBUG_FORCE_SERIAL);
  if (argc > 1 && strcmp(argv[1], "examples") == 0) {
    int bad = examples();
    if (bad) return 1;
    printf("examples ok\n");
  }
  return 0;
}
