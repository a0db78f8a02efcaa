/* reconstruct --manifest (see batch_run.h).
 *
 * The main thread reads the studies this process owns (shard and MPI rank,
 * cli/manifest.h) one after another, skips those whose sidecar proves a
 * complete output for the same settings, and cuts the others into chunks of
 * slices that go on a queue; worker threads (one per GPU, each with its own
 * context and stream; or --workers on the CPU) take chunks in order. The
 * worker that finishes a study's last chunk writes its outputs (temporary
 * name, then rename) and then the sidecar, which is what marks the study
 * done: a run killed at any point leaves finished studies, temporaries that
 * the next run removes, and studies that the next run redoes. A slice's
 * noise is keyed by (seed, slice), so the chunking and the worker a chunk
 * lands on change nothing in the result. At most workers + 1 studies are in
 * memory at once. */
#define _POSIX_C_SOURCE 200809L
#include "cli/batch_run.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "backend/backend.h"
#include "cli/json_out.h"
#include "cli/manifest.h"
#include "cli/montage.h"
#include "cli/mpi_glue.h"
#include "cli/metrics_report.h"
#include "cli/paths.h"
#include "cli/recon_job.h"
#include "cli/report.h"
#include "core/clock.h"
#include "core/error.h"
#include "io/atomic_write.h"
#include "io/file.h"
#include "io/json.h"
#include "metrics/image_metrics.h"
#include "cli/image_volume.h"

#define MAX_WORKERS 256
#define SIDECAR_MAX_BYTES ((size_t)16 << 20)
#define OUTPUT_MAX_BYTES ((size_t)64 << 30)

static const char *const out_exts[] = {".nii.gz", ".nii", ".npy"};

/* ---------------------------------------------------------------- studies */

typedef struct study {
  const sr_manifest_entry *e;
  const char *model;
  char *out_path, *std_path, *png_path, *sidecar_path;
  char *key; /* options key + model + backend */
  sr_meas m;
  int64_t nslices, h, w;
  float *out, *sd;
  size_t chunks_left;
  int refs;   /* the queue's chunks and the workers' open jobs */
  int failed; /* a chunk failed: the rest are skipped */
  char error[512];
  double busy_s;
  struct stat input_stat;
} study;

typedef struct chunk {
  study *s;
  size_t s0, ns;
} chunk;

typedef struct run_state run_state;

typedef struct worker {
  run_state *rs;
  int id, device; /* device: CUDA index, -1 on the CPU */
  int threads;
  pthread_t thread;
  sr_context *ctx;
  sr_score_model_cache *cache;
  study *cur; /* the study of the open job */
  sr_recon_job job;
  int job_open;
  double busy_s;
  uint64_t slices;
  sr_status init_status;
  char init_error[512];
} worker;

struct run_state {
  const char *command;
  sr_mpi mpi;
  int nworkers;
  worker *workers;
  pthread_mutex_t mu;
  pthread_cond_t cv; /* queue or in-flight count changed */
  chunk *queue;
  size_t qhead, qtail, qcap;
  int closed;
  int in_flight; /* studies queued and not yet finished */
  int inits_done;
  uint64_t ok, skipped, failed, slices;
  double t0;
  FILE *log; /* stdout, lines under mu */
  int backend_cuda;
  /* per-study records for the summary JSON (this rank) */
  char *records;
  size_t records_len;
  FILE *records_f;
};

static void logf_locked(run_state *rs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_locked(run_state *rs, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (rs->mpi.size > 1) fprintf(rs->log, "[rank %d] ", rs->mpi.rank);
  vfprintf(rs->log, fmt, ap);
  va_end(ap);
  fflush(rs->log);
}

static void study_free(study *s) {
  if (!s) return;
  sr_meas_free(&s->m);
  free(s->out);
  free(s->sd);
  free(s->out_path);
  free(s->std_path);
  free(s->png_path);
  free(s->sidecar_path);
  free(s->key);
  free(s);
}

/* Drops one reference; the last one frees the study. Under mu. */
static void study_unref_locked(study *s) {
  if (--s->refs == 0) study_free(s);
}

/* ---------------------------------------------------------------- paths */

enum { PATH_IMAGE, PATH_STD, PATH_PNG, PATH_SIDECAR, PATH_COUNT };

/* The files a study may write: DIR/<stem>.<ext> and its companions
 * (_std twin, PNG montage, JSON sidecar), all named after the image.
 * Returns 0, or -1 when out of memory (p[] then all NULL). */
static int study_paths(const char *out_dir, const char *stem, char *p[PATH_COUNT]) {
  const char *ext = out_exts[sr_recon_cli.out_format];
  char *name = (char *)malloc(strlen(stem) + strlen(ext) + 1);
  memset(p, 0, PATH_COUNT * sizeof *p);
  if (name) {
    strcpy(name, stem);
    strcat(name, ext);
    p[PATH_IMAGE] = sr_path_join(out_dir, name);
    free(name);
  }
  if (p[PATH_IMAGE]) {
    p[PATH_STD] = sr_volume_path_variant(p[PATH_IMAGE], "_std", NULL);
    p[PATH_PNG] = sr_volume_path_variant(p[PATH_IMAGE], "", ".png");
    p[PATH_SIDECAR] = sr_volume_path_variant(p[PATH_IMAGE], "", ".json");
  }
  for (int i = 0; i < PATH_COUNT; ++i)
    if (!p[i]) {
      for (int k = 0; k < PATH_COUNT; ++k) free(p[k]), p[k] = NULL;
      return -1;
    }
  return 0;
}

/* mkdir -p */
static sr_status make_dirs(sr_context *ctx, const char *path) {
  char *p = strdup(path);
  if (!p) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a path");
  sr_status st = SR_OK;
  for (char *c = p + 1;; ++c) {
    if (*c == '/' || *c == '\0') {
      const char save = *c;
      *c = '\0';
      if (mkdir(p, 0777) != 0 && errno != EEXIST)
        st = sr_fail(ctx, SR_ERR_IO, "%s: cannot create the directory: %s", p, strerror(errno));
      *c = save;
      if (!save || st != SR_OK) break;
    }
  }
  struct stat sb;
  if (st == SR_OK && (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)))
    st = sr_fail(ctx, SR_ERR_IO, "%s is not a directory", path);
  free(p);
  return st;
}

