/* scorerecon reconstruct: one measurement file (--in, --out), or many
 * (--manifest, --out DIR: cli/batch_run.c). The method runs through a
 * recon job (cli/recon_job.c): the baselines FBP / zero-filled / TV, or the
 * diffusion sampler (cli/reconstruct_score.c). The same C code runs on CPU
 * and CUDA (op table). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h"
#include "cli/batch_run.h"
#include "cli/commands.h"
#include "cli/image_volume.h"
#include "cli/metrics_report.h"
#include "cli/montage.h"
#include "cli/options.h"
#include "cli/paths.h"
#include "cli/recon_job.h"
#include "cli/reconstruct_score.h"
#include "cli/report.h"
#include "core/clock.h"
#include "core/error.h"
#include "io/h5meas.h"

#define O sr_recon_cli
static const sr_option options[] = {
    {"in", 'i', SR_OPT_STRING, &O.in_path, NULL,
     "measurement file (.h5: ours or fastMRI single-coil)", NULL, "MEAS.h5"},
    {"out", 'o', SR_OPT_STRING, &O.out_path, NULL,
     "reconstruction to write: .nii, .nii.gz or .npy (with --manifest: a directory)", NULL,
     "RECON"},
    {"manifest", 0, SR_OPT_STRING, &O.manifest, NULL,
     "many studies: a file listing measurement files (one per line, optional second column: "
     "the model) or a directory of .h5 files; one output + JSON sidecar each in --out",
     NULL, "LIST"},
    {"method", 'm', SR_OPT_CHOICE, &O.method, "auto",
     "auto: fbp for CT, zero-filled for MRI; tv: TV least squares (Chambolle-Pock); score: the "
     "diffusion sampler",
     "auto|fbp|zero-filled|tv|score", NULL},
    {"iters", 0, SR_OPT_INT, &O.iters, "200", "tv: primal-dual iterations", NULL, "N"},
    {"tv-weight", 0, SR_OPT_DOUBLE, &O.tv_weight, "0",
     "tv: weight of TV against 1/2 ||Ax - y||^2; 0: 0.002 for MRI, 0.5 for CT (images ~[0, 1])",
     NULL, "W"},
    {"nonneg", 0, SR_OPT_FLAG, &O.nonneg, NULL, "tv: constrain the image to x >= 0", NULL, NULL},
    {"step-ratio", 0, SR_OPT_DOUBLE, &O.step_ratio, "100", "tv: primal / dual step size ratio",
     NULL, "R"},
    {"filter", 0, SR_OPT_CHOICE, &O.filter, "ram-lak", "fbp: ramp filter window",
     "ram-lak|shepp-logan|cosine|hamming|hann", NULL},
    {"device", 'd', SR_OPT_CHOICE, &O.device, "auto",
     "backend: auto (CUDA when a GPU answers), cpu, cuda", "auto|cpu|cuda", NULL},
    {"devices", 0, SR_OPT_STRING, &O.devices, NULL,
     "manifest: GPUs to spread the studies' batches over, e.g. 0,1,2,3 (one host thread each)",
     NULL, "LIST"},
    {"workers", 0, SR_OPT_INT, &O.workers, "1",
     "manifest on the CPU: worker threads, each with --threads / N cores", NULL, "N"},
    {"threads", 0, SR_OPT_INT, &O.threads, "0", "CPU threads (0: all cores)", NULL, "N"},
    {"batch", 'b', SR_OPT_INT, &O.batch, "0",
     "slices per batch; score: slice x sample items (0: all at once; score: what fits in the GPU's "
     "free memory, at most 64, or 4 on the CPU)",
     NULL, "B"},
    {"shard", 0, SR_OPT_STRING, &O.shard, NULL,
     "manifest: take every n-th study from the i-th, i/n with 0 <= i < n (default: "
     "SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT when set)",
     NULL, "I/N"},
    {"summary", 0, SR_OPT_STRING, &O.summary_path, NULL,
     "manifest: write the run's summary as JSON (default: OUT/summary[-shard].json)", NULL, "FILE"},
    {"out-format", 0, SR_OPT_CHOICE, &O.out_format, "nii.gz", "manifest: output file type",
     "nii.gz|nii|npy", NULL},
    {"redo", 0, SR_OPT_FLAG, &O.redo, NULL,
     "manifest: reconstruct again even where a complete output with the same settings exists", NULL,
     NULL},
    {"list", 0, SR_OPT_FLAG, &O.list_only, NULL,
     "manifest: print the studies this process (shard, MPI rank) would take, and exit", NULL, NULL},
    {"montage", 0, SR_OPT_FLAG, &O.png, NULL,
     "also write a PNG montage of the output slices beside it (OUT with .png)", NULL, NULL},
    {"ref", 0, SR_OPT_STRING, &O.ref_path, NULL,
     "reference image: print PSNR / SSIM / NMSE (default: the file's target, if any)", NULL, "GT"},
    {"data-range", 0, SR_OPT_DOUBLE, &O.data_range, "0",
     "data range of the metrics (0: max - min of the reference)", NULL, "R"},
    {"model", 0, SR_OPT_STRING, &O.model_path, NULL,
     "score: score-network weights (.safetensors) or a Gaussian prior file", NULL, "M"},
    {"model-ct", 0, SR_OPT_STRING, &O.model_ct, NULL,
     "score: the model for CT studies (a manifest may mix CT and MRI)", NULL, "M"},
    {"model-mri", 0, SR_OPT_STRING, &O.model_mri, NULL, "score: the model for MRI studies", NULL,
     "M"},
    SR_RECONSTRUCT_SCORE_OPTIONS, /* the sampler's options: cli/reconstruct_score.h */
};
#undef O

