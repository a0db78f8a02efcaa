/* Whole-file reading with size checks, and file-name tests shared by the
 * readers and the CLI. */
#ifndef SR_IO_FILE_H
#define SR_IO_FILE_H

#include <stddef.h>

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads the regular file at `path` into a malloc'ed buffer (one extra zero
 * byte is appended, not counted in *size, so text can be parsed in place).
 * Fails with SR_ERR_IO when it cannot be opened or read, and SR_ERR_FORMAT
 * when it is larger than max_bytes. Every message names the path. */
sr_status sr_file_read_all(sr_context *ctx, const char *path, size_t max_bytes,
                           unsigned char **data, size_t *size);

/* 1 when `path` ends with `suffix`, ignoring ASCII case (".NII.GZ" too). */
int sr_path_ends_with(const char *path, const char *suffix);

#ifdef __cplusplus
}
#endif

#endif
