// Warp intrinsics as warp-level barriers: a lane that calls one waits until every lane of
// its mask has called the same intrinsic at the same source line with the same mask; the
// last to arrive computes everyone's result and carries on without a switch.
#include "emu_internal.h"

#include <string.h>

namespace sr_emu {

namespace {

bool is_shuffle(WarpOpKind k) {
  return k <= kShflXor;
}

// The source lane of a shuffle, by the pseudocode of PTX shfl.sync: `width` splits the warp
// into segments (c = ((32 - width) << 8) | clamp), and a source outside the caller's
// segment yields the caller's own value.
int source_lane(WarpOpKind kind, int lane, int arg, int width) {
  int seg = (32 - width) & 31;
  int b = arg & 31;
  int clamp = kind == kShflUp ? 0 : 31;
  int max_lane = (lane & seg) | (clamp & ~seg);
  int min_lane = lane & seg;
  int j = lane;
  bool ok = false;
  switch (kind) {
  case kShflUp: j = lane - b, ok = j >= max_lane; break;
  case kShflDown: j = lane + b, ok = j <= max_lane; break;
  case kShflXor: j = lane ^ b, ok = j <= max_lane; break;
  default: j = min_lane | (b & ~seg), ok = j <= max_lane; break;
  }
  return ok ? j : lane;
}

bool same_op(const ThreadSlot &a, const ThreadSlot &b) {
  return a.warp.kind == b.warp.kind && a.warp.mask == b.warp.mask && a.line == b.line &&
         (a.file == b.file || !strcmp(a.file, b.file));
}

// Called by the last lane of `mask` to arrive. Returns false if some lane waits at another
// intrinsic; then the block stalls and report_warp_stall explains.
bool complete(unsigned warp, unsigned self) {
  BlockRun &r = g_run;
  const ThreadSlot &me = r.slots[self];
  const unsigned mask = me.warp.mask, base = warp * 32;
  for (unsigned lane = 0; lane < 32; ++lane)
    if ((mask >> lane & 1u) && !same_op(r.slots[base + lane], me)) return false;

  unsigned votes = 0;
  for (unsigned lane = 0; lane < 32; ++lane)
    if ((mask >> lane & 1u) && r.slots[base + lane].warp.value) votes |= 1u << lane;
  for (unsigned lane = 0; lane < 32; ++lane) {
    if (!(mask >> lane & 1u)) continue;
    WarpWait &w = r.slots[base + lane].warp;
    switch (w.kind) {
    case kBallot: w.result = votes; break;
    case kAny: w.result = votes != 0; break;
    case kAll: w.result = votes == mask; break;
    case kSyncWarp: w.result = 0; break;
    default: {
      // Reading a lane outside the mask is undefined on the GPU: give NaN bytes, like
      // uninitialised memory, so a result that is used shows up.
      int j = source_lane(w.kind, (int)lane, w.arg, w.width);
      w.result = (mask >> j & 1u) ? r.slots[base + j].warp.value : ~0ull;
    }
    }
  }
  unsigned others[32], n = 0;
  for (unsigned lane = 0; lane < 32; ++lane)
    if ((mask >> lane & 1u) && base + lane != self) others[n++] = base + lane;
  r.warp_arrived[warp] &= ~mask;
  make_ready(others, n);
  return true;
}

const char *state_text(const ThreadSlot &s, char *buf, size_t size) {
  switch (s.state) {
  case ThreadState::kBarrier:
    snprintf(buf, size, "waits in __syncthreads() at %s:%d", s.file, s.line);
    break;
  case ThreadState::kWarp:
    snprintf(buf, size, "waits in %s at %s:%d with mask 0x%08x", warp_op_name(s.warp.kind), s.file,
             s.line, s.warp.mask);
    break;
  case ThreadState::kExited: snprintf(buf, size, "has exited"); break;
  default: snprintf(buf, size, "is still running"); break;
  }
  return buf;
}

} // namespace

const char *warp_op_name(WarpOpKind kind) {
  static const char *const names[] = {"__shfl_sync",     "__shfl_up_sync", "__shfl_down_sync",
                                      "__shfl_xor_sync", "__ballot_sync",  "__any_sync",
                                      "__all_sync",      "__syncwarp"};
  return names[kind];
}

unsigned active_mask() {
  if (!in_kernel()) fail_in_thread("__activemask()");
  return ~g_run.warp_gone[g_run.current >> 5];
}

unsigned long long warp_op(WarpOpKind kind, unsigned mask, unsigned long long value, int arg,
                           int width, const char *file, int line) {
  if (!in_kernel()) fail_in_thread("%s at %s:%d", warp_op_name(kind), file, line);
  BlockRun &r = g_run;
  const unsigned t = r.current, lane = t & 31, warp = t >> 5;
  ThreadSlot &s = r.slots[t];
  const char *name = warp_op_name(kind);
  if (!(mask >> lane & 1u))
    fail_in_thread("%s at %s:%d: mask 0x%08x does not include the calling lane %u", name, file,
                   line, mask, lane);
  if (is_shuffle(kind) && (width < 1 || width > 32 || (width & (width - 1))))
    fail_in_thread("%s at %s:%d: width %d is not a power of two from 1 to 32", name, file, line,
                   width);
  if (unsigned gone = r.warp_gone[warp] & mask) {
    // A lane that has exited can never arrive: a deadlock on the GPU, reported at once here.
    unsigned missing = warp * 32 + (unsigned)__builtin_ctz(gone);
    char who[64];
    if (missing < r.nthreads)
      fail_in_thread("deadlock: waits in %s at %s:%d with mask 0x%08x, but lane %u (%s) has "
                     "exited",
                     name, file, line, mask, missing & 31, thread_name(missing, who, sizeof who));
    fail_in_thread("deadlock: waits in %s at %s:%d with mask 0x%08x, but lane %u does not "
                   "exist (the block has %u threads)",
                   name, file, line, mask, missing & 31, r.nthreads);
  }
  s.state = ThreadState::kWarp;
  s.file = file;
  s.line = line;
  s.warp = WarpWait{kind, mask, arg, width, value, 0};
  r.warp_arrived[warp] |= 1u << lane;
  if ((r.warp_arrived[warp] & mask) == mask && complete(warp, t)) {
    s.state = ThreadState::kRunning;
    return s.warp.result;
  }
  switch_away(s.fiber);
  return s.warp.result;
}

// The block stalled while thread t waits in a warp intrinsic: name the lane it waits for.
void report_warp_stall(unsigned t) {
  BlockRun &r = g_run;
  const ThreadSlot &s = r.slots[t];
  const unsigned base = t & ~31u;
  char who[64], other[64], what[160];
  thread_name(t, who, sizeof who);
  for (unsigned lane = 0; lane < 32; ++lane) {
    if (!(s.warp.mask >> lane & 1u)) continue;
    unsigned u = base + lane;
    if (u >= r.nthreads) {
      report_kernel_bug("deadlock: %s waits in %s at %s:%d with mask 0x%08x, but lane %u does "
                        "not exist (the block has %u threads)",
                        who, warp_op_name(s.warp.kind), s.file, s.line, s.warp.mask, lane,
                        r.nthreads);
      return;
    }
    const ThreadSlot &o = r.slots[u];
    if (o.state == ThreadState::kWarp && same_op(o, s)) continue;
    bool divergent = o.state == ThreadState::kWarp || o.state == ThreadState::kBarrier;
    report_kernel_bug("%s: %s waits in %s at %s:%d with mask 0x%08x, but lane %u (%s) %s",
                      divergent ? "warp divergence (deadlock)" : "deadlock", who,
                      warp_op_name(s.warp.kind), s.file, s.line, s.warp.mask, lane,
                      thread_name(u, other, sizeof other), state_text(o, what, sizeof what));
    return;
  }
  report_kernel_bug("deadlock: %s waits in %s at %s:%d", who, warp_op_name(s.warp.kind), s.file,
                    s.line);
}

} // namespace sr_emu
