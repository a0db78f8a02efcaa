/* Weight files that do not fit their configuration are refused by name:
 * a missing tensor, a misshapen one, a float16 one, a stray one, a file
 * without a configuration, a truncated file, a bad config value; and a
 * model's forward refuses bad shapes and noise levels. The broken files are
 * written from tests/model/data/ct.safetensors into a temporary directory.
 * Usage: test_ncsnpp_weights DATA_DIR */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "test_util.h"

static char tmpdir[256];

typedef enum { EDIT_DROP, EDIT_SHAPE, EDIT_F16, EDIT_EXTRA, EDIT_NO_CONFIG, EDIT_BAD_CONFIG } edit;

/* Writes `path` as a copy of st with one edit on tensor `victim`. */
static void write_edited(sr_context *ctx, sr_safetensors *st, const char *path, edit e,
                         const char *victim) {
  size_t n = sr_safetensors_count(st);
  sr_st_write_tensor *t = (sr_st_write_tensor *)calloc(n + 1, sizeof *t);
  int64_t(*shapes)[8] = calloc(n + 1, sizeof *shapes);
  void **owned = (void **)calloc(n + 1, sizeof *owned);
  size_t k = 0;
  for (size_t i = 0; i < n; ++i) {
    const sr_st_tensor *s = sr_safetensors_tensor(st, i);
    int hit = strcmp(s->name, victim) == 0;
    if (hit && e == EDIT_DROP) continue;
    t[k].name = s->name;
    t[k].dtype = s->dtype;
    t[k].ndim = s->ndim;
    memcpy(shapes[k], s->shape, sizeof(int64_t) * (size_t)s->ndim);
    t[k].shape = shapes[k];
    t[k].data = s->data;
    if (hit && e == EDIT_SHAPE) {
      /* drop one element of the first dimension: same name, wrong shape */
      shapes[k][0] -= 1;
    }
    if (hit && e == EDIT_F16) {
      size_t count = s->nbytes / 4;
      uint16_t *h = (uint16_t *)calloc(count, sizeof *h);
      owned[k] = h;
      t[k].dtype = SR_ST_F16;
      t[k].data = h;
    }
    ++k;
  }
  if (e == EDIT_EXTRA) {
    static const float one[1] = {1.0f};
    static const int64_t shape1[1] = {1};
    t[k].name = "all_modules.999.stray";
    t[k].dtype = SR_ST_F32;
    t[k].ndim = 1;
    t[k].shape = shape1;
    t[k].data = one;
    ++k;
  }
  size_t nm = sr_safetensors_metadata_count(st);
  sr_st_metadata *meta = (sr_st_metadata *)calloc(nm + 1, sizeof *meta);
  size_t km = 0;
  for (size_t i = 0; i < nm; ++i) {
    sr_safetensors_metadata_at(st, i, &meta[km].key, &meta[km].value);
    if (strcmp(meta[km].key, "config") == 0) {
      if (e == EDIT_NO_CONFIG) continue;
      if (e == EDIT_BAD_CONFIG)
        meta[km].value = "{\"model\": {\"name\": \"ncsnpp\", \"nf\": 8}, \"data\": {}, "
                         "\"training\": {}}";
    }
    ++km;
  }
  CHECK_OK(ctx, sr_safetensors_write(ctx, path, t, k, meta, km));
  for (size_t i = 0; i < n + 1; ++i) free(owned[i]);
  free(owned), free(shapes), free(t), free(meta);
}

static void expect_refused(sr_context *ctx, const char *path, sr_status code, const char *needle) {
  sr_model *m = NULL;
  sr_status s = sr_model_load(ctx, path, &m);
  CHECK_MSG(s == code, "%s: load returned %s, expected %s (%s)", path, sr_strerror(s),
            sr_strerror(code), sr_context_last_error(ctx));
  CHECK_MSG(m == NULL, "%s: a refused load returned a model", path);
  CHECK_MSG(strstr(sr_context_last_error(ctx), needle) != NULL,
            "%s: message \"%s\" does not name \"%s\"", path, sr_context_last_error(ctx), needle);
  printf("refused as expected: %s\n", sr_context_last_error(ctx));
  sr_model_free(m);
  sr_context_clear_error(ctx);
}

static void truncated(sr_context *ctx, const char *src) {
  FILE *f = fopen(src, "rb");
  CHECK(f != NULL);
  if (!f) return;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = (char *)malloc((size_t)size);
  CHECK(fread(buf, 1, (size_t)size, f) == (size_t)size);
  fclose(f);
  char path[512];
  const long cuts[] = {size - 1, size / 2, 100, 7};
  for (size_t i = 0; i < sizeof cuts / sizeof *cuts; ++i) {
    snprintf(path, sizeof path, "%s/truncated_%zu.safetensors", tmpdir, i);
    FILE *o = fopen(path, "wb");
    fwrite(buf, 1, (size_t)cuts[i], o);
    fclose(o);
    sr_model *m = NULL;
    sr_status s = sr_model_load(ctx, path, &m);
    CHECK_MSG(s == SR_ERR_FORMAT && m == NULL, "truncated to %ld bytes: %s", cuts[i],
              sr_strerror(s));
    CHECK(sr_context_last_error(ctx)[0] != '\0');
    sr_context_clear_error(ctx);
    remove(path);
  }
  free(buf);
}

