/* Scratch directories and raw file access for the I/O tests. */
#ifndef SR_TESTS_IO_TEST_H
#define SR_TESTS_IO_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scorerecon.h"
#include "test_util.h"

/* A fresh directory under $TMPDIR (or /tmp), removed by io_test_cleanup. */
static char io_test_dir[512];

static inline const char *io_test_mkdir(const char *name) {
  const char *base = getenv("TMPDIR");
  snprintf(io_test_dir, sizeof io_test_dir, "%s/sr_%s_XXXXXX", base && *base ? base : "/tmp", name);
  if (!mkdtemp(io_test_dir)) {
    perror("mkdtemp");
    exit(1);
  }
  return io_test_dir;
}

/* dir/name in a static rotating buffer (up to 4 live at once). */
static inline const char *io_test_path(const char *name) {
  static char bufs[4][640];
  static int next;
  char *b = bufs[next++ & 3];
  snprintf(b, sizeof bufs[0], "%s/%s", io_test_dir, name);
  return b;
}

static inline int io_test_write(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = n ? fwrite(data, 1, n, f) : 0;
  int rc = fclose(f);
  return w == n && rc == 0 ? 0 : -1;
}

/* The whole file, malloc'ed (plus a NUL), or NULL. */
static inline unsigned char *io_test_read(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  unsigned char *buf = (unsigned char *)malloc(cap + 1);
  size_t r;
  while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) {
      cap *= 2;
      unsigned char *b = (unsigned char *)realloc(buf, cap + 1);
      if (!b) free(buf);
      buf = b;
    }
  }
  fclose(f);
  if (buf) buf[n] = 0;
  *size = n;
  return buf;
}

/* Number of entries in the scratch directory (., .. not counted). */
static inline int io_test_count_entries(void) {
  DIR *d = opendir(io_test_dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) ++n;
  closedir(d);
  return n;
}

/* Removes every file in the scratch directory and the directory itself
 * (tests create no subdirectories except where they remove them). */
static inline void io_test_cleanup(void) {
  DIR *d = opendir(io_test_dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", io_test_dir, e->d_name);
    if (unlink(p) != 0) rmdir(p);
  }
  closedir(d);
  rmdir(io_test_dir);
}

/* A CPU context for messages; exits when it cannot be made. */
static inline sr_context *io_test_context(void) {
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  o.threads = 1;
  sr_context *ctx = NULL;
  if (sr_context_create(&o, &ctx) != SR_OK) {
    fprintf(stderr, "cannot create a CPU context: %s\n", sr_context_last_error(ctx));
    exit(1);
  }
  return ctx;
}

/* Checks that the last message mentions `needle`. */
#define CHECK_MESSAGE(ctx, needle)                                                                 \
  CHECK_MSG(strstr(sr_context_last_error(ctx), (needle)) != NULL, "message '%s' lacks '%s'",       \
            sr_context_last_error(ctx), (needle))

#endif
