// The one place where kernel sources meet the difference between nvcc and the CPU emulator
// (docs/emulator.md). Every kernels/*.cu includes it first and
//   - launches only through SR_LAUNCH(kernel, grid, block, smem_bytes, stream, args...),
//     with template kernels in parentheses: SR_LAUNCH((k<float, 4>), ...);
//   - declares dynamic shared memory only through SR_DYNAMIC_SHARED(type, name).
// Under nvcc these are the usual <<<...>>> and one untyped extern __shared__ byte array
// (typed ones of different types in one file do not compile). Under SR_CUDA_EMU the file is
// compiled by the host C++ compiler against the emulator in src/backend/cuda/emu/.
#ifndef SR_CUDA_COMPAT_CUH
#define SR_CUDA_COMPAT_CUH

#if defined(SR_CUDA_EMU)

// sr_emu_compile_kernels() (cmake/emu.cmake) rewrites __shared__ declarations first.
#if !defined(SR_EMU_REWRITTEN)
#error "in emulation, kernels compile through sr_emu_compile_kernels() of cmake/emu.cmake"
#endif
#include "emu_device.h"

#define SR_LAUNCH(kernel, grid, block, smem_bytes, stream, ...)                                    \
  ::sr_emu::Launcher(#kernel, __FILE__, __LINE__, (grid), (block), (smem_bytes),                   \
                     (stream))(kernel)(__VA_ARGS__)
#define SR_DYNAMIC_SHARED(type, name) type *name = static_cast<type *>(::sr_emu::dynamic_shared())

#elif defined(__CUDACC__)

#include <cuda_runtime.h>

#define SR_LAUNCH(kernel, grid, block, smem_bytes, stream, ...)                                    \
  kernel<<<(grid), (block), (smem_bytes), (stream)>>>(__VA_ARGS__)
#define SR_DYNAMIC_SHARED(type, name)                                                              \
  extern __shared__ __align__(16) unsigned char sr_dynamic_smem_[];                                \
  type *name = reinterpret_cast<type *>(sr_dynamic_smem_)

#else
#error "kernels/*.cu compile with nvcc, or with the host compiler and -DSR_CUDA_EMU"
#endif

#endif