static const char *base_name(const char *path) {
  const char *b = strrchr(path, '/');
  return b ? b + 1 : path;
}

/* Removes the temporaries (<name>.tmp.XXXXXX, io/atomic_write.h) that a
 * killed run left for the outputs this process owns (owned: their paths).
 * Only names it owns: another shard may be writing its own right now. */
static void remove_stale_temporaries(run_state *rs, const char *dir, char **owned, size_t n) {
  DIR *d = opendir(dir);
  if (!d) return;
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    const char *t = strstr(de->d_name, ".tmp.");
    if (!t) continue;
    const size_t len = (size_t)(t - de->d_name);
    for (size_t i = 0; i < n; ++i) {
      const char *name = base_name(owned[i]);
      if (strlen(name) == len && strncmp(name, de->d_name, len) == 0) {
        char *p = sr_path_join(dir, de->d_name);
        if (p && unlink(p) == 0) logf_locked(rs, "removed %s (left by an interrupted run)\n", p);
        free(p);
        break;
      }
    }
  }
  closedir(d);
}

/* ---------------------------------------------------------------- sidecars */

static int crc_of_file(sr_context *ctx, const char *path, uint64_t *bytes, uint32_t *crc) {
  unsigned char *data = NULL;
  size_t size = 0;
  if (sr_file_read_all(ctx, path, OUTPUT_MAX_BYTES, &data, &size) != SR_OK) return -1;
  uLong c = crc32(0L, Z_NULL, 0);
  for (size_t off = 0; off < size;) {
    const uInt part = size - off > (1u << 30) ? (1u << 30) : (uInt)(size - off);
    c = crc32(c, data + off, part);
    off += part;
  }
  free(data);
  *bytes = size;
  *crc = (uint32_t)c;
  return 0;
}

static char *options_key(const char *model, const char *backend) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return NULL;
  sr_recon_options_key(f);
  fprintf(f, "model=%s;backend=%s;", model ? model : "(none)", backend);
  fclose(f);
  return text;
}

/* The key of entry e's output for a study of this modality: the options,
 * the model that modality uses, the backend. */
static char *study_key(const run_state *rs, const sr_manifest_entry *e, sr_modality modality) {
  sr_meas probe;
  memset(&probe, 0, sizeof probe);
  probe.modality = modality;
  const char *model = e->model ? e->model : sr_recon_model_for(&probe);
  return options_key(sr_recon_cli.method == SR_RECON_SCORE ? model : NULL,
                     rs->backend_cuda ? "cuda" : "cpu");
}

/* 1 when the sidecar proves a complete output of this study with these
 * settings: status ok, the same key, the same input (size, mtime), and
 * every output listed there present with its size and CRC-32. why says
 * what was missing otherwise. */
static int study_complete(const run_state *rs, sr_context *ctx, const study *s, const char *out_dir,
                          char *why, size_t why_size) {
  unsigned char *text = NULL;
  size_t size = 0;
  struct stat sb;
  if (stat(s->sidecar_path, &sb) != 0) {
    snprintf(why, why_size, "no sidecar");
    return 0;
  }
  if (sr_file_read_all(ctx, s->sidecar_path, SIDECAR_MAX_BYTES, &text, &size) != SR_OK) {
    snprintf(why, why_size, "%s", sr_context_last_error(ctx));
    return 0;
  }
  sr_json *j = NULL;
  int ok = 0;
  if (sr_json_parse(ctx, s->sidecar_path, (const char *)text, size, &j) != SR_OK) {
    snprintf(why, why_size, "%s", sr_context_last_error(ctx));
    goto done;
  }
  const char *status = sr_json_as_string(sr_json_get(j, "status"));
  const char *key = sr_json_as_string(sr_json_get(j, "options_key"));
  /* The input is unchanged (checked below), so the modality the sidecar
   * states is the file's: the key needs no read of the measurement. */
  const char *mod = sr_json_as_string(sr_json_get(j, "modality"));
  char *want = mod && (strcmp(mod, "ct") == 0 || strcmp(mod, "mri") == 0)
                   ? study_key(rs, s->e, strcmp(mod, "ct") == 0 ? SR_MODALITY_CT : SR_MODALITY_MRI)
                   : NULL;
  int64_t in_bytes = -1, in_mtime = -1;
  sr_json_as_int64(sr_json_get(j, "input_bytes"), &in_bytes);
  sr_json_as_int64(sr_json_get(j, "input_mtime_ns"), &in_mtime);
  const int64_t mtime_ns =
      (int64_t)s->input_stat.st_mtim.tv_sec * 1000000000 + s->input_stat.st_mtim.tv_nsec;
  if (!status || strcmp(status, "ok") != 0) {
    snprintf(why, why_size, "sidecar status is not ok");
  } else if (!key || !want || strcmp(key, want) != 0) {
    snprintf(why, why_size, "settings changed since that output");
  } else if (in_bytes != (int64_t)s->input_stat.st_size || in_mtime != mtime_ns) {
    snprintf(why, why_size, "the input changed since that output");
  } else {
    const sr_json *outs = sr_json_get(j, "outputs");
    const size_t n = sr_json_count(outs);
    ok = n > 0;
    if (!ok) snprintf(why, why_size, "sidecar lists no output");
    for (size_t i = 0; ok && i < n; ++i) {
      const sr_json *o = sr_json_at(outs, i);
      const char *file = sr_json_as_string(sr_json_get(o, "file"));
      int64_t bytes = -1, crc = -1;
      sr_json_as_int64(sr_json_get(o, "bytes"), &bytes);
      sr_json_as_int64(sr_json_get(o, "crc32"), &crc);
      char *p = file && !strchr(file, '/') ? sr_path_join(out_dir, file) : NULL;
      uint64_t b = 0;
      uint32_t c = 0;
      if (!p || crc_of_file(ctx, p, &b, &c) != 0) {
        snprintf(why, why_size, "output %s missing", file ? file : "?");
        ok = 0;
      } else if ((int64_t)b != bytes || (int64_t)c != crc) {
        snprintf(why, why_size, "output %s differs from its sidecar (size or CRC-32)", file);
        ok = 0;
      }
      free(p);
    }
  }
  free(want);
done:
  sr_json_free(j);
  free(text);
  return ok;
}

