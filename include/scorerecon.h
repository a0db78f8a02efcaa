/* scorerecon: reconstruct medical images from incomplete measurements with
 * score-based diffusion models (Song, Shen, Xing & Ermon, ICLR 2022).
 *
 * This is the only installed header. The library never prints and never
 * exits: every fallible call returns an sr_status, and the context holds a
 * one-line message saying where and why the last failure happened. */
#ifndef SCORERECON_H
#define SCORERECON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SR_VERSION_MAJOR 0
#define SR_VERSION_MINOR 1
#define SR_VERSION_PATCH 0
#define SR_VERSION_STRING "0.1.0"

typedef enum sr_status {
  SR_OK = 0,
  SR_ERR_INVALID_ARGUMENT, /* a caller passed something meaningless */
  SR_ERR_OUT_OF_MEMORY,    /* host or device allocation failed */
  SR_ERR_IO,               /* open/read/write/rename failed */
  SR_ERR_FORMAT,           /* a file is malformed, truncated or lies */
  SR_ERR_UNSUPPORTED,      /* valid, but not a case this build handles */
  SR_ERR_SHAPE,            /* shapes or dtypes do not agree */
  SR_ERR_NUMERIC,          /* NaN or Inf where finite values are needed */
  SR_ERR_NO_DEVICE,        /* CUDA requested but no usable GPU */
  SR_ERR_DEVICE,           /* a CUDA / cuDNN / cuFFT / cuBLAS call failed */
  SR_ERR_INTERNAL          /* a broken invariant: a bug in scorerecon */
} sr_status;

/* A short fixed description of a status code (never NULL). */
const char *sr_strerror(sr_status status);

typedef enum sr_backend_kind {
  SR_BACKEND_AUTO = 0, /* CUDA when a usable GPU exists, else CPU */
  SR_BACKEND_CPU = 1,
  SR_BACKEND_CUDA = 2
} sr_backend_kind;

const char *sr_backend_name(sr_backend_kind kind);

typedef enum sr_dtype {
  SR_DTYPE_F32 = 0,
  SR_DTYPE_F64,
  SR_DTYPE_C64, /* interleaved (re, im) float32 pairs */
  SR_DTYPE_F16,
  SR_DTYPE_BF16,
  SR_DTYPE_I16,
  SR_DTYPE_U8,
  SR_DTYPE_I32,
  SR_DTYPE_I64,
  SR_DTYPE_COUNT
} sr_dtype;

size_t sr_dtype_size(sr_dtype dtype);
const char *sr_dtype_name(sr_dtype dtype);

/* Arithmetic of the score network's convolutions (issue 4). Every mode
 * accumulates in float32; the others round both operands (activations and
 * weights) to the named format first, round to nearest even, as tensor
 * cores read them:
 *   fp32  strict float32 (the default; cuDNN with CUDNN_FMA_MATH)
 *   tf32  operands to TF32 (10 mantissa bits), output float32
 *   bf16  operands and output to bfloat16 (7 mantissa bits)
 *   fp16  operands and output to IEEE binary16 (10 mantissa bits, range
 *         +-65504: larger values become inf, tiny ones subnormal or 0)
 * The output rounding applies to the convolution's sum before its bias and
 * residual are added in float32. Measured errors against fp32:
 * bench/RESULTS.md, "Reduced precision". */
typedef enum sr_precision {
  SR_PRECISION_FP32 = 0,
  SR_PRECISION_TF32 = 1,
  SR_PRECISION_BF16 = 2,
  SR_PRECISION_FP16 = 3
} sr_precision;

/* "fp32", "tf32", "bf16", "fp16" ("unknown" for other values). */
const char *sr_precision_name(sr_precision precision);
/* The precision of one of those names; -1 when the name is none of them. */
int sr_precision_from_name(const char *name, sr_precision *out);

typedef struct sr_context sr_context;

typedef struct sr_context_options {
  sr_backend_kind backend; /* SR_BACKEND_AUTO by default */
  int device;              /* CUDA device index (default 0) */
  int threads;             /* CPU threads; 0 = all cores */
} sr_context_options;

/* Options with the defaults: auto backend, device 0, all cores. */
sr_context_options sr_context_options_default(void);

/* Creates a context. On failure *out is still set (to a context that only
 * carries the error message) unless allocation itself failed, so callers can
 * read why: check the status, print sr_context_last_error, then destroy. */
sr_status sr_context_create(const sr_context_options *options, sr_context **out);
void sr_context_destroy(sr_context *ctx);

/* The backend this context actually runs on (never AUTO). */
sr_backend_kind sr_context_backend(const sr_context *ctx);

/* The message of the last failure in this context ("" when none). */
const char *sr_context_last_error(const sr_context *ctx);
void sr_context_clear_error(sr_context *ctx);

/* A dense 4-D tensor (N, C, H, W). strides are in elements; data lives on
 * the backend named by `backend`. */
