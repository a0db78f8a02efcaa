#include "io/json.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

struct sr_json {
  sr_json_type type;
  int boolean;
  int is_integer; /* number written without fraction or exponent, fits int64 */
  int64_t integer;
  double number;
  char *string;
  size_t count;   /* array elements or object members */
  sr_json *items; /* element or member values */
  char **keys;    /* object member keys, document order */
  size_t *sorted; /* object member indices sorted by key, for sr_json_get */
};

typedef struct parser {
  sr_context *ctx;
  const char *what;
  const unsigned char *start, *p, *end;
} parser;

static sr_status syntax_error(parser *ps, const char *why) {
  return sr_fail(ps->ctx, SR_ERR_FORMAT, "%s: invalid JSON at byte %zu: %s", ps->what,
                 (size_t)(ps->p - ps->start), why);
}

static sr_status out_of_memory(parser *ps) {
  return sr_fail(ps->ctx, SR_ERR_OUT_OF_MEMORY, "%s: out of memory while parsing JSON", ps->what);
}

static void skip_ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ++ps->p;
}

static void free_node(sr_json *j) {
  if (j->type == SR_JSON_ARRAY || j->type == SR_JSON_OBJECT) {
    for (size_t i = 0; i < j->count; ++i) {
      free_node(&j->items[i]);
      if (j->keys) free(j->keys[i]);
    }
  }
  free(j->items);
  free(j->keys);
  free(j->sorted);
  free(j->string);
  memset(j, 0, sizeof *j);
}

void sr_json_free(sr_json *json) {
  if (!json) return;
  free_node(json);
  free(json);
}

/* ------------------------------------------------ strings */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is invalid:
 * overlong forms, surrogates and code points above U+10FFFF included. */
