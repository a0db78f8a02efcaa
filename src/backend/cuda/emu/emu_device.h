// What a kernel sees of the device when kernels/*.cu are compiled by the host C++ compiler
// against the CPU emulator (-DSR_CUDA_EMU): thread coordinates, barriers, warp intrinsics,
// atomics, device math, shared memory and the launch. Included only through
// kernels/cuda_compat.cuh; docs/emulator.md explains the model.
#ifndef SR_EMU_DEVICE_H
#define SR_EMU_DEVICE_H

#if !defined(SR_CUDA_EMU) || !defined(__cplusplus) || __cplusplus < 201703L
#error "emu_device.h belongs to the emulation build: C++17 with -DSR_CUDA_EMU"
#endif

// Execution-space qualifiers mean nothing on the host. The toolkit's host_defines.h keeps
// definitions made before it, so these come first; __launch_bounds__ it leaves undefined.
#ifndef __global__
#define __global__
#endif
#ifndef __device__
#define __device__
#endif
#ifndef __host__
#define __host__
#endif
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif

// The toolkit's own headers in host mode: the real dim3, float4, cudaError_t, cudaStream_t,
// and the host arithmetic of __half and __nv_bfloat16.
#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <tuple>
#include <type_traits>
#include <utility>

// Static shared memory. The build rewrites every `__shared__ T name[N];` statement into a
// per-block heap array (sr_emu::shared_var below; the tool is rewrite_shared.cpp), so that
// AddressSanitizer sees its bounds and every block starts from NaN bytes. This fallback
// only serves declarations the rewriter cannot see, e.g. inside a macro body.
#undef __shared__
#define __shared__ static

namespace sr_emu {

// ---------------------------------------------------------------- thread coordinates
// The scheduler stores the running thread's coordinates here at every switch, so reading
// threadIdx costs one load. Not const: the compiler must reload them after any call.
extern uint3 g_thread_idx;
extern uint3 g_block_idx;
extern dim3 g_block_dim;
extern dim3 g_grid_dim;

// ---------------------------------------------------------------- barriers and warps
enum WarpOpKind : int {
  kShflIdx,
  kShflUp,
  kShflDown,
  kShflXor,
  kBallot,
  kAny,
  kAll,
  kSyncWarp,
};
enum BarrierKind : int { kBarSync, kBarCount, kBarAnd, kBarOr };

// Both block the calling emulated thread until its block (or the lanes of `mask`) arrive.
int barrier(BarrierKind kind, int predicate, const char *file, int line);
unsigned long long warp_op(WarpOpKind kind, unsigned mask, unsigned long long value, int arg,
                           int width, const char *file, int line);
unsigned active_mask();

// The source location of an intrinsic call: the macros below expand `__syncthreads()` to
// `sr_emu::At{__FILE__, __LINE__}.syncthreads()`, so every check can name the line.
struct At {
  const char *file;
  int line;

  void syncthreads() const { barrier(kBarSync, 0, file, line); }
  int syncthreads_count(int p) const { return barrier(kBarCount, p, file, line); }
  int syncthreads_and(int p) const { return barrier(kBarAnd, p, file, line); }
  int syncthreads_or(int p) const { return barrier(kBarOr, p, file, line); }
  void syncwarp(unsigned mask = 0xffffffffu) const {
    warp_op(kSyncWarp, mask, 0, 0, 32, file, line);
  }
  unsigned ballot(unsigned mask, int pred) const {
    return (unsigned)warp_op(kBallot, mask, pred != 0, 0, 32, file, line);
  }
  int any(unsigned mask, int pred) const {
    return (int)warp_op(kAny, mask, pred != 0, 0, 32, file, line);
  }
  int all(unsigned mask, int pred) const {
    return (int)warp_op(kAll, mask, pred != 0, 0, 32, file, line);
  }
  template <class T> T shfl(unsigned mask, T v, int src_lane, int width = 32) const {
    return shuffle(kShflIdx, mask, v, src_lane, width);
  }
  template <class T> T shfl_up(unsigned mask, T v, unsigned delta, int width = 32) const {
    return shuffle(kShflUp, mask, v, (int)delta, width);
  }
  template <class T> T shfl_down(unsigned mask, T v, unsigned delta, int width = 32) const {
    return shuffle(kShflDown, mask, v, (int)delta, width);
  }
  template <class T> T shfl_xor(unsigned mask, T v, int lane_mask, int width = 32) const {
    return shuffle(kShflXor, mask, v, lane_mask, width);
  }

private:
  template <class T> T shuffle(WarpOpKind kind, unsigned mask, T v, int arg, int width) const {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8,
                  "shuffles move values of at most 8 bytes");
    unsigned long long bits = 0;
    memcpy(&bits, &v, sizeof(T));
    bits = warp_op(kind, mask, bits, arg, width, file, line);
    T out;
    memcpy(&out, &bits, sizeof(T));
    return out;
  }
};

// ---------------------------------------------------------------- shared memory
// One static __shared__ variable: the block it was allocated for and where. The rewritten
// declaration `auto &name = shared_var<T>(slot, ...)` allocates on the first pass of each
// block and returns the same array to every thread of that block.
struct SharedSlot {
  unsigned long long block;
  void *ptr;
};
extern unsigned long long g_block_serial;
void shared_alloc(SharedSlot &slot, size_t size, size_t align, const char *name, const char *file,
                  int line);
