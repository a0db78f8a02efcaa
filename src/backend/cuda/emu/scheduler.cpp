// The launch: checks the configuration as the driver would, then runs the blocks one at a
// time. Inside a block every CUDA thread is a cooperative fiber. A thread that ends without
// blocking hands its fiber to the next thread, so kernels without barriers run as a plain
// loop; a thread that blocks (barrier, warp intrinsic) keeps its stack and switches directly
// to the next thread to resume, or to a fiber that starts the next thread. When nothing can
// run, control returns here: release the barrier if every live thread waits at the same
// __syncthreads(), otherwise report the bug.
#include "emu_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <numeric>

namespace sr_emu {

uint3 g_thread_idx;
uint3 g_block_idx;
dim3 g_block_dim;
dim3 g_grid_dim;
unsigned long long g_block_serial = 0;
BlockRun g_run;

namespace {

std::mutex g_launch_mutex; // blocks run one at a time, whichever host thread launches
bool g_in_kernel = false;
bool g_order_set = false;
sr_emu_order g_order = SR_EMU_ORDER_FORWARD;
unsigned long long g_seed = 1;
uint64_t g_rng = 0;

struct Stats {
  bool enabled = false;
  unsigned long long launches = 0, blocks = 0, threads = 0;
  double seconds = 0;
} g_stats;

void print_stats() {
  note("%llu launches, %llu blocks, %llu threads in %.3f s (%.1f ns per thread)", g_stats.launches,
       g_stats.blocks, g_stats.threads, g_stats.seconds,
       g_stats.threads ? g_stats.seconds * 1e9 / (double)g_stats.threads : 0.0);
}

uint64_t next_random() { // splitmix64
  uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void shuffle(unsigned *v, size_t n) {
  for (size_t i = n; i > 1; --i) std::swap(v[i - 1], v[next_random() % i]);
}

// Puts threads in the configured order: ascending, descending or shuffled.
void arrange(unsigned *v, size_t n) {
  if (g_order == SR_EMU_ORDER_REVERSE)
    std::reverse(v, v + n);
  else if (g_order == SR_EMU_ORDER_RANDOM)
    shuffle(v, n);
}

void read_environment() {
  if (g_order_set) return;
  g_order_set = true;
  if (const char *env = getenv("SR_EMU_ORDER")) {
    if (!strcmp(env, "forward")) {
      g_order = SR_EMU_ORDER_FORWARD;
    } else if (!strcmp(env, "reverse")) {
      g_order = SR_EMU_ORDER_REVERSE;
    } else if (!strcmp(env, "random")) {
      g_order = SR_EMU_ORDER_RANDOM;
    } else {
      note("SR_EMU_ORDER=%s: expected forward, reverse or random", env);
      abort(); // a CI job that silently ran in the wrong order would prove nothing
    }
  }
  if (const char *env = getenv("SR_EMU_SEED")) g_seed = strtoull(env, nullptr, 0);
  g_rng = g_seed;
  if (const char *env = getenv("SR_EMU_STATS")) {
    g_stats.enabled = env[0] && strcmp(env, "0") != 0;
    if (g_stats.enabled) atexit(print_stats);
  }
}

bool same_place(const ThreadSlot &a, const ThreadSlot &b) {
  return a.line == b.line && (a.file == b.file || !strcmp(a.file, b.file));
}

// Makes thread t the running one; returns its fiber, to be switched to next.
Fiber *prepare_resume(unsigned t) {
  ThreadSlot &s = g_run.slots[t];
  g_run.current = t;
  g_thread_idx = g_run.idx[t];
  s.state = ThreadState::kRunning;
  return s.fiber;
}

// Nothing can run and some thread has not exited.
void resolve_stall() {
  BlockRun &r = g_run;
  for (unsigned k = 0; k < r.nthreads; ++k) {
    if (r.slots[r.order[k]].state == ThreadState::kWarp) {
      report_warp_stall(r.order[k]);
      return;
    }
  }
  // Every live thread waits in a __syncthreads(); exited ones count as arrived (bar.sync).
  const ThreadSlot *first = nullptr;
  unsigned first_t = 0, waiting = 0, votes = 0;
  for (unsigned k = 0; k < r.nthreads; ++k) {
    unsigned t = r.order[k];
    const ThreadSlot &s = r.slots[t];
    if (s.state != ThreadState::kBarrier) continue;
    if (!first) {
      first = &s;
      first_t = t;
    } else if (!same_place(s, *first) || s.barrier != first->barrier) {
      char a[64], b[64];
      report_kernel_bug("barrier divergence: %s waits at the barrier at %s:%d but %s at %s:%d",
                        thread_name(first_t, a, sizeof a), first->file, first->line,
                        thread_name(t, b, sizeof b), s.file, s.line);
      return;
    }
    ++waiting;
    votes += s.predicate != 0;
  }
  int result = 0;
  if (first && first->barrier == kBarCount) result = (int)votes;
  if (first && first->barrier == kBarAnd) result = votes == waiting;
  if (first && first->barrier == kBarOr) result = votes != 0;
  if (g_order == SR_EMU_ORDER_RANDOM) shuffle(r.order.data(), r.order.size());
  r.runq.clear();
  r.runq_head = 0;
  for (unsigned t : r.order) {
    ThreadSlot &s = r.slots[t];
    if (s.state != ThreadState::kBarrier) continue;
    s.state = ThreadState::kReady;
    s.predicate = result;
    r.runq.push_back(t);
  }
}

void run_block() {
  BlockRun &r = g_run;
  ++g_block_serial;
  r.next_start = 0;
  r.live = r.nthreads;
  r.runq.clear();
  r.runq_head = 0;
  for (ThreadSlot &s : r.slots) {
    s.state = ThreadState::kNotStarted;
    s.fiber = nullptr;
  }
  std::fill(r.warp_arrived.begin(), r.warp_arrived.end(), 0u);
  std::fill(r.warp_gone.begin(), r.warp_gone.end(), 0u);
  if (r.nthreads % 32) r.warp_gone.back() = ~0u << (r.nthreads % 32); // lanes past the block
  if (g_order == SR_EMU_ORDER_RANDOM) shuffle(r.order.data(), r.order.size());

  // Fibers pass control among themselves (switch_away) and come back here only when
  // nothing can run: the block is done, or waits at a barrier, or is stuck.
  Fiber *main = fiber_main_context();
  while (!r.aborted) {
    if (r.runq_head < r.runq.size())
      fiber_switch(main, prepare_resume(r.runq[r.runq_head++]));
    else if (r.next_start < r.nthreads)
      fiber_switch(main, fiber_acquire());
    else if (r.live == 0)
      break;
    else
      resolve_stall();
  }
  if (r.aborted) {
    for (ThreadSlot &s : r.slots) {
      if (s.fiber) {
        fiber_reset(s.fiber);
        fiber_release(s.fiber);
        s.fiber = nullptr;
      }
    }
  }
  release_block_shared();
}

bool check_config(const LaunchSite &site, const KernelCall &call) {
  const dim3 &b = site.block, &g = site.grid;
  unsigned long long threads = (unsigned long long)b.x * b.y * b.z;
  char why[256] = "";
  cudaError_t err = cudaErrorInvalidConfiguration;
  if (!stream_valid(site.stream)) {
    snprintf(why, sizeof why, "stream %p was not created by cudaStreamCreate", (void *)site.stream);
    err = cudaErrorInvalidResourceHandle;
  } else if (threads == 0 || threads > kMaxThreadsPerBlock || b.x > 1024 || b.y > 1024 ||
             b.z > 64) {
    snprintf(why, sizeof why,
             "block (%u,%u,%u) has %llu threads; a block holds 1 to 1024, at most "
             "(1024,1024,64)",
             b.x, b.y, b.z, threads);
  } else if (g.x == 0 || g.y == 0 || g.z == 0 || g.x > 2147483647u || g.y > 65535 || g.z > 65535) {
    snprintf(why, sizeof why, "grid (%u,%u,%u) is empty or exceeds (2^31-1,65535,65535)", g.x, g.y,
             g.z);
  } else if (site.smem > kSmemOptinLimit) {
    snprintf(why, sizeof why,
             "%zu bytes of dynamic shared memory exceed the device's 227 KiB per block", site.smem);
    err = cudaErrorInvalidValue;
  } else if (site.smem > kDefaultDynamicSmemLimit &&
             site.smem > (size_t)max_dynamic_smem(call.entry)) {
    snprintf(why, sizeof why,
             "%zu bytes of dynamic shared memory need cudaFuncSetAttribute(kernel, "
             "cudaFuncAttributeMaxDynamicSharedMemorySize, n) first (above 48 KiB)",
             site.smem);
    err = cudaErrorInvalidValue;
  }
  if (!why[0]) return true;
  note("kernel %s launched at %s:%d: %s", site.kernel, site.file, site.line, why);
  set_launch_error(err);
  return false;
}

// On a GPU a kernel that dereferences a host pointer faults; here it would silently work.
bool check_pointer_args(const LaunchSite &site, const KernelCall &call) {
  for (int i = 0; i < call.nargs; ++i) {
    const KernelArg &a = call.args[i];
    if (!a.is_pointer || !a.ptr) continue;
    if (classify_pointer(a.ptr, nullptr, nullptr) != MemKind::kUnknown) continue;
    note("kernel %s launched at %s:%d: argument %d (%p) points neither into a cudaMalloc "
         "allocation nor into cudaMallocHost memory",
         site.kernel, site.file, site.line, i + 1, a.ptr);
    set_sticky_error(cudaErrorLaunchFailure);
    return false;
  }
  return true;
}

// The k-th block to run under the configured order: forward, reverse, or an affine
// permutation i -> (a*i + c) mod n with gcd(a, n) = 1, which needs no table.
struct BlockOrder {
  unsigned long long n, a = 1, c = 0;
  explicit BlockOrder(unsigned long long count) : n(count) {
    if (g_order == SR_EMU_ORDER_RANDOM && n > 1) {
      c = next_random() % n;
      do a = next_random() % n;
      while (a == 0 || std::gcd(a, n) != 1);
    }
  }
  unsigned long long operator()(unsigned long long k) const {
    if (g_order == SR_EMU_ORDER_REVERSE) return n - 1 - k;
    return (unsigned long long)(((unsigned __int128)a * k + c) % n);
  }
};

} // namespace

bool in_kernel() {
  return g_in_kernel;
}

void make_ready(unsigned *threads, size_t n) {
  arrange(threads, n);
  BlockRun &r = g_run;
  if (r.runq_head == r.runq.size()) {
    r.runq.clear();
    r.runq_head = 0;
  }
  for (size_t i = 0; i < n; ++i) {
    r.slots[threads[i]].state = ThreadState::kReady;
    r.runq.push_back(threads[i]);
  }
}

const char *thread_name(unsigned t, char *buf, size_t size) {
  const uint3 &i = g_run.idx[t];
  snprintf(buf, size, "thread (%u,%u,%u)", i.x, i.y, i.z);
  return buf;
}

void report_kernel_bug(const char *fmt, ...) {
  BlockRun &r = g_run;
  if (r.aborted) return;
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  note("kernel %s launched at %s:%d, block (%u,%u,%u): %s", r.site->kernel, r.site->file,
       r.site->line, g_block_idx.x, g_block_idx.y, g_block_idx.z, msg);
  set_sticky_error(cudaErrorLaunchFailure);
  r.aborted = true;
}

void fail_in_thread(const char *fmt, ...) {
  if (!g_in_kernel) {
    note("a device intrinsic was called outside a kernel");
    abort();
  }
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char who[64];
  report_kernel_bug("%s: %s", thread_name(g_run.current, who, sizeof who), msg);
  // The block is aborted: this fiber is abandoned and reset, never resumed.
  switch_away(g_run.slots[g_run.current].fiber);
  abort();
}

[[noreturn]] void fiber_main(Fiber *self) {
  BlockRun &r = g_run;
  for (;;) {
    while (r.next_start < r.nthreads && !r.aborted) {
      unsigned t = r.order[r.next_start++];
      ThreadSlot &s = r.slots[t];
      s.state = ThreadState::kRunning;
      s.fiber = self;
      r.current = t;
      g_thread_idx = r.idx[t];
      r.call->invoke(r.call->ctx);
      s.state = ThreadState::kExited;
      s.fiber = nullptr;
      --r.live;
      r.warp_gone[t >> 5] |= 1u << (t & 31);
    }
    // Out of threads to start: back to the pool, and let someone else run.
    self->idle = true;
    fiber_release(self);
    switch_away(self);
  }
}

void switch_away(Fiber *self) {
  BlockRun &r = g_run;
  Fiber *next = fiber_main_context();
  if (!r.aborted) {
    if (r.runq_head < r.runq.size())
      next = prepare_resume(r.runq[r.runq_head++]);
    else if (r.next_start < r.nthreads)
      next = fiber_acquire();
  }
  fiber_switch(self, next);
}

int barrier(BarrierKind kind, int predicate, const char *file, int line) {
  if (!g_in_kernel) fail_in_thread("__syncthreads() at %s:%d", file, line);
  ThreadSlot &s = g_run.slots[g_run.current];
  s.state = ThreadState::kBarrier;
  s.file = file;
  s.line = line;
  s.barrier = kind;
  s.predicate = predicate;
  switch_away(s.fiber);
  return s.predicate;
}

void launch_kernel(const LaunchSite &site, const KernelCall &call) {
  std::lock_guard<std::mutex> lock(g_launch_mutex);
  read_environment();
  if (cudaError_t e = sticky_error()) {
    record_error(e);
    return;
  }
  if (!check_config(site, call) || !check_pointer_args(site, call)) return;
  auto t0 = std::chrono::steady_clock::now();

  BlockRun &r = g_run;
  const dim3 &b = site.block;
  r.site = &site;
  r.call = &call;
  r.nthreads = b.x * b.y * b.z;
  r.nwarps = (r.nthreads + 31) / 32;
  r.idx.resize(r.nthreads);
  r.slots.assign(r.nthreads, ThreadSlot{});
  r.order.resize(r.nthreads);
  r.warp_arrived.assign(r.nwarps, 0u);
  r.warp_gone.assign(r.nwarps, 0u);
  for (unsigned t = 0; t < r.nthreads; ++t) {
    r.idx[t] = make_uint3(t % b.x, t / b.x % b.y, t / (b.x * b.y));
    r.order[t] = t;
  }
  if (g_order == SR_EMU_ORDER_REVERSE) std::reverse(r.order.begin(), r.order.end());
  r.aborted = false;
  g_block_dim = site.block;
  g_grid_dim = site.grid;

  const dim3 &g = site.grid;
  unsigned long long nblocks = (unsigned long long)g.x * g.y * g.z;
  BlockOrder block_order(nblocks);
  g_in_kernel = true;
  unsigned long long done = 0;
  for (; done < nblocks && !r.aborted; ++done) {
    unsigned long long i = block_order(done);
    g_block_idx = make_uint3((unsigned)(i % g.x), (unsigned)(i / g.x % g.y),
                             (unsigned)(i / ((unsigned long long)g.x * g.y)));
    run_block();
  }
  g_in_kernel = false;
  r.site = nullptr;
  r.call = nullptr;

  if (g_stats.enabled) {
    g_stats.launches += 1;
    g_stats.blocks += done;
    g_stats.threads += done * r.nthreads;
    g_stats.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
}

} // namespace sr_emu

using namespace sr_emu;

extern "C" void sr_emu_set_order(sr_emu_order order, unsigned long long seed) {
  std::lock_guard<std::mutex> lock(g_launch_mutex);
  read_environment(); // SR_EMU_STATS still applies
  g_order = order;
  g_seed = seed;
  g_rng = seed;
}

extern "C" sr_emu_order sr_emu_get_order(void) {
  std::lock_guard<std::mutex> lock(g_launch_mutex);
  read_environment();
  return g_order;
}

extern "C" const char *sr_emu_order_name(sr_emu_order order) {
  switch (order) {
  case SR_EMU_ORDER_FORWARD: return "forward";
  case SR_EMU_ORDER_REVERSE: return "reverse";
  case SR_EMU_ORDER_RANDOM: return "random";
  }
  return "unknown";
}