static size_t utf8_sequence(const unsigned char *p, size_t avail) {
  unsigned c = p[0];
  if (c < 0x80) return 1;
  size_t n;
  unsigned min;
  uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2, min = 0x80, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3, min = 0x800, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4, min = 0x10000, cp = c & 0x07;
  else
    return 0;
  if (avail < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

static size_t put_utf8(char *out, uint32_t cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xc0 | cp >> 6);
    out[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xe0 | cp >> 12);
    out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (char)(0xf0 | cp >> 18);
  out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
  out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
  out[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

static int hex4(const unsigned char *p, const unsigned char *end, uint32_t *out) {
  if (end - p < 4) return 0;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    unsigned c = p[i];
    unsigned d = c >= '0' && c <= '9'   ? c - '0'
                 : c >= 'a' && c <= 'f' ? c - 'a' + 10
                 : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                        : 16;
    if (d == 16) return 0;
    v = v << 4 | d;
  }
  *out = v;
  return 1;
}

/* Decodes one \u escape (ps->p after the 'u'), joining surrogate pairs. */
static sr_status unicode_escape(parser *ps, char *out, size_t *written) {
  uint32_t cp;
  if (!hex4(ps->p, ps->end, &cp)) return syntax_error(ps, "\\u needs four hex digits");
  ps->p += 4;
  if (cp >= 0xdc00 && cp <= 0xdfff) return syntax_error(ps, "lone low surrogate in \\u escape");
  if (cp >= 0xd800 && cp <= 0xdbff) {
    uint32_t low;
    if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
        !hex4(ps->p + 2, ps->end, &low) || low < 0xdc00 || low > 0xdfff)
      return syntax_error(ps, "high surrogate not followed by a low surrogate");
    ps->p += 6;
    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
  }
  if (cp == 0) return syntax_error(ps, "\\u0000 is not supported in strings");
  *written = put_utf8(out, cp);
  return SR_OK;
}

/* ps->p is at the opening quote. The decoded text is never longer than the
 * raw text, so one allocation of the raw length suffices. */
static sr_status parse_string(parser *ps, char **out) {
  ++ps->p;
  const unsigned char *q = ps->p;
  while (q < ps->end && *q != '"') q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
  if (q >= ps->end) return syntax_error(ps, "unterminated string");
  char *buf = (char *)malloc((size_t)(q - ps->p) + 1);
  if (!buf) return out_of_memory(ps);
  size_t n = 0;
  sr_status s = SR_OK;
  while (s == SR_OK && *ps->p != '"') {
    unsigned c = *ps->p;
    if (c < 0x20) {
      s = syntax_error(ps, "control character in a string (escape it)");
    } else if (c == '\\') {
      unsigned e = *++ps->p;
      ++ps->p;
      const char *simple = strchr("\"\\/bfnrt", (int)e);
      if (e == 'u') {
        size_t w = 0;
        s = unicode_escape(ps, buf + n, &w);
        n += w;
      } else if (e && simple) {
        static const char decoded[] = "\"\\/\b\f\n\r\t";
        buf[n++] = decoded[simple - "\"\\/bfnrt"];
      } else {
        --ps->p;
        s = syntax_error(ps, "unknown escape in a string");
      }
    } else {
      size_t len = utf8_sequence(ps->p, (size_t)(ps->end - ps->p));
      if (len == 0) {
        s = syntax_error(ps, "invalid UTF-8 in a string");
      } else {
        memcpy(buf + n, ps->p, len);
        n += len;
        ps->p += len;
      }
    }
  }
  if (s != SR_OK) {
    free(buf);
    return s;
  }
  ++ps->p; /* closing quote */
  buf[n] = '\0';
  *out = buf;
  return SR_OK;
}

/* ------------------------------------------------ numbers */

static int is_digit(const unsigned char *p, const unsigned char *end) {
  return p < end && *p >= '0' && *p <= '9';
}

/* Grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static sr_status parse_number(parser *ps, sr_json *j) {
  const unsigned char *begin = ps->p;
  int integral = 1;
  if (ps->p < ps->end && *ps->p == '-') ++ps->p;
  if (!is_digit(ps->p, ps->end)) return syntax_error(ps, "expected a digit");
  if (*ps->p == '0' && is_digit(ps->p + 1, ps->end))
    return syntax_error(ps, "leading zeros are not allowed");
  while (is_digit(ps->p, ps->end)) ++ps->p;
  if (ps->p < ps->end && *ps->p == '.') {
    integral = 0;
    ++ps->p;
    if (!is_digit(ps->p, ps->end)) return syntax_error(ps, "expected a digit after '.'");
    while (is_digit(ps->p, ps->end)) ++ps->p;
  }
  if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
    integral = 0;
    ++ps->p;
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ++ps->p;
    if (!is_digit(ps->p, ps->end)) return syntax_error(ps, "expected a digit in the exponent");
    while (is_digit(ps->p, ps->end)) ++ps->p;
  }
  size_t len = (size_t)(ps->p - begin);
  char small[64];
  char *tok = len < sizeof small ? small : (char *)malloc(len + 1);
  if (!tok) return out_of_memory(ps);
  memcpy(tok, begin, len);
  tok[len] = '\0';
  /* strtod follows the C locale's decimal point; a host program may have
   * set another, so spell the token the way this locale expects. */
  const char *dp = localeconv()->decimal_point;
  char *dot = strchr(tok, '.');
  if (dot && dp && dp[0] && dp[0] != '.' && !dp[1]) *dot = dp[0];
  errno = 0;
  j->type = SR_JSON_NUMBER;
  j->number = strtod(tok, NULL);
  int range_error = errno == ERANGE && isinf(j->number);
  if (integral) {
    errno = 0;
    long long v = strtoll(tok, NULL, 10);
    if (errno == 0) {
      j->is_integer = 1;
      j->integer = (int64_t)v;
    }
  }
  if (tok != small) free(tok);
  if (range_error) {
    ps->p = begin;
    return syntax_error(ps, "number out of the range of a double");
  }
  return SR_OK;
}

/* ------------------------------------------------ values */

