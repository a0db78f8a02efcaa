// Device memory of the emulated GPU: host heap blocks, registered so that cudaFree, the
// copies and kernel arguments can tell device pointers from host ones, as a GPU would by
// faulting. Fresh allocations hold 0xFF bytes (NaN as float) so that reads of memory never
// written show up in results.
#include "emu_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <map>
#include <mutex>

namespace sr_emu {
namespace {

struct Allocation {
  size_t size;
  MemKind kind;
};
std::mutex g_mutex;
std::map<uintptr_t, Allocation> g_allocs; // by base address
size_t g_device_bytes = 0;

// What the emulated device reports as its memory: 3/4 of the host's, at most 80 GiB.
size_t device_capacity() {
  static size_t capacity = [] {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    size_t host = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : (size_t)8 << 30;
    size_t cap = host / 4 * 3;
    return cap < ((size_t)80 << 30) ? cap : ((size_t)80 << 30);
  }();
  return capacity;
}

MemKind lookup(const void *p, const char **base, size_t *size) {
  auto it = g_allocs.upper_bound((uintptr_t)p);
  if (it == g_allocs.begin()) return MemKind::kUnknown;
  --it;
  // One past the end still belongs to the allocation, as an end pointer argument does.
  if ((uintptr_t)p > it->first + it->second.size) return MemKind::kUnknown;
  if (base) *base = (const char *)it->first;
  if (size) *size = it->second.size;
  return it->second.kind;
}

cudaError_t allocate(void **out, size_t size, MemKind kind, const char *api) {
  if (!out) return record_error(cudaErrorInvalidValue);
  *out = nullptr;
  if (cudaError_t e = sticky_error()) return e;
  if (size == 0) return cudaSuccess;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (kind == MemKind::kDevice && size > device_capacity() - g_device_bytes)
    return record_error(cudaErrorMemoryAllocation);
  void *p = nullptr;
  // cudaMalloc guarantees 256-byte alignment; kernels may rely on it for vector loads.
  if (posix_memalign(&p, 256, size) != 0) {
    note("%s(%zu bytes): out of host memory", api, size);
    return record_error(cudaErrorMemoryAllocation);
  }
  memset(p, 0xff, size);
  g_allocs[(uintptr_t)p] = Allocation{size, kind};
  if (kind == MemKind::kDevice) g_device_bytes += size;
  *out = p;
  return cudaSuccess;
}

cudaError_t release(void *p, MemKind kind, const char *api) {
  if (!p) return cudaSuccess;
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_allocs.find((uintptr_t)p);
  if (it == g_allocs.end() || it->second.kind != kind) {
    note("%s(%p): not a pointer returned by %s", api, p,
         kind == MemKind::kDevice ? "cudaMalloc" : "cudaMallocHost");
    return record_error(cudaErrorInvalidValue);
  }
  if (kind == MemKind::kDevice) g_device_bytes -= it->second.size;
  g_allocs.erase(it);
  free(p);
  return cudaSuccess;
}

// Checks that [p, p + n) is device memory (want_device) or not device memory.
bool check_side(const void *p, size_t n, bool want_device, const char *api, const char *side) {
  const char *base = nullptr;
  size_t size = 0;
  MemKind kind = lookup(p, &base, &size);
  bool is_device = kind == MemKind::kDevice;
  if (want_device && !is_device) {
    note("%s: %s %p is not device memory (no cudaMalloc allocation holds it)", api, side, p);
    return false;
  }
  if (!want_device && is_device) {
    note("%s: %s %p is device memory, but the copy kind says host", api, side, p);
    return false;
  }
  if (is_device && (const char *)p + n > base + size) {
    note("%s: %s range of %zu bytes at offset %zu runs past the end of its %zu-byte "
         "allocation",
         api, side, n, (size_t)((const char *)p - base), size);
    return false;
  }
  return true;
}

cudaError_t copy(void *dst, const void *src, size_t n, cudaMemcpyKind kind, cudaStream_t stream,
                 const char *api) {
  if (cudaError_t e = sticky_error()) return e;
  if (!stream_valid(stream)) return record_error(cudaErrorInvalidResourceHandle);
  if (n == 0) return cudaSuccess;
  bool dst_dev, src_dev;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    switch (kind) {
    case cudaMemcpyHostToHost: dst_dev = false, src_dev = false; break;
    case cudaMemcpyHostToDevice: dst_dev = true, src_dev = false; break;
    case cudaMemcpyDeviceToHost: dst_dev = false, src_dev = true; break;
    case cudaMemcpyDeviceToDevice: dst_dev = true, src_dev = true; break;
    case cudaMemcpyDefault:
      dst_dev = lookup(dst, nullptr, nullptr) == MemKind::kDevice;
      src_dev = lookup(src, nullptr, nullptr) == MemKind::kDevice;
      break;
    default: return record_error(cudaErrorInvalidMemcpyDirection);
    }
    if (!check_side(dst, n, dst_dev, api, "destination") ||
        !check_side(src, n, src_dev, api, "source"))
      return record_error(cudaErrorInvalidValue);
  }
  // memcpy, not memmove: overlapping ranges are undefined in CUDA too, and AddressSanitizer
  // reports them.
  memcpy(dst, src, n);
  return cudaSuccess;
}

cudaError_t fill(void *dst, int value, size_t n, cudaStream_t stream, const char *api) {
  if (cudaError_t e = sticky_error()) return e;
  if (!stream_valid(stream)) return record_error(cudaErrorInvalidResourceHandle);
  if (n == 0) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!check_side(dst, n, true, api, "destination")) return record_error(cudaErrorInvalidValue);
  }
  memset(dst, value, n);
  return cudaSuccess;
}

} // namespace

MemKind classify_pointer(const void *p, const char **base, size_t *size) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return lookup(p, base, size);
}

bool device_range(const void *p, size_t bytes) {
  std::lock_guard<std::mutex> lock(g_mutex);
  const char *base = nullptr;
  size_t size = 0;
  return lookup(p, &base, &size) == MemKind::kDevice && (const char *)p + bytes <= base + size;
}

} // namespace sr_emu

using namespace sr_emu;

extern "C" {

cudaError_t cudaMalloc(void **devPtr, size_t size) {
  return allocate(devPtr, size, MemKind::kDevice, "cudaMalloc");
}

cudaError_t cudaFree(void *devPtr) {
  return release(devPtr, MemKind::kDevice, "cudaFree");
}

cudaError_t cudaMallocHost(void **ptr, size_t size) {
  return allocate(ptr, size, MemKind::kPinnedHost, "cudaMallocHost");
}

cudaError_t cudaFreeHost(void *ptr) {
  return release(ptr, MemKind::kPinnedHost, "cudaFreeHost");
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind) {
  return copy(dst, src, count, kind, nullptr, "cudaMemcpy");
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind,
                            cudaStream_t stream) {
  return copy(dst, src, count, kind, stream, "cudaMemcpyAsync");
}

cudaError_t cudaMemset(void *devPtr, int value, size_t count) {
  return fill(devPtr, value, count, nullptr, "cudaMemset");
}

cudaError_t cudaMemsetAsync(void *devPtr, int value, size_t count, cudaStream_t stream) {
  return fill(devPtr, value, count, stream, "cudaMemsetAsync");
}

cudaError_t cudaMemGetInfo(size_t *free, size_t *total) {
  if (!free || !total) return record_error(cudaErrorInvalidValue);
  std::lock_guard<std::mutex> lock(g_mutex);
  *total = device_capacity();
  *free = device_capacity() - g_device_bytes;
  return cudaSuccess;
}

} // extern "C"
