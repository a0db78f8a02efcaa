// Shared memory of the running block. Each static __shared__ array and the dynamic shared
// memory are separate heap blocks of exactly their size, so AddressSanitizer reports an
// access past either; they are filled with 0xFF bytes (a NaN as float) when the block
// first touches them and freed when the block ends, so stale or unwritten values show.
#include "emu_internal.h"

#include <stdlib.h>
#include <string.h>

namespace sr_emu {

void shared_alloc(SharedSlot &slot, size_t size, size_t align, const char *name, const char *file,
                  int line) {
  if (!in_kernel()) fail_in_thread("__shared__ %s (%s:%d)", name, file, line);
  BlockRun &r = g_run;
  r.static_smem += size;
  if (r.static_smem > kStaticSmemLimit)
    fail_in_thread("__shared__ %s at %s:%d brings static shared memory to %zu bytes; the "
                   "limit is 48 KiB (use dynamic shared memory beyond)",
                   name, file, line, r.static_smem);
  if (r.static_smem + r.site->smem > kSmemOptinLimit)
    fail_in_thread("__shared__ %s at %s:%d: %zu bytes of static and %zu of dynamic shared "
                   "memory exceed 227 KiB",
                   name, file, line, r.static_smem, r.site->smem);
  void *p = nullptr;
  if (posix_memalign(&p, align < 16 ? 16 : align, size ? size : 1) != 0)
    fail_in_thread("out of host memory for __shared__ %s", name);
  memset(p, 0xff, size);
  r.shared_allocs.push_back(p);
  slot.ptr = p;
  slot.block = g_block_serial;
}

void *dynamic_shared() {
  BlockRun &r = g_run;
  if (!in_kernel()) fail_in_thread("SR_DYNAMIC_SHARED");
  if (r.dynamic_block != g_block_serial) {
    // Exactly smem_bytes: one byte past the launch's size is an overflow.
    void *p = malloc(r.site->smem);
    if (!p) p = malloc(1); // malloc(0) may return NULL; any use is then an overflow anyway
    memset(p, 0xff, r.site->smem);
    r.shared_allocs.push_back(p);
    r.dynamic_smem = p;
    r.dynamic_block = g_block_serial;
  }
  return r.dynamic_smem;
}

void release_block_shared() {
  BlockRun &r = g_run;
  for (void *p : r.shared_allocs) free(p);
  r.shared_allocs.clear();
  r.static_smem = 0;
  r.dynamic_smem = nullptr;
}

} // namespace sr_emu