static sr_status parse_value(parser *ps, sr_json *j, int depth);

typedef struct key_index {
  const char *key;
  size_t index;
} key_index;

static int compare_keys(const void *a, const void *b) {
  return strcmp(((const key_index *)a)->key, ((const key_index *)b)->key);
}

/* Sorts member indices by key (for sr_json_get) and rejects duplicates. */
static sr_status index_members(parser *ps, sr_json *j) {
  if (j->count == 0) return SR_OK;
  key_index *tmp = (key_index *)malloc(j->count * sizeof *tmp);
  j->sorted = (size_t *)malloc(j->count * sizeof *j->sorted);
  if (!tmp || !j->sorted) {
    free(tmp);
    return out_of_memory(ps);
  }
  for (size_t i = 0; i < j->count; ++i) tmp[i] = (key_index){j->keys[i], i};
  qsort(tmp, j->count, sizeof *tmp, compare_keys);
  sr_status s = SR_OK;
  for (size_t i = 0; i < j->count; ++i) {
    j->sorted[i] = tmp[i].index;
    if (i > 0 && s == SR_OK && strcmp(tmp[i].key, tmp[i - 1].key) == 0)
      s = sr_fail(ps->ctx, SR_ERR_FORMAT, "%s: invalid JSON: duplicate key \"%s\"", ps->what,
                  tmp[i].key);
  }
  free(tmp);
  return s;
}

/* Appends a zeroed child to j, growing its arrays geometrically. */
static sr_status push_child(parser *ps, sr_json *j, size_t *capacity, int with_key) {
  if (j->count == *capacity) {
    size_t cap = *capacity ? *capacity * 2 : 4;
    sr_json *items = (sr_json *)realloc(j->items, cap * sizeof *items);
    if (!items) return out_of_memory(ps);
    j->items = items;
    if (with_key) {
      char **keys = (char **)realloc(j->keys, cap * sizeof *keys);
      if (!keys) return out_of_memory(ps);
      j->keys = keys;
    }
    *capacity = cap;
  }
  memset(&j->items[j->count], 0, sizeof j->items[0]);
  if (with_key) j->keys[j->count] = NULL;
  ++j->count;
  return SR_OK;
}

/* Arrays and objects share the loop; objects read "key": before each value. */
static sr_status parse_container(parser *ps, sr_json *j, int depth, int is_object) {
  if (depth >= SR_JSON_MAX_DEPTH) return syntax_error(ps, "nesting deeper than the limit of 64");
  j->type = is_object ? SR_JSON_OBJECT : SR_JSON_ARRAY;
  char close = is_object ? '}' : ']';
  size_t capacity = 0;
  ++ps->p;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ++ps->p;
    return SR_OK;
  }
  for (;;) {
    SR_TRY(push_child(ps, j, &capacity, is_object));
    if (is_object) {
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != '"') return syntax_error(ps, "expected a string key");
      SR_TRY(parse_string(ps, &j->keys[j->count - 1]));
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') return syntax_error(ps, "expected ':' after a key");
      ++ps->p;
    }
    SR_TRY(parse_value(ps, &j->items[j->count - 1], depth + 1));
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ++ps->p;
      continue;
    }
    if (ps->p < ps->end && *ps->p == close) {
      ++ps->p;
      break;
    }
    return syntax_error(ps, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
  }
  return is_object ? index_members(ps, j) : SR_OK;
}

static int literal(parser *ps, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return 0;
  ps->p += n;
  return 1;
}

