#define _POSIX_C_SOURCE 200809L
#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

sr_status sr_file_read_all(sr_context *ctx, const char *path, size_t max_bytes,
                           unsigned char **data, size_t *size) {
  *data = NULL;
  *size = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sr_fail(ctx, SR_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    sr_status s = sr_fail(ctx, SR_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return sr_fail(ctx, SR_ERR_IO, "%s: not a regular file", path);
  }
  if ((uint64_t)st.st_size > (uint64_t)max_bytes) {
    close(fd);
    return sr_fail(ctx, SR_ERR_FORMAT, "%s: file is %lld bytes, more than the %zu allowed", path,
                   (long long)st.st_size, max_bytes);
  }
  size_t expected = (size_t)st.st_size;
  unsigned char *buf = (unsigned char *)malloc(expected + 1);
  if (!buf) {
    close(fd);
    return sr_fail(ctx, SR_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", path, expected);
  }
  size_t got = 0;
  while (got < expected) {
    ssize_t n = read(fd, buf + got, expected - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      sr_status s = sr_fail(ctx, SR_ERR_IO, "%s: read failed: %s", path, strerror(errno));
      free(buf);
      close(fd);
      return s;
    }
    if (n == 0) break; /* the file shrank while we read it */
    got += (size_t)n;
  }
  close(fd);
  if (got != expected) {
    free(buf);
    return sr_fail(ctx, SR_ERR_IO, "%s: file changed while reading (%zu of %zu bytes)", path, got,
                   expected);
  }
  buf[got] = 0;
  *data = buf;
  *size = got;
  return SR_OK;
}

static int ascii_lower(int c) {
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int sr_path_ends_with(const char *path, const char *suffix) {
  size_t n = strlen(path), m = strlen(suffix);
  if (m > n) return 0;
  const char *tail = path + n - m;
  for (size_t i = 0; i < m; ++i)
    if (ascii_lower((unsigned char)tail[i]) != ascii_lower((unsigned char)suffix[i])) return 0;
  return 1;
}
