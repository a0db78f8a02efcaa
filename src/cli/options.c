#include "cli/options.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/report.h"

/* Index of `value` among the '|'-separated choices, or -1. */
static int choice_index(const char *choices, const char *value) {
  size_t len = strlen(value);
  int index = 0;
  for (const char *p = choices; p && *p; ++index) {
    const char *bar = strchr(p, '|');
    size_t n = bar ? (size_t)(bar - p) : strlen(p);
    if (n == len && strncmp(p, value, n) == 0) return index;
    p = bar ? bar + 1 : NULL;
  }
  return -1;
}

/* Stores a value into the option's target; 0 on success, else prints why
 * (naming `spelled`, the option as the user wrote it) and returns 2. */
static int store(const char *command, const sr_option *o, const char *spelled, const char *value) {
  char *end = NULL;
  switch (o->type) {
  case SR_OPT_FLAG: *(int *)o->target = 1; return 0;
  case SR_OPT_INT: {
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (!*value || *end || errno == ERANGE)
      return sr_cli_usage(command, "%s expects an integer, got '%s'", spelled, value);
    *(int64_t *)o->target = (int64_t)v;
    return 0;
  }
  case SR_OPT_DOUBLE: {
    errno = 0;
    double v = strtod(value, &end);
    if (!*value || *end || errno == ERANGE || !isfinite(v))
      return sr_cli_usage(command, "%s expects a finite number, got '%s'", spelled, value);
    *(double *)o->target = v;
    return 0;
  }
  case SR_OPT_STRING: *(const char **)o->target = value; return 0;
  case SR_OPT_CHOICE: {
    int index = choice_index(o->choices, value);
    if (index < 0)
      return sr_cli_usage(command, "%s expects one of %s, got '%s'", spelled, o->choices, value);
    *(int *)o->target = index;
    return 0;
  }
  }
  return sr_cli_usage(command, "%s has an unknown type", spelled);
}

static int apply_defaults(const sr_command_spec *spec) {
  for (size_t i = 0; i < spec->n_options; ++i) {
    const sr_option *o = &spec->options[i];
    if (o->type == SR_OPT_FLAG)
      *(int *)o->target = 0;
    else if (o->type == SR_OPT_STRING)
      *(const char **)o->target = o->def;
    else if (o->type == SR_OPT_CHOICE && !o->def)
      *(int *)o->target = 0;
    else if (o->def && store(spec->name, o, o->name, o->def) != 0)
      return sr_cli_fail(spec->name, "internal error: bad default '%s' for --%s", o->def, o->name);
  }
  return 0;
}

static const sr_option *find_long(const sr_command_spec *spec, const char *name, size_t len) {
  for (size_t i = 0; i < spec->n_options; ++i)
    if (strlen(spec->options[i].name) == len && strncmp(spec->options[i].name, name, len) == 0)
      return &spec->options[i];
  return NULL;
}

static const sr_option *find_short(const sr_command_spec *spec, char c) {
  for (size_t i = 0; i < spec->n_options; ++i)
    if (spec->options[i].short_name && spec->options[i].short_name == c) return &spec->options[i];
  return NULL;
}

/* Parses the option at argv[*i] (which starts with '-'), consuming its value
 * from argv[*i + 1] when needed. Returns 0, or an exit code. */
static int parse_one(const sr_command_spec *spec, int argc, char **argv, int *i) {
  const char *arg = argv[*i];
  const sr_option *o;
  const char *inline_value = NULL;
  if (arg[1] == '-') {
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    o = find_long(spec, name, len);
    if (eq) inline_value = eq + 1;
  } else {
    o = arg[2] == '\0' ? find_short(spec, arg[1]) : NULL;
  }
  if (!o) return sr_cli_usage(spec->name, "unknown option '%s'", arg);
  char spelled[128];
  snprintf(spelled, sizeof spelled, "--%s", o->name);
  if (o->type == SR_OPT_FLAG) {
    if (inline_value) return sr_cli_usage(spec->name, "%s takes no value", spelled);
    return store(spec->name, o, spelled, NULL);
  }
  if (!inline_value) {
    /* The next word is the value even when it starts with '-' (--lo -1000). */
    if (*i + 1 >= argc) return sr_cli_usage(spec->name, "%s needs a value", spelled);
    inline_value = argv[++*i];
  }
  return store(spec->name, o, spelled, inline_value);
}

static int is_help(const char *arg) {
  return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int sr_options_parse(const sr_command_spec *spec, int argc, char **argv, int *nargs, char ***args) {
  *nargs = 0;
  *args = argv + 1;
  /* --help wins wherever it stands, even next to mistakes. */
  for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; ++i) {
    if (is_help(argv[i])) {
      sr_options_print_help(spec, stdout);
      return 0;
    }
  }
  int rc = apply_defaults(spec);
  if (rc) return rc;
  int npos = 0, only_positional = 0;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    if (!only_positional && strcmp(arg, "--") == 0) {
      only_positional = 1;
    } else if (!only_positional && arg[0] == '-' && arg[1] != '\0') {
      rc = parse_one(spec, argc, argv, &i);
      if (rc) return rc;
    } else {
      argv[1 + npos++] = argv[i]; /* never ahead of i, so nothing unread is overwritten */
    }
  }
  if (npos < spec->min_args)
    return sr_cli_usage(spec->name, "missing argument%s %s", spec->min_args > 1 ? "s" : "",
                        spec->args ? spec->args : "");
  if (spec->max_args >= 0 && npos > spec->max_args)
    return sr_cli_usage(spec->name, "unexpected argument '%s'", argv[1 + spec->max_args]);
  *nargs = npos;
  return SR_CLI_RUN;
}

static const char *metavar(const sr_option *o) {
  if (o->metavar) return o->metavar;
  switch (o->type) {
  case SR_OPT_INT: return "N";
  case SR_OPT_DOUBLE: return "X";
  case SR_OPT_STRING: return "TEXT";
  case SR_OPT_CHOICE: return o->choices;
  case SR_OPT_FLAG: break;
  }
  return "";
}

void sr_options_print_help(const sr_command_spec *spec, FILE *out) {
  fprintf(out, "Usage: scorerecon %s%s%s%s\n\n", spec->name, spec->n_options ? " [options]" : "",
          spec->args && *spec->args ? " " : "", spec->args ? spec->args : "");
  fprintf(out, "%s\n\nOptions:\n", spec->summary);
  for (size_t i = 0; i < spec->n_options; ++i) {
    const sr_option *o = &spec->options[i];
    char left[96];
    int n = o->short_name ? snprintf(left, sizeof left, "-%c, --%s", o->short_name, o->name)
                          : snprintf(left, sizeof left, "    --%s", o->name);
    if (o->type != SR_OPT_FLAG && n > 0 && (size_t)n < sizeof left)
      snprintf(left + n, sizeof left - (size_t)n, " %s", metavar(o));
    fprintf(out, "  %-28s %s", left, o->help);
    if (o->type != SR_OPT_FLAG && o->def) fprintf(out, " (default: %s)", o->def);
    fputc('\n', out);
  }
  fprintf(out, "  %-28s %s\n", "-h, --help", "show this help and exit");
}
