/* Declarative command-line options, in the manner of BART's commands: each
 * command describes its options once in a table (name, type, default, help)
 * and gets parsing, validation and --help from it.
 *
 *   static int64_t steps;
 *   static const sr_option opts[] = {
 *     {"steps", 'n', SR_OPT_INT, &steps, "1000", "number of noise levels"},
 *   };
 *
 * Defaults are written as on the command line and parsed by the same code
 * as user input, so --help prints exactly what a user could type. */
#ifndef SR_CLI_OPTIONS_H
#define SR_CLI_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

typedef enum sr_opt_type {
  SR_OPT_FLAG,   /* int *: 0, or 1 when given; takes no value */
  SR_OPT_INT,    /* int64_t * */
  SR_OPT_DOUBLE, /* double *: finite values only */
  SR_OPT_STRING, /* const char **: points into argv (or at the default) */
  SR_OPT_CHOICE  /* int *: index into `choices` ("a|b|c") */
} sr_opt_type;

typedef struct sr_option {
  const char *name; /* long name, without "--" */
  char short_name;  /* 0: none */
  sr_opt_type type;
  void *target;
  const char *def;     /* default as typed; NULL: none (flag off, string NULL) */
  const char *help;    /* one line */
  const char *choices; /* SR_OPT_CHOICE only: "a|b|c" */
  const char *metavar; /* value name in --help; NULL: from the type */
} sr_option;

typedef struct sr_command_spec {
  const char *name;    /* "info" */
  const char *args;    /* positional arguments for the usage line: "FILE..." */
  const char *summary; /* one line, printed under the usage line */
  const sr_option *options;
  size_t n_options;
  int min_args, max_args; /* how many positional arguments; max_args < 0: no limit */
} sr_command_spec;

/* Parsing went fine: run the command. */
#define SR_CLI_RUN (-1)

/* Applies the defaults, then parses argv[1..argc-1] (argv[0] is the command
 * name). Positional arguments are moved to the front of argv + 1: on return
 * they are (*args)[0 .. *nargs-1]. Returns SR_CLI_RUN, or an exit code for
 * the caller to return at once: 0 after printing --help, 2 after reporting a
 * usage error in one line (unknown option, bad value, wrong argument count). */
int sr_options_parse(const sr_command_spec *spec, int argc, char **argv, int *nargs, char ***args);

/* Prints the usage line, summary and the option table with defaults. */
void sr_options_print_help(const sr_command_spec *spec, FILE *out);

#endif
