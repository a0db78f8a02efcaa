#include "build_config.h"
#include "scorerecon.h"

const sr_build_info *sr_get_build_info(void) {
  static const sr_build_info info = {
      .version = SR_VERSION_STRING,
      .git_commit = SR_BUILD_GIT_COMMIT,
      .build_type = SR_BUILD_TYPE,
#ifdef SR_HAVE_CUDA
      .cuda_compiled = 1,
#endif
#ifdef SR_CUDA_EMU
      .cuda_emulated = 1,
      .cuda_architectures = "emulated on the CPU",
#else
      .cuda_architectures = SR_BUILD_CUDA_ARCHITECTURES,
#endif
#ifdef SR_HAVE_CUDNN
      .cudnn_compiled = 1,
#endif
      .cpu_blas = "OpenBLAS",
      .cpu_fft = "FFTW3 (single precision)",
  };
  return &info;
}
