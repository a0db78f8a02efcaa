// CUDA's atomics, fences, device math and integer intrinsics for emulated kernels, under
// their CUDA names in the global namespace. Included by emu_device.h.
#ifndef SR_EMU_INTRINSICS_H
#define SR_EMU_INTRINSICS_H

#include <math.h>
#include <string.h>

// ---------------------------------------------------------------- atomics
// Real atomic builtins, relaxed as CUDA's are; float and double through compare-and-swap.
namespace sr_emu {
template <class T, class F> inline T atomic_update(T *address, F op) {
  T old, desired;
  __atomic_load(address, &old, __ATOMIC_RELAXED);
  do {
    desired = op(old);
  } while (!__atomic_compare_exchange(address, &old, &desired, false, __ATOMIC_RELAXED,
                                      __ATOMIC_RELAXED));
  return old;
}
} // namespace sr_emu

#define SR_EMU_ATOMIC_INTEGER_OPS(T)                                                               \
  inline T atomicAdd(T *a, T v) {                                                                  \
    return __atomic_fetch_add(a, v, __ATOMIC_RELAXED);                                             \
  }                                                                                                \
  inline T atomicExch(T *a, T v) {                                                                 \
    return __atomic_exchange_n(a, v, __ATOMIC_RELAXED);                                            \
  }                                                                                                \
  inline T atomicAnd(T *a, T v) {                                                                  \
    return __atomic_fetch_and(a, v, __ATOMIC_RELAXED);                                             \
  }                                                                                                \
  inline T atomicOr(T *a, T v) {                                                                   \
    return __atomic_fetch_or(a, v, __ATOMIC_RELAXED);                                              \
  }                                                                                                \
  inline T atomicXor(T *a, T v) {                                                                  \
    return __atomic_fetch_xor(a, v, __ATOMIC_RELAXED);                                             \
  }                                                                                                \
  inline T atomicMin(T *a, T v) {                                                                  \
    return ::sr_emu::atomic_update(a, [v](T o) { return v < o ? v : o; });                         \
  }                                                                                                \
  inline T atomicMax(T *a, T v) {                                                                  \
    return ::sr_emu::atomic_update(a, [v](T o) { return v > o ? v : o; });                         \
  }                                                                                                \
  inline T atomicCAS(T *a, T compare, T v) {                                                       \
    __atomic_compare_exchange_n(a, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);        \
    return compare;                                                                                \
  }
