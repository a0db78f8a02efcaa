/* The sr_model handle and the forward executor shared by model.c,
 * ncsnpp_weights.c and ncsnpp_forward.c. */
#ifndef SR_MODEL_INTERNAL_H
#define SR_MODEL_INTERNAL_H

#include "model/arena.h"
#include "model/ncsnpp.h"

/* The FIR descriptors every layer of one model uses. */
typedef struct sr_ncsnpp_firs {
  sr_fir_desc up;        /* upsample_2d, or nearest x2 without FIR */
  sr_fir_desc down;      /* downsample_2d, or 2x2 mean without FIR */
  sr_fir_desc conv_down; /* conv_downsample_2d's padding FIR (then conv stride 2) */
  sr_fir_desc zero_up;   /* upsample_conv_2d: zero insertion + conv padding */
  sr_fir_desc conv_up;   /* upsample_conv_2d's FIR after the conv */
} sr_ncsnpp_firs;

/* The plan for one (N, H, W): arena and conv workspace sizes. */
typedef struct sr_ncsnpp_plan {
  int n, h, w;
  size_t arena_bytes;
  size_t conv_ws_bytes;
  double flops;
} sr_ncsnpp_plan;

struct sr_model {
  sr_context *ctx;
  sr_backend *b;
  sr_ncsnpp net;
  sr_ncsnpp_firs firs;
  float *weights;         /* backend: the weight block (net.weight_floats) */
  float *fourier_w;       /* host copy of GaussianFourierProjection.W (nf), or NULL */
  sr_precision precision; /* of every convolution (sr_model_set_precision) */
  double flops_native;    /* one sample at image_size */
  /* planned memory, for plan.{n, h, w} */
  sr_ncsnpp_plan plan;
  void *arena;      /* backend, plan.arena_bytes */
  void *conv_ws;    /* backend, plan.conv_ws_bytes */
  float *temb_host; /* plan.n x embedding width */
};

void sr_ncsnpp_firs_init(const sr_ncsnpp_config *cfg, sr_ncsnpp_firs *f);

/* Runs the network. dry: plan only (sizes and FLOPs into *plan, b may be
 * NULL, nothing is touched); else runs on model memory planned for the
 * same (n, h, w). */
sr_status sr_ncsnpp_run(sr_model *m, int dry, int n, int h, int w, const float *x,
                        const float *cond, float *out, sr_ncsnpp_plan *plan);

/* Checks every expected tensor of net against an open safetensors file;
 * when host_block is not NULL also fills it (net.weight_floats floats). */
struct sr_safetensors;
sr_status sr_ncsnpp_weights_load(sr_context *ctx, const char *path, const sr_ncsnpp *net,
                                 const struct sr_safetensors *st, float *host_block);

#endif
