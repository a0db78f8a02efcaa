// The CUDA runtime entry points of the emulator besides memory: errors, the one emulated
// device, streams (which execute synchronously), events and kernel attributes. The
// definitions follow the prototypes of the toolkit's cuda_runtime_api.h, so host C files
// compiled against the real header link to them; a call not defined here (in this file,
// memory.cpp or scheduler.cpp) fails at link time.
#include "emu_internal.h"

#include <stdarg.h>
#include <stdio.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

namespace sr_emu {
namespace {

std::atomic<int> g_last_error{cudaSuccess};
std::atomic<int> g_sticky_error{cudaSuccess};
std::atomic<int> g_launch_error{cudaSuccess};

struct Stream {
  unsigned flags;
};
struct Event {
  bool recorded;
  double ms; // steady-clock time of the last record
};
std::mutex g_mutex;
std::set<const void *> g_streams;
std::set<const void *> g_events;
std::map<const void *, int> g_max_dynamic_smem;

constexpr int kMultiprocessors = 8;

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Event *find_event(cudaEvent_t e) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_events.count(e) ? reinterpret_cast<Event *>(e) : nullptr;
}

struct ErrorText {
  cudaError_t code;
  const char *name;
  const char *text;
};
const ErrorText kErrors[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInitializationError, "cudaErrorInitializationError", "initialization error"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration",
     "invalid configuration argument"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection",
     "invalid copy direction for memcpy"},
    {cudaErrorInvalidDevicePointer, "cudaErrorInvalidDevicePointer", "invalid device pointer"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle", "invalid resource handle"},
    {cudaErrorNotReady, "cudaErrorNotReady", "device not ready"},
    {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure"},
    {cudaErrorLaunchOutOfResources, "cudaErrorLaunchOutOfResources",
     "too many resources requested for launch"},
    {cudaErrorNotSupported, "cudaErrorNotSupported", "operation not supported"},
};

const ErrorText *find_error(cudaError_t e) {
  for (const ErrorText &t : kErrors)
    if (t.code == e) return &t;
  return nullptr;
}

} // namespace

cudaError_t record_error(cudaError_t e) {
  if (e != cudaSuccess) g_last_error = e;
  return e;
}

cudaError_t sticky_error() {
  return (cudaError_t)g_sticky_error.load();
}

void set_sticky_error(cudaError_t e) {
  g_sticky_error = e;
  g_last_error = e;
}

void set_launch_error(cudaError_t e) {
  g_launch_error = e;
  g_last_error = e;
}

bool stream_valid(cudaStream_t s) {
  if (s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread) return true;
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_streams.count(s) != 0;
}

int max_dynamic_smem(const void *entry) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_max_dynamic_smem.find(entry);
  return it == g_max_dynamic_smem.end() ? (int)kDefaultDynamicSmemLimit : it->second;
}

void note(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "sr_emu: %s\n", line);
}

} // namespace sr_emu

using namespace sr_emu;

