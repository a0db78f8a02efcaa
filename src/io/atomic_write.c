/* mkstemp and fsync are POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L
#include "io/atomic_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/error.h"

static sr_atomic_fault injected_fault = SR_ATOMIC_FAULT_NONE;

void sr_atomic_inject_fault(sr_atomic_fault fault) {
  injected_fault = fault;
}

/* Returns 1 (and clears the injection) when the test asked `fault` to fail. */
static int fault_now(sr_atomic_fault fault) {
  if (injected_fault != fault) return 0;
  injected_fault = SR_ATOMIC_FAULT_NONE;
  errno = EIO;
  return 1;
}

static char *dup_string(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = (char *)malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static void release(sr_atomic_file *f) {
  if (f->zstream) {
    deflateEnd((z_stream *)f->zstream);
    free(f->zstream);
    f->zstream = NULL;
  }
  if (f->fd >= 0) {
    close(f->fd);
    f->fd = -1;
  }
  if (f->tmp_path) {
    unlink(f->tmp_path);
    free(f->tmp_path);
    f->tmp_path = NULL;
  }
  free(f->path);
  f->path = NULL;
}

void sr_atomic_abort(sr_atomic_file *f) {
  if (f) release(f);
}

/* Records the first failure; the temporary is removed by commit/abort. */
static sr_status fail_errno(sr_atomic_file *f, const char *what) {
  if (f->status == SR_OK)
    f->status = sr_fail(f->ctx, SR_ERR_IO, "%s: %s: %s", f->path, what, strerror(errno));
  return f->status;
}

/* New files get rw-r--r--; a replaced file keeps its permission bits. mkstemp
 * alone would leave 0600, surprising anyone who shares results. */
static int target_mode(const char *path) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) return (int)(st.st_mode & 07777);
  return 0644;
}

sr_status sr_atomic_open(sr_context *ctx, const char *path, int gzip, sr_atomic_file *f) {
  memset(f, 0, sizeof *f);
  f->fd = -1;
  f->ctx = ctx;
  if (!path || !*path) return sr_fail(ctx, SR_ERR_INVALID_ARGUMENT, "empty output path");
  f->path = dup_string(path);
  size_t n = strlen(path) + sizeof ".tmp.XXXXXX";
  f->tmp_path = (char *)malloc(n);
  if (!f->path || !f->tmp_path) {
    free(f->tmp_path); /* not created yet: nothing to unlink */
    f->tmp_path = NULL;
    release(f);
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  snprintf(f->tmp_path, n, "%s.tmp.XXXXXX", path);
  f->fd = mkstemp(f->tmp_path);
  if (f->fd < 0) {
    sr_status s = sr_fail(ctx, SR_ERR_IO, "%s: cannot create a temporary file beside it: %s", path,
                          strerror(errno));
    free(f->tmp_path); /* mkstemp created nothing */
    f->tmp_path = NULL;
    release(f);
    return s;
  }
  f->mode = target_mode(path);
  if (gzip) {
    z_stream *zs = (z_stream *)calloc(1, sizeof *zs);
    /* windowBits 15 + 16: a gzip container rather than a raw zlib stream. */
    if (!zs || deflateInit2(zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      free(zs);
      release(f);
      return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: cannot start gzip compression", path);
    }
    f->zstream = zs;
  }
  return SR_OK;
}

static sr_status write_raw(sr_atomic_file *f, const unsigned char *p, size_t n) {
  if (n > 0 && fault_now(SR_ATOMIC_FAULT_WRITE)) return fail_errno(f, "write failed");
  while (n > 0) {
    ssize_t w = write(f->fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return fail_errno(f, "write failed");
    p += w;
    n -= (size_t)w;
  }
  return SR_OK;
}

/* Runs deflate over the input (or finishes the stream when flush is
 * Z_FINISH), writing each filled output chunk. */
static sr_status deflate_to_file(sr_atomic_file *f, const unsigned char *p, size_t n, int flush) {
  z_stream *zs = (z_stream *)f->zstream;
  unsigned char out[1 << 16];
  /* avail_in is 32-bit: feed large buffers in pieces. */
  do {
    uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
    zs->next_in = (Bytef *)(uintptr_t)p;
    zs->avail_in = chunk;
    int last = flush == Z_FINISH && chunk == n;
    int rc;
    do {
      zs->next_out = out;
      zs->avail_out = sizeof out;
      rc = deflate(zs, last ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR) {
        if (f->status == SR_OK)
          f->status = sr_fail(f->ctx, SR_ERR_INTERNAL, "%s: gzip compression failed", f->path);
        return f->status;
      }
      SR_TRY(write_raw(f, out, sizeof out - zs->avail_out));
    } while (zs->avail_out == 0 || (last && rc != Z_STREAM_END));
    p += chunk;
    n -= chunk;
  } while (n > 0);
  return SR_OK;
}

sr_status sr_atomic_write(sr_atomic_file *f, const void *data, size_t n) {
  if (f->status != SR_OK) return f->status;
  if (f->fd < 0)
    return f->status = sr_fail(f->ctx, SR_ERR_INTERNAL, "write to a closed atomic file");
  if (n == 0) return SR_OK;
  if (f->zstream) return deflate_to_file(f, (const unsigned char *)data, n, Z_NO_FLUSH);
  return write_raw(f, (const unsigned char *)data, n);
}

/* Makes the rename itself durable; some file systems refuse to fsync a
 * directory, which is harmless here, so errors are ignored. */
static void sync_parent_dir(const char *path) {
  char *dir = dup_string(path);
  if (!dir) return;
  char *slash = strrchr(dir, '/');
  const char *name = ".";
  if (slash == dir)
    name = "/";
  else if (slash) {
    *slash = '\0';
    name = dir;
  }
  int fd = open(name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  free(dir);
}

sr_status sr_atomic_commit(sr_atomic_file *f) {
  if (f->status == SR_OK && f->fd < 0)
    f->status = sr_fail(f->ctx, SR_ERR_INTERNAL, "commit of a closed atomic file");
  if (f->status == SR_OK && f->zstream) deflate_to_file(f, NULL, 0, Z_FINISH);
  if (f->status == SR_OK && fchmod(f->fd, (mode_t)f->mode) != 0)
    fail_errno(f, "cannot set permissions");
  if (f->status == SR_OK && (fault_now(SR_ATOMIC_FAULT_SYNC) || fsync(f->fd) != 0))
    fail_errno(f, "fsync failed");
  if (f->status == SR_OK) {
    int rc = close(f->fd);
    f->fd = -1;
    if (rc != 0) fail_errno(f, "close failed");
  }
  if (f->status == SR_OK) {
    if (fault_now(SR_ATOMIC_FAULT_RENAME) || rename(f->tmp_path, f->path) != 0) {
      fail_errno(f, "cannot rename the temporary file over it");
    } else {
      free(f->tmp_path); /* renamed: nothing to remove any more */
      f->tmp_path = NULL;
      sync_parent_dir(f->path);
    }
  }
  sr_status s = f->status;
  release(f);
  return s;
}

sr_status sr_atomic_write_file(sr_context *ctx, const char *path, int gzip, const void *data,
                               size_t n) {
  sr_atomic_file f;
  SR_TRY(sr_atomic_open(ctx, path, gzip, &f));
  sr_atomic_write(&f, data, n);
  return sr_atomic_commit(&f);
}
