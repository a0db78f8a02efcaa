#include "core/context.h"

#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/error.h"

sr_context_options sr_context_options_default(void) {
  sr_context_options o;
  o.backend = SR_BACKEND_AUTO;
  o.device = 0;
  o.threads = 0;
  return o;
}

/* AUTO picks CUDA only when a device answers; the reason it did not is kept
 * for `scorerecon version`, not reported as an error. */
static sr_backend_kind resolve_kind(sr_backend_kind requested) {
  if (requested != SR_BACKEND_AUTO) return requested;
  int count = 0;
  char why[256];
  if (sr_cuda_probe(&count, why, sizeof why) == SR_OK && count > 0) return SR_BACKEND_CUDA;
  return SR_BACKEND_CPU;
}

sr_status sr_context_create(const sr_context_options *options, sr_context **out) {
  if (!out) return SR_ERR_INVALID_ARGUMENT;
  *out = NULL;
  sr_context_options o = options ? *options : sr_context_options_default();
  sr_context *ctx = (sr_context *)calloc(1, sizeof *ctx);
  if (!ctx) return SR_ERR_OUT_OF_MEMORY;
  *out = ctx;
  if (o.backend != SR_BACKEND_AUTO && o.backend != SR_BACKEND_CPU &&
      o.backend != SR_BACKEND_CUDA)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "unknown backend %d", (int)o.backend);
  if (o.threads < 0)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "threads must be >= 0, got %d", o.threads);
  if (o.device < 0)
    return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "device index must be >= 0, got %d", o.device);
  ctx->kind = resolve_kind(o.backend);
  ctx->device = o.device;
  ctx->threads = o.threads;
  return sr_backend_create(ctx, ctx->kind, o.device, o.threads, &ctx->backend);
}

void sr_context_destroy(sr_context *ctx) {
  if (!ctx) return;
  sr_backend_destroy(ctx->backend);
  free(ctx);
}

sr_backend_kind sr_context_backend(const sr_context *ctx) { return ctx ? ctx->kind : SR_BACKEND_CPU; }

const char *sr_context_last_error(const sr_context *ctx) { return ctx ? ctx->last_error : ""; }

void sr_context_clear_error(sr_context *ctx) {
  if (!ctx) return;
  ctx->last_status = SR_OK;
  ctx->last_error[0] = '\0';
}

sr_backend *sr_context_get_backend(sr_context *ctx) { return ctx ? ctx->backend : NULL; }
