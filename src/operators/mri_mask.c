/* Undersampling masks (see mri_mask.h for the rules). Rounding follows the
 * Python originals: round() and np.around round half to even, which is
 * rint() in the default rounding mode. */
#include "operators/mri_mask.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/philox.h"

/* Philox key word 1 of the mask stream ("mask"), so mask draws never share
 * numbers with the sampler's streams, whose word 1 is a slice index. */
#define SR_MASK_STREAM 0x6D61736Bu

static const char *const kind_names[] = {"random", "equispaced", "paper", "vd2d"};

sr_mask_params sr_mask_params_default(void) {
  sr_mask_params p;
  memset(&p, 0, sizeof p);
  p.kind = SR_MASK_RANDOM;
  p.accel = 4.0;
  p.center_fraction = 0.08;
  p.n_keep = 30;
  p.seed = 0;
  p.vd_power = 2.0;
  return p;
}

const char *sr_mask_kind_name(sr_mask_kind kind) {
  if ((int)kind < 0 || (size_t)kind >= sizeof kind_names / sizeof kind_names[0]) return NULL;
  return kind_names[kind];
}

sr_status sr_mask_kind_parse(sr_context *ctx, const char *name, sr_mask_kind *out) {
  for (size_t i = 0; i < sizeof kind_names / sizeof kind_names[0]; ++i) {
    if (name && strcmp(name, kind_names[i]) == 0) {
      *out = (sr_mask_kind)i;
      return SR_OK;
    }
  }
  return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                 "unknown mask '%s' (expected random, equispaced, paper or vd2d)",
                 name ? name : "");
}

/* The uniform in (0, 1) number `index` of the mask stream of `seed`. */
static float mask_uniform(uint32_t seed, uint64_t index) {
  sr_philox_u4 ctr = {{(uint32_t)(index >> 2), 0u, 0u, (uint32_t)(index >> 34)}};
  sr_philox_u4 r = sr_philox4x32_10(ctr, seed, SR_MASK_STREAM);
  return sr_philox_uniform(r.v[index & 3]);
}

/* Marks the num_low central columns as fastMRI does: pad = (w - num_low + 1) / 2. */
static void set_center(unsigned char *cols, int64_t w, int64_t num_low) {
  int64_t pad = (w - num_low + 1) / 2;
  for (int64_t j = pad; j < pad + num_low; ++j) cols[j] = 1;
}

/* np.arange(offset, w - 1, step) rounded half to even: the equispaced lines. */
static void set_equispaced(unsigned char *cols, int64_t w, double offset, double step) {
  double stop = (double)(w - 1);
  if (!(step > 0.0) || offset >= stop) return;
  int64_t count = (int64_t)ceil((stop - offset) / step);
  /* NumPy fills arange with start + i * delta, delta = (start + step) - start,
   * which can differ from step in the last bit and move a .5 rounding. */
  double delta = (offset + step) - offset;
  for (int64_t i = 0; i < count; ++i) {
    double v = rint(offset + (double)i * delta);
    if (v >= 0.0 && v < (double)w) cols[(int64_t)v] = 1;
  }
}

/* fastMRI's adjusted acceleration: the spacing of the equispaced lines such
 * that they and the num_low central ones together keep w / accel columns. */
static double adjusted_accel(double accel, int64_t num_low, int64_t w) {
  return (accel * (double)(num_low - w)) / ((double)num_low * accel - (double)w);
}

static sr_status column_mask(sr_context *ctx, const sr_mask_params *p, int64_t h, int64_t w,
                             unsigned char *cols) {
  if (p->kind == SR_MASK_PAPER) {
    if (p->n_keep < 1 || p->n_keep > w)
      return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "--n-keep must be in [1, %lld], got %d",
                     (long long)w, p->n_keep);
    /* The official rule takes its acceleration from the row count. */
    double center_fraction = p->n_keep / 1000.0;
    double accel = (double)h / (double)p->n_keep;
    int64_t num_low = (int64_t)rint((double)w * center_fraction);
    set_center(cols, w, num_low);
    double denom = (double)num_low * accel - (double)w;
    if (denom >= 0.0 || accel <= 1.0) {
      /* No room for equispaced lines: every column is kept. */
      memset(cols, 1, (size_t)w);
      return SR_OK;
    }
    double adj = adjusted_accel(accel, num_low, w);
    double offset = (double)((int64_t)rint(adj) / 2);
    set_equispaced(cols, w, offset, adj);
    return SR_OK;
  }
  if (!(p->accel > 1.0) || !isfinite(p->accel))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "--accel must be a number > 1, got %g", p->accel);
  if (!(p->center_fraction >= 0.0 && p->center_fraction < 1.0))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "--center-fraction must be in [0, 1), got %g",
                   p->center_fraction);
  int64_t num_low = (int64_t)rint((double)w * p->center_fraction);
  if ((double)w / p->accel < (double)num_low)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "--center-fraction %g keeps %lld of %lld columns, more than 1/%g of them: "
                   "lower it or the acceleration",
                   p->center_fraction, (long long)num_low, (long long)w, p->accel);
  if (p->kind == SR_MASK_RANDOM) {
    double prob = ((double)w / p->accel - (double)num_low) / (double)(w - num_low);
    for (int64_t j = 0; j < w; ++j) cols[j] = mask_uniform(p->seed, (uint64_t)j) < prob;
  } else {
    double adj = adjusted_accel(p->accel, num_low, w);
    int64_t high = (int64_t)rint(adj);
    if (high < 1) high = 1;
    /* randint(0, high): the first draw of the stream picks the offset. */
    int64_t offset = (int64_t)((double)mask_uniform(p->seed, 0) * (double)high);
    if (offset >= high) offset = high - 1;
    set_equispaced(cols, w, (double)offset, adj);
  }
  set_center(cols, w, num_low);
  return SR_OK;
}

