/* Checking and loading the tensors of an NCSN++ weights file. Every tensor
 * the configuration implies must be there, float32 (F32), of the expected
 * shape; nothing else may be there except score_sde_pytorch's `sigmas`
 * buffer. The first problem is reported by tensor name, in module order. */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "model/model_internal.h"

static void shape_text(char *buf, size_t size, int ndim, const int64_t *shape) {
  size_t used = 0;
  buf[0] = '\0';
  used += (size_t)snprintf(buf, size, "(");
  for (int d = 0; d < ndim && used < size; ++d)
    used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? ", " : "",
                             (long long)shape[d]);
  if (used < size) snprintf(buf + used, size - used, "%s)", ndim == 1 ? "," : "");
}

sr_status sr_ncsnpp_weights_load(sr_context *ctx, const char *path, const sr_ncsnpp *net,
                                 const sr_safetensors *st, float *host_block) {
  for (int i = 0; i < net->n_expected; ++i) {
    const sr_expected_tensor *e = &net->expected[i];
    const sr_st_tensor *t = sr_safetensors_find(st, e->name);
    if (!t)
      return sr_fail(ctx, SR_ERR_FORMAT,
                     "%s: tensor %s is missing (the configuration implies %d tensors)", path,
                     e->name, net->n_expected);
    if (t->dtype != SR_ST_F32)
      return sr_fail(ctx, SR_ERR_FORMAT, "%s: tensor %s is %s, expected F32", path, e->name,
                     sr_st_dtype_name(t->dtype));
    int same = t->ndim == e->ndim;
    for (int d = 0; same && d < e->ndim; ++d) same = t->shape[d] == e->shape[d];
    if (!same) {
      char got[128], want[128];
      shape_text(got, sizeof got, t->ndim, t->shape);
      shape_text(want, sizeof want, e->ndim, e->shape);
      return sr_fail(ctx, SR_ERR_SHAPE, "%s: tensor %s has shape %s, expected %s", path,
                     e->name, got, want);
    }
    if (!host_block) continue;
    float *dst = host_block + e->dst;
    if (e->op == SR_LOAD_COPY) {
      memcpy(dst, t->data, t->nbytes);
    } else {
      /* (in, out) -> (out, in); the source may be unaligned: memcpy each */
      const int64_t in = e->shape[0], out = e->shape[1];
      const unsigned char *src = (const unsigned char *)t->data;
      for (int64_t r = 0; r < in; ++r)
        for (int64_t c = 0; c < out; ++c)
          memcpy(&dst[c * in + r], src + (size_t)(r * out + c) * sizeof(float), sizeof(float));
    }
  }
  /* Anything else means the file and the configuration disagree. */
  const size_t count = sr_safetensors_count(st);
  for (size_t i = 0; i < count; ++i) {
    const char *name = sr_safetensors_tensor(st, i)->name;
    if (strcmp(name, "sigmas") == 0) continue;
    int known = 0;
    for (int j = 0; j < net->n_expected && !known; ++j)
      known = strcmp(net->expected[j].name, name) == 0;
    if (!known)
      return sr_fail(ctx, SR_ERR_FORMAT,
                     "%s: tensor %s is not part of the architecture its configuration describes",
                     path, name);
  }
  return SR_OK;
}