typedef struct sr_tensor {
  sr_backend_kind backend;
  sr_dtype dtype;
  int64_t shape[4];
  int64_t strides[4];
  void *data;
} sr_tensor;

/* Number of elements (product of the shape). */
int64_t sr_tensor_numel(const sr_tensor *t);
/* 1 when strides are the C-order strides of the shape. */
int sr_tensor_is_contiguous(const sr_tensor *t);

/* Allocates a contiguous tensor on the context's backend. */
sr_status sr_tensor_alloc(sr_context *ctx, sr_dtype dtype, int64_t n, int64_t c, int64_t h,
                          int64_t w, sr_tensor *out);
void sr_tensor_free(sr_context *ctx, sr_tensor *t);
/* Copies between host memory and a tensor on the context's backend. */
sr_status sr_tensor_upload(sr_context *ctx, sr_tensor *dst, const void *host, size_t bytes);
sr_status sr_tensor_download(sr_context *ctx, const sr_tensor *src, void *host, size_t bytes);

/* ---- the score network: NCSN++ from a .safetensors file whose
 * __metadata__ holds its configuration (tools/convert.py writes them). */
typedef struct sr_model sr_model;

typedef struct sr_model_info {
  const char *architecture;    /* "ncsnpp" */
  int image_size;              /* native H = W */
  int num_channels;            /* C */
  int centered;                /* 0: data in [0, 1], mapped to [-1, 1] inside */
  double value_max;            /* the data's range is [0, value_max] (config data.value_max,
                                * default 1; CT in scaled HU goes above 1) */
  const char *sde;             /* "vesde", "vpsde" or "subvpsde" */
  double sigma_min, sigma_max; /* VE noise range */
  double beta_min, beta_max;   /* VP noise range */
  int num_scales;
  int cond_is_sigma; /* 1: forward's cond is sigma; 0: a time label */
  int size_multiple; /* H and W must be multiples of this */
  int64_t num_params;
  double flops_per_sample; /* one forward of one image at image_size */
} sr_model_info;

/* Loads and validates a model onto the context's backend: every tensor the
 * configuration implies must be present, float32 and of the right shape
 * (the first mismatch is reported by name), and no other may be present. */
sr_status sr_model_load(sr_context *ctx, const char *path, sr_model **out);
void sr_model_free(sr_model *model);
void sr_model_get_info(const sr_model *model, sr_model_info *info);

/* out = s(x, cond), the network's output, for x and out (N, C, H, W) on the
 * context's backend (contiguous float32, H and W multiples of
 * size_multiple), cond a host array of N values: the noise level sigma for
 * Fourier-embedding (VE) models, the time label for positional ones. For
 * models with scale_by_sigma the output is already divided by sigma. Memory
 * is planned on the first call for a given (N, H, W) and reused. */
sr_status sr_model_forward(sr_model *model, const sr_tensor *x, const float *cond, sr_tensor *out);

/* The backend memory a forward of n images of h x w would plan (the
 * activation arena and the convolution workspace; the weights come on top),
 * without allocating anything: for choosing batch sizes. */
sr_status sr_model_plan_bytes(sr_model *model, int64_t n, int64_t h, int64_t w, size_t *bytes);

/* The arithmetic of the model's convolutions from the next forward on
 * (default SR_PRECISION_FP32; see sr_precision). The CPU backend emulates
 * the rounding exactly, the CUDA backend runs it on tensor cores (cuDNN
 * TF32 math, or half / bfloat16 tensors with float32 accumulation). Changing
 * it re-plans the forward's memory. SR_ERR_INVALID_ARGUMENT for a value
 * outside the enum. */
sr_status sr_model_set_precision(sr_model *model, sr_precision precision);
sr_precision sr_model_get_precision(const sr_model *model);

/* A multi-line human-readable summary of the model in a weights file
 * (architecture, parameters, FLOPs per forward at its native size, whether
 * the tensors match), without loading it onto a backend. Returns
 * SR_ERR_FORMAT when the file holds no scorerecon model configuration. */
sr_status sr_model_describe(sr_context *ctx, const char *path, char *buf, size_t size);

/* Build facts for `scorerecon version`. */
typedef struct sr_build_info {
  const char *version;
  const char *git_commit;
  const char *build_type;
  int cuda_compiled;  /* CUDA backend compiled in (real or emulated) */
  int cuda_emulated;  /* CUDA backend runs on the CPU emulator */
  int cudnn_compiled; /* cuDNN convolutions compiled in */
  const char *cuda_architectures;
  const char *cpu_blas;
  const char *cpu_fft;
} sr_build_info;

const sr_build_info *sr_get_build_info(void);

/* Probes for a usable GPU without creating a context. Returns SR_OK and the
 * device count, or a failure status with a one-line reason in `why`. */
sr_status sr_cuda_probe(int *device_count, char *why, size_t why_size);

#ifdef __cplusplus
}
#endif

#endif /* SCORERECON_H */
