#define _POSIX_C_SOURCE 200809L
#include "cli/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/paths.h"
#include "core/error.h"
#include "io/file.h"

#define SR_MANIFEST_MAX_BYTES ((size_t)64 << 20)

/* The file name without directory and without .h5 / .hdf5. */
static char *make_stem(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t len = strlen(base);
  if (sr_path_ends_with(base, ".hdf5") && len > 5)
    len -= 5;
  else if (sr_path_ends_with(base, ".h5") && len > 3)
    len -= 3;
  return strndup(base, len);
}

static sr_status add_entry(sr_context *ctx, sr_manifest *m, size_t *cap, const char *dir,
                           const char *input, const char *model, size_t line) {
  if (m->count == *cap) {
    size_t nc = *cap ? 2 * *cap : 64;
    sr_manifest_entry *e = (sr_manifest_entry *)realloc(m->entries, nc * sizeof *e);
    if (!e) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot grow the manifest");
    m->entries = e, *cap = nc;
  }
  sr_manifest_entry *e = &m->entries[m->count];
  memset(e, 0, sizeof *e);
  e->line = line;
  e->input = sr_path_join(dir, input);
  e->model = model ? sr_path_join(dir, model) : NULL;
  e->stem = e->input ? make_stem(e->input) : NULL;
  ++m->count;
  if (!e->input || !e->stem || (model && !e->model))
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a manifest entry");
  return SR_OK;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static sr_status read_dir(sr_context *ctx, const char *path, sr_manifest *m) {
  DIR *d = opendir(path);
  if (!d)
    return sr_fail(ctx, SR_ERR_IO, "%s: cannot list the directory: %s", path, strerror(errno));
  char **names = NULL;
  size_t n = 0, cap = 0;
  sr_status st = SR_OK;
  for (struct dirent *de; st == SR_OK && (de = readdir(d)) != NULL;) {
    if (de->d_name[0] == '.') continue;
    if (!sr_path_ends_with(de->d_name, ".h5") && !sr_path_ends_with(de->d_name, ".hdf5")) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      char **nn = (char **)realloc(names, cap * sizeof *nn);
      if (!nn) {
        st = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot list %s", path);
        break;
      }
      names = nn;
    }
    if (!(names[n] = strdup(de->d_name)))
      st = sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot list %s", path);
    else
      ++n;
  }
  closedir(d);
  if (st == SR_OK) qsort(names, n, sizeof *names, cmp_str);
  size_t ecap = 0;
  for (size_t i = 0; st == SR_OK && i < n; ++i)
    st = add_entry(ctx, m, &ecap, path, names[i], NULL, 0);
  for (size_t i = 0; i < n; ++i) free(names[i]);
  free(names);
  return st;
}

/* Splits a line into at most 3 fields (to detect a third); returns the count. */
static int split_fields(char *line, char **f) {
  const char *sep = strchr(line, '\t') ? "\t" : " \t";
  int k = 0;
  for (char *save = NULL, *t = strtok_r(line, sep, &save); t && k < 3;
       t = strtok_r(NULL, sep, &save)) {
    /* trim blanks around tab-separated fields */
    while (*t == ' ') ++t;
    char *e = t + strlen(t);
    while (e > t && e[-1] == ' ') *--e = '\0';
    if (*t) f[k++] = t;
  }
  return k;
}

static sr_status read_list(sr_context *ctx, const char *path, sr_manifest *m) {
  unsigned char *text = NULL;
  size_t size = 0;
  SR_TRY(sr_file_read_all(ctx, path, SR_MANIFEST_MAX_BYTES, &text, &size));
  char *dir = strdup(path);
  sr_status st = dir ? SR_OK : sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot allocate a path");
  if (st == SR_OK) {
    char *slash = strrchr(dir, '/');
    if (slash)
      *slash = '\0';
    else
      dir[0] = '\0';
  }
  if (st == SR_OK && memchr(text, '\0', size))
    st = sr_fail(ctx, SR_ERR_FORMAT, "%s: a manifest is text, this file holds NUL bytes", path);
  size_t cap = 0, lineno = 0;
  char *line = (char *)text;
  while (st == SR_OK && line && *line) {
    ++lineno;
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    char *next = nl ? nl + 1 : NULL;
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r') line[--len] = '\0';
    char *p = line;
    while (*p == ' ' || *p == '\t') ++p;
    line = next;
    if (!*p || *p == '#') continue;
    char *f[3];
    const int k = split_fields(p, f);
    if (k > 2)
      st = sr_fail(ctx, SR_ERR_FORMAT,
                   "%s:%zu: expected a measurement file and optionally a model, found a third "
                   "field \"%s\"",
                   path, lineno, f[2]);
    else if (k >= 1)
      st = add_entry(ctx, m, &cap, dir, f[0], k == 2 ? f[1] : NULL, lineno);
  }
  free(dir);
  free(text);
  return st;
}

