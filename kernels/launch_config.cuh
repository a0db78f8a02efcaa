/* Launch-size helpers shared by the kernel files. */
#ifndef SR_KERNELS_LAUNCH_CONFIG_CUH
#define SR_KERNELS_LAUNCH_CONFIG_CUH

#include <stddef.h>

namespace sr {

constexpr int kElementwiseBlock = 256;
/* Grid-stride loops cap the grid: enough blocks to fill any current GPU
 * (132 SMs x 16 resident blocks), and few enough that the emulator is not
 * dominated by per-block overhead. */
constexpr unsigned kMaxGridBlocks = 4096;

inline unsigned grid_for(size_t n, int block) {
  size_t blocks = (n + (size_t)block - 1) / (size_t)block;
  if (blocks == 0) blocks = 1;
  return blocks > kMaxGridBlocks ? kMaxGridBlocks : (unsigned)blocks;
}

} // namespace sr

#endif
