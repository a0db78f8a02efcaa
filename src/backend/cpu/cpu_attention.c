/* NCSN++ self-attention and fully connected layers on the CPU, through
 * OpenBLAS sgemm. Attention per sample, q, k, v each (C, HW) in qkv:
 *   S (HW, HW) = q^T k            sgemm, K = C
 *   S[p, :] = softmax(scale * S[p, :])   rows in parallel
 *   out (C, HW) = v S^T           sgemm, K = HW */
#include <cblas.h>
#include <math.h>

#include "backend/cpu/cpu_internal.h"
#include "backend/cpu/cpu_math.h"
#include "backend/cpu/cpu_nn.h"
#include "core/error.h"

static void softmax_rows(float *s, size_t rows, size_t len, float scale, int threads) {
  const int parallel = threads > 1 && rows * len >= SR_CPU_PARALLEL_MIN;
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
  for (long long r = 0; r < (long long)rows; ++r) {
    float *row = s + (size_t)r * len;
    float m = row[0];
    for (size_t j = 1; j < len; ++j) m = row[j] > m ? row[j] : m;
    const float ms = m * scale;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (size_t j = 0; j < len; ++j) {
      float e = sr_expf_fast(row[j] * scale - ms);
      row[j] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
#pragma omp simd
    for (size_t j = 0; j < len; ++j) row[j] *= inv;
  }
}

sr_status sr_cpu_attention(sr_backend *b, const float *qkv, size_t n, size_t c, size_t hw,
                           float scale, float *workspace, float *out) {
  if (!workspace)
    return SR_FAIL_HERE(b->ctx, SR_ERR_INVALID_ARGUMENT, "attention: no workspace given");
  if (scale <= 0.0f)
    return SR_FAIL_HERE(b->ctx, SR_ERR_INVALID_ARGUMENT, "attention: scale must be positive");
  const int saved = sr_cpu_blas_single_begin();
  for (size_t s = 0; s < n; ++s) {
    const float *q = qkv + s * 3 * c * hw, *k = q + c * hw, *v = k + c * hw;
    float *sm = workspace + s * hw * hw;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)hw, (int)hw, (int)c, 1.0f, q,
                (int)hw, k, (int)hw, 0.0f, sm, (int)hw);
    /* scale > 0, so the row max of scale * S is scale * max S. */
    softmax_rows(sm, hw, hw, scale, b->threads > 0 ? b->threads : 1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)c, (int)hw, (int)hw, 1.0f, v,
                (int)hw, sm, (int)hw, 0.0f, out + s * c * hw, (int)hw);
  }
  sr_cpu_blas_single_end(saved);
  return SR_OK;
}

/* Small (a few samples x a few hundred features): plain loops, SiLU of the
 * input applied in chunks so nothing is allocated. */
sr_status sr_cpu_linear(sr_backend *b, const float *x, size_t n, size_t in, size_t out,
                        const float *w, const float *bias, int silu_in, float *y) {
  enum { CHUNK = 512 };
  float act[CHUNK];
  for (size_t s = 0; s < n; ++s) {
    float *ys = y + s * out;
    for (size_t o = 0; o < out; ++o) ys[o] = bias ? bias[o] : 0.0f;
    for (size_t i0 = 0; i0 < in; i0 += CHUNK) {
      const size_t len = in - i0 < CHUNK ? in - i0 : CHUNK;
      for (size_t i = 0; i < len; ++i)
        act[i] = silu_in ? sr_silu_fast(x[s * in + i0 + i]) : x[s * in + i0 + i];
      for (size_t o = 0; o < out; ++o) {
        const float *wo = w + o * in + i0;
        float acc = 0.0f;
        for (size_t i = 0; i < len; ++i) acc += wo[i] * act[i];
        ys[o] += acc;
      }
    }
  }
  return SR_OK;
}