static int cmp_stem(const void *a, const void *b) {
  return strcmp((*(const sr_manifest_entry *const *)a)->stem,
                (*(const sr_manifest_entry *const *)b)->stem);
}

/* Two studies writing one output would overwrite each other's results. */
static sr_status check_unique(sr_context *ctx, const char *path, const sr_manifest *m) {
  const sr_manifest_entry **v = (const sr_manifest_entry **)malloc(m->count * sizeof *v);
  if (!v) return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "cannot check the manifest");
  for (size_t i = 0; i < m->count; ++i) v[i] = &m->entries[i];
  qsort(v, m->count, sizeof *v, cmp_stem);
  sr_status st = SR_OK;
  for (size_t i = 1; i < m->count && st == SR_OK; ++i)
    if (strcmp(v[i - 1]->stem, v[i]->stem) == 0)
      st = sr_fail(ctx, SR_ERR_INVALID_ARGUMENT,
                   "%s: %s and %s would both write the output \"%s\" (file names must differ)",
                   path, v[i - 1]->input, v[i]->input, v[i]->stem);
  free(v);
  return st;
}

sr_status sr_manifest_read(sr_context *ctx, const char *path, sr_manifest *out) {
  memset(out, 0, sizeof *out);
  struct stat sb;
  if (stat(path, &sb) != 0) return sr_fail(ctx, SR_ERR_IO, "%s: %s", path, strerror(errno));
  sr_status st = S_ISDIR(sb.st_mode) ? read_dir(ctx, path, out) : read_list(ctx, path, out);
  if (st == SR_OK && out->count == 0)
    st = sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "%s lists no measurement file%s", path,
                 S_ISDIR(sb.st_mode) ? " (*.h5, *.hdf5)" : "");
  if (st == SR_OK) st = check_unique(ctx, path, out);
  if (st != SR_OK) sr_manifest_free(out);
  return st;
}

void sr_manifest_free(sr_manifest *m) {
  for (size_t i = 0; i < m->count; ++i) {
    free(m->entries[i].input);
    free(m->entries[i].model);
    free(m->entries[i].stem);
  }
  free(m->entries);
  memset(m, 0, sizeof *m);
}

static int parse_int(const char *s, long lo, long hi, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

int sr_shard_parse(const char *text, int *i, int *n) {
  const char *slash = strchr(text, '/');
  if (!slash || slash == text) return -1;
  char head[32];
  if ((size_t)(slash - text) >= sizeof head) return -1;
  memcpy(head, text, (size_t)(slash - text));
  head[slash - text] = '\0';
  long a, b;
  if (parse_int(head, 0, 999999, &a) || parse_int(slash + 1, 1, 1000000, &b) || a >= b) return -1;
  *i = (int)a, *n = (int)b;
  return 0;
}

int sr_shard_from_slurm(int *i, int *n, char *why, size_t why_size) {
  const char *id = getenv("SLURM_ARRAY_TASK_ID"), *count = getenv("SLURM_ARRAY_TASK_COUNT");
  if (!id || !count) return 0;
  const char *min = getenv("SLURM_ARRAY_TASK_MIN");
  long v, c, lo = 0;
  if (parse_int(id, 0, 100000000, &v) || parse_int(count, 1, 1000000, &c) ||
      (min && parse_int(min, 0, 100000000, &lo)) || v - lo < 0 || v - lo >= c) {
    snprintf(why, why_size,
             "SLURM_ARRAY_TASK_ID=%s, SLURM_ARRAY_TASK_COUNT=%s, SLURM_ARRAY_TASK_MIN=%s do not "
             "name one of COUNT consecutive tasks (give --shard i/n)",
             id, count, min ? min : "(unset)");
    return -1;
  }
  *i = (int)(v - lo), *n = (int)c;
  return 1;
}

int sr_shard_takes(size_t k, int i, int n, int rank, int size) {
  if (k % (size_t)n != (size_t)i) return 0;
  return (k / (size_t)n) % (size_t)size == (size_t)rank;
}
