#define _POSIX_C_SOURCE 200809L
#include "cli/paths.h"

#include <stdlib.h>
#include <string.h>

char *sr_path_join(const char *dir, const char *name) {
  if (name[0] == '/' || !dir[0]) return strdup(name);
  const size_t a = strlen(dir), b = strlen(name);
  char *p = (char *)malloc(a + b + 2);
  if (!p) return NULL;
  memcpy(p, dir, a);
  size_t k = a;
  if (dir[a - 1] != '/') p[k++] = '/';
  memcpy(p + k, name, b + 1);
  return p;
}

char *sr_volume_path_variant(const char *out, const char *insert, const char *ext) {
  static const char *const exts[] = {".nii.gz", ".nii", ".npy"};
  const size_t len = strlen(out);
  size_t base = len;
  for (size_t i = 0; i < sizeof exts / sizeof exts[0]; ++i) {
    const size_t el = strlen(exts[i]);
    if (len > el && strcmp(out + len - el, exts[i]) == 0) {
      base = len - el;
      break;
    }
  }
  if (!ext) ext = out + base;
  const size_t il = strlen(insert), xl = strlen(ext);
  char *p = (char *)malloc(base + il + xl + 1);
  if (!p) return NULL;
  memcpy(p, out, base);
  memcpy(p + base, insert, il);
  memcpy(p + base + il, ext, xl + 1);
  return p;
}