extern "C" {

void sr_emu_clear_error(void) {
  g_sticky_error = cudaSuccess;
  g_last_error = cudaSuccess;
  g_launch_error = cudaSuccess;
}

// ---------------------------------------------------------------- errors
cudaError_t cudaGetLastError(void) {
  if (cudaError_t e = sticky_error()) return e;
  return (cudaError_t)g_last_error.exchange(cudaSuccess);
}

cudaError_t cudaPeekAtLastError(void) {
  if (cudaError_t e = sticky_error()) return e;
  return (cudaError_t)g_last_error.load();
}

const char *cudaGetErrorString(cudaError_t error) {
  const ErrorText *t = find_error(error);
  return t ? t->text : "unrecognized error code";
}

const char *cudaGetErrorName(cudaError_t error) {
  const ErrorText *t = find_error(error);
  return t ? t->name : "unrecognized error code";
}

// ---------------------------------------------------------------- the device
cudaError_t cudaGetDeviceCount(int *count) {
  if (!count) return record_error(cudaErrorInvalidValue);
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : record_error(cudaErrorInvalidDevice);
}

cudaError_t cudaGetDevice(int *device) {
  if (!device) return record_error(cudaErrorInvalidValue);
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *prop, int device) {
  if (!prop) return record_error(cudaErrorInvalidValue);
  if (device != 0) return record_error(cudaErrorInvalidDevice);
  *prop = cudaDeviceProp{};
  snprintf(prop->name, sizeof prop->name, "scorerecon CPU emulator of CUDA (sm_90)");
  size_t free_bytes = 0;
  cudaMemGetInfo(&free_bytes, &prop->totalGlobalMem);
  prop->sharedMemPerBlock = kStaticSmemLimit;
  prop->sharedMemPerBlockOptin = kSmemOptinLimit;
  prop->sharedMemPerMultiprocessor = 228 * 1024;
  prop->reservedSharedMemPerBlock = 1024;
  prop->regsPerBlock = 65536;
  prop->regsPerMultiprocessor = 65536;
  prop->warpSize = 32;
  prop->memPitch = (size_t)1 << 31;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->totalConstMem = 64 * 1024;
  prop->major = 9;
  prop->minor = 0;
  prop->textureAlignment = 512;
  prop->multiProcessorCount = kMultiprocessors;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->maxBlocksPerMultiProcessor = 32;
  prop->l2CacheSize = 50 * 1024 * 1024;
  prop->concurrentKernels = 1;
  prop->unifiedAddressing = 1;
  prop->canMapHostMemory = 1;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int device) {
  if (!value) return record_error(cudaErrorInvalidValue);
  if (device != 0) return record_error(cudaErrorInvalidDevice);
  switch (attr) {
  case cudaDevAttrMaxThreadsPerBlock: *value = 1024; break;
  case cudaDevAttrMaxBlockDimX: *value = 1024; break;
  case cudaDevAttrMaxBlockDimY: *value = 1024; break;
  case cudaDevAttrMaxBlockDimZ: *value = 64; break;
  case cudaDevAttrMaxGridDimX: *value = 2147483647; break;
  case cudaDevAttrMaxGridDimY: *value = 65535; break;
  case cudaDevAttrMaxGridDimZ: *value = 65535; break;
  case cudaDevAttrMaxSharedMemoryPerBlock: *value = (int)kStaticSmemLimit; break;
  case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = (int)kSmemOptinLimit; break;
  case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *value = 228 * 1024; break;
  case cudaDevAttrTotalConstantMemory: *value = 64 * 1024; break;
  case cudaDevAttrWarpSize: *value = 32; break;
  case cudaDevAttrMaxRegistersPerBlock: *value = 65536; break;
  case cudaDevAttrMaxRegistersPerMultiprocessor: *value = 65536; break;
  case cudaDevAttrMultiProcessorCount: *value = kMultiprocessors; break;
  case cudaDevAttrMaxThreadsPerMultiProcessor: *value = 2048; break;
  case cudaDevAttrMaxBlocksPerMultiprocessor: *value = 32; break;
  case cudaDevAttrComputeCapabilityMajor: *value = 9; break;
  case cudaDevAttrComputeCapabilityMinor: *value = 0; break;
  case cudaDevAttrL2CacheSize: *value = 50 * 1024 * 1024; break;
  case cudaDevAttrUnifiedAddressing: *value = 1; break;
  case cudaDevAttrConcurrentKernels: *value = 1; break;
  default:
    note("cudaDeviceGetAttribute: attribute %d is not emulated", (int)attr);
    return record_error(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int *runtimeVersion) {
  if (!runtimeVersion) return record_error(cudaErrorInvalidValue);
  *runtimeVersion = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int *driverVersion) {
  if (!driverVersion) return record_error(cudaErrorInvalidValue);
  *driverVersion = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) {
  if (cudaError_t e = sticky_error()) return e;
  return (cudaError_t)g_launch_error.exchange(cudaSuccess);
}

cudaError_t cudaFuncSetAttribute(const void *func, enum cudaFuncAttribute attr, int value) {
  if (!func) return record_error(cudaErrorInvalidDeviceFunction);
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || (size_t)value > kSmemOptinLimit) return record_error(cudaErrorInvalidValue);
    std::lock_guard<std::mutex> lock(g_mutex);
    g_max_dynamic_smem[func] = value;
    return cudaSuccess;
  }
  if (attr == cudaFuncAttributePreferredSharedMemoryCarveout) return cudaSuccess;
  note("cudaFuncSetAttribute: attribute %d is not emulated", (int)attr);
  return record_error(cudaErrorInvalidValue);
}

// ---------------------------------------------------------------- streams
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *pStream, unsigned int flags) {
  if (!pStream) return record_error(cudaErrorInvalidValue);
  if (cudaError_t e = sticky_error()) return e;
  Stream *s = new Stream{flags};
  std::lock_guard<std::mutex> lock(g_mutex);
  g_streams.insert(s);
  *pStream = reinterpret_cast<cudaStream_t>(s);
  return cudaSuccess;
}

cudaError_t cudaStreamCreate(cudaStream_t *pStream) {
  return cudaStreamCreateWithFlags(pStream, cudaStreamDefault);
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_streams.erase(stream)) {
    note("cudaStreamDestroy(%p): not a stream from cudaStreamCreate", (void *)stream);
    return record_error(cudaErrorInvalidResourceHandle);
  }
  delete reinterpret_cast<Stream *>(stream);
  return cudaSuccess;
}

// Work runs when it is issued, so a stream only has errors to hand back.
cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (!stream_valid(stream)) return record_error(cudaErrorInvalidResourceHandle);
  return cudaDeviceSynchronize();
}

// ---------------------------------------------------------------- events
cudaError_t cudaEventCreate(cudaEvent_t *event) {
  if (!event) return record_error(cudaErrorInvalidValue);
  if (cudaError_t e = sticky_error()) return e;
  Event *ev = new Event{false, 0.0};
  std::lock_guard<std::mutex> lock(g_mutex);
  g_events.insert(ev);
  *event = reinterpret_cast<cudaEvent_t>(ev);
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  Event *ev = find_event(event);
  if (!ev || !stream_valid(stream)) return record_error(cudaErrorInvalidResourceHandle);
  if (cudaError_t e = sticky_error()) return e;
  ev->recorded = true;
  ev->ms = now_ms();
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!find_event(event)) return record_error(cudaErrorInvalidResourceHandle);
  return sticky_error();
}

cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end) {
  Event *a = find_event(start), *b = find_event(end);
  if (!ms) return record_error(cudaErrorInvalidValue);
  if (!a || !b) return record_error(cudaErrorInvalidResourceHandle);
  if (!a->recorded || !b->recorded) return record_error(cudaErrorInvalidResourceHandle);
  *ms = (float)(b->ms - a->ms);
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!g_events.erase(event)) return record_error(cudaErrorInvalidResourceHandle);
  delete reinterpret_cast<Event *>(event);
  return cudaSuccess;
}

} // extern "C"
