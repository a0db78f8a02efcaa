// Device math that glibc's <math.h> declares under CUDA's names but does not export, so a
// kernel calling __expf links. CUDA's versions trade accuracy for speed; these are the
// accurate ones, which only tightens comparisons with the CPU twins.
#include "emu_internal.h"

#include <time.h>

extern "C" {
float __expf(float x) noexcept {
  return expf(x);
}
float __exp10f(float x) noexcept {
  return exp10f(x);
}
float __logf(float x) noexcept {
  return logf(x);
}
float __log2f(float x) noexcept {
  return log2f(x);
}
float __log10f(float x) noexcept {
  return log10f(x);
}
float __sinf(float x) noexcept {
  return sinf(x);
}
float __cosf(float x) noexcept {
  return cosf(x);
}
float __tanf(float x) noexcept {
  return tanf(x);
}
float __powf(float x, float y) noexcept {
  return powf(x, y);
}
void __sincosf(float x, float *s, float *c) noexcept {
  sincosf(x, s, c);
}
}

long long clock64() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
