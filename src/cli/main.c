/* scorerecon <command> [options]: one binary, one table of commands. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/report.h"

typedef struct sr_cli_command {
  const char *name;
  const char *help;
  int (*main)(int argc, char **argv);
} sr_cli_command;

#define SR_CLI_ENTRY(name, help) {#name, help, sr_cmd_##name},
static const sr_cli_command commands[] = {SR_CLI_COMMANDS(SR_CLI_ENTRY)};
#undef SR_CLI_ENTRY

static void print_usage(FILE *out) {
  fprintf(out, "Usage: scorerecon <command> [options]\n"
               "       scorerecon <command> --help\n\n"
               "Reconstructs CT and MRI images from incomplete measurements with score-based\n"
               "diffusion models.\n\nCommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
    fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    print_usage(stderr);
    return SR_EXIT_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
    print_usage(stdout);
    return 0;
  }
  if (strcmp(name, "--version") == 0) name = "version";
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i) {
    if (strcmp(commands[i].name, name) == 0) {
      argv[1] = (char *)commands[i].name;
      return commands[i].main(argc - 1, argv + 1);
    }
  }
  fprintf(stderr, "scorerecon: unknown command '%s' (see 'scorerecon --help')\n", name);
  return SR_EXIT_USAGE;
}
