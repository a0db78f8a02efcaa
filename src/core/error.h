/* Error reporting inside the library: a status code plus a one-line message
 * stored in the context. Nothing here prints or exits. */
#ifndef SR_CORE_ERROR_H
#define SR_CORE_ERROR_H

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Stores a printf-style message in ctx (which may be NULL) and returns code.
 * User-facing failures (bad files, bad options) use this: the message names
 * the file or option and the problem, nothing about our sources. */
sr_status sr_fail(sr_context *ctx, sr_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As sr_fail, prefixed with our source file and line: for device failures and
 * broken invariants, where the developer needs to know which call failed. */
sr_status sr_fail_at(sr_context *ctx, sr_status code, const char *file, int line,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define SR_FAIL_HERE(ctx, code, ...) sr_fail_at((ctx), (code), __FILE__, __LINE__, __VA_ARGS__)

/* Propagates a failure unchanged: the first (innermost) message wins. */
#define SR_TRY(expr)                                                                           \
  do {                                                                                         \
    sr_status sr_try_status_ = (expr);                                                         \
    if (sr_try_status_ != SR_OK) return sr_try_status_;                                        \
  } while (0)

#ifdef __cplusplus
}
#endif

#endif
