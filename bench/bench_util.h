/* What the benchmark programs share: medians, the load average line that
 * every table records, and the peer process (a PyTorch script under sh -c
 * with our pipes, driven one run at a time so that both sides alternate on
 * the same machine). Header-only: each bench is one program. */
#ifndef SR_BENCH_UTIL_H
#define SR_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int sr_bench_cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Sorts v in place and returns its median. */
static inline double sr_bench_median(double *v, size_t n) {
  qsort(v, n, sizeof *v, sr_bench_cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* "load average <when>: 1.00 0.90 ..." from /proc/loadavg. */
static inline void sr_bench_print_load(const char *when) {
  FILE *f = fopen("/proc/loadavg", "r");
  char line[128] = "?\n";
  if (f) {
    if (!fgets(line, sizeof line, f)) strcpy(line, "?\n");
    fclose(f);
  }
  printf("load average %s: %s", when, line);
}

typedef struct sr_bench_peer {
  pid_t pid;
  FILE *to, *from;
} sr_bench_peer;

/* Starts `sh -c cmd` and waits for its "ready ..." line (printed). */
static inline int sr_bench_peer_start(sr_bench_peer *p, const char *cmd) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) return -1;
  p->pid = fork();
  if (p->pid < 0) return -1;
  if (p->pid == 0) {
    dup2(in[0], 0), dup2(out[1], 1);
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  close(in[0]), close(out[1]);
  p->to = fdopen(in[1], "w");
  p->from = fdopen(out[0], "r");
  char line[512];
  while (fgets(line, sizeof line, p->from))
    if (!strncmp(line, "ready", 5)) {
      printf("peer: %s", line);
      return 0;
    }
  return -1;
}

/* Asks for one run and returns its result line (the first starting with
 * `prefix`) in line; 0 on success, -1 when the peer ended first. */
static inline int sr_bench_peer_run(sr_bench_peer *p, const char *prefix, char *line, size_t size) {
  fputs("run\n", p->to);
  fflush(p->to);
  while (fgets(line, (int)size, p->from))
    if (!strncmp(line, prefix, strlen(prefix))) return 0;
  return -1;
}

/* Closes the pipes and reaps the child; safe to call again. */
static inline void sr_bench_peer_stop(sr_bench_peer *p) {
  if (p->to) fclose(p->to);
  if (p->from) fclose(p->from);
  if (p->pid > 0) waitpid(p->pid, NULL, 0);
  memset(p, 0, sizeof *p);
}

#endif
