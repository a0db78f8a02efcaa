/* The rounding functions of src/core/precision.h, which the CPU backend and
 * the kernels share for the reduced-precision convolutions:
 *  - known bit patterns: ties to even, carries into the exponent, overflow
 *    to inf (float32's range for tf32/bf16, 65520 for fp16), fp16
 *    subnormals and underflow to a signed zero, NaN and inf;
 *  - against an independent rounding in double (frexp, nearbyint in the
 *    default round-to-nearest-even mode) on a million random bit patterns
 *    and on every float near the formats' edges;
 *  - sr_precision_name / sr_precision_from_name. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/precision.h"
#include "test_util.h"

static float round_as(int precision, float v) {
  switch (precision) {
  case SR_PRECISION_TF32: return sr_round_tf32(v);
  case SR_PRECISION_BF16: return sr_round_bf16(v);
  case SR_PRECISION_FP16: return sr_round_fp16(v);
  }
  return v;
}

/* The reference: |v| = a in [2^lead, 2^(lead+1)), rounded to a multiple of
 * 2^(lead - mantissa bits), lead clamped at the smallest normal exponent
 * (-14 for fp16; -126 for tf32/bf16, whose subnormals are float32's with
 * the low bits dropped); past the largest finite value, inf. */
static float ref_round(int precision, float v) {
  if (isnan(v) || isinf(v) || v == 0.0f) return v;
  const int half = precision == SR_PRECISION_FP16;
  const int mbits = precision == SR_PRECISION_BF16 ? 7 : 10;
  const double a = fabs((double)v);
  int e;
  frexp(a, &e); /* a = f 2^e, f in [0.5, 1) */
  int lead = e - 1;
  const int min_lead = half ? -14 : -126;
  if (lead < min_lead) lead = min_lead;
  const double q = ldexp(1.0, lead - mbits);
  double r = nearbyint(a / q) * q;
  if (half ? r > 65504.0 : r >= ldexp(1.0, 128)) r = INFINITY;
  return (float)copysign(r, (double)v);
}

static int same(float a, float b) {
  return (isnan(a) && isnan(b)) || sr_prec_bits(a) == sr_prec_bits(b);
}

typedef struct known {
  int precision;
  uint32_t in, out;
} known;

