/* Helpers shared by the libvta C test programs: deterministic data, tile packing, results. */
#ifndef LIBVTA_TEST_COMMON_H_
#define LIBVTA_TEST_COMMON_H_

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vta/hw_spec.h>

/* A small deterministic generator (xorshift32), so every run and backend sees the same data. */
static uint32_t test_rng_state = 0x12345678u;
static inline uint32_t test_rand(void) {
  uint32_t x = test_rng_state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  test_rng_state = x;
  return x;
}
/* Uniform in [lo, hi]. */
static inline int32_t test_rand_range(int32_t lo, int32_t hi) {
  return lo + (int32_t)(test_rand() % (uint32_t)(hi - lo + 1));
}

/*
 * Packs a row-major [rows][cols] matrix of `elem_size`-byte values into VTA's tile layout: blocks
 * of [yb][xb] values in row-major block order, each block row-major (spec §2.12). rows and cols
 * must be multiples of yb and xb.
 */
static inline void pack_tiles(void* dst, const void* src, int rows, int cols, int yb, int xb, int elem_size) {
  const uint8_t* s = (const uint8_t*)src;
  uint8_t* d = (uint8_t*)dst;
  size_t n = 0;
  for (int br = 0; br < rows / yb; br++)
    for (int bc = 0; bc < cols / xb; bc++)
      for (int y = 0; y < yb; y++)
        for (int x = 0; x < xb; x++) {
          size_t from = ((size_t)(br * yb + y) * (size_t)cols + (size_t)(bc * xb + x)) * (size_t)elem_size;
          memcpy(d + n * (size_t)elem_size, s + from, (size_t)elem_size);
          n++;
        }
}

/* The inverse of pack_tiles. */
static inline void unpack_tiles(void* dst, const void* src, int rows, int cols, int yb, int xb, int elem_size) {
  const uint8_t* s = (const uint8_t*)src;
  uint8_t* d = (uint8_t*)dst;
  size_t n = 0;
  for (int br = 0; br < rows / yb; br++)
    for (int bc = 0; bc < cols / xb; bc++)
      for (int y = 0; y < yb; y++)
        for (int x = 0; x < xb; x++) {
          size_t to = ((size_t)(br * yb + y) * (size_t)cols + (size_t)(bc * xb + x)) * (size_t)elem_size;
          memcpy(d + to, s + n * (size_t)elem_size, (size_t)elem_size);
          n++;
        }
}

/* Compares int8 results with a reference; prints the first few mismatches. Returns the count. */
static inline int compare_int8(const char* what, const int8_t* got, const int8_t* want, int rows, int cols) {
  int bad = 0;
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) {
      int8_t g = got[r * cols + c], w = want[r * cols + c];
      if (g != w) {
        if (bad < 5) fprintf(stderr, "%s: [%d][%d] = %d, expected %d\n", what, r, c, g, w);
        bad++;
      }
    }
  if (bad) fprintf(stderr, "%s: %d of %d values differ\n", what, bad, rows * cols);
  return bad;
}

#define TEST_REQUIRE(cond, ...)                                           \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "%s:%d: requirement failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                       \
      fprintf(stderr, "\n");                                              \
      exit(3);                                                            \
    }                                                                     \
  } while (0)

#endif