static void utc_now(char *buf, size_t n) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Per-slice metrics against the file's target, as JSON members. */
static sr_status metrics_json(sr_context *ctx, FILE *f, const study *s, double *psnr_mean) {
  const float *ref = s->m.modality == SR_MODALITY_MRI ? s->m.mri.target : s->m.ct.target;
  if (!ref) {
    fputs("\"metrics\": null", f);
    return SR_OK;
  }
  const size_t plane = (size_t)(s->h * s->w), n = (size_t)s->nslices * plane;
  const double range =
      sr_recon_cli.data_range > 0.0 ? sr_recon_cli.data_range : sr_reference_range(ref, n);
  if (!(range > 0.0)) {
    fputs("\"metrics\": null", f);
    return SR_OK;
  }
  const int ssim_ok = s->h >= SR_SSIM_MIN_SIDE && s->w >= SR_SSIM_MIN_SIDE;
  double *psnr = (double *)malloc((size_t)s->nslices * 2 * sizeof(double));
  if (!psnr) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate metrics");
  double *ssim = psnr + s->nslices;
  double mp = 0.0, ms = 0.0;
  for (int64_t k = 0; k < s->nslices; ++k) {
    sr_image_metrics im = {0};
    const float *x = s->out + (size_t)k * plane, *r = ref + (size_t)k * plane;
    if (ssim_ok) {
      sr_status st = sr_image_metrics_slice(ctx, x, r, (size_t)s->h, (size_t)s->w, range, &im);
      if (st != SR_OK) {
        free(psnr);
        return st;
      }
    } else {
      im.psnr = sr_psnr(x, r, plane, range);
      im.ssim = NAN;
    }
    psnr[k] = im.psnr, ssim[k] = im.ssim;
    mp += im.psnr, ms += im.ssim;
  }
  fprintf(f, "\"metrics\": {\"reference\": \"target stored in the input\", \"data_range\": ");
  sr_json_write_number(f, range);
  *psnr_mean = mp / (double)s->nslices;
  fputs(", \"psnr_mean\": ", f);
  sr_json_write_number(f, *psnr_mean);
  fputs(", \"ssim_mean\": ", f);
  sr_json_write_number(f, ms / (double)s->nslices);
  fputs(", \"psnr\": [", f);
  for (int64_t k = 0; k < s->nslices; ++k) {
    if (k) fputs(", ", f);
    sr_json_write_number(f, psnr[k]);
  }
  fputs("], \"ssim\": [", f);
  for (int64_t k = 0; k < s->nslices; ++k) {
    if (k) fputs(", ", f);
    sr_json_write_number(f, ssim[k]);
  }
  fputs("]}", f);
  free(psnr);
  return SR_OK;
}

/* Writes the outputs, then the sidecar (which marks the study complete). */
static sr_status finish_study(worker *wk, study *s, double *psnr_mean) {
  run_state *rs = wk->rs;
  sr_context *ctx = wk->ctx;
  *psnr_mean = NAN;
  SR_TRY(sr_volume_write(ctx, s->out_path, s->out, s->nslices, s->h, s->w, NULL));
  const char *files[3] = {s->out_path, NULL, NULL};
  const char *roles[3] = {"image", NULL, NULL};
  int nfiles = 1;
  if (s->sd) {
    SR_TRY(sr_volume_write(ctx, s->std_path, s->sd, s->nslices, s->h, s->w, NULL));
    files[nfiles] = s->std_path, roles[nfiles++] = "posterior_std";
  }
  if (sr_recon_cli.png) {
    SR_TRY(sr_montage_write(ctx, s->png_path, s->out, s->nslices, s->h, s->w));
    files[nfiles] = s->png_path, roles[nfiles++] = "montage";
  }
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot build the sidecar");
  char when[32];
  utc_now(when, sizeof when);
  const sr_build_info *bi = sr_get_build_info();
  fputs("{\n  \"scorerecon\": ", f);
  sr_json_write_string(f, bi->version);
  fputs(",\n  \"status\": \"ok\",\n  \"input\": ", f);
  sr_json_write_string(f, s->e->input);
  fprintf(f, ",\n  \"input_bytes\": %lld,\n  \"input_mtime_ns\": %lld,\n",
          (long long)s->input_stat.st_size,
          (long long)s->input_stat.st_mtim.tv_sec * 1000000000LL +
              (long long)s->input_stat.st_mtim.tv_nsec);
  fprintf(f, "  \"modality\": \"%s\",\n  \"shape\": [%lld, %lld, %lld],\n",
          s->m.modality == SR_MODALITY_MRI ? "mri" : "ct", (long long)s->nslices, (long long)s->h,
          (long long)s->w);
  fputs("  \"options_key\": ", f);
  sr_json_write_string(f, s->key);
  fputs(",\n  \"settings\": {", f);
  sr_recon_job_settings_json(&wk->job, f);
  fputs("},\n  \"outputs\": [", f);
  sr_status st = SR_OK;
  for (int i = 0; i < nfiles && st == SR_OK; ++i) {
    uint64_t bytes = 0;
    uint32_t crc = 0;
    if (crc_of_file(ctx, files[i], &bytes, &crc) != 0) {
      st = SR_ERR_IO;
      break;
    }
    fprintf(f, "%s\n    {\"role\": \"%s\", \"file\": ", i ? "," : "", roles[i]);
    sr_json_write_string(f, base_name(files[i]));
    fprintf(f, ", \"bytes\": %llu, \"crc32\": %lu}", (unsigned long long)bytes, (unsigned long)crc);
  }
  fputs("\n  ],\n  ", f);
  if (st == SR_OK) st = metrics_json(ctx, f, s, psnr_mean);
  fprintf(f, ",\n  \"seconds\": %.3f,\n  \"device\": \"%s", s->busy_s,
          rs->backend_cuda ? "cuda" : "cpu");
  if (wk->device >= 0) fprintf(f, ":%d", wk->device);
  fprintf(f, "\",\n  \"worker\": %d,\n  \"rank\": %d,\n  \"finished_utc\": \"%s\"\n}\n", wk->id,
          rs->mpi.rank, when);
  fclose(f);
  if (st == SR_OK) st = sr_atomic_write_file(ctx, s->sidecar_path, 0, text, len);
  free(text);
  return st;
}