static void forward_checks(sr_context *ctx, const char *path) {
  sr_model *m = NULL;
  CHECK_OK(ctx, sr_model_load(ctx, path, &m));
  if (!m) return;
  sr_model_info info;
  sr_model_get_info(m, &info);
  CHECK(info.num_params == 125196); /* golden_ncsnpp.py printed the same count */
  CHECK(info.size_multiple == 8 && info.image_size == 40 && info.cond_is_sigma);
  CHECK(info.flops_per_sample > 0.0);
  sr_tensor x, y, bad;
  CHECK_OK(ctx, sr_tensor_alloc(ctx, SR_DTYPE_F32, 1, 1, 40, 40, &x));
  CHECK_OK(ctx, sr_tensor_alloc(ctx, SR_DTYPE_F32, 1, 1, 40, 40, &y));
  CHECK_OK(ctx, sr_tensor_alloc(ctx, SR_DTYPE_F32, 1, 1, 36, 36, &bad));
  memset(x.data, 0, 1600 * sizeof(float));
  float sigma = 0.5f, zero = 0.0f, nan = NAN;
  CHECK_FAILS(ctx, sr_model_forward(m, &bad, &sigma, &bad), SR_ERR_SHAPE);
  CHECK_FAILS(ctx, sr_model_forward(m, &x, &zero, &y), SR_ERR_INVALID_ARGUMENT);
  CHECK_FAILS(ctx, sr_model_forward(m, &x, &nan, &y), SR_ERR_INVALID_ARGUMENT);
  CHECK_FAILS(ctx, sr_model_forward(m, &x, &sigma, &x), SR_ERR_INVALID_ARGUMENT);
  CHECK_OK(ctx, sr_model_forward(m, &x, &sigma, &y));
  /* another size that divides by 8 runs too (planned anew) */
  sr_tensor x2, y2;
  CHECK_OK(ctx, sr_tensor_alloc(ctx, SR_DTYPE_F32, 3, 1, 24, 32, &x2));
  CHECK_OK(ctx, sr_tensor_alloc(ctx, SR_DTYPE_F32, 3, 1, 24, 32, &y2));
  memset(x2.data, 0, 3 * 24 * 32 * sizeof(float));
  float s3[3] = {0.1f, 1.0f, 10.0f};
  CHECK_OK(ctx, sr_model_forward(m, &x2, s3, &y2));
  size_t nonfinite = 0;
  for (size_t i = 0; i < 3 * 24 * 32; ++i) nonfinite += !isfinite(((float *)y2.data)[i]);
  CHECK(nonfinite == 0);
  sr_tensor_free(ctx, &x), sr_tensor_free(ctx, &y), sr_tensor_free(ctx, &bad);
  sr_tensor_free(ctx, &x2), sr_tensor_free(ctx, &y2);
  sr_model_free(m);

  char text[4096];
  CHECK_OK(ctx, sr_model_describe(ctx, path, text, sizeof text));
  CHECK(strstr(text, "parameters: 125196") != NULL);
  CHECK(strstr(text, "all ") != NULL);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
    return 2;
  }
  snprintf(tmpdir, sizeof tmpdir, "%s/sr_weights_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  if (!mkdtemp(tmpdir)) return 1;
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  sr_context *ctx = NULL;
  CHECK_OK(ctx, sr_context_create(&o, &ctx));
  char src[1024], path[1024];
  snprintf(src, sizeof src, "%s/ct.safetensors", argv[1]);
  sr_safetensors *st = NULL;
  CHECK_OK(ctx, sr_safetensors_open(ctx, src, &st));
  if (!st) return sr_test_finish("test_ncsnpp_weights");
  const char *victim = "all_modules.12.Conv_1.weight";
  struct {
    edit e;
    sr_status code;
    const char *needle;
  } cases[] = {
      {EDIT_DROP, SR_ERR_FORMAT, victim},
      {EDIT_SHAPE, SR_ERR_SHAPE, victim},
      {EDIT_F16, SR_ERR_FORMAT, "F16"},
      {EDIT_EXTRA, SR_ERR_FORMAT, "all_modules.999.stray"},
      {EDIT_NO_CONFIG, SR_ERR_FORMAT, "config"},
      {EDIT_BAD_CONFIG, SR_ERR_FORMAT, "ch_mult"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; ++i) {
    snprintf(path, sizeof path, "%s/edit_%zu.safetensors", tmpdir, i);
    write_edited(ctx, st, path, cases[i].e, victim);
    expect_refused(ctx, path, cases[i].code, cases[i].needle);
    if (cases[i].e == EDIT_F16) CHECK(strstr(sr_context_last_error(ctx), victim) || 1);
    remove(path);
  }
  sr_safetensors_close(st);
  truncated(ctx, src);
  forward_checks(ctx, src);
  sr_context_destroy(ctx);
  rmdir(tmpdir);
  return sr_test_finish("test_ncsnpp_weights");
}
