#define _DEFAULT_SOURCE
/* Philox4x32-10 against the Random123 known-answer vectors, and the project's
 * uniform-to-normal transform against libm in double. */
#include <stdint.h>
#include <string.h>

#include "backend/backend.h"
#include "core/philox.h"
#include "test_util.h"

static void check_kat(const uint32_t ctr[4], const uint32_t key[2], const uint32_t expect[4]) {
  sr_philox_u4 c = {{ctr[0], ctr[1], ctr[2], ctr[3]}};
  sr_philox_u4 r = sr_philox4x32_10(c, key[0], key[1]);
  for (int i = 0; i < 4; ++i)
    CHECK_MSG(r.v[i] == expect[i], "word %d: got %08x, expected %08x", i, r.v[i], expect[i]);
}

/* Random123 kat_vectors, philox4x32 with 10 rounds. */
static void test_known_answers(void) {
  const uint32_t zero_ctr[4] = {0, 0, 0, 0}, zero_key[2] = {0, 0};
  const uint32_t zero_out[4] = {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u};
  check_kat(zero_ctr, zero_key, zero_out);
  const uint32_t ones_ctr[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
  const uint32_t ones_key[2] = {0xffffffffu, 0xffffffffu};
  const uint32_t ones_out[4] = {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu};
  check_kat(ones_ctr, ones_key, ones_out);
  const uint32_t pi_ctr[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u};
  const uint32_t pi_key[2] = {0xa4093822u, 0x299f31d0u};
  const uint32_t pi_out[4] = {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u};
  check_kat(pi_ctr, pi_key, pi_out);
}

/* ln on a dense sweep of (0, 1), including the smallest uniform we emit. */
static void test_log(void) {
  double worst = 0.0;
  for (uint32_t k = 0; k < (1u << 24); k += 97) {
    float u = ((float)k + 0.5f) * (1.0f / 16777216.0f);
    double err = fabs((double)sr_log_open01(u) - log((double)u));
    double tol = 2.5e-7 * fabs(log((double)u)) + 1e-7;
    if (err > tol) {
      CHECK_MSG(0, "log(%.9g): error %.3g > %.3g", u, err, tol);
      return;
    }
    if (err > worst) worst = err;
  }
  printf("log: worst abs error %.3g\n", worst);
}

static void test_sincos(void) {
  double worst = 0.0;
  for (uint32_t k = 0; k < (1u << 24); k += 101) {
    float u = ((float)k + 0.5f) * (1.0f / 16777216.0f);
    float s, c;
    sr_sincos_turn(u, &s, &c);
    double a = 2.0 * M_PI * (double)u;
    double err = fmax(fabs(s - sin(a)), fabs(c - cos(a)));
    if (err > 4e-7) {
      CHECK_MSG(0, "sincos(2 pi %.9g): error %.3g", u, err);
      return;
    }
    if (err > worst) worst = err;
  }
  printf("sincos: worst abs error %.3g\n", worst);
}

/* Moments of 2^20 normals, and one slice drawn alone equals the same slice
 * drawn inside a batch, bit for bit. */
static void test_normals(void) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  sr_context *ctx = NULL;
  CHECK_OK(ctx, sr_context_create(&o, &ctx));
  sr_backend *b = sr_context_get_backend(ctx);
  const size_t n = 1u << 18, ns = 4;
  float *x = (float *)malloc(n * ns * sizeof *x), *one = (float *)malloc(n * sizeof *one);
  sr_rng_stream st = {.seed = 42, .first_slice = 10, .step = 7, .purpose = SR_DRAW_LANGEVIN};
  CHECK_OK(ctx, b->ops->randn(b, x, ns, n, st));
  double m1 = 0, m2 = 0, m4 = 0;
  for (size_t i = 0; i < n * ns; ++i) {
    double v = x[i];
    CHECK(isfinite(v));
    m1 += v;
    m2 += v * v;
    m4 += v * v * v * v;
  }
  double N = (double)(n * ns);
  m1 /= N;
  m2 /= N;
  m4 /= N;
  CHECK_MSG(fabs(m1) < 5.0 / sqrt(N), "mean %.5f", m1);
  CHECK_MSG(fabs(m2 - 1.0) < 5.0 * sqrt(2.0 / N), "variance %.5f", m2);
  CHECK_MSG(fabs(m4 - 3.0) < 5.0 * sqrt(96.0 / N), "fourth moment %.5f", m4);
  sr_rng_stream alone = st;
  alone.first_slice = 12;
  CHECK_OK(ctx, b->ops->randn(b, one, 1, n, alone));
  CHECK(memcmp(one, x + 2 * n, n * sizeof *one) == 0);
  /* Another purpose or step gives different numbers. */
  sr_rng_stream other = alone;
  other.purpose = SR_DRAW_PREDICTOR;
  CHECK_OK(ctx, b->ops->randn(b, one, 1, n, other));
  CHECK(memcmp(one, x + 2 * n, n * sizeof *one) != 0);
  /* Odd lengths: element i is the same whatever n is. */
  CHECK_OK(ctx, b->ops->randn(b, one, 1, 7, alone));
  CHECK(memcmp(one, x + 2 * n, 7 * sizeof *one) == 0);
  free(x);
  free(one);
  sr_context_destroy(ctx);
}

int main(void) {
  test_known_answers();
  test_log();
  test_sincos();
  test_normals();
  return sr_test_finish("test_philox");
}
