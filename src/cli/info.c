/* scorerecon info FILE...: what a data or weight file holds. Every file is
 * reported; a file that cannot be read gets one error line and the command
 * exits 1 after the others. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/report.h"
#include "io/file.h"
#include "io/nifti.h"
#include "io/npy.h"
#include "io/png.h"
#include "io/safetensors.h"

static int list_tensors;

static const sr_option options[] = {
    {"tensors", 't', SR_OPT_FLAG, &list_tensors, NULL,
     "list every tensor of a .safetensors file with its dtype and shape", NULL, NULL},
};

static const sr_command_spec spec = {
    "info",
    "FILE...",
    "Print what each file holds: shape, dtype and min/max/mean of .npy and .nii[.gz] data,\n"
    "tensor count, parameters, dtypes and __metadata__ of .safetensors weights, size and\n"
    "bit depth of .png images. The type comes from the file name, else from its content.",
    options,
    sizeof options / sizeof options[0],
    1,
    -1};

typedef enum file_kind { KIND_UNKNOWN, KIND_NPY, KIND_NIFTI, KIND_SAFETENSORS, KIND_PNG } file_kind;

/* By name first; by the first bytes for files named otherwise. */
static file_kind detect(const char *path) {
  if (sr_path_ends_with(path, ".npy")) return KIND_NPY;
  if (sr_path_ends_with(path, ".nii") || sr_path_ends_with(path, ".nii.gz")) return KIND_NIFTI;
  if (sr_path_ends_with(path, ".safetensors")) return KIND_SAFETENSORS;
  if (sr_path_ends_with(path, ".png")) return KIND_PNG;
  unsigned char b[352] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return KIND_UNKNOWN; /* the reader below reports why */
  size_t n = fread(b, 1, sizeof b, f);
  fclose(f);
  if (n >= 6 && memcmp(b, "\x93NUMPY", 6) == 0) return KIND_NPY;
  if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) return KIND_PNG;
  if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b) return KIND_NIFTI;
  if (n >= 348 && memcmp(b + 344, "n+1", 4) == 0) return KIND_NIFTI;
  if (n >= 9 && b[8] == '{') return KIND_SAFETENSORS;
  return KIND_UNKNOWN;
}

/* min/max/mean over finite values (magnitudes for complex data). */
static void print_stats(const sr_array *a) {
  size_t n = (size_t)sr_array_numel(a), nonfinite = 0, finite = 0;
  double lo = INFINITY, hi = -INFINITY, sum = 0.0;
  int complex = a->dtype == SR_DTYPE_C64;
  const float *c = (const float *)a->data;
  for (size_t i = 0; i < n; ++i) {
    double v = complex ? hypot(c[2 * i], c[2 * i + 1]) : sr_array_get(a, i);
    if (!isfinite(v)) {
      ++nonfinite;
      continue;
    }
    ++finite;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
    sum += v;
  }
  const char *what = complex ? " |z|" : "";
  if (finite) {
    printf("min%s: %.6g\nmax%s: %.6g\nmean%s: %.6g\n", what, lo, what, hi, what,
           sum / (double)finite);
  } else {
    printf("min%s: -\nmax%s: -\nmean%s: -\n", what, what, what);
  }
  if (nonfinite) printf("non-finite values: %zu\n", nonfinite);
}

static int info_npy(sr_context *ctx, const char *path) {
  sr_array a;
  sr_status s = sr_npy_read(ctx, path, &a);
  if (s != SR_OK) return sr_cli_fail_status("info", ctx, s);
  char shape[256];
  printf("format: npy\ndtype: %s\nshape: %s\n", sr_dtype_name(a.dtype),
         sr_shape_format(shape, sizeof shape, a.ndim, a.shape));
  print_stats(&a);
  sr_array_free(&a);
  return 0;
}

static const char *spatial_unit(int units) {
  switch (units & 7) {
  case 1: return "m";
  case 2: return "mm";
  case 3: return "um";
  default: return "unknown units";
  }
}

static int info_nifti(sr_context *ctx, const char *path) {
  sr_nifti_header h;
  sr_array a;
  sr_status s = sr_nifti_read(ctx, path, &h, &a);
  if (s != SR_OK) return sr_cli_fail_status("info", ctx, s);
  printf("format: nifti-1%s\n", h.byte_swapped ? " (big-endian)" : "");
  printf("datatype: %s (%d)\ndims:", sr_nifti_datatype_name(h.datatype), h.datatype);
  for (int i = 1; i <= h.dim[0]; ++i) printf("%s%d", i > 1 ? " x " : " ", h.dim[i]);
  printf("\npixdim:");
  for (int i = 1; i <= h.dim[0]; ++i) printf("%s%g", i > 1 ? " x " : " ", (double)h.pixdim[i]);
  printf(" (%s)\n", spatial_unit(h.xyzt_units));
  if (h.scl_slope != 0.0f && isfinite(h.scl_slope))
    printf("scl_slope: %g\nscl_inter: %g\n", (double)h.scl_slope, (double)h.scl_inter);
  else
    printf("scl_slope: none\n");
  printf("qform_code: %d\nsform_code: %d\n", h.qform_code, h.sform_code);
  if (h.descrip[0]) printf("descrip: %s\n", h.descrip);
  print_stats(&a);
  sr_array_free(&a);
  return 0;
}