static const sr_command_spec spec = {
    "reconstruct",
    "",
    "Reconstruct images from a measurement file, or from every file of a manifest: the\n"
    "score-based diffusion sampler (--method score with --model), or a baseline: FBP (CT),\n"
    "zero-filled inverse FFT magnitude (MRI), and TV-regularised least squares by\n"
    "Chambolle-Pock (both).",
    options,
    sizeof options / sizeof options[0],
    0,
    0};

static const sr_backend_kind device_kinds[] = {SR_BACKEND_AUTO, SR_BACKEND_CPU, SR_BACKEND_CUDA};

sr_backend_kind sr_recon_backend_kind(void) {
  return device_kinds[sr_recon_cli.device];
}

/* Options that only say where the inputs and outputs are, how fast or how
 * verbosely to run: they do not change an output's bits on the CPU. */
static int option_in_key(const char *name) {
  static const char *skip[] = {"in",        "out",    "manifest",   "devices", "workers",
                               "threads",   "shard",  "summary",    "list",    "redo",
                               "quiet",     "ref",    "data-range", "model",   "model-ct",
                               "model-mri", "std-out"};
  for (size_t i = 0; i < sizeof skip / sizeof skip[0]; ++i)
    if (strcmp(name, skip[i]) == 0) return 0;
  return 1;
}

/* The n-th name of "a|b|c" into buf. */
static const char *choice_name(const char *choices, int n, char *buf, size_t size) {
  const char *p = choices;
  for (int k = 0; k < n && p; ++k) p = strchr(p, '|'), p = p ? p + 1 : NULL;
  if (!p) return "?";
  const char *e = strchr(p, '|');
  size_t len = e ? (size_t)(e - p) : strlen(p);
  if (len >= size) len = size - 1;
  memcpy(buf, p, len);
  buf[len] = '\0';
  return buf;
}

