/* The strict JSON parser: values, escapes, numbers, queries, and a table
 * of inputs it must refuse with a position. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <string.h>

#include "io/json.h"
#include "io_test.h"

static sr_context *ctx;

static sr_json *parse(const char *text) {
  sr_json *j = NULL;
  sr_status s = sr_json_parse(ctx, "doc", text, strlen(text), &j);
  CHECK_MSG(s == SR_OK, "'%s': %s", text, sr_context_last_error(ctx));
  return j;
}

static void test_values(void) {
  sr_json *j = parse(" { \"a\" : [1, -2.5e1, true, false, null, \"x\"], \"b\": {}, \"c\": [] } ");
  CHECK(sr_json_kind(j) == SR_JSON_OBJECT && sr_json_count(j) == 3);
  const sr_json *a = sr_json_get(j, "a");
  CHECK(sr_json_kind(a) == SR_JSON_ARRAY && sr_json_count(a) == 6);
  int64_t i = 0;
  double d = 0;
  int b = -1;
  CHECK(sr_json_as_int64(sr_json_at(a, 0), &i) && i == 1);
  CHECK(!sr_json_as_int64(sr_json_at(a, 1), &i));
  CHECK(sr_json_as_double(sr_json_at(a, 1), &d) && d == -25.0);
  CHECK(sr_json_as_bool(sr_json_at(a, 2), &b) && b == 1);
  CHECK(sr_json_as_bool(sr_json_at(a, 3), &b) && b == 0);
  CHECK(sr_json_kind(sr_json_at(a, 4)) == SR_JSON_NULL);
  CHECK(strcmp(sr_json_as_string(sr_json_at(a, 5)), "x") == 0);
  CHECK(sr_json_at(a, 6) == NULL);
  CHECK(sr_json_as_string(sr_json_at(a, 0)) == NULL);
  CHECK(sr_json_kind(sr_json_get(j, "b")) == SR_JSON_OBJECT &&
        sr_json_count(sr_json_get(j, "b")) == 0);
  CHECK(sr_json_get(j, "missing") == NULL && sr_json_get(a, "a") == NULL);
  CHECK(strcmp(sr_json_key_at(j, 2), "c") == 0 && sr_json_key_at(j, 3) == NULL);
  sr_json_free(j);

  /* Scalars at the top level. */
  j = parse("42");
  CHECK(sr_json_as_int64(j, &i) && i == 42);
  sr_json_free(j);
  j = parse("\"top\"");
  CHECK(strcmp(sr_json_as_string(j), "top") == 0);
  sr_json_free(j);
}

static void test_numbers(void) {
  struct {
    const char *text;
    double value;
    int is_int;
  } cases[] = {{"0", 0, 1},         {"-0", 0, 1},      {"1.5e3", 1500, 0},
               {"-1E-2", -0.01, 0}, {"1e+2", 100, 0},  {"123456789", 123456789, 1},
               {"2.0", 2.0, 0},     {"1e-400", 0.0, 0}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; ++k) {
    sr_json *j = parse(cases[k].text);
    double d = -1;
    int64_t i;
    CHECK_MSG(sr_json_as_double(j, &d) && d == cases[k].value, "%s", cases[k].text);
    CHECK_MSG(sr_json_as_int64(j, &i) == cases[k].is_int, "%s", cases[k].text);
    sr_json_free(j);
  }
  sr_json *j = parse("9223372036854775807");
  int64_t i = 0;
  CHECK(sr_json_as_int64(j, &i) && i == INT64_MAX);
  sr_json_free(j);
  j = parse("-9223372036854775808");
  CHECK(sr_json_as_int64(j, &i) && i == INT64_MIN);
  sr_json_free(j);
  j = parse("9223372036854775808"); /* a number, but not an int64 */
  double d = 0;
  CHECK(!sr_json_as_int64(j, &i) && sr_json_as_double(j, &d) && d == 9223372036854775808.0);
  sr_json_free(j);
}

static void test_strings(void) {
  sr_json *j = parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"");
  CHECK(strcmp(sr_json_as_string(j), "a\"b\\c/d\b\f\n\r\t") == 0);
  sr_json_free(j);
  j = parse("\"\\u00e9\\u20AC\\ud83d\\ude00\"");
  CHECK(strcmp(sr_json_as_string(j), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == 0);
  sr_json_free(j);
  j = parse("\"raw \xc3\xa9 \xf0\x9f\x98\x80\"");
  CHECK(strcmp(sr_json_as_string(j), "raw \xc3\xa9 \xf0\x9f\x98\x80") == 0);
  sr_json_free(j);
  /* Quoting and parsing give back the original text. */
  const char *texts[] = {"plain", "quote\" back\\slash", "ctl\x01\x1f\n", "\xc3\xa9", ""};
  for (size_t k = 0; k < sizeof texts / sizeof texts[0]; ++k) {
    char *q = sr_json_quote(texts[k]);
    j = parse(q);
    CHECK_MSG(j && strcmp(sr_json_as_string(j), texts[k]) == 0, "quote of '%s' -> %s", texts[k], q);
    sr_json_free(j);
    free(q);
  }
}

