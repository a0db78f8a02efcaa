/* npy_echo IN OUT [VERSION]: reads IN with sr_npy_read and writes it back
 * with sr_npy_write_version, for npy_numpy_check.py to compare with NumPy. */
#include <stdio.h>
#include <stdlib.h>

#include "io/npy.h"

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: npy_echo IN OUT [VERSION]\n");
    return 2;
  }
  sr_context_options o = sr_context_options_default();
  o.backend = SR_BACKEND_CPU;
  sr_context *ctx = NULL;
  if (sr_context_create(&o, &ctx) != SR_OK) return 1;
  sr_array a;
  sr_status s = sr_npy_read(ctx, argv[1], &a);
  if (s == SR_OK) s = sr_npy_write_version(ctx, argv[2], &a, argc > 3 ? atoi(argv[3]) : 1);
  if (s != SR_OK) fprintf(stderr, "npy_echo: %s\n", sr_context_last_error(ctx));
  sr_array_free(&a);
  sr_context_destroy(ctx);
  return s == SR_OK ? 0 : 1;
}
