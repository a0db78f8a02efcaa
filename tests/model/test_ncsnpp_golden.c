/* NCSN++ on the CPU backend against goldens from the original
 * score_sde_pytorch code (tools/golden_ncsnpp.py; two layouts whose paths
 * the original cannot run use tools/ncsnpp.py): every layout, relative L2
 * error of the output <= 1e-4. The weights files were made by
 * tools/convert.py from score_sde_pytorch-style checkpoints whose EMA and
 * live weights differ, so a converter that took the wrong set fails here.
 * Also: the same batch run twice gives identical bits, and a batch of 2
 * matches two runs of 1. With `cuda`, the same on the CUDA backend (label
 * gpu, or emu in the emulation build).
 * Usage: test_ncsnpp_golden DATA_DIR [cpu|cuda [LAYOUT,...]]: the layouts
 * to run, all by default (the emulation build runs its extra thread orders
 * on the CT layout only, to keep CI short). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "test_util.h"

static const char *const layouts[] = {"ct",    "brats",      "knee",       "ddpm_fir",
                                      "plain", "nearest_up", "fir_conv_up"};

static const sr_st_tensor *need(sr_safetensors *st, const char *name) {
  const sr_st_tensor *t = sr_safetensors_find(st, name);
  CHECK_MSG(t && t->dtype == SR_ST_F32, "golden tensor %s missing or not F32", name);
  return t;
}

static void run_layout(sr_context *ctx, const char *dir, const char *name) {
  char wpath[1024], iopath[1024];
  snprintf(wpath, sizeof wpath, "%s/%s.safetensors", dir, name);
  snprintf(iopath, sizeof iopath, "%s/%s_io.safetensors", dir, name);
  sr_model *m = NULL;
  CHECK_OK(ctx, sr_model_load(ctx, wpath, &m));
  sr_safetensors *io = NULL;
  CHECK_OK(ctx, sr_safetensors_open(ctx, iopath, &io));
  if (!m || !io) {
    sr_model_free(m);
    sr_safetensors_close(io);
    return;
  }
  const sr_st_tensor *x = need(io, "x"), *cond = need(io, "cond"), *ref = need(io, "out");
  if (x && cond && ref && x->ndim == 4) {
    const int64_t n = x->shape[0], c = x->shape[1], h = x->shape[2], w = x->shape[3];
    sr_tensor tx, ty;
    CHECK_OK(ctx, sr_tensor_alloc(ctx, SR_DTYPE_F32, n, c, h, w, &tx));
    CHECK_OK(ctx, sr_tensor_alloc(ctx, SR_DTYPE_F32, n, c, h, w, &ty));
    CHECK_OK(ctx, sr_tensor_upload(ctx, &tx, x->data, x->nbytes));
    float conds[16];
    memcpy(conds, cond->data, cond->nbytes);
    CHECK_OK(ctx, sr_model_forward(m, &tx, conds, &ty));
    const size_t count = (size_t)(n * c * h * w);
    float *got = (float *)malloc(count * sizeof(float));
    CHECK_OK(ctx, sr_tensor_download(ctx, &ty, got, count * sizeof(float)));
    double err = sr_test_rel_l2(got, (const float *)ref->data, count);
    printf("%-12s N=%lld C=%lld %lldx%lld: relative L2 error %.3g\n", name, (long long)n,
           (long long)c, (long long)h, (long long)w, err);
    CHECK_MSG(err <= 1e-4, "%s: relative L2 error %.3g > 1e-4", name, err);

    /* again: bit-identical */
    float *first = got;
    got = (float *)malloc(count * sizeof(float));
    CHECK_OK(ctx, sr_model_forward(m, &tx, conds, &ty));
    CHECK_OK(ctx, sr_tensor_download(ctx, &ty, got, count * sizeof(float)));
    CHECK_MSG(memcmp(first, got, count * sizeof(float)) == 0, "%s: second run differs", name);
    /* one sample at a time (a re-plan for N = 1) gives the same bits */
    sr_tensor t1 = tx, o1 = ty;
    t1.shape[0] = o1.shape[0] = 1;
    for (int64_t s = 0; s < n; ++s) {
      t1.data = (float *)tx.data + s * c * h * w;
      o1.data = (float *)ty.data + s * c * h * w;
      CHECK_OK(ctx, sr_model_forward(m, &t1, &conds[s], &o1));
    }
    CHECK_OK(ctx, sr_tensor_download(ctx, &ty, got, count * sizeof(float)));
    /* CPU: bit-identical; CUDA: per-shape library algorithms may differ */
    if (sr_context_backend(ctx) == SR_BACKEND_CPU)
      CHECK_MSG(memcmp(first, got, count * sizeof(float)) == 0,
                "%s: batch of 1 differs from the batch of %lld", name, (long long)n);
    else
      CHECK_MSG(sr_test_rel_l2(got, first, count) <= 1e-5,
                "%s: batch of 1 differs from the batch of %lld", name, (long long)n);
    free(first);
    free(got);
    sr_tensor_free(ctx, &tx);
    sr_tensor_free(ctx, &ty);
  }
  sr_safetensors_close(io);
  sr_model_free(m);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DATA_DIR [cpu|cuda]\n", argv[0]);
    return 2;
  }
  sr_context_options o = sr_context_options_default();
  o.backend = argc > 2 && strcmp(argv[2], "cuda") == 0 ? SR_BACKEND_CUDA : SR_BACKEND_CPU;
  sr_context *ctx = NULL;
  sr_status st = sr_context_create(&o, &ctx);
  if (o.backend == SR_BACKEND_CUDA && st == SR_ERR_NO_DEVICE) {
    printf("skipped: %s\n", sr_context_last_error(ctx));
    sr_context_destroy(ctx);
    return SR_TEST_SKIP;
  }
  CHECK_OK(ctx, st);
  if (sr_test_failures) return sr_test_finish("test_ncsnpp_golden");
  const char *only = argc > 3 ? argv[3] : NULL;
  for (size_t i = 0; i < sizeof layouts / sizeof *layouts; ++i) {
    if (only) {
      /* layouts[i] as a whole item of the comma-separated list */
      const size_t len = strlen(layouts[i]);
      const char *p = only;
      while ((p = strstr(p, layouts[i])) != NULL &&
             !((p == only || p[-1] == ',') && (p[len] == '\0' || p[len] == ',')))
        p += len;
      if (!p) continue;
    }
    run_layout(ctx, argv[1], layouts[i]);
  }
  sr_context_destroy(ctx);
  return sr_test_finish("test_ncsnpp_golden");
}
