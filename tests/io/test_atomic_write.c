/* The atomic writer: the target is either the old file or the complete new
 * one, and no temporary survives a failure. */
#define _DEFAULT_SOURCE
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "io/atomic_write.h"
#include "io_test.h"

static sr_context *ctx;

static int file_is(const char *path, const char *content) {
  size_t size = 0;
  unsigned char *data = io_test_read(path, &size);
  int same = data && size == strlen(content) && memcmp(data, content, size) == 0;
  free(data);
  return same;
}

static void test_write_and_replace(void) {
  const char *p = io_test_path("out.txt");
  CHECK_OK(ctx, sr_atomic_write_file(ctx, p, 0, "first", 5));
  CHECK(file_is(p, "first"));
  struct stat st;
  CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0644);
  chmod(p, 0640);
  CHECK_OK(ctx, sr_atomic_write_file(ctx, p, 0, "second!", 7));
  CHECK(file_is(p, "second!"));
  CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0640); /* mode kept */
  CHECK(io_test_count_entries() == 1);

  /* Several writes through one handle, then an empty file. */
  sr_atomic_file f;
  CHECK_OK(ctx, sr_atomic_open(ctx, p, 0, &f));
  CHECK_OK(ctx, sr_atomic_write(&f, "ab", 2));
  CHECK_OK(ctx, sr_atomic_write(&f, "", 0));
  CHECK_OK(ctx, sr_atomic_write(&f, "cd", 2));
  CHECK(file_is(p, "second!")); /* nothing visible before commit */
  CHECK(io_test_count_entries() == 2);
  CHECK_OK(ctx, sr_atomic_commit(&f));
  CHECK(file_is(p, "abcd"));
  CHECK_OK(ctx, sr_atomic_write_file(ctx, p, 0, NULL, 0));
  CHECK(file_is(p, ""));
  CHECK(io_test_count_entries() == 1);
  unlink(p);
}

static void test_abort(void) {
  const char *p = io_test_path("kept.txt");
  CHECK_OK(ctx, sr_atomic_write_file(ctx, p, 0, "old", 3));
  sr_atomic_file f;
  CHECK_OK(ctx, sr_atomic_open(ctx, p, 1, &f));
  CHECK_OK(ctx, sr_atomic_write(&f, "new", 3));
  sr_atomic_abort(&f);
  sr_atomic_abort(&f); /* twice is harmless */
  CHECK(file_is(p, "old"));
  CHECK(io_test_count_entries() == 1);
  unlink(p);
}

static void test_injected_faults(void) {
  const char *p = io_test_path("victim.txt");
  const sr_atomic_fault faults[] = {SR_ATOMIC_FAULT_WRITE, SR_ATOMIC_FAULT_SYNC,
                                    SR_ATOMIC_FAULT_RENAME};
  for (int gzip = 0; gzip <= 1; ++gzip) {
    for (size_t i = 0; i < 3; ++i) {
      CHECK_OK(ctx, sr_atomic_write_file(ctx, p, 0, "old", 3));
      sr_atomic_inject_fault(faults[i]);
      sr_context_clear_error(ctx);
      CHECK_FAILS(ctx, sr_atomic_write_file(ctx, p, gzip, "replacement", 11), SR_ERR_IO);
      CHECK_MESSAGE(ctx, "victim.txt");
      CHECK_MSG(file_is(p, "old"), "fault %zu gzip %d replaced the file", i, gzip);
      CHECK_MSG(io_test_count_entries() == 1, "fault %zu gzip %d left a temporary", i, gzip);
    }
  }
  /* A write failure sticks: later writes and the commit report it. */
  sr_atomic_file f;
  CHECK_OK(ctx, sr_atomic_open(ctx, p, 0, &f));
  sr_atomic_inject_fault(SR_ATOMIC_FAULT_WRITE);
  CHECK(sr_atomic_write(&f, "x", 1) == SR_ERR_IO);
  CHECK(sr_atomic_write(&f, "y", 1) == SR_ERR_IO);
  CHECK(sr_atomic_commit(&f) == SR_ERR_IO);
  CHECK(file_is(p, "old") && io_test_count_entries() == 1);
  unlink(p);
}

static void test_unwritable_places(void) {
  CHECK_FAILS(ctx, sr_atomic_write_file(ctx, "/nonexistent-dir/out.bin", 0, "x", 1), SR_ERR_IO);
  CHECK_MESSAGE(ctx, "/nonexistent-dir/out.bin: cannot create a temporary file");
  /* Renaming over a directory fails after everything was written. */
  const char *dir = io_test_path("subdir");
  CHECK(mkdir(dir, 0755) == 0);
  CHECK_FAILS(ctx, sr_atomic_write_file(ctx, dir, 0, "x", 1), SR_ERR_IO);
  CHECK_MESSAGE(ctx, "rename");
  CHECK(io_test_count_entries() == 1); /* subdir, and no temporary */
  /* A read-only directory (root ignores permissions, so only as a user). */
  if (geteuid() != 0) {
    CHECK(chmod(dir, 0555) == 0);
    char p[700];
    snprintf(p, sizeof p, "%s/x", dir);
    CHECK_FAILS(ctx, sr_atomic_write_file(ctx, p, 0, "x", 1), SR_ERR_IO);
    chmod(dir, 0755);
  }
  rmdir(dir);
  CHECK_FAILS(ctx, sr_atomic_write_file(ctx, "", 0, "x", 1), SR_ERR_INVALID_ARGUMENT);
}

static void test_gzip(void) {
  const char *p = io_test_path("data.gz");
  /* Large enough for several deflate output chunks, compressible enough
   * to be quick. */
  size_t n = 3u << 20;
  unsigned char *data = (unsigned char *)malloc(n);
  for (size_t i = 0; i < n; ++i) data[i] = (unsigned char)((i * i) >> 7);
  sr_atomic_file f;
  CHECK_OK(ctx, sr_atomic_open(ctx, p, 1, &f));
  CHECK_OK(ctx, sr_atomic_write(&f, data, 1000));
  CHECK_OK(ctx, sr_atomic_write(&f, data + 1000, n - 1000));
  CHECK_OK(ctx, sr_atomic_commit(&f));
  gzFile gz = gzopen(p, "rb");
  CHECK(gz != NULL);
  unsigned char *back = (unsigned char *)malloc(n + 1);
  int got = gz ? gzread(gz, back, (unsigned)n + 1) : -1;
  CHECK(got == (int)n && memcmp(back, data, n) == 0);
  if (gz) CHECK(gzdirect(gz) == 0); /* really compressed */
  if (gz) gzclose(gz);
  free(back);
  free(data);
  unlink(p);
}

int main(void) {
  ctx = io_test_context();
  io_test_mkdir("atomic");
  test_write_and_replace();
  test_abort();
  test_injected_faults();
  test_unwritable_places();
  test_gzip();
  io_test_cleanup();
  sr_context_destroy(ctx);
  return sr_test_finish("test_atomic_write");
}
