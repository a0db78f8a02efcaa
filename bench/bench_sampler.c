/* The sampler: seconds per slice for a reconstruction and where the time
 * goes (network, data consistency, the rest), on the context's backend.
 *
 *   bench_sampler [--modality ct|mri] [--size N] [--views K] [--n-keep C]
 *                 [--model M.safetensors] [--consistency paper|exact]
 *                 [--levels L] [--batch B] [--backend cpu|cuda] [--threads T]
 *                 [--repeats R] [--peer "COMMAND"] [--gap MS]
 *
 * CT: the paper's Fourier-domain operator (ct-fourier: K of N views, T the
 * 4x-padded FFT, forward / adjoint the matched parallel-beam pair), MRI:
 * mri-cartesian with the paper's mask (n_keep columns). The score model is
 * an NCSN++ file (random weights are fine for timing: `bench/ncsnpp_peer.py
 * write ct OUT`) or, without --model, the analytic Gaussian prior (then the
 * network share is ~0 and the numbers time the sampler's own work).
 *
 * Each repeat runs L noise levels (PC: 1 Langevin step + 1 predictor, two
 * consistency steps per level) on a batch of B slices with the backend
 * synchronised at every boundary, so device time is attributed to the right
 * part, and is timed from the end of level 1 to the end of level L.
 * Printed: the median over repeats of seconds per level, extrapolated to
 * the paper's N = 1000 levels per slice (the setup and the final denoise +
 * consistency, amortised over 1000 levels, are not included), and the
 * shares of network / consistency / rest.
 *
 * --peer: a PyTorch port of the paper's sampler (bench/sampler_peer.py
 * serve) timed in the same run. COMMAND runs under sh with pipes on its
 * stdin and stdout; it prints "ready" once warmed up, then answers each line
 * "run" with one sampler run of the same L levels and batch and a line
 * "peer_level_s X network_s Y consistency_s Z" (seconds per level between
 * the ends of level 1 and level L, as ours). Rounds alternate: one run of
 * ours, --gap ms of sleep (default 300: OpenMP threads still spinning after
 * one side's run would take a core from the other), one run of the peer,
 * the gap again. Printed beside ours: the peer's median, its shares, and
 * the ratio peer s/level / ours s/level (of the medians, and the median of
 * the per-round ratios). The peer's settings (size, views, batch, threads,
 * levels) are its own options: its "ready" line, printed, names them. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "bench_util.h"
#include "core/clock.h"
#include "operators/ct_fourier.h"
#include "operators/ct_geometry.h"
#include "operators/mri_cartesian.h"
#include "operators/mri_mask.h"
#include "sampler/gaussian_prior.h"
#include "sampler/model_score.h"
#include "sampler/pc_sampler.h"

/* One peer run: seconds per level, network and consistency seconds per
 * level; 0 on success. */
static int peer_run(sr_bench_peer *p, double *level, double *net, double *cons) {
  char line[512];
  if (sr_bench_peer_run(p, "peer_level_s", line, sizeof line) != 0) return -1;
  if (sscanf(line, "peer_level_s %lf network_s %lf consistency_s %lf", level, net, cons) != 3)
    return -1;
  return *level > 0.0 ? 0 : -1;
}

/* Wall clock and the sampler's network / consistency seconds at the end of
 * the first and of the last level. */
typedef struct timing {
  sr_sampler *smp;
  sr_backend *b;
  int levels;
  double wall[2], net[2], cons[2];
} timing;

static void on_level(void *user, const sr_sampler_progress *p) {
  timing *t = (timing *)user;
  const int k = p->step == 1 ? 0 : (p->step == t->levels ? 1 : -1);
  if (k < 0) return;
  t->b->ops->synchronize(t->b);
  const sr_sampler_stats *s = sr_sampler_stats_get(t->smp);
  t->wall[k] = sr_clock_seconds();
  t->net[k] = s->network_s;
  t->cons[k] = s->consistency_s;
}

static int fail(sr_context *ctx, const char *what) {
  fprintf(stderr, "bench_sampler: %s: %s\n", what, ctx ? sr_context_last_error(ctx) : "");
  return 1;
}

