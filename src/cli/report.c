#include "cli/report.h"

#include <stdarg.h>
#include <stdio.h>

static void vreport(const char *command, const char *fmt, va_list ap) {
  fprintf(stderr, "scorerecon %s: ", command);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

int sr_cli_fail(const char *command, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(command, fmt, ap);
  va_end(ap);
  return SR_EXIT_FAILURE;
}

int sr_cli_usage(const char *command, const char *fmt, ...) {
  fprintf(stderr, "scorerecon %s: ", command);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, " (see 'scorerecon %s --help')\n", command);
  return SR_EXIT_USAGE;
}

int sr_cli_fail_status(const char *command, const sr_context *ctx, sr_status status) {
  const char *msg = ctx ? sr_context_last_error(ctx) : "";
  return sr_cli_fail(command, "%s", msg && *msg ? msg : sr_strerror(status));
}

sr_context *sr_cli_host_context(const char *command) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  o.threads = 1;
  sr_context *ctx = NULL;
  sr_status s = sr_context_create(&o, &ctx);
  if (s != SR_OK) {
    sr_cli_fail_status(command, ctx, s);
    sr_context_destroy(ctx);
    return NULL;
  }
  return ctx;
}
