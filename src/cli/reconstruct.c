/* scorerecon reconstruct --method fbp|zero-filled|tv|score --in MEAS.h5 --out RECON:
 * the classical baselines (issue 3) here, the diffusion sampler in
 * cli/reconstruct_score.c. Slices go through in batches on the chosen
 * backend; the same C code runs on CPU and CUDA (op table). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cli/commands.h"
#include "cli/image_volume.h"
#include "cli/metrics_report.h"
#include "cli/options.h"
#include "cli/reconstruct_score.h"
#include "cli/report.h"
#include "core/error.h"
#include "io/h5meas.h"
#include "io/meas_operator.h"
#include "operators/ct_parallel.h"
#include "operators/mri_cartesian.h"
#include "operators/tv_recon.h"

static const char *in_path, *out_path, *ref_path, *model_path;
static int method, device, filter, nonneg;
static int64_t iters, batch, threads;
static double tv_weight, step_ratio, data_range;

enum { METHOD_AUTO, METHOD_FBP, METHOD_ZERO_FILLED, METHOD_TV, METHOD_SCORE };

static const sr_option options[] = {
    {"in", 'i', SR_OPT_STRING, &in_path, NULL, "measurement file (.h5: ours or fastMRI single-coil)",
     NULL, "MEAS.h5"},
    {"out", 'o', SR_OPT_STRING, &out_path, NULL, "reconstruction to write: .nii, .nii.gz or .npy",
     NULL, "RECON"},
    {"method", 'm', SR_OPT_CHOICE, &method, "auto",
     "auto: fbp for CT, zero-filled for MRI; tv: TV least squares (Chambolle-Pock); score: the "
     "diffusion sampler",
     "auto|fbp|zero-filled|tv|score", NULL},
    {"iters", 0, SR_OPT_INT, &iters, "200", "tv: primal-dual iterations", NULL, "N"},
    {"tv-weight", 0, SR_OPT_DOUBLE, &tv_weight, "0",
     "tv: weight of TV against 1/2 ||Ax - y||^2; 0: 0.002 for MRI, 0.5 for CT (images ~[0, 1])",
     NULL, "W"},
    {"nonneg", 0, SR_OPT_FLAG, &nonneg, NULL, "tv: constrain the image to x >= 0", NULL, NULL},
    {"step-ratio", 0, SR_OPT_DOUBLE, &step_ratio, "100", "tv: primal / dual step size ratio",
     NULL, "R"},
    {"filter", 0, SR_OPT_CHOICE, &filter, "ram-lak", "fbp: ramp filter window",
     "ram-lak|shepp-logan|cosine|hamming|hann", NULL},
    {"device", 'd', SR_OPT_CHOICE, &device, "auto", "backend: auto (CUDA when a GPU answers), cpu, cuda",
     "auto|cpu|cuda", NULL},
    {"threads", 0, SR_OPT_INT, &threads, "0", "CPU threads (0: all cores)", NULL, "N"},
    {"batch", 'b', SR_OPT_INT, &batch, "0", "slices per batch; score: slice x sample items (0: all at once; score: auto)", NULL, "B"},
    {"ref", 0, SR_OPT_STRING, &ref_path, NULL,
     "reference image: print PSNR / SSIM / NMSE (default: the file's target, if any)", NULL, "GT"},
    {"data-range", 0, SR_OPT_DOUBLE, &data_range, "0",
     "data range of the metrics (0: max - min of the reference)", NULL, "R"},
    {"model", 0, SR_OPT_STRING, &model_path, NULL, "score: score-network weights (.safetensors)",
     NULL, "M"},
    SR_RECONSTRUCT_SCORE_OPTIONS, /* the sampler's options: cli/reconstruct_score.h */
};

static const sr_command_spec spec = {
    "reconstruct",
    "",
    "Reconstruct images from a measurement file: the score-based diffusion sampler (--method\n"
    "score with --model), or a baseline: FBP (CT), zero-filled inverse FFT magnitude (MRI), and\n"
    "TV-regularised least squares by Chambolle-Pock (both).",
    options,
    sizeof options / sizeof options[0],
    0,
    0};

static const sr_backend_kind device_kinds[] = {SR_BACKEND_AUTO, SR_BACKEND_CPU, SR_BACKEND_CUDA};

/* Runs the method on slices [s0, s0 + ns). */
static sr_status run_batch(sr_backend *b, sr_operator *op, const sr_meas *m, size_t s0, size_t ns,
                           float *dy, float *dx, float *host_out, int meth, sr_tv_info *info) {
  size_t yfl = op->meas_elems * (op->meas_dtype == SR_DTYPE_C64 ? 2 : 1);
  size_t n = sr_operator_image_elems(op);
  const float *y = m->modality == SR_MODALITY_MRI ? m->mri.kspace : m->ct.sinogram;
  SR_TRY(b->ops->upload(b, dy, y + s0 * yfl, ns * yfl * sizeof(float)));
  if (meth == METHOD_ZERO_FILLED) {
    SR_TRY(sr_mri_zero_filled(op, dy, dx, ns));
  } else if (meth == METHOD_FBP) {
    SR_TRY(sr_ct_fbp(op, dy, dx, ns, (sr_ct_filter)filter));
  } else {
    sr_tv_params tp = sr_tv_params_default();
    tp.iters = (int)iters;
    tp.weight = tv_weight > 0.0 ? tv_weight : (m->modality == SR_MODALITY_MRI ? 0.002 : 0.5);
    tp.nonneg = nonneg;
    tp.step_ratio = step_ratio;
    SR_TRY(sr_tv_reconstruct(op, dy, dx, ns, &tp, info));
  }
  return b->ops->download(b, host_out + s0 * n, dx, ns * n * sizeof(float));
}