static void test_lookup_many(void) {
  /* Keys are found by binary search: check a large object both ways. */
  size_t n = 2000, cap = n * 24 + 16, len = 0;
  char *text = (char *)malloc(cap);
  len += (size_t)snprintf(text + len, cap - len, "{");
  for (size_t k = 0; k < n; ++k)
    len += (size_t)snprintf(text + len, cap - len, "%s\"k%zu\":%zu", k ? "," : "", (n - k) * 7, k);
  snprintf(text + len, cap - len, "}");
  sr_json *j = parse(text);
  CHECK(sr_json_count(j) == n);
  for (size_t k = 0; k < n; ++k) {
    char key[32];
    snprintf(key, sizeof key, "k%zu", (n - k) * 7);
    int64_t v = -1;
    CHECK_MSG(sr_json_as_int64(sr_json_get(j, key), &v) && v == (int64_t)k, "key %s", key);
  }
  CHECK(sr_json_get(j, "k1") == NULL);
  sr_json_free(j);
  free(text);
}

static void test_depth(void) {
  char deep[200];
  for (int levels = SR_JSON_MAX_DEPTH; levels <= SR_JSON_MAX_DEPTH + 1; ++levels) {
    memset(deep, '[', (size_t)levels);
    memset(deep + levels, ']', (size_t)levels);
    sr_json *j = NULL;
    sr_status s = sr_json_parse(ctx, "deep", deep, 2 * (size_t)levels, &j);
    CHECK(levels <= SR_JSON_MAX_DEPTH ? s == SR_OK : s == SR_ERR_FORMAT);
    sr_json_free(j);
  }
  CHECK_MESSAGE(ctx, "nesting");
  /* Far deeper than the limit: refused without deep recursion. */
  size_t n = 100000;
  char *huge = (char *)malloc(n);
  memset(huge, '[', n);
  sr_json *j = NULL;
  CHECK_FAILS(ctx, sr_json_parse(ctx, "deep", huge, n, &j), SR_ERR_FORMAT);
  free(huge);
}

static void test_invalid(void) {
  const char *bad[] = {
      "",
      " ",
      "{",
      "}",
      "[1,]",
      "[1 2]",
      "{\"a\":1,}",
      "{\"a\" 1}",
      "{a:1}",
      "{'a':1}",
      "{\"a\":}",
      "[,1]",
      "01",
      "1.",
      ".5",
      "+1",
      "1e",
      "1e+",
      "-",
      "--1",
      "0x10",
      "1e999",
      "-1e999",
      "NaN",
      "Infinity",
      "tru",
      "nul",
      "True",
      "\"abc",
      "\"a\\x\"",
      "\"\\u12\"",
      "\"\\uZZZZ\"",
      "\"\\ud800\"",
      "\"\\udc00\"",
      "\"\\ud800\\u0041\"",
      "\"\\u0000\"",
      "\"tab\there\"",
      "\"nl\nhere\"",
      "\"\xc0\x80\"",
      "\"\xed\xa0\x80\"",
      "\"\xf5\x80\x80\x80\"",
      "\"\xc3\"",
      "\"\x80\"",
      "[1] x",
      "{\"a\":1}{",
      "{\"a\":1,\"a\":2}",
      "[\"a\",]",
      "/* c */ 1",
      "[1]\x00",
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; ++k) {
    size_t len = strlen(bad[k]) + (strcmp(bad[k], "[1]") == 0 ? 1 : 0);
    sr_json *j = NULL;
    sr_context_clear_error(ctx);
    sr_status s = sr_json_parse(ctx, "bad.json", bad[k], len, &j);
    CHECK_MSG(s == SR_ERR_FORMAT && j == NULL, "case %zu '%s' was accepted", k, bad[k]);
    CHECK_MSG(strstr(sr_context_last_error(ctx), "bad.json: invalid JSON"), "case %zu: '%s'", k,
              sr_context_last_error(ctx));
  }
  /* The embedded NUL: "[1]" followed by a zero byte. */
  sr_json *j = NULL;
  CHECK_FAILS(ctx, sr_json_parse(ctx, "nul", "[1]\0", 4, &j), SR_ERR_FORMAT);
  /* Positions are reported. */
  CHECK_FAILS(ctx, sr_json_parse(ctx, "pos", "[1, 2, x]", 9, &j), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "at byte 7");
  CHECK_FAILS(ctx, sr_json_parse(ctx, "dup", "{\"k\":1,\"k\":2}", 13, &j), SR_ERR_FORMAT);
  CHECK_MESSAGE(ctx, "duplicate key \"k\"");
}

/* Every proper prefix of an object is invalid and must fail cleanly. */
static void test_prefixes(void) {
  const char *doc = "{\"a\": [1, 2.5e-3, \"s\\u00e9\\n\"], \"b\": {\"c\": null, \"d\": true}}";
  size_t n = strlen(doc);
  for (size_t k = 0; k < n; ++k) {
    sr_json *j = NULL;
    sr_status s = sr_json_parse(ctx, "prefix", doc, k, &j);
    CHECK_MSG(s == SR_ERR_FORMAT && j == NULL, "prefix of %zu bytes accepted", k);
  }
  sr_json *j = parse(doc);
  sr_json_free(j);
}

int main(void) {
  ctx = io_test_context();
  test_values();
  test_numbers();
  test_strings();
  test_lookup_many();
  test_depth();
  test_invalid();
  test_prefixes();
  sr_context_destroy(ctx);
  return sr_test_finish("test_json");
}
