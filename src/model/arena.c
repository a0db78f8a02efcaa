#include "model/arena.h"

#include <string.h>

static size_t round_up(size_t n) { return (n + SR_ARENA_ALIGN - 1) / SR_ARENA_ALIGN * SR_ARENA_ALIGN; }

void sr_arena_reset(sr_arena *a) { memset(a, 0, sizeof *a); }

int sr_arena_alloc(sr_arena *a, size_t bytes, size_t *off) {
  const size_t need = round_up(bytes ? bytes : 1);
  for (int i = 0; i < a->n_free; ++i) {
    sr_arena_block *f = &a->free[i];
    if (f->size < need) continue;
    *off = f->off;
    f->off += need;
    f->size -= need;
    if (f->size == 0) {
      memmove(f, f + 1, (size_t)(a->n_free - i - 1) * sizeof *f);
      --a->n_free;
    }
    return 0;
  }
  /* Grow at the top, absorbing a free block that ends there. */
  size_t at = a->top;
  if (a->n_free && a->free[a->n_free - 1].off + a->free[a->n_free - 1].size == a->top) {
    at = a->free[a->n_free - 1].off;
    --a->n_free;
  }
  *off = at;
  a->top = at + need;
  if (a->top > a->peak) a->peak = a->top;
  return 0;
}

int sr_arena_free(sr_arena *a, size_t off, size_t bytes) {
  const size_t size = round_up(bytes ? bytes : 1);
  /* Blocks at the top simply lower it. */
  if (off + size == a->top) {
    a->top = off;
    while (a->n_free && a->free[a->n_free - 1].off + a->free[a->n_free - 1].size == a->top) {
      a->top = a->free[a->n_free - 1].off;
      --a->n_free;
    }
    return 0;
  }
  int i = 0;
  while (i < a->n_free && a->free[i].off < off) ++i;
  int merged_prev = i > 0 && a->free[i - 1].off + a->free[i - 1].size == off;
  int merged_next = i < a->n_free && off + size == a->free[i].off;
  if (merged_prev && merged_next) {
    a->free[i - 1].size += size + a->free[i].size;
    memmove(&a->free[i], &a->free[i + 1], (size_t)(a->n_free - i - 1) * sizeof a->free[0]);
    --a->n_free;
  } else if (merged_prev) {
    a->free[i - 1].size += size;
  } else if (merged_next) {
    a->free[i].off = off;
    a->free[i].size += size;
  } else {
    if (a->n_free == SR_ARENA_MAX_FREE) return -1;
    memmove(&a->free[i + 1], &a->free[i], (size_t)(a->n_free - i) * sizeof a->free[0]);
    a->free[i].off = off;
    a->free[i].size = size;
    ++a->n_free;
  }
  return 0;
}