/* ---------------------------------------------------------------- workers */

static void record_locked(run_state *rs, const study *s, const char *status, const char *error) {
  if (!rs->records_f) return;
  fprintf(rs->records_f, "%s\n    {\"input\": ", ftell(rs->records_f) > 0 ? "," : "");
  sr_json_write_string(rs->records_f, s->e->input);
  fprintf(rs->records_f, ", \"status\": \"%s\", \"slices\": %lld, \"seconds\": %.3f", status,
          (long long)s->nslices, s->busy_s);
  if (error) {
    fputs(", \"error\": ", rs->records_f);
    sr_json_write_string(rs->records_f, error);
  }
  fputc('}', rs->records_f);
}

/* Marks the study failed with the worker's last error (the first failure
 * wins); its remaining chunks are skipped. */
static void fail_study(worker *wk, study *s) {
  pthread_mutex_lock(&wk->rs->mu);
  if (!s->failed) {
    s->failed = 1;
    snprintf(s->error, sizeof s->error, "%s", sr_context_last_error(wk->ctx));
  }
  pthread_mutex_unlock(&wk->rs->mu);
}

/* After a study's last chunk: write it (or report its failure). */
static void complete_study(worker *wk, study *s) {
  run_state *rs = wk->rs;
  double psnr = NAN;
  pthread_mutex_lock(&rs->mu);
  const int failed = s->failed;
  pthread_mutex_unlock(&rs->mu);
  if (!failed && finish_study(wk, s, &psnr) != SR_OK) fail_study(wk, s);
  pthread_mutex_lock(&rs->mu);
  if (s->failed) {
    ++rs->failed;
    logf_locked(rs, "FAILED %s: %s\n", s->e->input, s->error);
    record_locked(rs, s, "failed", s->error);
  } else {
    ++rs->ok;
    rs->slices += (uint64_t)s->nslices;
    char metric[48] = "";
    if (isfinite(psnr)) snprintf(metric, sizeof metric, ", PSNR %.2f dB", psnr);
    logf_locked(rs, "done %s: %lld slice(s) in %.1f s on %s%s -> %s\n", s->e->input,
                (long long)s->nslices, s->busy_s, sr_context_get_backend(wk->ctx)->ops->name,
                metric, s->out_path);
    record_locked(rs, s, "ok", NULL);
  }
  --rs->in_flight;
  pthread_cond_broadcast(&rs->cv);
  pthread_mutex_unlock(&rs->mu);
}

static void close_job(worker *wk) {
  if (wk->job_open) sr_recon_job_close(&wk->job);
  wk->job_open = 0;
  if (wk->cur) {
    pthread_mutex_lock(&wk->rs->mu);
    study_unref_locked(wk->cur);
    pthread_mutex_unlock(&wk->rs->mu);
    wk->cur = NULL;
  }
}

static void run_chunk(worker *wk, const chunk *c) {
  study *s = c->s;
  sr_backend *b = sr_context_get_backend(wk->ctx);
  if (s != wk->cur) {
    close_job(wk);
    wk->cur = s; /* the queue's reference passes to the open job */
    pthread_mutex_lock(&wk->rs->mu);
    ++s->refs;
    pthread_mutex_unlock(&wk->rs->mu);
    const char *model = s->model;
    sr_status st = sr_recon_job_open(wk->ctx, &s->m, s->e->input, model, wk->cache, &wk->job);
    wk->job_open = st == SR_OK;
    if (st != SR_OK) fail_study(wk, s);
  }
  pthread_mutex_lock(&wk->rs->mu);
  const int skip = s->failed;
  pthread_mutex_unlock(&wk->rs->mu);
  if (!skip && wk->job_open) {
    const size_t plane = (size_t)(s->h * s->w);
    sr_backend_range_push(b, base_name(s->e->input)); /* NVTX: one range per study chunk */
    const double t = sr_clock_seconds();
    sr_status st = sr_recon_job_run(&wk->job, c->s0, c->ns, s->out + c->s0 * plane,
                                    s->sd ? s->sd + c->s0 * plane : NULL);
    const double dt = sr_clock_seconds() - t;
    sr_backend_range_pop(b);
    pthread_mutex_lock(&wk->rs->mu);
    s->busy_s += dt;
    pthread_mutex_unlock(&wk->rs->mu);
    wk->busy_s += dt;
    if (st == SR_OK)
      wk->slices += c->ns;
    else
      fail_study(wk, s);
  }
  pthread_mutex_lock(&wk->rs->mu);
  const int last = --s->chunks_left == 0;
  study_unref_locked(s); /* the chunk's reference (the job holds one) */
  pthread_mutex_unlock(&wk->rs->mu);
  if (last) complete_study(wk, s);
}