void sr_recon_options_key(FILE *f) {
  for (size_t i = 0; i < sizeof options / sizeof options[0]; ++i) {
    const sr_option *o = &options[i];
    if (!option_in_key(o->name)) continue;
    char buf[64];
    fprintf(f, "%s=", o->name);
    switch (o->type) {
    case SR_OPT_FLAG: fprintf(f, "%d", *(const int *)o->target); break;
    case SR_OPT_INT: fprintf(f, "%lld", (long long)*(const int64_t *)o->target); break;
    case SR_OPT_DOUBLE: fprintf(f, "%.17g", *(const double *)o->target); break;
    case SR_OPT_STRING: {
      const char *v = *(const char *const *)o->target;
      fputs(v ? v : "(none)", f);
      break;
    }
    case SR_OPT_CHOICE:
      fputs(choice_name(o->choices, *(const int *)o->target, buf, sizeof buf), f);
      break;
    }
    fputc(';', f);
  }
}

/* Prints the metrics of out against --ref or the file's target. */
static sr_status report_metrics(sr_context *ctx, const sr_meas *m, const sr_recon_job *j,
                                const float *out) {
  const sr_recon_cli_options *o = &sr_recon_cli;
  const float *ref = NULL;
  sr_volume refv;
  memset(&refv, 0, sizeof refv);
  sr_status st = SR_OK;
  if (o->ref_path) {
    st = sr_volume_read(ctx, o->ref_path, &refv);
    if (st == SR_OK && (refv.nslices != j->nslices || refv.h != j->h || refv.w != j->w))
      st = sr_fail(ctx, SR_ERR_SHAPE,
                   "%s is %lld x %lld x %lld, the reconstruction %lld x %lld x %lld", o->ref_path,
                   (long long)refv.nslices, (long long)refv.h, (long long)refv.w,
                   (long long)j->nslices, (long long)j->h, (long long)j->w);
    ref = refv.data;
  } else {
    ref = m->modality == SR_MODALITY_MRI ? m->mri.target : m->ct.target;
    if (ref) printf("reference: the target stored in %s\n", o->in_path);
  }
  if (st == SR_OK && ref)
    st = sr_cli_print_metrics(ctx, stdout, out, ref, j->nslices, j->h, j->w, o->data_range);
  sr_volume_free(&refv);
  return st;
}

/* Writes the output, its std (score with --samples > 1) and the montage. */
static sr_status write_outputs(sr_context *ctx, const sr_recon_job *j, const float *out,
                               const float *sd) {
  const char *out_path = sr_recon_cli.out_path;
  SR_TRY(sr_volume_write(ctx, out_path, out, j->nslices, j->h, j->w, NULL));
  sr_status st = SR_OK;
  if (sd) {
    char *p = sr_score_std_path(out_path);
    st = p ? sr_volume_write(ctx, p, sd, j->nslices, j->h, j->w, NULL)
           : sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a path");
    if (st == SR_OK) printf("posterior std of %d samples -> %s\n", (int)sr_score_cli.samples, p);
    free(p);
  }
  if (st == SR_OK && sr_recon_cli.png) {
    char *p = sr_volume_path_variant(out_path, "", ".png");
    st = p ? sr_montage_write(ctx, p, out, j->nslices, j->h, j->w)
           : sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a path");
    if (st == SR_OK) printf("montage -> %s\n", p);
    free(p);
  }
  return st;
}

