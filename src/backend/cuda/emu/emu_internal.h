// State of the CPU emulator shared by its source files: fibers, the block being run, the
// allocation registry and the error state. Nothing here is visible to kernels.
#ifndef SR_EMU_INTERNAL_H
#define SR_EMU_INTERNAL_H

#include "emu_device.h"
#include "sr_emu.h"

#include <stdint.h>

#include <vector>

namespace sr_emu {

// ---------------------------------------------------------------- fibers (fiber.cpp)
// One cooperative fiber runs emulated threads on its own guarded stack. The scheduler runs
// on the host thread's own stack, which is a Fiber too (fiber_main_context). Fibers switch
// to each other directly; control goes back to the scheduler only when nothing can run.
struct Fiber {
  void *sp = nullptr;    // saved stack pointer while switched out
  char *stack = nullptr; // lowest usable byte; a PROT_NONE guard page lies below it
  size_t size = 0;
  bool idle = false; // ran out of threads to start and sits in the pool
  void *asan_fake_stack = nullptr;
};
Fiber *fiber_acquire();                    // a fiber that runs fiber_main's loop when entered
void fiber_release(Fiber *f);              // back to the pool
void fiber_reset(Fiber *f);                // abandon whatever it was running (aborted block)
Fiber *fiber_main_context();               // the scheduler's context
void fiber_switch(Fiber *from, Fiber *to); // returns when someone switches back to `from`
[[noreturn]] void fiber_main(Fiber *self); // scheduler.cpp: the loop every fiber runs

// ---------------------------------------------------------------- the block (scheduler.cpp)
enum class ThreadState : unsigned char {
  kNotStarted,
  kRunning,
  kReady,   // released from a barrier or warp operation, waiting for its turn
  kBarrier, // waits in __syncthreads()
  kWarp,    // waits in a warp intrinsic
  kExited,
};

struct WarpWait {
  WarpOpKind kind;
  unsigned mask;
  int arg; // source lane, delta or xor mask
  int width;
  unsigned long long value;
  unsigned long long result;
};

struct ThreadSlot {
  ThreadState state;
  Fiber *fiber;     // set while the thread has started and not exited
  const char *file; // where it waits
  int line;
  BarrierKind barrier;
  int predicate; // __syncthreads_count/and/or: the argument, then the result
  WarpWait warp;
};

struct BlockRun {
  const LaunchSite *site = nullptr;
  const KernelCall *call = nullptr;
  unsigned nthreads = 0;
  unsigned nwarps = 0;
  std::vector<uint3> idx;        // threadIdx by linear thread id
  std::vector<ThreadSlot> slots; // by linear thread id
  std::vector<unsigned> order;   // the order threads start (and leave barriers) in
  unsigned next_start = 0;       // index into order of the next thread to start
  unsigned live = 0;             // threads not yet exited
  std::vector<unsigned> runq;    // threads to resume, in turn
  size_t runq_head = 0;
  std::vector<unsigned> warp_arrived; // per warp: lanes waiting in a warp intrinsic
  std::vector<unsigned> warp_gone;    // per warp: lanes that exited or do not exist
  unsigned current = 0;               // linear id of the running thread
  bool aborted = false;
  // Shared memory of this block (shared_memory.cpp).
  std::vector<void *> shared_allocs;
  size_t static_smem = 0;
  void *dynamic_smem = nullptr;
  unsigned long long dynamic_block = 0;
};
extern BlockRun g_run;

bool in_kernel();
// Queues threads to resume after a barrier or warp operation, in the configured order.
void make_ready(unsigned *threads, size_t n);
// The running thread's fiber stops (blocked, or out of threads to start): switch to the next
// thread to resume, else to a fiber that starts new threads, else to the scheduler.
void switch_away(Fiber *self);
// Reports a kernel bug found by the running emulated thread, aborts the launch, and never
// returns to the kernel.
[[noreturn]] void fail_in_thread(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// The same from the scheduler (main context).
void report_kernel_bug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// "thread (x,y,z)" of the running block, for messages.
const char *thread_name(unsigned t, char *buf, size_t size);
const char *warp_op_name(WarpOpKind kind);
void report_warp_stall(unsigned t); // warp.cpp: the block stalled while t waits in one
void release_block_shared();        // shared_memory.cpp: frees the block's shared arrays

// ---------------------------------------------------------------- memory (memory.cpp)
enum class MemKind { kUnknown, kDevice, kPinnedHost };
// What p points into; for known allocations also [base, base + size).
MemKind classify_pointer(const void *p, const char **base, size_t *size);
// [p, p + bytes) lies inside one device allocation.
bool device_range(const void *p, size_t bytes);

// ---------------------------------------------------------------- runtime (runtime.cpp)
cudaError_t record_error(cudaError_t e); // the "last error"; returns e
cudaError_t sticky_error();
void set_sticky_error(cudaError_t e);
void set_launch_error(cudaError_t e); // also returned by the next synchronize
bool stream_valid(cudaStream_t s);
int max_dynamic_smem(const void *entry); // what cudaFuncSetAttribute allowed
// One line on stderr, prefixed "sr_emu: ".
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// Limits of the emulated device (an sm_90 part).
constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr size_t kStaticSmemLimit = 48 * 1024;
constexpr size_t kDefaultDynamicSmemLimit = 48 * 1024;
constexpr size_t kSmemOptinLimit = 227 * 1024;

} // namespace sr_emu

#endif