static void *worker_main(void *arg) {
  worker *wk = (worker *)arg;
  run_state *rs = wk->rs;
  sr_context_options co = sr_context_options_default();
  co.backend = sr_recon_backend_kind();
  if (wk->device >= 0) co.device = wk->device;
  co.threads = wk->threads;
  wk->init_status = sr_context_create(&co, &wk->ctx);
  if (wk->init_status != SR_OK)
    snprintf(wk->init_error, sizeof wk->init_error, "%s",
             wk->ctx ? sr_context_last_error(wk->ctx) : sr_strerror(wk->init_status));
  if (wk->init_status == SR_OK && !(wk->cache = sr_score_model_cache_create())) {
    wk->init_status = SR_ERR_OUT_OF_MEMORY;
    snprintf(wk->init_error, sizeof wk->init_error, "cannot allocate a model cache");
  }
  pthread_mutex_lock(&rs->mu);
  ++rs->inits_done;
  pthread_cond_broadcast(&rs->cv);
  pthread_mutex_unlock(&rs->mu);
  while (wk->init_status == SR_OK) {
    pthread_mutex_lock(&rs->mu);
    while (rs->qhead == rs->qtail && !rs->closed) pthread_cond_wait(&rs->cv, &rs->mu);
    if (rs->qhead == rs->qtail) {
      pthread_mutex_unlock(&rs->mu);
      break;
    }
    chunk c = rs->queue[rs->qhead++ % rs->qcap];
    pthread_cond_broadcast(&rs->cv);
    pthread_mutex_unlock(&rs->mu);
    run_chunk(wk, &c);
  }
  close_job(wk);
  return NULL;
}

/* ---------------------------------------------------------------- main side */

static void push_chunk_locked(run_state *rs, chunk c) {
  while (rs->qtail - rs->qhead == rs->qcap) pthread_cond_wait(&rs->cv, &rs->mu);
  rs->queue[rs->qtail++ % rs->qcap] = c;
  pthread_cond_broadcast(&rs->cv);
}

/* Slices per chunk: one sampler batch (--batch; without it 64 items on a
 * GPU, the most the automatic batch takes, and 4 on the CPU), or the
 * baselines' --batch; a whole study when there is one worker. */
static size_t chunk_slices(const run_state *rs, int64_t nslices) {
  if (rs->nworkers == 1) return (size_t)nslices;
  int64_t items = sr_recon_cli.batch > 0 ? sr_recon_cli.batch : (rs->backend_cuda ? 64 : 4);
  if (sr_recon_cli.method == SR_RECON_SCORE) items /= sr_score_cli.samples;
  if (items < 1) items = 1;
  return (size_t)(items < nslices ? items : nslices);
}

/* Builds the study for entry k (paths, key, resume check); returns NULL
 * with *skip set when it is complete, NULL with an error for a bad input,
 * or the study with its measurement read. */
static study *prepare_study(run_state *rs, sr_context *ctx, const sr_manifest *man, size_t k,
                            const char *out_dir, int *skip, char *err, size_t err_size) {
  const sr_manifest_entry *e = &man->entries[k];
  *skip = 0;
  err[0] = '\0';
  study *s = (study *)calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, err_size, "out of memory");
    return NULL;
  }
  s->e = e, s->refs = 1;
  char *p[PATH_COUNT];
  const int paths_ok = study_paths(out_dir, e->stem, p) == 0;
  s->out_path = p[PATH_IMAGE], s->std_path = p[PATH_STD];
  s->png_path = p[PATH_PNG], s->sidecar_path = p[PATH_SIDECAR];
  if (!paths_ok) {
    snprintf(err, err_size, "out of memory");
    study_free(s);
    return NULL;
  }
  if (stat(e->input, &s->input_stat) != 0 || !S_ISREG(s->input_stat.st_mode)) {
    snprintf(err, err_size, "%s: %s", e->input,
             S_ISREG(s->input_stat.st_mode) || !s->input_stat.st_mode ? strerror(errno)
                                                                      : "not a regular file");
    study_free(s);
    return NULL;
  }
  /* Complete studies are skipped without reading their measurements. */
  char why[512];
  if (!sr_recon_cli.redo && study_complete(rs, ctx, s, out_dir, why, sizeof why)) {
    *skip = 1;
    study_free(s);
    return NULL;
  }
  if (sr_meas_read(ctx, e->input, &s->m) != SR_OK) {
    snprintf(err, err_size, "%s", sr_context_last_error(ctx));
    study_free(s);
    return NULL;
  }
  s->model = e->model ? e->model : sr_recon_model_for(&s->m);
  s->key = study_key(rs, e, s->m.modality);
  const int is_mri = s->m.modality == SR_MODALITY_MRI;
  s->nslices = is_mri ? s->m.mri.nslices : s->m.ct.nslices;
  s->h = is_mri ? s->m.mri.h : s->m.ct.image_h, s->w = is_mri ? s->m.mri.w : s->m.ct.image_w;
  const size_t total = (size_t)(s->nslices * s->h * s->w);
  s->out = (float *)malloc(total * sizeof(float));
  if (sr_recon_cli.method == SR_RECON_SCORE && sr_score_cli.samples > 1)
    s->sd = (float *)malloc(total * sizeof(float));
  if (!s->key || !s->out ||
      (sr_recon_cli.method == SR_RECON_SCORE && sr_score_cli.samples > 1 && !s->sd)) {
    snprintf(err, err_size, "%s: cannot allocate %lld slices", e->input, (long long)s->nslices);
    study_free(s);
    return NULL;
  }
  return s;
}

/* Device list "0,1,3" (CUDA) or --workers CPU workers. */
static int parse_devices(const char *text, int *dev, int max) {
  int n = 0;
  for (const char *p = text; *p;) {
    char *end = NULL;
    errno = 0;
    long v = strtol(p, &end, 10);
    if (end == p || errno || v < 0 || v > 1023 || n == max) return -1;
    dev[n++] = (int)v;
    p = end;
    if (*p == ',')
      ++p;
    else if (*p)
      return -1;
  }
  return n;
}

