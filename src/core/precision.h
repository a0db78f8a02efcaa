/* Reduced-precision operands for the score network's convolutions (issue
 * 4): the value a float32 takes when stored in TF32, bfloat16 or IEEE
 * binary16 and read back, round to nearest, ties to even.
 *
 *   tf32  8-bit exponent, 10 mantissa bits: float32's range, 13 bits dropped
 *   bf16  8-bit exponent,  7 mantissa bits: float32's range, 16 bits dropped
 *   fp16  5-bit exponent, 10 mantissa bits: |v| >= 65520 becomes inf,
 *         |v| < 2^-14 is a multiple of 2^-24 (subnormal), the rest rounds to
 *         10 mantissa bits
 *
 * NaN stays a (quiet) NaN, inf stays inf, the sign is kept (also of zero).
 * What a precision means for a convolution (src/backend/backend.h): both
 * operands rounded, products summed in float32, the sum rounded again for
 * bf16 and fp16 (a half-precision output tensor), not for tf32.
 *
 * This header is compiled by the C host compiler (CPU backend, tests) and by
 * nvcc or the emulator (kernels/conv.cu), like src/core/philox.h, so the two
 * backends round identically: integer operations on the bits, and one exact
 * float multiplication by a power of two for fp16 subnormals. */
#ifndef SR_CORE_PRECISION_H
#define SR_CORE_PRECISION_H

#include <stdint.h>
#include <string.h>

#include "scorerecon.h"

#ifndef SR_HD
#if defined(__CUDACC__) || (defined(SR_CUDA_EMU) && defined(__cplusplus))
#define SR_HD __host__ __device__ __forceinline__
#else
#define SR_HD static inline
#endif
#endif

SR_HD uint32_t sr_prec_bits(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return u;
}

SR_HD float sr_prec_float(uint32_t u) {
  float v;
  memcpy(&v, &u, sizeof v);
  return v;
}

/* Keeps the top 23 - drop mantissa bits of a float32, round to nearest even.
 * A carry out of the mantissa bumps the exponent, which is the right
 * result, up to inf past float32's largest value. */
SR_HD float sr_round_mantissa(float v, int drop) {
  const uint32_t u = sr_prec_bits(v);
  const uint32_t mask = (1u << drop) - 1u;
  if ((u & 0x7f800000u) == 0x7f800000u) /* inf, or NaN made quiet so it survives */
    return sr_prec_float((u & 0x007fffffu) ? ((u | 0x00400000u) & ~mask) : u);
  const uint32_t lsb = (u >> drop) & 1u;
  return sr_prec_float((u + (mask >> 1) + lsb) & ~mask);
}

SR_HD float sr_round_tf32(float v) {
  return sr_round_mantissa(v, 13);
}

SR_HD float sr_round_bf16(float v) {
  return sr_round_mantissa(v, 16);
}

SR_HD float sr_round_fp16(float v) {
  const uint32_t u = sr_prec_bits(v);
  const uint32_t sign = u & 0x80000000u, a = u & 0x7fffffffu;
  if (a >= 0x7f800000u) return sr_round_mantissa(v, 13); /* inf or NaN */
  /* 65520 = 65504 + half an ulp: the tie rounds to the even neighbour, 2^16,
   * which binary16 cannot hold */
  if (a >= 0x477ff000u) return sr_prec_float(sign | 0x7f800000u);
  if (a >= 0x38800000u) return sr_round_mantissa(v, 13); /* normal: |v| >= 2^-14 */
  /* subnormal: q = round(|v| / 2^-24), |v| = m 2^(e - 150) with the implicit
   * bit in m, so |v| / 2^-24 = m / 2^(126 - e); e <= 112 here, shift >= 14 */
  const int e = (int)(a >> 23);
  const int shift = 126 - e;
  uint32_t q = 0;
  if (e != 0 && shift <= 24) { /* smaller values (and float32 subnormals) are below 2^-25 */
    const uint32_t m = (a & 0x007fffffu) | 0x00800000u;
    const uint32_t half = 1u << (shift - 1), rem = m & ((1u << shift) - 1u);
    q = m >> shift;
    if (rem > half || (rem == half && (q & 1u))) ++q;
  }
  /* q <= 1024 is exact in float32, and so is its product with 2^-24 */
  const float mag = (float)q * 5.9604644775390625e-8f;
  return sr_prec_float(sign | sr_prec_bits(mag));
}

/* The operand rounding of a precision (identity for fp32). */
SR_HD float sr_round_operand(float v, int precision) {
  switch (precision) {
  case SR_PRECISION_TF32: return sr_round_tf32(v);
  case SR_PRECISION_BF16: return sr_round_bf16(v);
  case SR_PRECISION_FP16: return sr_round_fp16(v);
  default: return v;
  }
}

/* Whether a precision's outputs are rounded too (a bf16/fp16 output tensor). */
SR_HD int sr_precision_rounds_output(int precision) {
  return precision == SR_PRECISION_BF16 || precision == SR_PRECISION_FP16;
}

/* The output rounding of a precision (identity for fp32 and tf32). */
SR_HD float sr_round_output(float v, int precision) {
  return sr_precision_rounds_output(precision) ? sr_round_operand(v, precision) : v;
}

#endif
