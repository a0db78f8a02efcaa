/* The two kernels around cuDNN's bf16/fp16 convolutions (kernels/conv.cu),
 * which only a GPU build with cuDNN calls, run here directly so that the
 * emulation build checks them too:
 *  - sr_k_to_half: every output value, decoded by the npy reader's own
 *    half/bfloat16 decoders (src/io/array.c), is the float that
 *    src/core/precision.h rounds the input to (ties, overflow to inf, fp16
 *    subnormals and underflow, NaN), bit for bit;
 *  - sr_k_conv_epilogue_half: y = scale * ((conv + bias + bias_nc) +
 *    residual) from a half-precision conv, bit for bit against the same
 *    float operations on the host, with and without each epilogue term.
 * Registered by sr_add_cuda_compare_test: label emu (three thread orders)
 * or gpu. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/cuda/cuda_internal.h"
#include "core/precision.h"
#include "io/array.h"
#include "test_util.h"

static uint32_t rng = 12345u;
static float frand(void) {
  rng = rng * 1664525u + 1013904223u;
  return ((float)(rng >> 8) / 16777216.0f) * 2.0f - 1.0f;
}

/* Random values over many binades, plus the rounding edge cases. */
static float *inputs(size_t *count) {
  static const uint32_t special[] = {
      0x3f801000u, 0x3f803000u, 0x3f808000u, 0x3f818000u,  /* ties */
      0x477fefffu, 0x477ff000u, 0xc77ff000u, 0x7f7fffffu,  /* fp16 / bf16 overflow */
      0x387fe000u, 0x33800000u, 0x33000000u, 0x33c00000u,  /* fp16 subnormals */
      0x2edbe6ffu, 0xaedbe6ffu, 0x00000001u, 0x80000000u,  /* underflow, -0 */
      0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u}; /* inf, NaN */
  const size_t n_special = sizeof special / sizeof special[0], n = 20000;
  float *x = (float *)malloc((n + n_special) * sizeof *x);
  for (size_t i = 0; i < n; ++i) {
    const float m = frand();
    const int e = (int)((frand() + 1.0f) * 28.0f) - 28; /* 2^-28 .. 2^28 */
    x[i] = ldexpf(m, e);
  }
  for (size_t i = 0; i < n_special; ++i) x[n + i] = sr_prec_float(special[i]);
  *count = n + n_special;
  return x;
}

static void test_to_half(sr_backend *b, int precision) {
  size_t count = 0;
  float *x = inputs(&count);
  uint16_t *got = (uint16_t *)malloc(count * sizeof *got);
  void *dx = NULL, *dh = NULL;
  CHECK_OK(b->ctx, b->ops->alloc(b, count * sizeof(float), &dx));
  CHECK_OK(b->ctx, b->ops->alloc(b, count * sizeof(uint16_t), &dh));
  CHECK_OK(b->ctx, b->ops->upload(b, dx, x, count * sizeof(float)));
  CHECK_OK(b->ctx, sr_k_to_half(b->ctx, sr_cuda_state_of(b)->stream, (const float *)dx, count,
                                precision, dh));
  CHECK_OK(b->ctx, b->ops->download(b, got, dh, count * sizeof(uint16_t)));
  int bad = 0;
  for (size_t i = 0; i < count && !sr_test_failures; ++i) {
    const float want = sr_round_operand(x[i], precision);
    const float dec =
        precision == SR_PRECISION_FP16 ? sr_half_to_float(got[i]) : sr_bf16_to_float(got[i]);
    const int ok = (isnan(want) && isnan(dec)) || sr_prec_bits(want) == sr_prec_bits(dec);
    if (!ok && bad++ < 5)
      CHECK_MSG(0, "to_half %s: 0x%08x -> 0x%04x = 0x%08x, expected 0x%08x",
                sr_precision_name((sr_precision)precision), (unsigned)sr_prec_bits(x[i]),
                (unsigned)got[i], (unsigned)sr_prec_bits(dec), (unsigned)sr_prec_bits(want));
  }
  b->ops->free(b, dx);
  b->ops->free(b, dh);
  free(x), free(got);
}

