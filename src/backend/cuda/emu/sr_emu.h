/* Controls of the CPU emulator of CUDA that are not part of the CUDA API: the order in which
 * the threads of a block run between barriers, and the sticky error of a failed kernel.
 * Callable from C and C++; only present in the emulation build (SR_CUDA_EMU). */
#ifndef SR_EMU_H
#define SR_EMU_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sr_emu_order {
  SR_EMU_ORDER_FORWARD = 0, /* thread 0, 1, 2, ... of each block (and blocks 0, 1, ...) */
  SR_EMU_ORDER_REVERSE = 1, /* the last thread (and the last block) first */
  SR_EMU_ORDER_RANDOM = 2   /* a fresh seeded permutation at each block start and barrier */
} sr_emu_order;

/* Sets the order for later launches. The environment sets the initial value:
 * SR_EMU_ORDER=forward|reverse|random and SR_EMU_SEED=<integer>. */
void sr_emu_set_order(sr_emu_order order, unsigned long long seed);
sr_emu_order sr_emu_get_order(void);
const char *sr_emu_order_name(sr_emu_order order);

/* A kernel bug (barrier divergence, deadlock, bad pointer argument) leaves a sticky
 * cudaErrorLaunchFailure, as a faulting kernel does on a GPU. Tests that provoke one on
 * purpose clear it here before going on. */
void sr_emu_clear_error(void);

#ifdef __cplusplus
}
#endif

#endif