static int info_safetensors(sr_context *ctx, const char *path) {
  sr_safetensors *st;
  sr_status s = sr_safetensors_open(ctx, path, &st);
  if (s != SR_OK) return sr_cli_fail_status("info", ctx, s);
  size_t n = sr_safetensors_count(st);
  size_t per_dtype[SR_ST_DTYPE_COUNT] = {0};
  uint64_t params_per_dtype[SR_ST_DTYPE_COUNT] = {0}, params = 0;
  for (size_t i = 0; i < n; ++i) {
    const sr_st_tensor *t = sr_safetensors_tensor(st, i);
    uint64_t numel = t->nbytes / sr_st_dtype_size(t->dtype);
    ++per_dtype[t->dtype];
    params_per_dtype[t->dtype] += numel;
    params += numel;
  }
  printf("format: safetensors\ntensors: %zu\nparameters: %llu\n", n, (unsigned long long)params);
  for (int d = 0; d < SR_ST_DTYPE_COUNT; ++d)
    if (per_dtype[d])
      printf("dtype %s: %zu tensors, %llu parameters\n", sr_st_dtype_name((sr_st_dtype)d),
             per_dtype[d], (unsigned long long)params_per_dtype[d]);
  size_t m = sr_safetensors_metadata_count(st);
  printf("metadata: %zu entries\n", m);
  for (size_t i = 0; i < m; ++i) {
    const char *key, *value;
    sr_safetensors_metadata_at(st, i, &key, &value);
    printf("  %s: %s\n", key, value);
  }
  if (sr_safetensors_metadata(st, "config")) {
    /* a score network: its architecture, size and cost (src/model/) */
    char text[4096];
    sr_status ds = sr_model_describe(ctx, path, text, sizeof text);
    if (ds != SR_OK) {
      sr_safetensors_close(st);
      return sr_cli_fail_status("info", ctx, ds);
    }
    printf("model:\n");
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) printf("  %s\n", line);
  }
  if (list_tensors) {
    for (size_t i = 0; i < n; ++i) {
      const sr_st_tensor *t = sr_safetensors_tensor(st, i);
      char shape[256];
      printf("tensor %s: %s %s\n", t->name, sr_st_dtype_name(t->dtype),
             sr_shape_format(shape, sizeof shape, t->ndim, t->shape));
    }
  }
  sr_safetensors_close(st);
  return 0;
}

static int info_png(sr_context *ctx, const char *path) {
  sr_png_info info;
  sr_status s = sr_png_read_info(ctx, path, &info);
  if (s != SR_OK) return sr_cli_fail_status("info", ctx, s);
  printf("format: png\nsize: %u x %u (width x height)\nbit depth: %d\ncolor: %s%s\n", info.width,
         info.height, info.bit_depth, info.color_type, info.interlaced ? " (interlaced)" : "");
  return 0;
}

static int info_file(sr_context *ctx, const char *path) {
  printf("file: %s\n", path);
  switch (detect(path)) {
  case KIND_NPY: return info_npy(ctx, path);
  case KIND_NIFTI: return info_nifti(ctx, path);
  case KIND_SAFETENSORS: return info_safetensors(ctx, path);
  case KIND_PNG: return info_png(ctx, path);
  case KIND_UNKNOWN: break;
  }
  struct stat st;
  if (stat(path, &st) != 0)
    return sr_cli_fail("info", "%s: cannot open: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode)) return sr_cli_fail("info", "%s: is a directory", path);
  return sr_cli_fail(
      "info", "%s: unknown file type (expected .npy, .nii, .nii.gz, .safetensors or .png)", path);
}

int sr_cmd_info(int argc, char **argv) {
  int nargs;
  char **args;
  int rc = sr_options_parse(&spec, argc, argv, &nargs, &args);
  if (rc != SR_CLI_RUN) return rc;
  sr_context *ctx = sr_cli_host_context("info");
  if (!ctx) return SR_EXIT_FAILURE;
  int failed = 0;
  for (int i = 0; i < nargs; ++i) {
    if (i) printf("\n");
    fflush(stdout); /* keep stdout and stderr lines in order when both go to a terminal */
    failed |= info_file(ctx, args[i]) != 0;
    sr_context_clear_error(ctx);
  }
  sr_context_destroy(ctx);
  return failed ? SR_EXIT_FAILURE : 0;
}
