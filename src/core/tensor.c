#include <stdint.h>

#include "backend/backend.h"
#include "core/error.h"

int64_t sr_tensor_numel(const sr_tensor *t) {
  return t->shape[0] * t->shape[1] * t->shape[2] * t->shape[3];
}

int sr_tensor_is_contiguous(const sr_tensor *t) {
  int64_t expect = 1;
  for (int d = 3; d >= 0; --d) {
    if (t->shape[d] != 1 && t->strides[d] != expect) return 0;
    expect *= t->shape[d];
  }
  return 1;
}

static size_t tensor_bytes(const sr_tensor *t) {
  return (size_t)sr_tensor_numel(t) * sr_dtype_size(t->dtype);
}

sr_status sr_tensor_alloc(sr_context *ctx, sr_dtype dtype, int64_t n, int64_t c, int64_t h,
                          int64_t w, sr_tensor *out) {
  const int64_t dims[4] = {n, c, h, w};
  int64_t numel = 1;
  for (int d = 0; d < 4; ++d) {
    if (dims[d] <= 0)
      return sr_fail(ctx, SR_ERR_SHAPE, "tensor dimension %d is %lld, must be positive", d,
                     (long long)dims[d]);
    if (numel > INT64_MAX / dims[d])
      return sr_fail(ctx, SR_ERR_SHAPE, "tensor of %lldx%lldx%lldx%lld overflows", (long long)n,
                     (long long)c, (long long)h, (long long)w);
    numel *= dims[d];
  }
  if (dtype >= SR_DTYPE_COUNT || (int)dtype < 0)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "unknown dtype %d", (int)dtype);
  sr_backend *b = sr_context_get_backend(ctx);
  if (!b) return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "context has no backend");
  out->backend = b->kind;
  out->dtype = dtype;
  int64_t stride = 1;
  for (int d = 3; d >= 0; --d) {
    out->shape[d] = dims[d];
    out->strides[d] = stride;
    stride *= dims[d];
  }
  out->data = NULL;
  return b->ops->alloc(b, (size_t)numel * sr_dtype_size(dtype), &out->data);
}

void sr_tensor_free(sr_context *ctx, sr_tensor *t) {
  sr_backend *b = sr_context_get_backend(ctx);
  if (b && t && t->data) b->ops->free(b, t->data);
  if (t) t->data = NULL;
}

static sr_status check_copy(sr_context *ctx, const sr_tensor *t, size_t bytes) {
  sr_backend *b = sr_context_get_backend(ctx);
  if (!b) return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "context has no backend");
  if (t->backend != b->kind)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "tensor lives on %s, context runs %s",
                   sr_backend_name(t->backend), sr_backend_name(b->kind));
  if (!sr_tensor_is_contiguous(t))
    return sr_fail(ctx, SR_ERR_UNSUPPORTED, "copy of a non-contiguous tensor");
  if (bytes != tensor_bytes(t))
    return sr_fail(ctx, SR_ERR_SHAPE, "copy of %zu bytes into a tensor of %zu bytes", bytes,
                   tensor_bytes(t));
  return SR_OK;
}

sr_status sr_tensor_upload(sr_context *ctx, sr_tensor *dst, const void *host, size_t bytes) {
  SR_TRY(check_copy(ctx, dst, bytes));
  sr_backend *b = sr_context_get_backend(ctx);
  return b->ops->upload(b, dst->data, host, bytes);
}

sr_status sr_tensor_download(sr_context *ctx, const sr_tensor *src, void *host, size_t bytes) {
  SR_TRY(check_copy(ctx, src, bytes));
  sr_backend *b = sr_context_get_backend(ctx);
  return b->ops->download(b, host, src->data, bytes);
}
