/* Writing files so that readers never see half of one: data goes to a
 * temporary file in the target's directory (<path>.tmp.XXXXXX), is flushed
 * to disk, and only then renamed over the target. Any failure removes the
 * temporary and leaves an existing target exactly as it was. Every writer in
 * src/io goes through here, gzip output included. */
#ifndef SR_IO_ATOMIC_WRITE_H
#define SR_IO_ATOMIC_WRITE_H

#include <stddef.h>

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sr_atomic_file {
  sr_context *ctx;
  char *path;     /* the target */
  char *tmp_path; /* the temporary, NULL once renamed or removed */
  int fd;
  int mode;         /* permission bits the finished file gets */
  void *zstream;    /* z_stream when gzip output was asked for, else NULL */
  sr_status status; /* first failure; later writes do nothing */
} sr_atomic_file;

/* Creates the temporary for `path`. gzip != 0 compresses everything written
 * (gzip container, zlib level 6). On failure nothing is left on disk and f
 * needs no cleanup. */
sr_status sr_atomic_open(sr_context *ctx, const char *path, int gzip, sr_atomic_file *f);

/* Appends n bytes. After the first failure every call returns that failure
 * (so callers may check only at commit). */
sr_status sr_atomic_write(sr_atomic_file *f, const void *data, size_t n);

/* Finishes compression, fsyncs, closes and renames over the target. On any
 * failure (including an earlier write failure) the temporary is removed.
 * f needs no cleanup afterwards either way. */
sr_status sr_atomic_commit(sr_atomic_file *f);

/* Drops everything written: closes and removes the temporary. Safe to call
 * twice, and after commit. */
void sr_atomic_abort(sr_atomic_file *f);

/* open + one write + commit. */
sr_status sr_atomic_write_file(sr_context *ctx, const char *path, int gzip, const void *data,
                               size_t n);

/* For tests only (not thread-safe): make the next operation of this kind
 * fail once, as a full disk or a failing rename would. */
typedef enum sr_atomic_fault {
  SR_ATOMIC_FAULT_NONE = 0,
  SR_ATOMIC_FAULT_WRITE,
  SR_ATOMIC_FAULT_SYNC,
  SR_ATOMIC_FAULT_RENAME
} sr_atomic_fault;
void sr_atomic_inject_fault(sr_atomic_fault fault);

#ifdef __cplusplus
}
#endif

#endif
