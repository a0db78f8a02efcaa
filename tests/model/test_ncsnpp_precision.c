/* NCSN++ with reduced-precision convolutions (sr_model_set_precision): on
 * the golden models of the three paper layouts (CT, BraTS, Score-MRI knee),
 * each precision's output against the fp32 output of the same backend:
 *  - the error is printed (relative L2 over the batch; the table in
 *    bench/RESULTS.md, "Reduced precision", comes from these lines and
 *    bench_ncsnpp --precision at full size);
 *  - it is above zero (the setting reaches the convolutions) and below a
 *    bound per format (the rounding is what it should be, not worse);
 *  - going back to fp32 re-plans and gives the first fp32 bits again;
 *  - an invalid precision is refused.
 * With `cuda`: the same on the CUDA backend (emulation build: the plain
 * kernel, which rounds as the CPU does; a GPU: cuDNN's tensor cores), and
 * the CUDA output against the CPU backend's in the same precision.
 * Usage: test_ncsnpp_precision DATA_DIR [cpu|cuda [LAYOUT,...]] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "test_util.h"

static const char *const layouts[] = {"ct", "brats", "knee"};

/* Relative L2 against fp32 that a precision stays under: about four times
 * what the CPU emulation measures on these models (tf32 and fp16 0.8e-3 to
 * 1.3e-3, bf16 0.7e-2 to 1.1e-2), room for tensor cores that truncate
 * rather than round, while bf16 arithmetic passed off as fp16 or tf32
 * fails. */
static double bound(int precision) {
  return precision == SR_PRECISION_TF32 ? 5e-3 : precision == SR_PRECISION_BF16 ? 4e-2 : 5e-3;
}

/* One forward of `x` in `precision` into host `out`. */
static void forward(sr_context *ctx, sr_model *m, int precision, const sr_tensor *tx, sr_tensor *ty,
                    const float *cond, float *out, size_t count) {
  CHECK_OK(ctx, sr_model_set_precision(m, (sr_precision)precision));
  CHECK(sr_model_get_precision(m) == (sr_precision)precision);
  CHECK_OK(ctx, sr_model_forward(m, tx, cond, ty));
  CHECK_OK(ctx, sr_tensor_download(ctx, ty, out, count * sizeof(float)));
}