typedef struct totals {
  uint64_t ok, skipped, failed, slices, owned;
} totals;

/* The summary: this rank's (or, with MPI, rank 0 prints everyone's). */
static sr_status write_summary(run_state *rs, sr_context *ctx, const char *path, const totals *all,
                               double wall, const double *rows, int nrows) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot build the summary");
  char when[32];
  utc_now(when, sizeof when);
  fputs("{\n  \"manifest\": ", f);
  sr_json_write_string(f, sr_recon_cli.manifest);
  fprintf(f, ",\n  \"finished_utc\": \"%s\",\n  \"ranks\": %d,\n", when, rs->mpi.size);
  fprintf(f,
          "  \"studies\": %llu,\n  \"succeeded\": %llu,\n  \"skipped\": %llu,\n  \"failed\": "
          "%llu,\n  \"slices\": %llu,\n  \"wall_seconds\": %.3f,\n  \"slices_per_second\": ",
          (unsigned long long)all->owned, (unsigned long long)all->ok,
          (unsigned long long)all->skipped, (unsigned long long)all->failed,
          (unsigned long long)all->slices, wall);
  sr_json_write_number(f, wall > 0.0 ? (double)all->slices / wall : NAN);
  fputs(",\n  \"devices\": [", f);
  for (int i = 0; i < nrows; ++i) {
    const double *r = rows + 4 * i; /* rank, device, slices, busy */
    fprintf(f, "%s\n    {\"rank\": %d, \"device\": \"%s", i ? "," : "", (int)r[0],
            r[1] >= 0 ? "cuda:" : "cpu");
    if (r[1] >= 0) fprintf(f, "%d", (int)r[1]);
    fprintf(f, "\", \"slices\": %.0f, \"busy_seconds\": %.3f, \"slices_per_second\": ", r[2], r[3]);
    sr_json_write_number(f, r[3] > 0.0 ? r[2] / r[3] : NAN);
    fputc('}', f);
  }
  /* Rank 0's studies (every study has its sidecar; the other ranks' are
   * in their own log lines). */
  fputs("\n  ],\n  \"studies_rank0\": [", f);
  if (rs->records) fwrite(rs->records, 1, rs->records_len, f);
  fputs("\n  ]\n}\n", f);
  fclose(f);
  sr_status st = sr_atomic_write_file(ctx, path, 0, text, len);
  free(text);
  return st;
}

static int finish_run(run_state *rs, sr_context *ctx, const char *out_dir, totals mine) {
  const double wall = sr_clock_seconds() - rs->t0;
  /* Rows per worker: rank, device, slices, busy seconds. Every rank has the
   * same worker count only by convention: a fixed number of rows per rank
   * is gathered, the maximum, padded with slices = -1. */
  const int n = rs->nworkers;
  double dmax = n;
  sr_mpi_max_double(&rs->mpi, &dmax, 1);
  const int nmax = (int)dmax;
  double *mine_rows = (double *)calloc((size_t)nmax * 4, sizeof(double));
  double *all_rows =
      rs->mpi.rank == 0 ? (double *)calloc((size_t)nmax * 4 * rs->mpi.size, sizeof(double)) : NULL;
  if (!mine_rows || (rs->mpi.rank == 0 && !all_rows)) {
    free(mine_rows), free(all_rows);
    return sr_cli_fail(rs->command, "out of memory for the summary");
  }
  for (int i = 0; i < nmax; ++i) {
    double *r = mine_rows + 4 * i;
    r[0] = rs->mpi.rank;
    r[1] = i < n ? rs->workers[i].device : 0;
    r[2] = i < n ? (double)rs->workers[i].slices : -1.0;
    r[3] = i < n ? rs->workers[i].busy_s : 0.0;
  }
  sr_mpi_gather_doubles(&rs->mpi, mine_rows, nmax * 4, all_rows);
  uint64_t v[5] = {mine.ok, mine.skipped, mine.failed, mine.slices, mine.owned};
  sr_mpi_sum_u64(&rs->mpi, v, 5);
  double w[1] = {wall};
  sr_mpi_max_double(&rs->mpi, w, 1);
  const totals all = {v[0], v[1], v[2], v[3], v[4]};
  int rc = all.failed ? SR_EXIT_FAILURE : 0;
  if (rs->mpi.rank == 0) {
    /* compact the padded rows */
    int nrows = 0;
    for (int i = 0; i < nmax * rs->mpi.size; ++i)
      if (all_rows[4 * i + 2] >= 0)
        memmove(all_rows + 4 * nrows++, all_rows + 4 * i, 4 * sizeof(double));
    printf("%s: %llu stud%s: %llu succeeded, %llu skipped (complete), %llu failed; %llu slices "
           "in %.1f s (%.3g slices/s in total)\n",
           rs->command, (unsigned long long)all.owned, all.owned == 1 ? "y" : "ies",
           (unsigned long long)all.ok, (unsigned long long)all.skipped,
           (unsigned long long)all.failed, (unsigned long long)all.slices, w[0],
           w[0] > 0 ? (double)all.slices / w[0] : 0.0);
    for (int i = 0; i < nrows; ++i) {
      const double *r = all_rows + 4 * i;
      char dev[32];
      if (r[1] >= 0)
        snprintf(dev, sizeof dev, "cuda:%d", (int)r[1]);
      else
        snprintf(dev, sizeof dev, "cpu");
      printf("  rank %d %-8s worker: %.0f slices, busy %.1f s, %.3g slices/s\n", (int)r[0], dev,
             r[2], r[3], r[3] > 0 ? r[2] / r[3] : 0.0);
    }
    char *path = NULL;
    if (sr_recon_cli.summary_path) {
      path = strdup(sr_recon_cli.summary_path);
    } else {
      char name[64] = "summary.json";
      int si = 0, sn = 1;
      if (sr_recon_cli.shard && sr_shard_parse(sr_recon_cli.shard, &si, &sn) == 0 && sn > 1)
        snprintf(name, sizeof name, "summary-%d-of-%d.json", si, sn);
      path = sr_path_join(out_dir, name);
    }
    sr_status st = path ? write_summary(rs, ctx, path, &all, w[0], all_rows, nrows)
                        : sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a path");
    if (st == SR_OK)
      printf("summary -> %s\n", path);
    else
      rc = sr_cli_fail_status(rs->command, ctx, st);
    free(path);
  }
  free(mine_rows), free(all_rows);
  return rc;
}

