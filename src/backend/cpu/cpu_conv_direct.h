/* The direct stride-1 convolution of the CPU backend (cpu_conv_direct.c),
 * used by sr_cpu_conv2d when the CPU has AVX2+FMA; the im2col + sgemm path
 * in cpu_conv.c serves the other shapes. Same contract as the conv2d op. */
#ifndef SR_BACKEND_CPU_CONV_DIRECT_H
#define SR_BACKEND_CPU_CONV_DIRECT_H

#include <stddef.h>

#include "backend/backend.h"

#define SR_CONV_DIRECT_MAX_TAPS 25 /* up to 5x5 */
#define SR_CONV_DIRECT_MAX_COUT 4096
/* Wider inputs go to im2col + OpenBLAS sgemm: with K = 9 C_in >= 2304 the
 * sgemm kernel outruns the direct micro-kernel (Score-MRI knee config,
 * 128^2, one thread: 5.22 s vs 5.87 s per forward; thresholds 64 and 128
 * gave 5.73 and 5.71 s, so narrower layers stay direct). */
#define SR_CONV_DIRECT_MAX_CIN 255

/* Whether this CPU and shape take the direct path. */
int sr_cpu_conv_direct_supported(const sr_conv2d_desc *d);
/* Workspace bytes for `threads` threads: packed weights + a band per thread. */
size_t sr_cpu_conv_direct_workspace(const sr_conv2d_desc *d, int threads);
/* ab: conv2d_normed's (a, c) per (sample, input channel), or NULL. */
void sr_cpu_conv_direct(const sr_conv2d_desc *d, int threads, const float *x, const float *ab,
                        int silu, const float *w, const float *bias, const float *bias_nc,
                        const float *residual, float scale, float *y, void *workspace);

#endif
