/* Shape arithmetic of the score-network ops, shared by both backends and the
 * model planner (see the descriptors in backend.h). */
#include "backend/backend.h"
#include "core/error.h"

sr_status sr_conv2d_desc_init(sr_context *ctx, sr_conv2d_desc *d, int n, int c_in, int h, int w,
                              int c_out, int kh, int kw, int stride, int pad_top, int pad_left,
                              int pad_bottom, int pad_right) {
  d->n = n, d->c_in = c_in, d->h = h, d->w = w;
  d->c_out = c_out, d->kh = kh, d->kw = kw, d->stride = stride;
  d->pad_top = pad_top, d->pad_left = pad_left, d->pad_bottom = pad_bottom;
  d->pad_right = pad_right;
  d->h_out = d->w_out = 0;
  d->precision = SR_PRECISION_FP32;
  if (n <= 0 || c_in <= 0 || h <= 0 || w <= 0 || c_out <= 0 || kh <= 0 || kw <= 0 || stride <= 0 ||
      pad_top < 0 || pad_left < 0 || pad_bottom < 0 || pad_right < 0)
    return sr_fail(ctx, SR_ERR_SHAPE,
                   "convolution of (%d, %d, %d, %d) with a %dx%dx%dx%d kernel, stride %d: "
                   "every size must be positive",
                   n, c_in, h, w, c_out, c_in, kh, kw, stride);
  int hp = h + pad_top + pad_bottom, wp = w + pad_left + pad_right;
  if (hp < kh || wp < kw)
    return sr_fail(ctx, SR_ERR_SHAPE, "convolution: a %dx%d kernel does not fit a %dx%d input", kh,
                   kw, hp, wp);
  d->h_out = (hp - kh) / stride + 1;
  d->w_out = (wp - kw) / stride + 1;
  return SR_OK;
}

size_t sr_fir_out_size(const sr_fir_desc *f, size_t n) {
  long long len = (long long)n * f->up + f->pad0 + f->pad1 - f->kh;
  if (len < 0 || f->down <= 0) return 0;
  return (size_t)(len / f->down + 1);
}