template <class T, size_t Align = alignof(T)>
inline T &shared_var(SharedSlot &slot, const char *name, const char *file, int line) {
  if (slot.block != g_block_serial)
    shared_alloc(slot, sizeof(T), Align > alignof(T) ? Align : alignof(T), name, file, line);
  return *static_cast<T *>(slot.ptr);
}
// The launch's dynamic shared memory: exactly smem_bytes, NaN-filled at each block start.
void *dynamic_shared();

// ---------------------------------------------------------------- launch
struct LaunchSite {
  const char *kernel; // the kernel expression as written, e.g. "(transpose<float, 32>)"
  const char *file;
  int line;
  dim3 grid;
  dim3 block;
  size_t smem;
  cudaStream_t stream;
};
struct KernelArg {
  bool is_pointer;
  const void *ptr;
};
struct KernelCall {
  const void *entry;      // the kernel's address, as cudaFuncSetAttribute knows it
  void (*invoke)(void *); // runs the kernel once for the current emulated thread
  void *ctx;
  const KernelArg *args;
  int nargs;
};
void launch_kernel(const LaunchSite &site, const KernelCall &call);

template <class T> KernelArg describe_arg(const T &v) {
  if constexpr (std::is_pointer_v<T>)
    return {true, (const void *)v};
  else
    return {false, nullptr};
}

// The arguments are converted to the kernel's parameter types once, as a launch does; each
// emulated thread then calls the kernel with its own copy of them.
template <class... P> struct BoundLaunch {
  LaunchSite site;
  void (*kernel)(P...);

  template <class... A> void operator()(A &&...args) const {
    static_assert(sizeof...(A) == sizeof...(P), "SR_LAUNCH: wrong number of kernel arguments");
    using Params = std::tuple<P...>;
    struct Ctx {
      void (*kernel)(P...);
      Params params;
    } ctx{kernel, Params(std::forward<A>(args)...)};
    KernelArg descr[sizeof...(P) + 1] = {};
    std::apply(
        [&](const P &...p) {
          [[maybe_unused]] int i = 0;
          ((descr[i++] = describe_arg(p)), ...);
        },
        ctx.params);
    KernelCall call{(const void *)kernel,
                    [](void *c) {
                      Ctx *x = static_cast<Ctx *>(c);
                      std::apply(x->kernel, x->params);
                    },
                    &ctx, descr, (int)sizeof...(P)};
    launch_kernel(site, call);
  }
};

// SR_LAUNCH(kernel, grid, block, smem, stream, args...) becomes
// Launcher(...)(kernel)(args...): the kernel's parameter types come from its address, so
// template kernels need their template arguments spelled out, as in (k<float, 4>).
class Launcher {
public:
  Launcher(const char *kernel, const char *file, int line, dim3 grid, dim3 block, size_t smem,
           cudaStream_t stream)
      : site_{kernel, file, line, grid, block, smem, stream} {}
  template <class... P> BoundLaunch<P...> operator()(void (*kernel)(P...)) const {
    return BoundLaunch<P...>{site_, kernel};
  }

private:
  LaunchSite site_;
};

} // namespace sr_emu

// ---------------------------------------------------------------- CUDA's names
#define threadIdx (static_cast<const uint3 &>(::sr_emu::g_thread_idx))
#define blockIdx (static_cast<const uint3 &>(::sr_emu::g_block_idx))
#define blockDim (static_cast<const dim3 &>(::sr_emu::g_block_dim))
#define gridDim (static_cast<const dim3 &>(::sr_emu::g_grid_dim))
inline constexpr int warpSize = 32;

// Object-like, so that the call's own parentheses follow: __syncthreads() becomes
// ::sr_emu::At{__FILE__, __LINE__}.syncthreads(), with default arguments kept.
#define __syncthreads ::sr_emu::At{__FILE__, __LINE__}.syncthreads
#define __syncthreads_count ::sr_emu::At{__FILE__, __LINE__}.syncthreads_count
#define __syncthreads_and ::sr_emu::At{__FILE__, __LINE__}.syncthreads_and
#define __syncthreads_or ::sr_emu::At{__FILE__, __LINE__}.syncthreads_or
#define __syncwarp ::sr_emu::At{__FILE__, __LINE__}.syncwarp
#define __shfl_sync ::sr_emu::At{__FILE__, __LINE__}.shfl
#define __shfl_up_sync ::sr_emu::At{__FILE__, __LINE__}.shfl_up
#define __shfl_down_sync ::sr_emu::At{__FILE__, __LINE__}.shfl_down
#define __shfl_xor_sync ::sr_emu::At{__FILE__, __LINE__}.shfl_xor
#define __ballot_sync ::sr_emu::At{__FILE__, __LINE__}.ballot
#define __any_sync ::sr_emu::At{__FILE__, __LINE__}.any
#define __all_sync ::sr_emu::At{__FILE__, __LINE__}.all
// Lanes of the calling warp that have not exited (the emulator does not model convergence).
inline unsigned __activemask() {
  return ::sr_emu::active_mask();
}

// Atomics, device math and integer intrinsics under their CUDA names.
#include "emu_intrinsics.h"

#endif