SR_EMU_ATOMIC_INTEGER_OPS(int)
SR_EMU_ATOMIC_INTEGER_OPS(unsigned)
SR_EMU_ATOMIC_INTEGER_OPS(unsigned long long)
#undef SR_EMU_ATOMIC_INTEGER_OPS
inline long long atomicMin(long long *a, long long v) {
  return ::sr_emu::atomic_update(a, [v](long long o) { return v < o ? v : o; });
}
inline long long atomicMax(long long *a, long long v) {
  return ::sr_emu::atomic_update(a, [v](long long o) { return v > o ? v : o; });
}
inline unsigned short atomicCAS(unsigned short *a, unsigned short compare, unsigned short v) {
  __atomic_compare_exchange_n(a, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return compare;
}
inline int atomicSub(int *a, int v) {
  return __atomic_fetch_sub(a, v, __ATOMIC_RELAXED);
}
inline unsigned atomicSub(unsigned *a, unsigned v) {
  return __atomic_fetch_sub(a, v, __ATOMIC_RELAXED);
}
inline float atomicAdd(float *a, float v) {
  return ::sr_emu::atomic_update(a, [v](float o) { return o + v; });
}
inline double atomicAdd(double *a, double v) {
  return ::sr_emu::atomic_update(a, [v](double o) { return o + v; });
}
inline float atomicExch(float *a, float v) {
  float old;
  __atomic_exchange(a, &v, &old, __ATOMIC_RELAXED);
  return old;
}
inline unsigned atomicInc(unsigned *a, unsigned limit) {
  return ::sr_emu::atomic_update(a, [limit](unsigned o) { return o >= limit ? 0u : o + 1; });
}
inline unsigned atomicDec(unsigned *a, unsigned limit) {
  return ::sr_emu::atomic_update(
      a, [limit](unsigned o) { return (o == 0 || o > limit) ? limit : o - 1; });
}
inline void __threadfence() {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
inline void __threadfence_block() {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
inline void __threadfence_system() {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
inline void __nanosleep(unsigned) {}
long long clock64();

// ---------------------------------------------------------------- device math
// glibc declares (but does not export) __expf, __logf, __sinf, __cosf, __tanf, __powf,
// __exp10f, __log2f, __log10f and __sincosf; device_math.cpp defines them. The rest here.
inline float __fdividef(float a, float b) {
  return a / b;
}
inline float fdividef(float a, float b) {
  return a / b;
}
inline float rsqrtf(float x) {
  return 1.0f / sqrtf(x);
}
inline double rsqrt(double x) {
  return 1.0 / sqrt(x);
}
inline float __frsqrt_rn(float x) {
  return 1.0f / sqrtf(x);
}
inline float __fsqrt_rn(float x) {
  return sqrtf(x);
}
inline float __frcp_rn(float x) {
  return 1.0f / x;
}
inline float __fdiv_rn(float a, float b) {
  return a / b;
}
inline float __fadd_rn(float a, float b) {
  return a + b;
}
inline float __fsub_rn(float a, float b) {
  return a - b;
}
inline float __fmul_rn(float a, float b) {
  return a * b;
}
inline float __fmaf_rn(float a, float b, float c) {
  return fmaf(a, b, c);
}
inline double __dadd_rn(double a, double b) {
  return a + b;
}
inline double __dmul_rn(double a, double b) {
  return a * b;
}
inline double __fma_rn(double a, double b, double c) {
  return fma(a, b, c);
}
inline float __saturatef(float x) {
  return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f;
}

namespace sr_emu {
// CUDA's float-to-integer conversions saturate and map NaN to 0; C's are undefined there.
inline int saturate_to_int(float r) {
  if (r != r) return 0;
  if (r >= 2147483648.0f) return 2147483647;
  if (r < -2147483648.0f) return -2147483647 - 1;
  return (int)r;
}
inline unsigned saturate_to_uint(float r) {
  if (!(r > 0.0f)) return 0;
  if (r >= 4294967296.0f) return 4294967295u;
  return (unsigned)r;
}
} // namespace sr_emu
inline int __float2int_rn(float x) {
  return ::sr_emu::saturate_to_int(nearbyintf(x));
}
inline int __float2int_rz(float x) {
  return ::sr_emu::saturate_to_int(truncf(x));
}
inline int __float2int_rd(float x) {
  return ::sr_emu::saturate_to_int(floorf(x));
}
inline int __float2int_ru(float x) {
  return ::sr_emu::saturate_to_int(ceilf(x));
}
inline unsigned __float2uint_rn(float x) {
  return ::sr_emu::saturate_to_uint(nearbyintf(x));
}
inline unsigned __float2uint_rz(float x) {
  return ::sr_emu::saturate_to_uint(truncf(x));
}
inline unsigned __float2uint_rd(float x) {
  return ::sr_emu::saturate_to_uint(floorf(x));
}
inline unsigned __float2uint_ru(float x) {
  return ::sr_emu::saturate_to_uint(ceilf(x));
}
inline float __int2float_rn(int x) {
  return (float)x;
}
inline float __uint2float_rn(unsigned x) {
  return (float)x;
}
inline int __float_as_int(float x) {
  int i;
  memcpy(&i, &x, sizeof i);
  return i;
}
inline unsigned __float_as_uint(float x) {
  unsigned i;
  memcpy(&i, &x, sizeof i);
  return i;
}
inline float __int_as_float(int i) {
  float x;
  memcpy(&x, &i, sizeof x);
  return x;
}
inline float __uint_as_float(unsigned i) {
  float x;
  memcpy(&x, &i, sizeof x);
  return x;
}
inline long long __double_as_longlong(double x) {
  long long i;
  memcpy(&i, &x, sizeof i);
  return i;
}
inline double __longlong_as_double(long long i) {
  double x;
  memcpy(&x, &i, sizeof x);
  return x;
}

// ---------------------------------------------------------------- integer intrinsics
inline int __popc(unsigned x) {
  return __builtin_popcount(x);
}
inline int __popcll(unsigned long long x) {
  return __builtin_popcountll(x);
}
inline int __clz(int x) {
  return x ? __builtin_clz((unsigned)x) : 32;
}
inline int __clzll(long long x) {
  return x ? __builtin_clzll((unsigned long long)x) : 64;
}
inline int __ffs(int x) {
  return __builtin_ffs(x);
}
inline int __ffsll(long long x) {
  return __builtin_ffsll(x);
}
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline int __mulhi(int a, int b) {
  return (int)(((long long)a * b) >> 32);
}
inline unsigned __umulhi(unsigned a, unsigned b) {
  return (unsigned)(((unsigned long long)a * b) >> 32);
}
inline unsigned __umul24(unsigned a, unsigned b) {
  return (a & 0xffffffu) * (b & 0xffffffu);
}
inline unsigned __funnelshift_l(unsigned lo, unsigned hi, unsigned shift) {
  shift &= 31u;
  return shift ? (hi << shift) | (lo >> (32 - shift)) : hi;
}
inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned shift) {
  shift &= 31u;
  return shift ? (lo >> shift) | (hi << (32 - shift)) : lo;
}
inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {
  unsigned long long v = ((unsigned long long)y << 32) | x;
  unsigned r = 0;
  for (int i = 0; i < 4; ++i)
    r |= (unsigned)((v >> (8 * ((s >> (4 * i)) & 7u))) & 0xffu) << (8 * i);
  return r;
}

// min and max as CUDA overloads them (mixed signedness compares as unsigned).
#define SR_EMU_MIN_MAX(A, B, R)                                                                    \
  inline R min(A a, B b) {                                                                         \
    return (R)a < (R)b ? (R)a : (R)b;                                                              \
  }                                                                                                \
  inline R max(A a, B b) {                                                                         \
    return (R)a > (R)b ? (R)a : (R)b;                                                              \
  }
SR_EMU_MIN_MAX(int, int, int)
SR_EMU_MIN_MAX(unsigned, unsigned, unsigned)
SR_EMU_MIN_MAX(int, unsigned, unsigned)
SR_EMU_MIN_MAX(unsigned, int, unsigned)
SR_EMU_MIN_MAX(long, long, long)
SR_EMU_MIN_MAX(unsigned long, unsigned long, unsigned long)
SR_EMU_MIN_MAX(long long, long long, long long)
SR_EMU_MIN_MAX(unsigned long long, unsigned long long, unsigned long long)
#undef SR_EMU_MIN_MAX
inline float min(float a, float b) {
  return fminf(a, b);
}
inline float max(float a, float b) {
  return fmaxf(a, b);
}
inline double min(double a, double b) {
  return fmin(a, b);
}
inline double max(double a, double b) {
  return fmax(a, b);
}

// Cache-hinted loads and stores are plain ones here.
template <class T> inline T __ldg(const T *p) {
  return *p;
}
template <class T> inline T __ldca(const T *p) {
  return *p;
}
template <class T> inline T __ldcg(const T *p) {
  return *p;
}
template <class T> inline T __ldcs(const T *p) {
  return *p;
}
template <class T> inline T __ldlu(const T *p) {
  return *p;
}
template <class T> inline T __ldcv(const T *p) {
  return *p;
}
template <class T> inline void __stwb(T *p, T v) {
  *p = v;
}
template <class T> inline void __stcg(T *p, T v) {
  *p = v;
}
template <class T> inline void __stcs(T *p, T v) {
  *p = v;
}
template <class T> inline void __stwt(T *p, T v) {
  *p = v;
}

#endif
