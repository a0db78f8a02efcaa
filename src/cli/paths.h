/* File names the CLI derives: joining a directory and a name, and the
 * companions of a volume output (its _std twin, its PNG montage, a JSON
 * sidecar) that share its name less the extension. */
#ifndef SR_CLI_PATHS_H
#define SR_CLI_PATHS_H

/* dir/name (one slash between); name itself when it is absolute or dir is
 * empty. malloc'ed; NULL when out of memory. */
char *sr_path_join(const char *dir, const char *name);

/* OUT less its volume extension (.nii.gz, .nii, .npy; none when it has
 * another), then `insert`, then `ext` (NULL: OUT's own extension):
 * ("a/x.nii.gz", "_std", NULL) -> "a/x_std.nii.gz", ("a/x.npy", "", ".png")
 * -> "a/x.png". malloc'ed; NULL when out of memory. */
char *sr_volume_path_variant(const char *out, const char *insert, const char *ext);

#endif