/* One file: --in to --out. */
static int run_one(sr_context *ctx, const sr_meas *m) {
  const sr_recon_cli_options *o = &sr_recon_cli;
  sr_recon_job j;
  float *out = NULL, *sd = NULL;
  sr_status st = sr_recon_job_open(ctx, m, o->in_path, sr_recon_model_for(m), NULL, &j);
  if (st == SR_ERR_INVALID_ARGUMENT) return sr_cli_fail_status(spec.name, ctx, st);
  const size_t total = st == SR_OK ? (size_t)(j.nslices * j.h * j.w) : 0;
  if (st == SR_OK) {
    out = (float *)malloc(total * sizeof(float));
    if (sr_recon_job_has_std(&j)) sd = (float *)malloc(total * sizeof(float));
    if (!out || (sr_recon_job_has_std(&j) && !sd))
      st = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate the output");
  }
  if (st == SR_OK && j.score && !sr_score_cli.quiet) {
    sr_score_job_describe(j.score, stderr, spec.name);
    sr_score_job_show_progress(j.score, spec.name);
  }
  const double t0 = sr_clock_seconds();
  if (st == SR_OK) st = sr_recon_job_run(&j, 0, (size_t)j.nslices, out, sd);
  const double secs = sr_clock_seconds() - t0;
  if (st == SR_OK) st = write_outputs(ctx, &j, out, sd);
  if (st == SR_OK) {
    if (j.score) {
      sr_score_job_report(j.score, stdout, secs, o->out_path);
    } else {
      printf("reconstruct: %s, %lld slice(s) of %lld x %lld on %s", sr_recon_method_name(j.method),
             (long long)j.nslices, (long long)j.h, (long long)j.w,
             sr_context_get_backend(ctx)->ops->name);
      if (j.method == SR_RECON_TV)
        printf(", %lld iterations, ||A|| %.4g, ||K|| %.4g", (long long)o->iters, j.tv_info.norm_a,
               j.tv_info.norm_k);
      printf(" -> %s\n", o->out_path);
    }
  }
  if (st == SR_OK) st = report_metrics(ctx, m, &j, out);
  if (j.ctx) sr_recon_job_close(&j);
  free(out);
  free(sd);
  return st == SR_OK ? 0 : sr_cli_fail_status(spec.name, ctx, st);
}

static int check_options(void) {
  const sr_recon_cli_options *o = &sr_recon_cli;
  if (!o->out_path || (!o->in_path == !o->manifest))
    return sr_cli_usage(spec.name, "give --out and one of --in or --manifest");
  if (o->method == SR_RECON_SCORE) {
    if (!o->manifest && !o->model_path && !o->model_ct && !o->model_mri)
      return sr_cli_usage(spec.name, "--method score needs --model (NCSN++ weights or a Gaussian "
                                     "prior file)");
    int rc = sr_reconstruct_score_check(spec.name);
    if (rc) return rc;
  }
  if (o->iters < 0 || o->batch < 0 || o->threads < 0 || o->tv_weight < 0.0 ||
      !(o->step_ratio > 0.0) || o->data_range < 0.0)
    return sr_cli_usage(spec.name, "--iters, --batch, --threads, --tv-weight and --data-range "
                                   "must be >= 0, --step-ratio > 0");
  if (o->workers < 1 || o->workers > 256)
    return sr_cli_usage(spec.name, "--workers must lie in [1, 256]");
  if (!o->manifest &&
      (o->devices || o->shard || o->summary_path || o->list_only || o->redo || o->workers != 1))
    return sr_cli_usage(
        spec.name, "--devices, --workers, --shard, --summary, --list and --redo need --manifest");
  if (o->manifest && sr_score_cli.std_out)
    return sr_cli_usage(spec.name, "--std-out names one file: with --manifest each study's std "
                                   "goes beside its output");
  if (o->manifest && o->ref_path)
    return sr_cli_usage(spec.name, "--ref names one reference: with --manifest the metrics use "
                                   "each file's stored target");
  return 0;
}

int sr_cmd_reconstruct(int argc, char **argv) {
  int nargs = 0;
  char **args = NULL;
  int rc = sr_options_parse(&spec, argc, argv, &nargs, &args);
  if (rc != SR_CLI_RUN) return rc;
  if ((rc = check_options()) != 0) return rc;
  if (sr_recon_cli.manifest) return sr_batch_run(spec.name);
  sr_context_options co = sr_context_options_default();
  co.backend = sr_recon_backend_kind();
  co.threads = (int)sr_recon_cli.threads;
  sr_context *ctx = NULL;
  sr_status st = sr_context_create(&co, &ctx);
  sr_meas m;
  memset(&m, 0, sizeof m);
  if (st == SR_OK) st = sr_meas_read(ctx, sr_recon_cli.in_path, &m);
  rc = st == SR_OK ? run_one(ctx, &m) : sr_cli_fail_status(spec.name, ctx, st);
  sr_meas_free(&m);
  sr_context_destroy(ctx);
  return rc;
}
