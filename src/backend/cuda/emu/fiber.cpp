// Fibers for emulated CUDA threads: a guarded mmap'd stack each and a hand-written x86-64
// context switch of the callee-saved registers. MXCSR and the x87 control word are not
// switched: kernels cannot change them, and saving them (fnstcw/fldcw) tripled the cost of a
// switch. A ucontext switch works too but was an order of magnitude slower on barrier-heavy
// kernels.
//
// AddressSanitizer must be told about every switch (__sanitizer_start/finish_switch_fiber),
// or it mistakes the fiber stacks for the host stack and reports garbage.
#include "emu_internal.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <new>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SR_EMU_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SR_EMU_ASAN)
#define SR_EMU_ASAN 1
#endif
#ifndef SR_EMU_ASAN
#define SR_EMU_ASAN 0
#endif
#if SR_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if !defined(__x86_64__)
#error "the emulator's context switch is written for x86-64"
#endif

extern "C" void sr_emu_switch(void **save_sp, void *next_sp);
extern "C" void sr_emu_fiber_trampoline();

// sr_emu_switch(save_sp, next_sp): pushes the callee-saved state, stores the stack pointer
// in *save_sp, loads next_sp and pops the state saved there. A new fiber's stack is
// prepared (init_frame) so that the pops land in the trampoline with r12 = Fiber* and
// r13 = entry function.
asm(R"(
    .pushsection .text
    .p2align 4
    .globl sr_emu_switch
    .hidden sr_emu_switch
    .type sr_emu_switch, @function
sr_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size sr_emu_switch, .-sr_emu_switch

    .p2align 4
    .globl sr_emu_fiber_trampoline
    .hidden sr_emu_fiber_trampoline
    .type sr_emu_fiber_trampoline, @function
sr_emu_fiber_trampoline:
    movq %r12, %rdi
    callq *%r13
    ud2
    .size sr_emu_fiber_trampoline, .-sr_emu_fiber_trampoline
    .popsection
)");

namespace sr_emu {
namespace {

Fiber g_main;                   // the scheduler: the host thread's own stack
Fiber *g_switch_from = nullptr; // who switched last, for the ASan bookkeeping
std::vector<Fiber *> g_pool;    // idle fibers
std::vector<Fiber *> g_every;   // all fibers ever made, for the guard-page check
size_t g_page = 0;
size_t g_stack_size = 0;

// Runs on the side that was switched to. ASan wants the switch completed, and tells which
// stack we came from: when that was the scheduler, it names the host thread's stack, which
// is how we learn its bounds (launches may come from different host threads).
void finish_switch(void *fake_stack) {
#if SR_EMU_ASAN
  const void *bottom = nullptr;
  size_t size = 0;
  __sanitizer_finish_switch_fiber(fake_stack, &bottom, &size);
  if (g_switch_from == &g_main) {
    g_main.stack = (char *)bottom;
    g_main.size = size;
  }
#else
  (void)fake_stack;
#endif
}

void fiber_entry(Fiber *self) {
  finish_switch(nullptr);
  fiber_main(self);
}

void init_frame(Fiber *f) {
  // After the final `ret` the stack pointer must be 16-byte aligned, so that the
  // trampoline's call gives the entry function the ABI's alignment.
  uintptr_t top = ((uintptr_t)(f->stack + f->size) & ~(uintptr_t)15) - 16;
  uint64_t *sp = (uint64_t *)top;
  *--sp = (uint64_t)(uintptr_t)&sr_emu_fiber_trampoline; // ret
  *--sp = 0;                                             // rbp: ends frame-pointer walks
  *--sp = 0;                                             // rbx
  *--sp = (uint64_t)(uintptr_t)f;                        // r12
  *--sp = (uint64_t)(uintptr_t)&fiber_entry;             // r13
  *--sp = 0;                                             // r14
  *--sp = 0;                                             // r15
  f->sp = sp;
  f->idle = false;
  f->asan_fake_stack = nullptr;
}

// A stack overflow inside a kernel hits the guard page; say so instead of a bare SIGSEGV.
// AddressSanitizer's own handler reports it in sanitized builds.
#if !SR_EMU_ASAN
struct sigaction g_old_segv;

void on_segv(int sig, siginfo_t *info, void *uctx) {
  char *addr = (char *)info->si_addr;
  for (Fiber *f : g_every) {
    if (addr >= f->stack - g_page && addr < f->stack) {
      static const char msg[] = "sr_emu: stack overflow in an emulated CUDA thread (raise "
                                "SR_EMU_STACK_KB)\n";
      ssize_t ignored = write(2, msg, sizeof msg - 1);
      (void)ignored;
      break;
    }
  }
  sigaction(SIGSEGV, &g_old_segv, nullptr);
  (void)sig;
  (void)uctx;
}

void install_segv_handler() {
  static char altstack[64 * 1024];
  stack_t ss = {};
  ss.ss_sp = altstack;
  ss.ss_size = sizeof altstack;
  sigaltstack(&ss, nullptr);
  struct sigaction sa = {};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &g_old_segv);
}
#endif

Fiber *make_fiber() {
  if (!g_page) {
    g_page = (size_t)sysconf(_SC_PAGESIZE);
    // Kernels keep their locals on these stacks; sanitizers make frames several times
    // larger.
    size_t kib = SR_EMU_ASAN ? 1024 : 256;
    if (const char *env = getenv("SR_EMU_STACK_KB")) kib = strtoul(env, nullptr, 10);
    if (kib < 16) kib = 16;
    g_stack_size = (kib * 1024 + g_page - 1) / g_page * g_page;
#if !SR_EMU_ASAN
    install_segv_handler();
#endif
  }
  char *base = (char *)mmap(nullptr, g_stack_size + g_page, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (base == MAP_FAILED || mprotect(base, g_page, PROT_NONE) != 0) {
    note("cannot map a %zu KiB stack for an emulated thread", g_stack_size / 1024);
    abort();
  }
  // The Fiber record lives at the top of its own mapping: fibers are never freed, and
  // LeakSanitizer does not count what it cannot find in the heap.
  char *end = base + g_page + g_stack_size;
  Fiber *f = new (end - 64) Fiber;
  static_assert(sizeof(Fiber) <= 64, "the Fiber record must fit its slot");
  f->stack = base + g_page;
  f->size = g_stack_size - 64;
  init_frame(f);
  g_every.push_back(f);
  return f;
}

} // namespace

Fiber *fiber_acquire() {
  if (g_pool.empty()) return make_fiber();
  Fiber *f = g_pool.back();
  g_pool.pop_back();
  f->idle = false;
  return f;
}

void fiber_release(Fiber *f) {
  g_pool.push_back(f);
}

void fiber_reset(Fiber *f) {
#if SR_EMU_ASAN
  // Frames that never returned leave their redzones poisoned.
  __asan_unpoison_memory_region(f->stack, f->size);
#endif
  init_frame(f);
}

Fiber *fiber_main_context() {
  return &g_main;
}

void fiber_switch(Fiber *from, Fiber *to) {
  g_switch_from = from;
#if SR_EMU_ASAN
  __sanitizer_start_switch_fiber(&from->asan_fake_stack, to->stack, to->size);
#endif
  sr_emu_switch(&from->sp, to->sp);
  finish_switch(from->asan_fake_stack);
}

} // namespace sr_emu