static int run(sr_context *ctx, const sr_meas *m) {
  sr_backend *b = sr_context_get_backend(ctx);
  int is_mri = m->modality == SR_MODALITY_MRI;
  int meth = method == METHOD_AUTO ? (is_mri ? METHOD_ZERO_FILLED : METHOD_FBP) : method;
  if (meth == METHOD_SCORE) {
    const sr_score_cli_common c = {in_path, out_path, ref_path, model_path, batch, data_range};
    return sr_reconstruct_score(spec.name, ctx, m, &c);
  }
  if (meth == METHOD_FBP && is_mri)
    return sr_cli_fail(spec.name, "%s holds MRI k-space: FBP is for CT (use zero-filled or tv)", in_path);
  if (meth == METHOD_ZERO_FILLED && !is_mri)
    return sr_cli_fail(spec.name, "%s holds a CT sinogram: zero-filled is for MRI (use fbp or tv)", in_path);
  int64_t total = is_mri ? m->mri.nslices : m->ct.nslices;
  int64_t h = is_mri ? m->mri.h : m->ct.image_h, w = is_mri ? m->mri.w : m->ct.image_w;
  size_t bs = (size_t)(batch > 0 && batch < total ? batch : total);

  sr_operator *op = NULL;
  float *dy = NULL, *dx = NULL, *out = NULL;
  sr_tv_info info = {0};
  sr_status st = sr_meas_make_operator(b, m, SR_MEAS_OP_DEFAULT, &op);
  if (st == SR_OK) {
    size_t yfl = op->meas_elems * (op->meas_dtype == SR_DTYPE_C64 ? 2 : 1);
    st = b->ops->alloc(b, bs * yfl * sizeof(float), (void **)&dy);
    if (st == SR_OK) st = b->ops->alloc(b, bs * (size_t)(h * w) * sizeof(float), (void **)&dx);
    out = (float *)malloc((size_t)(total * h * w) * sizeof(float));
    if (st == SR_OK && !out) st = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the output");
  }
  for (size_t s0 = 0; st == SR_OK && s0 < (size_t)total; s0 += bs) {
    size_t ns = (size_t)total - s0 < bs ? (size_t)total - s0 : bs;
    st = run_batch(b, op, m, s0, ns, dy, dx, out, meth, &info);
  }
  if (st == SR_OK) st = sr_volume_write(ctx, out_path, out, total, h, w, NULL);
  static const char *names[] = {"auto", "fbp", "zero-filled", "tv", "score"};
  if (st == SR_OK) {
    printf("reconstruct: %s, %lld slice(s) of %lld x %lld on %s", names[meth], (long long)total,
           (long long)h, (long long)w, b->ops->name);
    if (meth == METHOD_TV)
      printf(", %lld iterations, ||A|| %.4g, ||K|| %.4g", (long long)iters, info.norm_a, info.norm_k);
    printf(" -> %s\n", out_path);
  }
  /* Metrics against --ref, or the target stored in the file. */
  const float *ref = NULL;
  sr_volume refv = {0};
  if (st == SR_OK && ref_path) {
    st = sr_volume_read(ctx, ref_path, &refv);
    if (st == SR_OK && (refv.nslices != total || refv.h != h || refv.w != w))
      st = sr_fail(ctx, SR_ERR_SHAPE, "%s is %lld x %lld x %lld, the reconstruction %lld x %lld x %lld",
                   ref_path, (long long)refv.nslices, (long long)refv.h, (long long)refv.w,
                   (long long)total, (long long)h, (long long)w);
    ref = refv.data;
  } else if (st == SR_OK) {
    ref = is_mri ? m->mri.target : m->ct.target;
    if (ref) printf("reference: the target stored in %s\n", in_path);
  }
  if (st == SR_OK && ref) st = sr_cli_print_metrics(ctx, stdout, out, ref, total, h, w, data_range);
  sr_volume_free(&refv);
  if (dy) b->ops->free(b, dy);
  if (dx) b->ops->free(b, dx);
  free(out);
  sr_operator_destroy(op);
  return st == SR_OK ? 0 : sr_cli_fail_status(spec.name, ctx, st);
}

int sr_cmd_reconstruct(int argc, char **argv) {
  int nargs = 0;
  char **args = NULL;
  int rc = sr_options_parse(&spec, argc, argv, &nargs, &args);
  if (rc != SR_CLI_RUN) return rc;
  if (!in_path || !out_path) return sr_cli_usage(spec.name, "--in and --out are required");
  if (method == METHOD_SCORE && (rc = sr_reconstruct_score_check(spec.name)) != 0) return rc;
  if (iters < 0 || batch < 0 || threads < 0 || tv_weight < 0.0 || !(step_ratio > 0.0) ||
      data_range < 0.0)
    return sr_cli_usage(spec.name, "--iters, --batch, --threads, --tv-weight and --data-range "
                                   "must be >= 0, --step-ratio > 0");
  sr_context_options o = sr_context_options_default();
  o.backend = device_kinds[device];
  o.threads = (int)threads;
  sr_context *ctx = NULL;
  sr_status st = sr_context_create(&o, &ctx);
  sr_meas m;
  memset(&m, 0, sizeof m);
  if (st == SR_OK) st = sr_meas_read(ctx, in_path, &m);
  rc = st == SR_OK ? run(ctx, &m) : sr_cli_fail_status(spec.name, ctx, st);
  sr_meas_free(&m);
  sr_context_destroy(ctx);
  return rc;
}
