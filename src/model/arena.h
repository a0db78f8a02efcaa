/* A first-fit offset allocator for activations. The forward pass runs once
 * "dry" to record the peak, then the backend allocates that much once per
 * (model, batch, size); later passes make the same calls in the same order
 * and so get the same offsets. Nothing here touches backend memory. */
#ifndef SR_MODEL_ARENA_H
#define SR_MODEL_ARENA_H

#include <stddef.h>

#define SR_ARENA_ALIGN 256 /* cuDNN/cuBLAS like 256-byte aligned operands */
#define SR_ARENA_MAX_FREE 256

typedef struct sr_arena_block {
  size_t off, size;
} sr_arena_block;

typedef struct sr_arena {
  sr_arena_block free[SR_ARENA_MAX_FREE]; /* sorted by offset, coalesced */
  int n_free;
  size_t top;  /* end of the highest block ever handed out, rounded */
  size_t peak; /* max top */
} sr_arena;

void sr_arena_reset(sr_arena *a);
/* Returns 0 and *off on success, -1 when the free list is full. */
int sr_arena_alloc(sr_arena *a, size_t bytes, size_t *off);
/* Returns 0, or -1 when the free list is full. */
int sr_arena_free(sr_arena *a, size_t off, size_t bytes);

#endif
