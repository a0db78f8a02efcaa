/* NCSN++ (Song et al., score_sde / score_sde_pytorch `ncsnpp`) inside
 * scorerecon: its configuration, the module list in score_sde_pytorch's
 * construction order (so `all_modules.<i>.*` tensor names map exactly),
 * the weights, and the forward pass over the backend op table.
 *
 * Files: ncsnpp_config.c (config from the safetensors metadata JSON),
 * ncsnpp_build.c (modules and expected tensors), ncsnpp_weights.c (loading
 * and validation), arena.c (the activation arena), ncsnpp_forward.c
 * (the network), model.c (the public sr_model API). */
#ifndef SR_MODEL_NCSNPP_H
#define SR_MODEL_NCSNPP_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "scorerecon.h"

#define SR_NCSNPP_MAX_LEVELS 12
#define SR_NCSNPP_MAX_ATTN 12
#define SR_NCSNPP_MAX_FIR 8

typedef enum { SR_RESBLOCK_BIGGAN, SR_RESBLOCK_DDPM } sr_resblock_type;
typedef enum { SR_PROG_NONE, SR_PROG_OUTPUT_SKIP, SR_PROG_RESIDUAL } sr_progressive;
typedef enum { SR_PROG_IN_NONE, SR_PROG_IN_INPUT_SKIP, SR_PROG_IN_RESIDUAL } sr_progressive_input;
typedef enum { SR_COMBINE_SUM, SR_COMBINE_CAT } sr_combine;
typedef enum { SR_EMBED_FOURIER, SR_EMBED_POSITIONAL } sr_embedding;
typedef enum { SR_SDE_VE, SR_SDE_VP, SR_SDE_SUBVP } sr_sde_kind;

/* Every hyperparameter, with score_sde's config names. */
typedef struct sr_ncsnpp_config {
  /* model */
  int nf;
  int ch_mult[SR_NCSNPP_MAX_LEVELS];
  int num_resolutions; /* len(ch_mult) */
  int num_res_blocks;
  int attn_resolutions[SR_NCSNPP_MAX_ATTN];
  int num_attn;
  int resamp_with_conv;
  int fir;
  float fir_kernel[SR_NCSNPP_MAX_FIR];
  int fir_len;
  int skip_rescale;
  sr_resblock_type resblock_type;
  sr_progressive progressive;
  sr_progressive_input progressive_input;
  sr_combine progressive_combine;
  sr_embedding embedding_type;
  double fourier_scale; /* only used at initialisation; informative */
  double init_scale;    /* idem */
  int conditional;
  int scale_by_sigma;
  double dropout; /* ignored at inference */
  /* data */
  int image_size;
  int num_channels;
  int centered;
  double value_max; /* data lie in [0, value_max] (default 1): the sampler clips there */
  /* SDE */
  sr_sde_kind sde;
  double sigma_min, sigma_max;
  double beta_min, beta_max;
  int num_scales;
  int continuous;
} sr_ncsnpp_config;

/* Parses the configuration JSON (the metadata value under "config"):
 * {"model": {...}, "data": {...}, "training": {...}} with score_sde's names.
 * `what` names the source in messages. */
sr_status sr_ncsnpp_config_parse(sr_context *ctx, const char *what, const char *json,
                                 sr_ncsnpp_config *cfg);
const char *sr_sde_kind_name(sr_sde_kind k);

/* ---- modules, in score_sde_pytorch's construction order */

typedef enum {
  SR_MOD_FOURIER,   /* GaussianFourierProjection: W (nf) */
  SR_MOD_LINEAR,    /* nn.Linear: weight (out, in), bias (out) */
  SR_MOD_CONV,      /* nn.Conv2d 3x3 pad 1 or 1x1: weight, bias */
  SR_MOD_GROUPNORM, /* nn.GroupNorm: weight, bias */
  SR_MOD_RESBLOCK,  /* ResnetBlockBigGANpp or ResnetBlockDDPMpp */
  SR_MOD_ATTN,      /* AttnBlockpp */
  SR_MOD_COMBINE,   /* Combine: Conv_0 1x1 */
  SR_MOD_DOWNSAMPLE,
  SR_MOD_UPSAMPLE
} sr_module_kind;

/* Parameter slots of a module (indices into sr_module.p). */
enum {
  /* SR_MOD_RESBLOCK */
  SR_P_GN0_W,
  SR_P_GN0_B,
  SR_P_CONV0_W,
  SR_P_CONV0_B,
  SR_P_DENSE_W,
  SR_P_DENSE_B,
  SR_P_GN1_W,
  SR_P_GN1_B,
  SR_P_CONV1_W,
  SR_P_CONV1_B,
  SR_P_SKIP_W,
  SR_P_SKIP_B,
  SR_P_RESBLOCK_COUNT
};
enum { SR_P_ATTN_GN_W, SR_P_ATTN_GN_B, SR_P_QKV_W, SR_P_QKV_B, SR_P_OUT_W, SR_P_OUT_B };
/* SR_MOD_LINEAR / CONV / GROUPNORM / COMBINE / DOWN- and UPSAMPLE with conv,
 * FOURIER (slot 0 only) */
enum { SR_P_W, SR_P_B };

#define SR_MODULE_MAX_PARAMS 12
#define SR_PARAM_ABSENT ((size_t)-1)

typedef struct sr_module {
  sr_module_kind kind;
  int in_ch, out_ch;
  int up, down;  /* resblock (biggan) */
  int with_conv; /* down/upsample */
  int has_skip;  /* resblock: Conv_2 (biggan) or NIN_0 (ddpm) */
  int ksize;     /* conv: 3 or 1 */
  /* float offsets into the model's weight block, SR_PARAM_ABSENT if none */
  size_t p[SR_MODULE_MAX_PARAMS];
} sr_module;

/* One tensor the weights file must hold, and where it goes. */
typedef enum {
  SR_LOAD_COPY,     /* as stored */
  SR_LOAD_TRANSPOSE /* NIN W (in, out) -> (out, in): a 1x1 conv weight */
} sr_load_op;

typedef struct sr_expected_tensor {
  char name[96];
  int ndim;
  int64_t shape[4];
  size_t dst; /* float offset in the weight block */
  sr_load_op op;
} sr_expected_tensor;

typedef struct sr_ncsnpp {
  sr_ncsnpp_config cfg;
  sr_module *modules;
  int n_modules;
  sr_expected_tensor *expected;
  int n_expected;
  size_t weight_floats; /* size of the weight block */
  int64_t num_params;   /* as score_sde_pytorch counts them */
} sr_ncsnpp;

/* Builds the module list and expected tensors from a config. */
sr_status sr_ncsnpp_build(sr_context *ctx, const sr_ncsnpp_config *cfg, sr_ncsnpp *net);
void sr_ncsnpp_release(sr_ncsnpp *net);
int sr_ncsnpp_groups(int channels); /* min(C / 4, 32), as every GroupNorm in NCSN++ */

#endif