static sr_status parse_value(parser *ps, sr_json *j, int depth) {
  skip_ws(ps);
  if (ps->p >= ps->end) return syntax_error(ps, "unexpected end of input");
  switch (*ps->p) {
  case '{': return parse_container(ps, j, depth, 1);
  case '[': return parse_container(ps, j, depth, 0);
  case '"': j->type = SR_JSON_STRING; return parse_string(ps, &j->string);
  case 't':
  case 'f':
  case 'n':
    if (literal(ps, "true")) {
      j->type = SR_JSON_BOOL;
      j->boolean = 1;
      return SR_OK;
    }
    if (literal(ps, "false")) {
      j->type = SR_JSON_BOOL;
      return SR_OK;
    }
    if (literal(ps, "null")) {
      j->type = SR_JSON_NULL;
      return SR_OK;
    }
    return syntax_error(ps, "unknown literal");
  default:
    if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps, j);
    return syntax_error(ps, "unexpected character");
  }
}

sr_status sr_json_parse(sr_context *ctx, const char *what, const char *text, size_t len,
                        sr_json **out) {
  *out = NULL;
  parser ps = {ctx, what, (const unsigned char *)text, (const unsigned char *)text,
               (const unsigned char *)text + len};
  sr_json *root = (sr_json *)calloc(1, sizeof *root);
  if (!root) return out_of_memory(&ps);
  sr_status s = parse_value(&ps, root, 0);
  if (s == SR_OK) {
    skip_ws(&ps);
    if (ps.p != ps.end) s = syntax_error(&ps, "unexpected text after the value");
  }
  if (s != SR_OK) {
    sr_json_free(root);
    return s;
  }
  *out = root;
  return SR_OK;
}

/* ------------------------------------------------ queries */

sr_json_type sr_json_kind(const sr_json *j) {
  return j ? j->type : SR_JSON_NULL;
}

const char *sr_json_type_name(sr_json_type type) {
  switch (type) {
  case SR_JSON_NULL: return "null";
  case SR_JSON_BOOL: return "boolean";
  case SR_JSON_NUMBER: return "number";
  case SR_JSON_STRING: return "string";
  case SR_JSON_ARRAY: return "array";
  case SR_JSON_OBJECT: return "object";
  }
  return "unknown";
}

size_t sr_json_count(const sr_json *j) {
  return j && (j->type == SR_JSON_ARRAY || j->type == SR_JSON_OBJECT) ? j->count : 0;
}

const sr_json *sr_json_at(const sr_json *j, size_t i) {
  return i < sr_json_count(j) ? &j->items[i] : NULL;
}

const char *sr_json_key_at(const sr_json *j, size_t i) {
  return j && j->type == SR_JSON_OBJECT && i < j->count ? j->keys[i] : NULL;
}

const sr_json *sr_json_get(const sr_json *j, const char *key) {
  if (!j || j->type != SR_JSON_OBJECT) return NULL;
  size_t lo = 0, hi = j->count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(j->keys[j->sorted[mid]], key);
    if (c == 0) return &j->items[j->sorted[mid]];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

int sr_json_as_int64(const sr_json *j, int64_t *out) {
  if (!j || j->type != SR_JSON_NUMBER || !j->is_integer) return 0;
  *out = j->integer;
  return 1;
}

int sr_json_as_double(const sr_json *j, double *out) {
  if (!j || j->type != SR_JSON_NUMBER) return 0;
  *out = j->number;
  return 1;
}

int sr_json_as_bool(const sr_json *j, int *out) {
  if (!j || j->type != SR_JSON_BOOL) return 0;
  *out = j->boolean;
  return 1;
}

const char *sr_json_as_string(const sr_json *j) {
  return j && j->type == SR_JSON_STRING ? j->string : NULL;
}

char *sr_json_quote(const char *s) {
  size_t n = 2;
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p)
    n += *p < 0x20 ? 6 : (*p == '"' || *p == '\\') ? 2 : 1;
  char *out = (char *)malloc(n + 1);
  if (!out) return NULL;
  char *w = out;
  *w++ = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
    if (*p == '"' || *p == '\\') {
      *w++ = '\\';
      *w++ = (char)*p;
    } else if (*p < 0x20) {
      snprintf(w, 7, "\\u%04x", *p);
      w += 6;
    } else {
      *w++ = (char)*p;
    }
  }
  *w++ = '"';
  *w = '\0';
  return out;
}
