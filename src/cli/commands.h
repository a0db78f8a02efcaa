/* The CLI's commands. Adding one: write src/cli/<name>.c with
 * `int sr_cmd_<name>(int argc, char **argv)` (argv[0] is the command name)
 * and add one X(...) line below. main.c builds its table from this list. */
#ifndef SR_CLI_COMMANDS_H
#define SR_CLI_COMMANDS_H

#define SR_CLI_COMMANDS(X)                                                                         \
  X(eval, "PSNR, SSIM and NMSE of a reconstruction against a reference, per slice and mean")    \
  X(info, "print shape, dtype, statistics and metadata of .npy, .nii[.gz], .safetensors, .png")    \
  X(reconstruct, "reconstruct images from a measurement file (score, fbp, zero-filled, tv)")     \
  X(score, "evaluate the score network once: OUT = s(IN, sigma)")                              \
  X(simulate, "turn images into CT or MRI measurement files (HDF5), with optional noise")       \
  X(version, "print the version, how this build was configured, and whether a GPU is usable")

#define SR_CLI_DECLARE(name, help) int sr_cmd_##name(int argc, char **argv);
SR_CLI_COMMANDS(SR_CLI_DECLARE)
#undef SR_CLI_DECLARE

#endif
