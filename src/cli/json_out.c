#include "cli/json_out.h"

#include <math.h>
#include <stdlib.h>

#include "io/json.h"

void sr_json_write_string(FILE *f, const char *s) {
  char *q = s ? sr_json_quote(s) : NULL;
  /* Out of memory leaves the member null rather than unquoted. */
  fputs(q ? q : "null", f);
  free(q);
}

void sr_json_write_number(FILE *f, double v) {
  if (isfinite(v))
    fprintf(f, "%.17g", v);
  else
    fputs("null", f);
}