/* Runs one layout on ctx (and on cpu_ctx too when not NULL). */
static void run_layout(sr_context *ctx, sr_context *cpu_ctx, const char *dir, const char *name) {
  char wpath[1024], iopath[1024];
  snprintf(wpath, sizeof wpath, "%s/%s.safetensors", dir, name);
  snprintf(iopath, sizeof iopath, "%s/%s_io.safetensors", dir, name);
  sr_safetensors *io = NULL;
  CHECK_OK(ctx, sr_safetensors_open(ctx, iopath, &io));
  const sr_st_tensor *x = io ? sr_safetensors_find(io, "x") : NULL;
  const sr_st_tensor *cond = io ? sr_safetensors_find(io, "cond") : NULL;
  CHECK_MSG(x && cond && x->ndim == 4 && x->dtype == SR_ST_F32 && cond->nbytes <= 16 * 4,
            "%s: golden x and cond", name);
  if (!x || !cond || x->ndim != 4) {
    sr_safetensors_close(io);
    return;
  }
  const int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
  const size_t count = (size_t)(n * c * h * w);
  float conds[16];
  memcpy(conds, cond->data, cond->nbytes);
  sr_context *ctxs[2] = {ctx, cpu_ctx};
  float *out[2][4] = {{NULL}};
  for (int side = 0; side < 2 && ctxs[side]; ++side) {
    sr_context *cx = ctxs[side];
    sr_model *m = NULL;
    CHECK_OK(cx, sr_model_load(cx, wpath, &m));
    if (!m) break;
    CHECK(sr_model_get_precision(m) == SR_PRECISION_FP32);
    CHECK_FAILS(cx, sr_model_set_precision(m, (sr_precision)4), SR_ERR_INVALID_ARGUMENT);
    sr_tensor tx, ty;
    CHECK_OK(cx, sr_tensor_alloc(cx, SR_DTYPE_F32, n, c, h, w, &tx));
    CHECK_OK(cx, sr_tensor_alloc(cx, SR_DTYPE_F32, n, c, h, w, &ty));
    CHECK_OK(cx, sr_tensor_upload(cx, &tx, x->data, x->nbytes));
    for (int p = 0; p < 4; ++p) {
      out[side][p] = (float *)malloc(count * sizeof(float));
      forward(cx, m, p, &tx, &ty, conds, out[side][p], count);
    }
    float *again = (float *)malloc(count * sizeof(float));
    forward(cx, m, SR_PRECISION_FP32, &tx, &ty, conds, again, count);
    CHECK_MSG(memcmp(again, out[side][0], count * sizeof(float)) == 0,
              "%s: fp32 after other precisions differs from the first fp32 run", name);
    free(again);
    for (int p = 1; p < 4 && side == 0; ++p) {
      const double err = sr_test_rel_l2(out[0][p], out[0][0], count);
      printf("%-6s %s N=%lld C=%lld %lldx%lld: %s vs fp32 relative L2 %.3e (bound %.1e)\n", name,
             sr_backend_name(sr_context_backend(cx)), (long long)n, (long long)c, (long long)h,
             (long long)w, sr_precision_name((sr_precision)p), err, bound(p));
      CHECK_MSG(err > 0.0, "%s %s: identical to fp32, the setting did nothing", name,
                sr_precision_name((sr_precision)p));
      CHECK_MSG(err <= bound(p), "%s %s: relative L2 %.3g against fp32 > %.3g", name,
                sr_precision_name((sr_precision)p), err, bound(p));
    }
    sr_tensor_free(cx, &tx);
    sr_tensor_free(cx, &ty);
    sr_model_free(m);
  }
  /* CUDA against the CPU in the same precision. Not close: rounding is a
   * step function, so the last-bit differences between the backends' fp32
   * GroupNorms and summation orders flip a few operands to the next value
   * of the format, whose difference the next layer's rounding amplifies
   * again (the rms difference after a layer is about sqrt(incoming
   * difference x unit in the last place)); after a few layers it is of the
   * order of the error against fp32 itself. The ops are compared exactly in
   * test_nn_ops; here only that CUDA rounds to the same format (a wrong
   * format would differ by the larger error of the two). */
  if (cpu_ctx && out[1][0])
    for (int p = 1; p < 4; ++p) {
      const double twin = sr_test_rel_l2(out[0][p], out[1][p], count);
      const double gap = sr_test_rel_l2(out[1][p], out[1][0], count);
      printf("%-6s %s: CUDA vs CPU relative L2 %.3e (CPU vs fp32 %.3e)\n", name,
             sr_precision_name((sr_precision)p), twin, gap);
      CHECK_MSG(twin <= 1.5 * gap, "%s %s: CUDA vs CPU %.3g, more than 1.5x the CPU's %.3g", name,
                sr_precision_name((sr_precision)p), twin, gap);
    }
  for (int side = 0; side < 2; ++side)
    for (int p = 0; p < 4; ++p) free(out[side][p]);
  sr_safetensors_close(io);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DATA_DIR [cpu|cuda [LAYOUT,...]]\n", argv[0]);
    return 2;
  }
  sr_context_options o = sr_context_options_default();
  const int cuda = argc > 2 && strcmp(argv[2], "cuda") == 0;
  o.backend = cuda ? SR_BACKEND_CUDA : SR_BACKEND_CPU;
  sr_context *ctx = NULL, *cpu_ctx = NULL;
  sr_status st = sr_context_create(&o, &ctx);
  if (cuda && st == SR_ERR_NO_DEVICE) {
    printf("skipped: %s\n", sr_context_last_error(ctx));
    sr_context_destroy(ctx);
    return SR_TEST_SKIP;
  }
  CHECK_OK(ctx, st);
  if (cuda && st == SR_OK) {
    o.backend = SR_BACKEND_CPU;
    CHECK_OK(cpu_ctx, sr_context_create(&o, &cpu_ctx));
  }
  if (sr_test_failures) return sr_test_finish("test_ncsnpp_precision");
  const char *only = argc > 3 ? argv[3] : NULL;
  for (size_t i = 0; i < sizeof layouts / sizeof *layouts; ++i)
    if (!only || strstr(only, layouts[i])) run_layout(ctx, cpu_ctx, argv[1], layouts[i]);
  sr_context_destroy(ctx);
  sr_context_destroy(cpu_ctx);
  return sr_test_finish("test_ncsnpp_precision");
}
