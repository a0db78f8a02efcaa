/* A small test harness shared by every C test: checks that record the first
 * failure with file and line, and the ctest skip convention (exit code 77). */
#ifndef SR_TEST_UTIL_H
#define SR_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define SR_TEST_SKIP 77

static int sr_test_failures = 0;

#define CHECK(cond)                                                                            \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                \
      ++sr_test_failures;                                                                      \
    }                                                                                          \
  } while (0)

#define CHECK_MSG(cond, ...)                                                                   \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);                \
      fprintf(stderr, __VA_ARGS__);                                                            \
      fputc('\n', stderr);                                                                     \
      ++sr_test_failures;                                                                      \
    }                                                                                          \
  } while (0)

/* Checks a call returned SR_OK; on failure prints the context's message. */
#define CHECK_OK(ctx, call)                                                                    \
  do {                                                                                         \
    sr_status st_ = (call);                                                                    \
    if (st_ != SR_OK) {                                                                        \
      fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call, sr_strerror(st_),   \
              (ctx) ? sr_context_last_error(ctx) : "");                                        \
      ++sr_test_failures;                                                                      \
    }                                                                                          \
  } while (0)

/* Checks a call failed with the expected code and left a non-empty message. */
#define CHECK_FAILS(ctx, call, code)                                                           \
  do {                                                                                         \
    sr_status st_ = (call);                                                                    \
    if (st_ != (code)) {                                                                       \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__, #call,       \
              sr_strerror(st_), sr_strerror(code));                                            \
      ++sr_test_failures;                                                                      \
    } else if ((ctx) && sr_context_last_error(ctx)[0] == '\0') {                               \
      fprintf(stderr, "%s:%d: %s failed without a message\n", __FILE__, __LINE__, #call);      \
      ++sr_test_failures;                                                                      \
    }                                                                                          \
  } while (0)

/* Relative L2 error ||a - b|| / max(||b||, tiny), in double. */
static inline double sr_test_rel_l2(const float *a, const float *b, size_t n) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double d = (double)a[i] - (double)b[i];
    num += d * d;
    den += (double)b[i] * (double)b[i];
  }
  return sqrt(num) / (den > 1e-300 ? sqrt(den) : 1.0);
}

static inline int sr_test_finish(const char *name) {
  if (sr_test_failures) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, sr_test_failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

#endif
