/* Writing JSON from the CLI (sidecars, run summaries): the one thing that
 * needs care is strings, which paths make arbitrary. */
#ifndef SR_CLI_JSON_OUT_H
#define SR_CLI_JSON_OUT_H

#include <stdio.h>

/* s as a JSON string literal: quotes, backslashes and control characters
 * escaped (sr_json_quote); bytes >= 0x80 pass through. NULL
 * writes null. */
void sr_json_write_string(FILE *f, const char *s);

/* A double as JSON: %.17g when finite, null otherwise (JSON has no NaN). */
void sr_json_write_number(FILE *f, double v);

#endif