/* The shard to take: --shard, else Slurm's array variables, else all. */
static int resolve_shard(const char *command, int *si, int *sn) {
  *si = 0, *sn = 1;
  if (sr_recon_cli.shard) {
    if (sr_shard_parse(sr_recon_cli.shard, si, sn) != 0)
      return sr_cli_usage(command, "--shard takes i/n with 0 <= i < n, not \"%s\"",
                          sr_recon_cli.shard);
    return 0;
  }
  char why[256];
  if (sr_shard_from_slurm(si, sn, why, sizeof why) < 0) return sr_cli_usage(command, "%s", why);
  return 0;
}

int sr_batch_run(const char *command) {
  run_state rs;
  memset(&rs, 0, sizeof rs);
  rs.command = command;
  rs.log = stdout;
  int si, sn, rc;
  if ((rc = resolve_shard(command, &si, &sn)) != 0) return rc;
  int devs[MAX_WORKERS];
  int ndev = 0;
  if (sr_recon_cli.devices) {
    ndev = parse_devices(sr_recon_cli.devices, devs, MAX_WORKERS);
    if (ndev <= 0)
      return sr_cli_usage(command, "--devices takes GPU indices like 0,1,2, not \"%s\"",
                          sr_recon_cli.devices);
    if (sr_recon_backend_kind() == SR_BACKEND_CPU)
      return sr_cli_usage(command, "--devices names GPUs: use --workers with --device cpu");
    if (sr_recon_cli.workers != 1)
      return sr_cli_usage(command, "give --devices (GPUs) or --workers (CPU), not both");
  }
  char why[512];
  if (sr_mpi_init(&rs.mpi, why, sizeof why) != 0) return sr_cli_fail(command, "%s", why);
  sr_context *ctx = sr_cli_host_context(command);
  if (!ctx) {
    sr_mpi_finalize(&rs.mpi);
    return SR_EXIT_FAILURE;
  }
  sr_manifest man;
  sr_status st = sr_manifest_read(ctx, sr_recon_cli.manifest, &man);
  if (st != SR_OK) {
    rc = sr_cli_fail_status(command, ctx, st);
    sr_context_destroy(ctx);
    sr_mpi_finalize(&rs.mpi);
    return rc;
  }
  const char *out_dir = sr_recon_cli.out_path;
  size_t owned = 0;
  for (size_t k = 0; k < man.count; ++k)
    owned += sr_shard_takes(k, si, sn, rs.mpi.rank, rs.mpi.size);
  if (sr_recon_cli.list_only) {
    for (size_t k = 0; k < man.count; ++k)
      if (sr_shard_takes(k, si, sn, rs.mpi.rank, rs.mpi.size))
        printf("%zu\t%s\n", k, man.entries[k].input);
    sr_manifest_free(&man);
    sr_context_destroy(ctx);
    sr_mpi_finalize(&rs.mpi);
    return 0;
  }
  /* Workers: one per listed GPU (with MPI and no --devices: the GPU of the
   * local rank), else --workers CPU workers sharing the cores. */
  sr_backend_kind kind = sr_recon_backend_kind();
  int gpus = 0;
  char why_gpu[128];
  if (kind != SR_BACKEND_CPU && sr_cuda_probe(&gpus, why_gpu, sizeof why_gpu) != SR_OK) gpus = 0;
  if (kind == SR_BACKEND_AUTO) kind = gpus > 0 ? SR_BACKEND_CUDA : SR_BACKEND_CPU;
  rs.backend_cuda = kind == SR_BACKEND_CUDA;
  if (rs.backend_cuda && ndev > 0 && rs.mpi.size > 1) {
    devs[0] = devs[rs.mpi.local_rank % ndev]; /* a rank per GPU: the local rank's */
    ndev = 1;
  }
  if (rs.backend_cuda && ndev == 0) {
    devs[0] = rs.mpi.local_rank % (gpus > 0 ? gpus : 1);
    ndev = 1;
  }
  rs.nworkers = rs.backend_cuda ? ndev : (int)sr_recon_cli.workers;
  rs.workers = (worker *)calloc((size_t)rs.nworkers, sizeof(worker));
  rs.qcap = 4 * (size_t)rs.nworkers + 16;
  rs.queue = (chunk *)calloc(rs.qcap, sizeof(chunk));
  rs.records_f = open_memstream(&rs.records, &rs.records_len);
  if (!rs.workers || !rs.queue || !rs.records_f) {
    sr_manifest_free(&man);
    sr_context_destroy(ctx);
    sr_mpi_finalize(&rs.mpi);
    return sr_cli_fail(command, "out of memory");
  }
  pthread_mutex_init(&rs.mu, NULL);
  pthread_cond_init(&rs.cv, NULL);
  /* Stale temporaries of the outputs this process owns. */
  {
    char **names = (char **)calloc(owned * PATH_COUNT + 1, sizeof(char *));
    size_t nn = 0;
    for (size_t k = 0; names && k < man.count; ++k)
      if (sr_shard_takes(k, si, sn, rs.mpi.rank, rs.mpi.size) &&
          study_paths(out_dir, man.entries[k].stem, names + nn) == 0)
        nn += PATH_COUNT;
    remove_stale_temporaries(&rs, out_dir, names, nn);
    for (size_t i = 0; i < nn; ++i) free(names[i]);
    free(names);
  }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  const int total_threads =
      sr_recon_cli.threads > 0 ? (int)sr_recon_cli.threads : (int)(cores > 0 ? cores : 1);
  int started = 0;
  for (int i = 0; i < rs.nworkers; ++i) {
    worker *wk = &rs.workers[i];
    wk->rs = &rs, wk->id = i;
    wk->device = rs.backend_cuda ? devs[i] : -1;
    wk->threads =
        rs.backend_cuda ? 1 : (total_threads / rs.nworkers > 0 ? total_threads / rs.nworkers : 1);
    if (pthread_create(&wk->thread, NULL, worker_main, wk) != 0) break;
    ++started;
  }
  pthread_mutex_lock(&rs.mu);
  while (rs.inits_done < started) pthread_cond_wait(&rs.cv, &rs.mu);
  pthread_mutex_unlock(&rs.mu);
  int init_failed = started < rs.nworkers;
  for (int i = 0; i < started; ++i)
    if (rs.workers[i].init_status != SR_OK) {
      if (!init_failed)
        sr_cli_fail(command, "worker %d (%s%d): %s", i, rs.backend_cuda ? "cuda:" : "cpu ",
                    rs.backend_cuda ? rs.workers[i].device : i, rs.workers[i].init_error);
      init_failed = 1;
    }
  /* Every rank learns whether any rank's workers failed, so that all stop
   * together (a rank leaving early would hang the others' collectives). */
  uint64_t bad = (uint64_t)init_failed;
  sr_mpi_sum_u64(&rs.mpi, &bad, 1);
  st = SR_OK;
  if (!bad) {
    st = make_dirs(ctx, out_dir);
    if (st != SR_OK) sr_cli_fail_status(command, ctx, st);
  }
  uint64_t bad_dir = st != SR_OK;
  sr_mpi_sum_u64(&rs.mpi, &bad_dir, 1);
  if (bad || bad_dir) {
    pthread_mutex_lock(&rs.mu);
    rs.closed = 1;
    pthread_cond_broadcast(&rs.cv);
    pthread_mutex_unlock(&rs.mu);
    for (int i = 0; i < started; ++i) pthread_join(rs.workers[i].thread, NULL);
    if (bad && !init_failed && rs.mpi.rank == 0)
      sr_cli_fail(command, "another rank's workers could not start");
    rc = SR_EXIT_FAILURE;
    goto cleanup;
  }
  if (rs.mpi.rank == 0 || rs.mpi.size == 1)
    logf_locked(&rs,
                "%s: %zu stud%s in %s, this process takes %zu (shard %d/%d, rank %d/%d), %d "
                "worker%s on %s -> %s\n",
                command, man.count, man.count == 1 ? "y" : "ies", sr_recon_cli.manifest, owned, si,
                sn, rs.mpi.rank, rs.mpi.size, rs.nworkers, rs.nworkers == 1 ? "" : "s",
                rs.backend_cuda ? "cuda" : "cpu", out_dir);
  rs.t0 = sr_clock_seconds();
  totals mine = {0, 0, 0, 0, owned};
  for (size_t k = 0; k < man.count; ++k) {
    if (!sr_shard_takes(k, si, sn, rs.mpi.rank, rs.mpi.size)) continue;
    /* bounded read-ahead: at most workers + 1 studies in memory */
    pthread_mutex_lock(&rs.mu);
    while (rs.in_flight > rs.nworkers) pthread_cond_wait(&rs.cv, &rs.mu);
    pthread_mutex_unlock(&rs.mu);
    int skip = 0;
    char err[640];
    study *s = prepare_study(&rs, ctx, &man, k, out_dir, &skip, err, sizeof err);
    pthread_mutex_lock(&rs.mu);
    if (!s) {
      if (skip) {
        ++rs.skipped;
        logf_locked(&rs, "skip %s: complete (sidecar)\n", man.entries[k].input);
      } else {
        ++rs.failed;
        logf_locked(&rs, "FAILED %s: %s\n", man.entries[k].input, err);
        study tmp = {.e = &man.entries[k]};
        record_locked(&rs, &tmp, "failed", err);
      }
      pthread_mutex_unlock(&rs.mu);
      continue;
    }
    const size_t cs = chunk_slices(&rs, s->nslices);
    s->chunks_left = ((size_t)s->nslices + cs - 1) / cs;
    s->refs = (int)s->chunks_left; /* one per chunk; the creator's goes */
    ++rs.in_flight;
    for (size_t s0 = 0; s0 < (size_t)s->nslices; s0 += cs) {
      chunk c = {s, s0, (size_t)s->nslices - s0 < cs ? (size_t)s->nslices - s0 : cs};
      push_chunk_locked(&rs, c);
    }
    pthread_mutex_unlock(&rs.mu);
  }
  pthread_mutex_lock(&rs.mu);
  rs.closed = 1;
  pthread_cond_broadcast(&rs.cv);
  pthread_mutex_unlock(&rs.mu);
  for (int i = 0; i < started; ++i) pthread_join(rs.workers[i].thread, NULL);
  mine.ok = rs.ok, mine.skipped = rs.skipped, mine.failed = rs.failed, mine.slices = rs.slices;
  fclose(rs.records_f);
  rs.records_f = NULL;
  rc = finish_run(&rs, ctx, out_dir, mine);
cleanup:
  if (rs.records_f) fclose(rs.records_f);
  for (int i = 0; i < started; ++i) {
    sr_score_model_cache_destroy(rs.workers[i].cache);
    sr_context_destroy(rs.workers[i].ctx);
  }
  free(rs.records);
  free(rs.workers);
  free(rs.queue);
  pthread_mutex_destroy(&rs.mu);
  pthread_cond_destroy(&rs.cv);
  sr_manifest_free(&man);
  sr_context_destroy(ctx);
  sr_mpi_finalize(&rs.mpi);
  return rc;
}
