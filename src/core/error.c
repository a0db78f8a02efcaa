#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/context.h"

static void store(sr_context *ctx, sr_status code, const char *prefix, const char *fmt,
                  va_list ap) {
  if (!ctx) return;
  ctx->last_status = code;
  size_t used = 0;
  if (prefix) {
    int n = snprintf(ctx->last_error, sizeof ctx->last_error, "%s", prefix);
    used = n > 0 ? (size_t)n : 0;
    if (used >= sizeof ctx->last_error) used = sizeof ctx->last_error - 1;
  }
  vsnprintf(ctx->last_error + used, sizeof ctx->last_error - used, fmt, ap);
  /* One line: a message that spans lines breaks log parsers and the CLI's
   * promise of a single line on stderr. */
  for (char *p = ctx->last_error; *p; ++p)
    if (*p == '\n' || *p == '\r') *p = ' ';
}

sr_status sr_fail(sr_context *ctx, sr_status code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  store(ctx, code, NULL, fmt, ap);
  va_end(ap);
  return code;
}

sr_status sr_fail_at(sr_context *ctx, sr_status code, const char *file, int line,
                     const char *fmt, ...) {
  char prefix[256];
  const char *base = strrchr(file, '/');
  snprintf(prefix, sizeof prefix, "%s:%d: ", base ? base + 1 : file, line);
  va_list ap;
  va_start(ap, fmt);
  store(ctx, code, prefix, fmt, ap);
  va_end(ap);
  return code;
}

const char *sr_strerror(sr_status status) {
  switch (status) {
  case SR_OK: return "success";
  case SR_ERR_INVALID_ARGUMENT: return "invalid argument";
  case SR_ERR_OUT_OF_MEMORY: return "out of memory";
  case SR_ERR_IO: return "input/output error";
  case SR_ERR_FORMAT: return "malformed file";
  case SR_ERR_UNSUPPORTED: return "unsupported";
  case SR_ERR_SHAPE: return "shape or dtype mismatch";
  case SR_ERR_NUMERIC: return "non-finite values";
  case SR_ERR_NO_DEVICE: return "no usable GPU";
  case SR_ERR_DEVICE: return "GPU library failure";
  case SR_ERR_INTERNAL: return "internal error";
  }
  return "unknown status";
}