/* A smooth phantom in [0, 1] for slice s. */
static void phantom(float *x, int64_t n, int s) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < n; ++c) {
      const double u = (c - n / 2 + 0.5) / (n / 2.0), v = (r - n / 2 + 0.5) / (n / 2.0);
      double p = u * u / 0.8 + v * v / 0.6 < 1.0 ? 0.6 : 0.0;
      if ((u - 0.2 - 0.02 * s) * (u - 0.2 - 0.02 * s) + (v + 0.1) * (v + 0.1) < 0.05) p = 1.0;
      x[r * n + c] = (float)p;
    }
}

int main(int argc, char **argv) {
  const char *modality = "ct", *model_path = NULL, *backend = "cpu", *mode = "paper";
  const char *peer_cmd = NULL;
  int64_t size = 320, views = 23, n_keep = 30, levels = 10, batch = 1, threads = 0, repeats = 3;
  int64_t gap_ms = 300;
  signal(SIGPIPE, SIG_IGN);
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) return fprintf(stderr, "bench_sampler: %s needs a value\n", a), 2;
    if (!strcmp(a, "--modality"))
      modality = v;
    else if (!strcmp(a, "--size"))
      size = atoll(v);
    else if (!strcmp(a, "--views"))
      views = atoll(v);
    else if (!strcmp(a, "--n-keep"))
      n_keep = atoll(v);
    else if (!strcmp(a, "--model"))
      model_path = v;
    else if (!strcmp(a, "--consistency"))
      mode = v;
    else if (!strcmp(a, "--levels"))
      levels = atoll(v);
    else if (!strcmp(a, "--batch"))
      batch = atoll(v);
    else if (!strcmp(a, "--backend"))
      backend = v;
    else if (!strcmp(a, "--threads"))
      threads = atoll(v);
    else if (!strcmp(a, "--repeats"))
      repeats = atoll(v);
    else if (!strcmp(a, "--peer"))
      peer_cmd = v;
    else if (!strcmp(a, "--gap"))
      gap_ms = atoll(v);
    else
      return fprintf(stderr, "bench_sampler: unknown option %s\n", a), 2;
    ++i;
  }
  if (size < 8 || levels < 1 || batch < 1 || repeats < 1 || repeats > 99 || gap_ms < 0)
    return fprintf(stderr, "bench_sampler: bad sizes\n"), 2;
  sr_context_options o = sr_context_options_default();
  o.backend = !strcmp(backend, "cuda") ? SR_BACKEND_CUDA : SR_BACKEND_CPU;
  o.threads = (int)threads;
  sr_context *ctx = NULL;
  if (sr_context_create(&o, &ctx) != SR_OK) return fail(ctx, "context");
  sr_backend *b = sr_context_get_backend(ctx);
  const int is_ct = !strcmp(modality, "ct");
  const size_t n = (size_t)(size * size), nb = (size_t)batch;

  /* The operator and the measurements of nb phantoms. */
  sr_operator *op = NULL;
  sr_status st;
  if (is_ct) {
    int64_t *rows = (int64_t *)malloc((size_t)views * sizeof(int64_t));
    st = sr_ct_sparse_rows(ctx, size, views, rows);
    sr_ct_fourier_params fp;
    memset(&fp, 0, sizeof fp);
    fp.image_size = size;
    fp.n_full = size;
    fp.rows = rows;
    fp.n_keep = views;
    if (st == SR_OK) st = sr_ct_fourier_create(b, &fp, &op);
    free(rows);
  } else {
    float *mask = (float *)malloc(n * sizeof(float));
    sr_mask_params mp = sr_mask_params_default();
    mp.kind = SR_MASK_PAPER;
    mp.n_keep = (int)n_keep;
    st = sr_mri_mask_make(ctx, &mp, size, size, mask);
    if (st == SR_OK) st = sr_mri_cartesian_create(b, size, size, mask, &op);
    free(mask);
  }
  if (st != SR_OK) return fail(ctx, "operator");
  const size_t yfl = op->meas_elems * (op->meas_dtype == SR_DTYPE_C64 ? 2 : 1);
  float *x_host = (float *)malloc(nb * n * sizeof(float));
  float *xd = NULL, *yd = NULL;
  for (size_t s = 0; s < nb; ++s) phantom(x_host + s * n, size, (int)s);
  st = b->ops->alloc(b, nb * n * sizeof(float), (void **)&xd);
  if (st == SR_OK) st = b->ops->alloc(b, nb * yfl * sizeof(float), (void **)&yd);
  if (st == SR_OK) st = b->ops->upload(b, xd, x_host, nb * n * sizeof(float));
  if (st == SR_OK) st = op->vt->forward(op, xd, yd, nb);
  if (st != SR_OK) return fail(ctx, "measurements");

  /* The score model. */
  sr_model *model = NULL;
  sr_model_score ms;
  sr_gaussian_prior *prior = NULL;
  sr_score_fn fn;
  void *user;
  char what[128];
  sr_sampler_params p;
  sr_sampler_params_default(&p);
  if (model_path) {
    if (sr_model_load(ctx, model_path, &model) != SR_OK) return fail(ctx, "model");
    if (sr_model_score_init(ctx, model, size, size, &ms) != SR_OK) return fail(ctx, "model");
    fn = sr_model_score_fn;
    user = &ms;
    p.sde = ms.sde;
    snprintf(what, sizeof what, "NCSN++ %s (%.2f M parameters, %.1f GFLOP per image at %lld^2)",
             model_path, (double)ms.info.num_params / 1e6,
             ms.info.flops_per_sample / 1e9 * (double)(size * size) /
                 ((double)ms.info.image_size * ms.info.image_size),
             (long long)size);
  } else {
    for (size_t i = 0; i < n; ++i) x_host[i] = 0.5f;
    if (sr_gaussian_prior_create(b, x_host, size, size, 0.3, NULL, &prior) != SR_OK)
      return fail(ctx, "prior");
    fn = sr_gaussian_prior_score;
    user = prior;
    snprintf(what, sizeof what, "analytic Gaussian prior");
  }
  p.consistency.mode = !strcmp(mode, "exact") ? SR_CONSISTENCY_EXACT : SR_CONSISTENCY_PAPER;
  if (sr_sampler_preset(ctx, is_ct ? "ct320" : "brats240", &p) != SR_OK) return fail(ctx, "preset");
  if (model_path) p.sde = ms.sde;

  sr_sampler *smp = NULL;
  if (sr_sampler_create(op, &p, fn, user, nb, &smp) != SR_OK) return fail(ctx, "sampler");
  sr_sampler_set_sync_timing(smp, 1);
  sr_sample_item *items = (sr_sample_item *)calloc(nb, sizeof *items);
  for (size_t s = 0; s < nb; ++s) items[s].slice = (uint32_t)s;

  printf("sampler: %s %lldx%lld%s, %s consistency (%s), %s, backend %s, batch %lld, "
         "%lld levels timed x %lld repeats\n",
         is_ct ? "CT" : "MRI", (long long)size, (long long)size,
         is_ct ? " (ct-fourier, views)" : " (paper mask)", mode, sr_sampler_consistency_method(smp),
         what, b->ops->name, (long long)batch, (long long)levels, (long long)repeats);
  if (is_ct) printf("views: %lld of %lld\n", (long long)views, (long long)size);
  sr_bench_peer pr = {0};
  if (peer_cmd && sr_bench_peer_start(&pr, peer_cmd) != 0) {
    fprintf(stderr, "bench_sampler: peer \"%s\" did not start (no \"ready\" line)\n", peer_cmd);
    sr_bench_peer_stop(&pr);
    memset(&pr, 0, sizeof pr);
    peer_cmd = NULL;
  }
  sr_bench_print_load("before");
  /* Warm-up run (plans, the network's arena), then `repeats` timed runs of
   * `levels` levels; each run is timed between the ends of its first and
   * last level (progress callback, backend synchronised), so the setup and
   * the final denoise + consistency steps are left out. */
  if (levels < 2) return fprintf(stderr, "bench_sampler: --levels must be >= 2\n"), 2;
  sr_sampler_destroy(smp);
  double *per_level = (double *)calloc((size_t)repeats, sizeof(double));
  double *peer_level = (double *)calloc((size_t)repeats, sizeof(double));
  double *ratio = (double *)calloc((size_t)repeats, sizeof(double));
  double net = 0.0, cons = 0.0, rest = 0.0, peer_net = 0.0, peer_cons = 0.0, peer_rest = 0.0;
  int peer_ok = peer_cmd != NULL;
  const struct timespec gap = {(time_t)(gap_ms / 1000), (long)(gap_ms % 1000) * 1000000L};
  sr_sampler_params q = p;
  q.sde.n = (int)levels;
  for (int r = -1; r < (int)repeats; ++r) {
    if (peer_ok) nanosleep(&gap, NULL);
    if (sr_sampler_create(op, &q, fn, user, nb, &smp) != SR_OK) return fail(ctx, "sampler");
    sr_sampler_set_sync_timing(smp, 1);
    timing tm = {smp, b, (int)levels, {0}, {0}, {0}};
    sr_sampler_set_progress(smp, on_level, &tm);
    if (sr_sampler_run_batch(smp, yd, items, nb, xd) != SR_OK) return fail(ctx, "run");
    sr_sampler_destroy(smp);
    if (r < 0) continue;
    const double d = (double)(levels - 1);
    per_level[r] = (tm.wall[1] - tm.wall[0]) / d;
    const double dn = (tm.net[1] - tm.net[0]) / d, dc = (tm.cons[1] - tm.cons[0]) / d;
    net += dn / (double)repeats;
    cons += dc / (double)repeats;
    rest += (per_level[r] - dn - dc) / (double)repeats;
    if (peer_ok) {
      double pl, pn, pc;
      nanosleep(&gap, NULL);
      if (peer_run(&pr, &pl, &pn, &pc) != 0) {
        fprintf(stderr, "bench_sampler: no timing from the peer in round %d\n", r + 1);
        peer_ok = 0;
        continue;
      }
      peer_level[r] = pl;
      ratio[r] = pl / per_level[r];
      peer_net += pn / (double)repeats;
      peer_cons += pc / (double)repeats;
      peer_rest += (pl - pn - pc) / (double)repeats;
    }
  }
  const double med = sr_bench_median(per_level, repeats);
  const double sum = net + cons + rest;
  printf("per level (batch %lld): median %.4f s (min %.4f, max %.4f)\n", (long long)batch, med,
         per_level[0], per_level[repeats - 1]);
  printf("seconds per slice at N = 1000: %.2f (%.2f min)\n", med * 1000.0 / (double)batch,
         med * 1000.0 / (double)batch / 60.0);
  printf("time shares: network %.1f%%, consistency %.1f%%, rest %.1f%% (per level: %.4f / "
         "%.4f / %.4f s)\n",
         100.0 * net / sum, 100.0 * cons / sum, 100.0 * rest / sum, net, cons, rest);
  if (peer_ok) {
    const double pmed = sr_bench_median(peer_level, repeats);
    const double psum = peer_net + peer_cons + peer_rest;
    printf("peer per level (batch %lld): median %.4f s (min %.4f, max %.4f)\n", (long long)batch,
           pmed, peer_level[0], peer_level[repeats - 1]);
    printf("peer seconds per slice at N = 1000: %.2f (%.2f min)\n", pmed * 1000.0 / (double)batch,
           pmed * 1000.0 / (double)batch / 60.0);
    printf("peer time shares: network %.1f%%, consistency %.1f%%, rest %.1f%% (per level: %.4f / "
           "%.4f / %.4f s)\n",
           100.0 * peer_net / psum, 100.0 * peer_cons / psum, 100.0 * peer_rest / psum, peer_net,
           peer_cons, peer_rest);
    printf("ratio (peer s/level / ours s/level): %.2fx of the medians, %.2fx the median per "
           "round; network %.2fx, consistency %.2fx\n",
           pmed / med, sr_bench_median(ratio, repeats), net > 0.0 ? peer_net / net : 0.0,
           cons > 0.0 ? peer_cons / cons : 0.0);
  } else if (peer_cmd) {
    printf("peer: no timing from \"%s\"\n", peer_cmd);
  }
  sr_bench_print_load("after");
  sr_bench_peer_stop(&pr);
  free(peer_level);
  free(ratio);
  free(per_level);
  free(items);
  free(x_host);
  b->ops->free(b, xd);
  b->ops->free(b, yd);
  sr_gaussian_prior_destroy(prior);
  if (model) sr_model_score_release(&ms);
  sr_model_free(model);
  sr_operator_destroy(op);
  sr_context_destroy(ctx);
  return 0;
}
