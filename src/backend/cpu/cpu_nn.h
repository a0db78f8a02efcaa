/* The CPU backend's score-network ops (issue 4), same contracts as in
 * backend.h. Files: cpu_conv.c, cpu_groupnorm.c, cpu_attention.c,
 * cpu_upfirdn.c; vectorisable math in cpu_math.h. */
#ifndef SR_BACKEND_CPU_NN_H
#define SR_BACKEND_CPU_NN_H

#include "backend/backend.h"

sr_status sr_cpu_conv2d(sr_backend *b, const sr_conv2d_desc *d, const float *x, const float *w,
                        const float *bias, const float *bias_nc, const float *residual, float scale,
                        float *y, void *workspace);
sr_status sr_cpu_conv2d_workspace(sr_backend *b, const sr_conv2d_desc *d, size_t *bytes);
sr_status sr_cpu_conv2d_normed(sr_backend *b, const sr_conv2d_desc *d, const float *x,
                               const float *ab, int silu, const float *w, const float *bias,
                               const float *bias_nc, const float *residual, float scale, float *y,
                               void *workspace);
sr_status sr_cpu_group_norm(sr_backend *b, const float *x, size_t n, size_t c, size_t hw,
                            size_t groups, const float *gamma, const float *beta, float eps,
                            int silu, float *y);
sr_status sr_cpu_group_norm_coeffs(sr_backend *b, const float *x, size_t n, size_t c, size_t hw,
                                   size_t groups, const float *gamma, const float *beta, float eps,
                                   float *ab);
/* y[i] = act(x[i] * a + c), act = SiLU when silu: GroupNorm's last step,
 * shared by group_norm and conv2d_normed so both round the same. y may be x. */
void sr_cpu_affine_act(const float *x, float *y, size_t n, float a, float c, int silu);
/* y[i] = the operand rounding of `precision` (src/core/precision.h) of
 * x[i]; y may be x. The reduced-precision convolutions round their copies
 * of the input and the weights with it. */
void sr_cpu_round_operands(const float *x, float *y, size_t n, int precision);
sr_status sr_cpu_silu(sr_backend *b, const float *x, size_t count, float *y);
sr_status sr_cpu_linear(sr_backend *b, const float *x, size_t n, size_t in, size_t out,
                        const float *w, const float *bias, int silu_in, float *y);
sr_status sr_cpu_attention(sr_backend *b, const float *qkv, size_t n, size_t c, size_t hw,
                           float scale, float *workspace, float *out);
sr_status sr_cpu_upfirdn2d(sr_backend *b, const sr_fir_desc *f, const float *x, size_t planes,
                           size_t h, size_t w, const float *bias, size_t channels, float *y);
/* OpenBLAS held to one thread per call between begin and end (which
 * restores the caller's setting): its own threads, left spinning after a
 * call, would fight the OpenMP threads of the ops around it. */
int sr_cpu_blas_single_begin(void);
void sr_cpu_blas_single_end(int saved);
sr_status sr_cpu_concat_channels(sr_backend *b, float *dst, const float *a, const float *bsrc,
                                 size_t n, size_t ca, size_t cb, size_t hw);

#endif