static const known kKnown[] = {
    /* tf32: 13 bits dropped */
    {SR_PRECISION_TF32, 0x3f800fffu, 0x3f800000u}, /* below the tie */
    {SR_PRECISION_TF32, 0x3f801000u, 0x3f800000u}, /* tie, even below */
    {SR_PRECISION_TF32, 0x3f803000u, 0x3f804000u}, /* tie, even above */
    {SR_PRECISION_TF32, 0x3f801001u, 0x3f802000u}, /* above the tie */
    {SR_PRECISION_TF32, 0xbf801001u, 0xbf802000u}, /* the sign is kept */
    {SR_PRECISION_TF32, 0x3fffffffu, 0x40000000u}, /* carry into the exponent */
    {SR_PRECISION_TF32, 0x7f7fffffu, 0x7f800000u}, /* FLT_MAX overflows */
    {SR_PRECISION_TF32, 0x40490fdbu, 0x40490000u}, /* pi */
    {SR_PRECISION_TF32, 0x3eaaaaabu, 0x3eaaa000u}, /* 1/3 */
    {SR_PRECISION_TF32, 0x00001000u, 0x00000000u}, /* float32 subnormal tie -> 0 */
    {SR_PRECISION_TF32, 0x00003000u, 0x00004000u},
    {SR_PRECISION_TF32, 0x80000000u, 0x80000000u}, /* -0 */
    {SR_PRECISION_TF32, 0xff800000u, 0xff800000u}, /* -inf */
    /* bf16: 16 bits dropped */
    {SR_PRECISION_BF16, 0x3f808000u, 0x3f800000u},
    {SR_PRECISION_BF16, 0x3f818000u, 0x3f820000u},
    {SR_PRECISION_BF16, 0x3f808001u, 0x3f810000u},
    {SR_PRECISION_BF16, 0x40490fdbu, 0x40490000u},
    {SR_PRECISION_BF16, 0x3eaaaaabu, 0x3eab0000u},
    {SR_PRECISION_BF16, 0x7f7f7fffu, 0x7f7f0000u},
    {SR_PRECISION_BF16, 0x7f7f8000u, 0x7f800000u}, /* the tie above the largest bf16 */
    {SR_PRECISION_BF16, 0x80008000u, 0x80000000u}, /* subnormal tie -> -0 */
    {SR_PRECISION_BF16, 0x00018000u, 0x00020000u},
    {SR_PRECISION_BF16, 0x7f800000u, 0x7f800000u},
    /* fp16: 10 mantissa bits, 5 exponent bits */
    {SR_PRECISION_FP16, 0x477fe000u, 0x477fe000u}, /* 65504, the largest */
    {SR_PRECISION_FP16, 0x477fefffu, 0x477fe000u}, /* just under 65520 */
    {SR_PRECISION_FP16, 0x477ff000u, 0x7f800000u}, /* 65520 ties to 2^16: inf */
    {SR_PRECISION_FP16, 0xc77ff000u, 0xff800000u}, /* -65520: -inf */
    {SR_PRECISION_FP16, 0x49742400u, 0x7f800000u}, /* 1e6 */
    {SR_PRECISION_FP16, 0x3f801000u, 0x3f800000u}, /* 1 + 2^-11: tie, even below */
    {SR_PRECISION_FP16, 0x3f803000u, 0x3f804000u}, /* 1 + 3 2^-11: tie, even above */
    {SR_PRECISION_FP16, 0x3eaaaaabu, 0x3eaaa000u},
    {SR_PRECISION_FP16, 0x38800000u, 0x38800000u}, /* 2^-14, the smallest normal */
    {SR_PRECISION_FP16, 0x387fe000u, 0x38800000u}, /* 1023.75 x 2^-24 -> 2^-14 */
    {SR_PRECISION_FP16, 0x387fc000u, 0x387fc000u}, /* 1022 x 2^-24, subnormal */
    {SR_PRECISION_FP16, 0x33800000u, 0x33800000u}, /* 2^-24, the smallest subnormal */
    {SR_PRECISION_FP16, 0x33000000u, 0x00000000u}, /* 2^-25: tie to even 0 */
    {SR_PRECISION_FP16, 0xb3000001u, 0xb3800000u}, /* just over -2^-25 */
    {SR_PRECISION_FP16, 0x33400000u, 0x33800000u}, /* 1.5 x 2^-25 */
    {SR_PRECISION_FP16, 0x33c00000u, 0x34000000u}, /* 1.5 x 2^-24: tie, even 2 */
    {SR_PRECISION_FP16, 0x34200000u, 0x34000000u}, /* 2.5 x 2^-24: tie, even 2 */
    {SR_PRECISION_FP16, 0x2edbe6ffu, 0x00000000u}, /* 1e-10 */
    {SR_PRECISION_FP16, 0xaedbe6ffu, 0x80000000u}, /* -1e-10: -0 */
    {SR_PRECISION_FP16, 0x00000001u, 0x00000000u}, /* float32 subnormal */
    {SR_PRECISION_FP16, 0xff800000u, 0xff800000u},
};