/* terms: bit 0 bias, bit 1 bias_nc, bit 2 residual */
static void test_epilogue_half(sr_backend *b, int precision, int terms) {
  sr_conv2d_desc d;
  CHECK_OK(b->ctx, sr_conv2d_desc_init(b->ctx, &d, 2, 3, 5, 7, 6, 3, 3, 1, 1, 1, 1, 1));
  d.precision = precision;
  const size_t ny = (size_t)d.n * d.c_out * d.h_out * d.w_out;
  float *conv = (float *)malloc(ny * sizeof(float)), *bias = NULL, *bias_nc = NULL, *res = NULL;
  for (size_t i = 0; i < ny; ++i) conv[i] = 40.0f * frand();
  if (terms & 1) {
    bias = (float *)malloc((size_t)d.c_out * sizeof(float));
    for (int i = 0; i < d.c_out; ++i) bias[i] = frand();
  }
  if (terms & 2) {
    bias_nc = (float *)malloc((size_t)d.n * d.c_out * sizeof(float));
    for (int i = 0; i < d.n * d.c_out; ++i) bias_nc[i] = frand();
  }
  if (terms & 4) {
    res = (float *)malloc(ny * sizeof(float));
    for (size_t i = 0; i < ny; ++i) res[i] = frand();
  }
  const float scale = 0.70710678f;
  void *dconv = NULL, *dh = NULL, *db = NULL, *dbn = NULL, *dr = NULL, *dy = NULL;
  CHECK_OK(b->ctx, b->ops->alloc(b, ny * sizeof(float), &dconv));
  CHECK_OK(b->ctx, b->ops->alloc(b, ny * sizeof(uint16_t), &dh));
  CHECK_OK(b->ctx, b->ops->alloc(b, ny * sizeof(float), &dy));
  CHECK_OK(b->ctx, b->ops->upload(b, dconv, conv, ny * sizeof(float)));
  if (bias) {
    CHECK_OK(b->ctx, b->ops->alloc(b, (size_t)d.c_out * sizeof(float), &db));
    CHECK_OK(b->ctx, b->ops->upload(b, db, bias, (size_t)d.c_out * sizeof(float)));
  }
  if (bias_nc) {
    CHECK_OK(b->ctx, b->ops->alloc(b, (size_t)d.n * d.c_out * sizeof(float), &dbn));
    CHECK_OK(b->ctx, b->ops->upload(b, dbn, bias_nc, (size_t)d.n * d.c_out * sizeof(float)));
  }
  if (res) {
    CHECK_OK(b->ctx, b->ops->alloc(b, ny * sizeof(float), &dr));
    CHECK_OK(b->ctx, b->ops->upload(b, dr, res, ny * sizeof(float)));
  }
  cudaStream_t s = sr_cuda_state_of(b)->stream;
  /* the half-precision conv output as cuDNN would leave it */
  CHECK_OK(b->ctx, sr_k_to_half(b->ctx, s, (const float *)dconv, ny, precision, dh));
  CHECK_OK(b->ctx, sr_k_conv_epilogue_half(b->ctx, s, &d, dh, (const float *)db, (const float *)dbn,
                                           (const float *)dr, scale, (float *)dy));
  float *got = (float *)malloc(ny * sizeof(float));
  CHECK_OK(b->ctx, b->ops->download(b, got, dy, ny * sizeof(float)));
  const size_t hw = (size_t)d.h_out * d.w_out;
  int bad = 0;
  for (size_t o = 0; o < ny && !sr_test_failures; ++o) {
    const size_t nc = o / hw;
    const int co = (int)(nc % (size_t)d.c_out);
    float add = 0.0f;
    if (bias) add += bias[co];
    if (bias_nc) add += bias_nc[nc];
    float v = sr_round_output(conv[o], precision) + add;
    if (res) v = v + res[o];
    const float want = v * scale;
    if (sr_prec_bits(got[o]) != sr_prec_bits(want) && bad++ < 5)
      CHECK_MSG(0, "conv_epilogue_half %s terms %d at %zu: %.9g, expected %.9g",
                sr_precision_name((sr_precision)precision), terms, o, (double)got[o], (double)want);
  }
  /* a float32 precision is refused rather than misread */
  d.precision = SR_PRECISION_TF32;
  CHECK_FAILS(b->ctx,
              sr_k_conv_epilogue_half(b->ctx, s, &d, dh, NULL, NULL, NULL, 1.0f, (float *)dy),
              SR_ERR_INVALID_ARGUMENT);
  void *bufs[] = {dconv, dh, db, dbn, dr, dy};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; ++i)
    if (bufs[i]) b->ops->free(b, bufs[i]);
  free(conv), free(bias), free(bias_nc), free(res), free(got);
}

int main(void) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CUDA;
  sr_context *ctx = NULL;
  sr_status st = sr_context_create(&o, &ctx);
  if (st == SR_ERR_NO_DEVICE) {
    printf("skipped: %s\n", sr_context_last_error(ctx));
    sr_context_destroy(ctx);
    return SR_TEST_SKIP;
  }
  CHECK_OK(ctx, st);
  if (sr_test_failures) return sr_test_finish("test_half_convert");
  sr_backend *b = sr_context_get_backend(ctx);
  for (int p = SR_PRECISION_BF16; p <= SR_PRECISION_FP16; ++p) {
    test_to_half(b, p);
    for (int terms = 0; terms < 8; terms += 3) test_epilogue_half(b, p, terms);
    test_epilogue_half(b, p, 7);
  }
  CHECK_FAILS(ctx, sr_k_to_half(ctx, sr_cuda_state_of(b)->stream, NULL, 0, SR_PRECISION_TF32, NULL),
              SR_ERR_INVALID_ARGUMENT);
  sr_context_destroy(ctx);
  return sr_test_finish("test_half_convert");
}