static sr_status vd2d_mask(sr_context *ctx, const sr_mask_params *p, int64_t h, int64_t w,
                           float *mask) {
  if (!(p->accel > 1.0) || !isfinite(p->accel))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "--accel must be a number > 1, got %g", p->accel);
  if (!(p->center_fraction >= 0.0 && p->center_fraction < 1.0))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "--center-fraction must be in [0, 1), got %g",
                   p->center_fraction);
  if (!(p->vd_power > 0.0))
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "variable-density power must be > 0, got %g",
                   p->vd_power);
  size_t n = (size_t)(h * w);
  /* density[k] = (1 - r)^power outside the centre disc, -1 inside it. */
  double *density = (double *)malloc(n * sizeof(double));
  if (!density)
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a %lld x %lld mask", (long long)h,
                   (long long)w);
  double rc = p->center_fraction * (double)(h < w ? h : w) / 2.0;
  double cy = (double)(h / 2), cx = (double)(w / 2); /* the DC sample after fftshift */
  size_t n_center = 0;
  for (int64_t i = 0; i < h; ++i) {
    for (int64_t j = 0; j < w; ++j) {
      double dy = (double)i - cy, dx = (double)j - cx;
      size_t k = (size_t)(i * w + j);
      if (sqrt(dy * dy + dx * dx) <= rc) {
        density[k] = -1.0;
        ++n_center;
        continue;
      }
      double ny = dy / (h > 1 ? (double)h / 2.0 : 1.0), nx = dx / (w > 1 ? (double)w / 2.0 : 1.0);
      double r = sqrt((ny * ny + nx * nx) / 2.0);
      density[k] = pow(r < 1.0 ? 1.0 - r : 0.0, p->vd_power);
    }
  }
  double target = (double)n / p->accel - (double)n_center;
  if (target < 0.0) {
    free(density);
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "--center-fraction %g alone keeps %zu of %zu samples, more than 1/%g of them",
                   p->center_fraction, n_center, n, p->accel);
  }
  /* Bisection on c: sum_k min(1, c density[k]) grows with c. */
  double lo = 0.0, hi = 1.0;
  for (int it = 0; it < 200; ++it) {
    double s = 0.0;
    for (size_t k = 0; k < n; ++k)
      if (density[k] >= 0.0) s += fmin(1.0, hi * density[k]);
    if (s >= target || hi > 1e300) break;
    hi *= 2.0;
  }
  for (int it = 0; it < 100; ++it) {
    double mid = 0.5 * (lo + hi), s = 0.0;
    for (size_t k = 0; k < n; ++k)
      if (density[k] >= 0.0) s += fmin(1.0, mid * density[k]);
    if (s < target)
      lo = mid;
    else
      hi = mid;
  }
  for (size_t k = 0; k < n; ++k) {
    if (density[k] < 0.0)
      mask[k] = 1.0f;
    else
      mask[k] = mask_uniform(p->seed, k) < fmin(1.0, hi * density[k]) ? 1.0f : 0.0f;
  }
  free(density);
  return SR_OK;
}

sr_status sr_mri_mask_make(sr_context *ctx, const sr_mask_params *p, int64_t h, int64_t w,
                           float *mask) {
  if (h < 1 || w < 2)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "a mask needs at least 1 x 2 samples, got %lld x %lld", (long long)h,
                   (long long)w);
  if (p->kind == SR_MASK_VD2D) return vd2d_mask(ctx, p, h, w, mask);
  if (sr_mask_kind_name(p->kind) == NULL)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "unknown mask kind %d", (int)p->kind);
  unsigned char *cols = (unsigned char *)calloc((size_t)w, 1);
  if (!cols)
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a %lld-column mask", (long long)w);
  sr_status st = column_mask(ctx, p, h, w, cols);
  if (st == SR_OK)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) mask[i * w + j] = cols[j] ? 1.0f : 0.0f;
  free(cols);
  return st;
}

double sr_mri_mask_acceleration(const float *mask, size_t n) {
  size_t ones = 0;
  for (size_t k = 0; k < n; ++k) ones += mask[k] != 0.0f;
  return ones ? (double)n / (double)ones : 0.0;
}

size_t sr_mri_mask_columns(const float *mask, int64_t h, int64_t w) {
  size_t count = 0;
  for (int64_t j = 0; j < w; ++j) {
    for (int64_t i = 0; i < h; ++i) {
      if (mask[i * w + j] != 0.0f) {
        ++count;
        break;
      }
    }
  }
  return count;
}
