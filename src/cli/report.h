/* How the CLI reports failures: one line on stderr, "scorerecon <command>:
 * <message>", and an exit code: 1 for failures, 2 for usage errors. */
#ifndef SR_CLI_REPORT_H
#define SR_CLI_REPORT_H

#include "scorerecon.h"

#define SR_EXIT_FAILURE 1
#define SR_EXIT_USAGE 2

/* Prints the line and returns SR_EXIT_FAILURE. */
int sr_cli_fail(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints the line plus a pointer to --help and returns SR_EXIT_USAGE. */
int sr_cli_usage(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reports a library failure: the context's message, or the status's generic
 * text when the context holds none. Returns SR_EXIT_FAILURE. */
int sr_cli_fail_status(const char *command, const sr_context *ctx, sr_status status);

/* A CPU context for commands that only need error messages and host work;
 * NULL (after reporting why) when it cannot be created. */
sr_context *sr_cli_host_context(const char *command);

#endif
