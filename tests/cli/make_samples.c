/* make_samples DIR: writes small files of every format for the CLI tests
 * (the CLI has no writer commands of its own yet). */
#include <stdio.h>
#include <string.h>

#include "io/nifti.h"
#include "io/npy.h"
#include "io/png.h"
#include "io/safetensors.h"

static sr_context *ctx;

static int report(sr_status s) {
  if (s != SR_OK) fprintf(stderr, "make_samples: %s\n", sr_context_last_error(ctx));
  return s != SR_OK;
}

static const char *in(const char *dir, const char *name) {
  static char buf[4][1024];
  static int next;
  char *b = buf[next++ & 3];
  snprintf(b, sizeof buf[0], "%s/%s", dir, name);
  return b;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_samples DIR\n");
    return 2;
  }
  const char *dir = argv[1];
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  if (sr_context_create(&o, &ctx) != SR_OK) return 1;
  int failed = 0;

  /* (2, 3) float32: -1 .. 1.5, mean 0.25 */
  int64_t s23[2] = {2, 3};
  sr_array a;
  failed |= report(sr_array_alloc(ctx, "a", SR_DTYPE_F32, 2, s23, &a));
  for (int i = 0; i < 6; ++i) ((float *)a.data)[i] = -1.0f + 0.5f * (float)i;
  failed |= report(sr_npy_write(ctx, in(dir, "sample.npy"), &a));
  failed |= report(sr_npy_write(ctx, in(dir, "npy_without_suffix"), &a));
  sr_array_free(&a);

  /* (4, 5, 6) float32 volume, values 0 .. 119 */
  int64_t vol[3] = {4, 5, 6};
  failed |= report(sr_array_alloc(ctx, "v", SR_DTYPE_F32, 3, vol, &a));
  for (int i = 0; i < 120; ++i) ((float *)a.data)[i] = (float)i;
  sr_nifti_header g;
  sr_nifti_header_init(&g);
  g.pixdim[1] = 0.5f;
  g.pixdim[2] = 0.75f;
  g.pixdim[3] = 2.0f;
  g.xyzt_units = 2;
  failed |= report(sr_nifti_write(ctx, in(dir, "sample.nii"), &g, &a, SR_DTYPE_F32));
  failed |= report(sr_nifti_write(ctx, in(dir, "sample.nii.gz"), &g, &a, SR_DTYPE_I16));
  sr_array_free(&a);

  /* 8 x 4 PNG */
  int64_t img[2] = {4, 8};
  failed |= report(sr_array_alloc(ctx, "p", SR_DTYPE_F32, 2, img, &a));
  failed |= report(sr_png_write(ctx, in(dir, "sample.png"), &a, 0.0f, 1.0f));
  sr_array_free(&a);

  /* Two tensors and two metadata entries. */
  float w[6] = {0}, b[3] = {0};
  int64_t sw[2] = {2, 3}, sb[1] = {3};
  sr_st_write_tensor t[2] = {{"layer.weight", SR_ST_F32, 2, sw, w},
                             {"layer.bias", SR_ST_F16, 1, sb, b}};
  sr_st_metadata m[2] = {{"format", "pt"}, {"model", "ncsnpp"}};
  failed |= report(sr_safetensors_write(ctx, in(dir, "sample.safetensors"), t, 2, m, 2));

  /* A broken file: the first 100 bytes of sample.npy. */
  FILE *src = fopen(in(dir, "sample.npy"), "rb"), *dst = fopen(in(dir, "truncated.npy"), "wb");
  char buf[100];
  if (!src || !dst || fread(buf, 1, sizeof buf, src) != sizeof buf ||
      fwrite(buf, 1, sizeof buf, dst) != sizeof buf)
    failed = 1;
  if (src) fclose(src);
  if (dst) fclose(dst);
  sr_context_destroy(ctx);
  return failed;
}
