/* scorerecon version: what this binary is and what it can run on. */
#include <stdio.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/report.h"

static const sr_command_spec spec = {
    "version",
    "",
    "Print the version, how this build was configured (backends, CUDA, BLAS, "
    "FFT) and whether a GPU is usable, and why not.",
    NULL,
    0,
    0,
    0};

int sr_cmd_version(int argc, char **argv) {
  int nargs;
  char **args;
  int rc = sr_options_parse(&spec, argc, argv, &nargs, &args);
  if (rc != SR_CLI_RUN) return rc;
  const sr_build_info *b = sr_get_build_info();
  printf("scorerecon %s\n", b->version);
  printf("git commit: %s\n", b->git_commit);
  printf("build type: %s\n", b->build_type && *b->build_type ? b->build_type : "unspecified");
  printf("backends: cpu%s\n", b->cuda_compiled ? ", cuda" : "");
  printf("CUDA: %s\n", !b->cuda_compiled  ? "not compiled"
                       : b->cuda_emulated ? "emulated on the CPU"
                                          : "real (nvcc)");
  printf("CUDA architectures: %s\n",
         b->cuda_compiled && b->cuda_architectures && *b->cuda_architectures ? b->cuda_architectures
                                                                             : "none");
  printf("cuDNN: %s\n", b->cudnn_compiled ? "yes" : "no");
  printf("BLAS: %s\n", b->cpu_blas);
  printf("FFT: %s\n", b->cpu_fft);
  int count = 0;
  char why[512] = "";
  if (sr_cuda_probe(&count, why, sizeof why) == SR_OK && count > 0)
    printf("GPU: found %d (%s)\n", count, why[0] ? why : "unnamed");
  else
    printf("GPU: none (%s)\n", why[0] ? why : "no reason given");
  return 0;
}