static void test_known(void) {
  for (size_t i = 0; i < sizeof kKnown / sizeof kKnown[0]; ++i) {
    const known *k = &kKnown[i];
    const float got = round_as(k->precision, sr_prec_float(k->in));
    CHECK_MSG(sr_prec_bits(got) == k->out, "%s(0x%08x) = 0x%08x, expected 0x%08x",
              sr_precision_name((sr_precision)k->precision), (unsigned)k->in,
              (unsigned)sr_prec_bits(got), (unsigned)k->out);
    CHECK_MSG(sr_prec_bits(ref_round(k->precision, sr_prec_float(k->in))) == k->out,
              "the reference disagrees with the table at %s(0x%08x)",
              sr_precision_name((sr_precision)k->precision), (unsigned)k->in);
  }
  /* NaN stays NaN (a payload only in the dropped bits must not become inf) */
  const uint32_t nans[] = {0x7f800001u, 0xff800001u, 0x7fc00000u, 0x7f801000u};
  for (int p = SR_PRECISION_TF32; p <= SR_PRECISION_FP16; ++p)
    for (size_t i = 0; i < sizeof nans / sizeof nans[0]; ++i) {
      const float got = round_as(p, sr_prec_float(nans[i]));
      CHECK_MSG(isnan(got) && (sr_prec_bits(got) >> 31) == (nans[i] >> 31),
                "%s(NaN 0x%08x) = 0x%08x", sr_precision_name((sr_precision)p), (unsigned)nans[i],
                (unsigned)sr_prec_bits(got));
    }
  /* the dispatchers */
  CHECK(sr_prec_bits(sr_round_operand(sr_prec_float(0x3f801001u), SR_PRECISION_FP32)) ==
        0x3f801001u);
  CHECK(sr_prec_bits(sr_round_operand(sr_prec_float(0x3f808001u), SR_PRECISION_BF16)) ==
        0x3f810000u);
  CHECK(sr_prec_bits(sr_round_output(sr_prec_float(0x3f801001u), SR_PRECISION_TF32)) ==
        0x3f801001u);
  CHECK(sr_prec_bits(sr_round_output(sr_prec_float(0x3f801001u), SR_PRECISION_FP16)) ==
        0x3f802000u);
  CHECK(!sr_precision_rounds_output(SR_PRECISION_FP32));
  CHECK(!sr_precision_rounds_output(SR_PRECISION_TF32));
  CHECK(sr_precision_rounds_output(SR_PRECISION_BF16));
  CHECK(sr_precision_rounds_output(SR_PRECISION_FP16));
}

static int sweep_failures;

static void compare(int p, uint32_t u) {
  const float v = sr_prec_float(u), got = round_as(p, v), want = ref_round(p, v);
  if (!same(got, want) && sweep_failures++ < 10)
    CHECK_MSG(0, "%s(0x%08x) = 0x%08x, the reference 0x%08x", sr_precision_name((sr_precision)p),
              (unsigned)u, (unsigned)sr_prec_bits(got), (unsigned)sr_prec_bits(want));
}

static void test_sweep(void) {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  for (int p = SR_PRECISION_TF32; p <= SR_PRECISION_FP16; ++p) {
    for (int i = 0; i < 1000000; ++i) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      compare(p, (uint32_t)(s >> 32));
    }
    /* every float (both signs) around the edges: fp16's overflow, its
     * smallest normal and subnormal, float32's largest and smallest normal */
    const uint32_t edges[] = {0x477ff000u, 0x38800000u, 0x33800000u, 0x33000000u,
                              0x7f7fffffu, 0x00800000u, 0x3f800000u};
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; ++e)
      for (uint32_t d = 0; d < 70000u; ++d)
        for (int sign = 0; sign < 2; ++sign) {
          const uint32_t u = (edges[e] - 35000u + d) | (sign ? 0x80000000u : 0u);
          compare(p, u);
        }
  }
  CHECK_MSG(sweep_failures == 0, "%d values differ from the reference", sweep_failures);
}

static void test_names(void) {
  const char *names[] = {"fp32", "tf32", "bf16", "fp16"};
  for (int p = 0; p < 4; ++p) {
    sr_precision got = SR_PRECISION_FP32;
    CHECK(strcmp(sr_precision_name((sr_precision)p), names[p]) == 0);
    CHECK(sr_precision_from_name(names[p], &got) == 0 && (int)got == p);
  }
  sr_precision got = SR_PRECISION_TF32;
  CHECK(sr_precision_from_name("fp64", &got) == -1 && got == SR_PRECISION_TF32);
  CHECK(sr_precision_from_name(NULL, &got) == -1);
  CHECK(strcmp(sr_precision_name((sr_precision)7), "unknown") == 0);
}

int main(void) {
  test_known();
  test_sweep();
  test_names();
  return sr_test_finish("test_precision");
}
