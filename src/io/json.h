/* A small strict JSON parser (RFC 8259): objects, arrays, strings with all
 * escapes (\uXXXX and surrogate pairs become UTF-8), numbers, true, false,
 * null. It parses the safetensors header and the model configuration, both
 * untrusted, so it is strict: no comments, no trailing commas, no leading
 * zeros, no control characters or invalid UTF-8 in strings, no duplicate
 * keys, at most SR_JSON_MAX_DEPTH levels of nesting. One deliberate
 * restriction: "\u0000" is refused, so every string is a plain C string. */
#ifndef SR_IO_JSON_H
#define SR_IO_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SR_JSON_MAX_DEPTH 64

typedef enum sr_json_type {
  SR_JSON_NULL,
  SR_JSON_BOOL,
  SR_JSON_NUMBER,
  SR_JSON_STRING,
  SR_JSON_ARRAY,
  SR_JSON_OBJECT
} sr_json_type;

typedef struct sr_json sr_json;

/* Parses len bytes of text (need not be NUL-terminated). On failure the
 * message is "<what>: invalid JSON at byte N: <why>" and *out is NULL. */
sr_status sr_json_parse(sr_context *ctx, const char *what, const char *text, size_t len,
                        sr_json **out);
void sr_json_free(sr_json *json);

sr_json_type sr_json_kind(const sr_json *j);
const char *sr_json_type_name(sr_json_type type);

/* Members of an object or elements of an array, in document order; 0 for
 * anything else. */
size_t sr_json_count(const sr_json *j);
/* Element i of an array or value of member i of an object; NULL out of range. */
const sr_json *sr_json_at(const sr_json *j, size_t i);
/* Key of member i of an object; NULL out of range or for non-objects. */
const char *sr_json_key_at(const sr_json *j, size_t i);
/* The member named key (binary search), or NULL when absent or j is no object. */
const sr_json *sr_json_get(const sr_json *j, const char *key);

/* Value accessors: return 1 and set *out when j has that type, else 0.
 * as_int64 accepts only numbers written as integers (no '.', no exponent)
 * that fit int64; as_double accepts any number. */
int sr_json_as_int64(const sr_json *j, int64_t *out);
int sr_json_as_double(const sr_json *j, double *out);
int sr_json_as_bool(const sr_json *j, int *out);
/* The string's UTF-8 text, or NULL when j is not a string. */
const char *sr_json_as_string(const sr_json *j);

/* s as a JSON string literal with quotes and escapes, malloc'ed; NULL when
 * out of memory. Control characters become \u00XX; UTF-8 passes through. */
char *sr_json_quote(const char *s);

#ifdef __cplusplus
}
#endif

#endif
