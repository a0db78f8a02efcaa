// cuFFT for the emulation build, on FFTW's single-precision library, with cuFFT's documented
// semantics: forward is exp(-2*pi*i...), inverse exp(+...), neither normalised; R2C keeps
// the n/2+1 half spectrum in the last dimension; the advanced layout (n/inembed/istride/
// idist) means what it means to cuFFT, which took it from FFTW, except that a NULL inembed
// or onembed selects the contiguous layout and ignores strides and distances. Only the
// entry points the CUDA backend calls are here; any other fails to link.
#include "emu_internal.h"

#include <cufft.h>
#include <fftw3.h>

#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace {

using sr_emu::note;

struct Plan {
  cufftType type;
  std::vector<int> n;                // logical sizes, slowest first
  std::vector<int> inembed, onembed; // empty: the contiguous layout
  int istride = 1, idist = 0, ostride = 1, odist = 0;
  int batch = 1;
  cudaStream_t stream = nullptr;
  fftwf_plan plans[2][2] = {}; // [in place][inverse]; made on first use
};

std::mutex g_mutex; // the plan table, and FFTW's planner, which is not thread-safe
std::map<cufftHandle, std::unique_ptr<Plan>> g_plans;
cufftHandle g_next_handle = 1;

bool is_real(cufftType t) {
  return t == CUFFT_R2C || t == CUFFT_C2R;
}

// The layout of one side (input or output) of an execution, in elements of that side.
struct Side {
  std::vector<int> embed;
  int stride, dist;
};

// Sizes of the real and the complex side of a transform: the complex side of a real
// transform holds n/2+1 values in the last dimension; an in-place real side is padded to
// 2*(n/2+1) floats so that the complex values fit, as cuFFT and FFTW both require.
std::vector<int> side_dims(const Plan &p, bool complex_side, bool in_place) {
  std::vector<int> d = p.n;
  if (is_real(p.type)) {
    int half = d.back() / 2 + 1;
    d.back() = complex_side ? half : in_place ? 2 * half : d.back();
  }
  return d;
}

Side side_layout(const Plan &p, bool input, bool in_place) {
  bool complex_side = p.type == CUFFT_C2C || (p.type == CUFFT_R2C) != input;
  if (p.inembed.empty() || p.onembed.empty()) {
    std::vector<int> d = side_dims(p, complex_side, in_place);
    int total = 1;
    for (int v : d) total *= v;
    return Side{d, 1, total};
  }
  return input ? Side{p.inembed, p.istride, p.idist} : Side{p.onembed, p.ostride, p.odist};
}

// Bytes from the first to one past the last element a side touches.
size_t side_bytes(const Plan &p, const Side &s, bool complex_side) {
  std::vector<int> d = side_dims(p, complex_side, false);
  size_t offset = 0, pitch = 1;
  for (size_t i = d.size(); i-- > 0;) {
    offset += (size_t)(d[i] - 1) * pitch;
    pitch *= (size_t)s.embed[i];
  }
  size_t last = (size_t)(p.batch - 1) * (size_t)s.dist + offset * (size_t)s.stride;
  return (last + 1) * (complex_side ? sizeof(cufftComplex) : sizeof(cufftReal));
}

Plan *find_plan(cufftHandle h) {
  auto it = g_plans.find(h);
  return it == g_plans.end() ? nullptr : it->second.get();
}

fftwf_plan make_fftw_plan(const Plan &p, bool in_place, bool inverse, void *in, void *out) {
  Side si = side_layout(p, true, in_place), so = side_layout(p, false, in_place);
  const int rank = (int)p.n.size();
  const unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED; // ESTIMATE leaves the data alone
  switch (p.type) {
  case CUFFT_C2C:
    return fftwf_plan_many_dft(rank, p.n.data(), p.batch, (fftwf_complex *)in, si.embed.data(),
                               si.stride, si.dist, (fftwf_complex *)out, so.embed.data(), so.stride,
                               so.dist, inverse ? FFTW_BACKWARD : FFTW_FORWARD, flags);
  case CUFFT_R2C:
    return fftwf_plan_many_dft_r2c(rank, p.n.data(), p.batch, (float *)in, si.embed.data(),
                                   si.stride, si.dist, (fftwf_complex *)out, so.embed.data(),
                                   so.stride, so.dist, flags);
  case CUFFT_C2R:
    return fftwf_plan_many_dft_c2r(rank, p.n.data(), p.batch, (fftwf_complex *)in, si.embed.data(),
                                   si.stride, si.dist, (float *)out, so.embed.data(), so.stride,
                                   so.dist, flags);
  default: return nullptr;
  }
}

cufftResult execute(cufftHandle handle, cufftType type, void *in, void *out, bool inverse,
                    const char *api) {
  if (sr_emu::sticky_error()) return CUFFT_EXEC_FAILED;
  fftwf_plan fp = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    Plan *p = find_plan(handle);
    if (!p) return CUFFT_INVALID_PLAN;
    if (p->type != type) {
      note("%s: plan %d was made for another transform type", api, handle);
      return CUFFT_INVALID_VALUE;
    }
    const bool in_place = in == out;
    Side si = side_layout(*p, true, in_place), so = side_layout(*p, false, in_place);
    bool in_complex = type != CUFFT_R2C, out_complex = type != CUFFT_C2R;
    size_t in_bytes = side_bytes(*p, si, in_complex), out_bytes = side_bytes(*p, so, out_complex);
    // FFTW is not instrumented: check the ranges here, as the GPU would fault.
    if (!sr_emu::device_range(in, in_bytes) || !sr_emu::device_range(out, out_bytes)) {
      note("%s: the %zu input bytes at %p or the %zu output bytes at %p are not inside one "
           "device allocation each",
           api, in_bytes, in, out_bytes, out);
      return CUFFT_INVALID_VALUE;
    }
    fftwf_plan &slot = p->plans[in_place][inverse];
    if (!slot) slot = make_fftw_plan(*p, in_place, inverse, in, out);
    if (!slot) {
      note("%s: FFTW cannot plan this layout", api);
      return CUFFT_INTERNAL_ERROR;
    }
    fp = slot;
  }
  switch (type) {
  case CUFFT_C2C: fftwf_execute_dft(fp, (fftwf_complex *)in, (fftwf_complex *)out); break;
  case CUFFT_R2C: fftwf_execute_dft_r2c(fp, (float *)in, (fftwf_complex *)out); break;
  default: fftwf_execute_dft_c2r(fp, (fftwf_complex *)in, (float *)out); break;
  }
  return CUFFT_SUCCESS;
}

cufftResult make_plan(cufftHandle *handle, int rank, const int *n, const int *inembed, int istride,
                      int idist, const int *onembed, int ostride, int odist, cufftType type,
                      int batch) {
  if (!handle || !n) return CUFFT_INVALID_VALUE;
  if (type != CUFFT_C2C && type != CUFFT_R2C && type != CUFFT_C2R) {
    note("cufftPlan: only single-precision C2C, R2C and C2R transforms are emulated");
    return CUFFT_NOT_SUPPORTED;
  }
  if (rank < 1 || rank > 3 || batch < 1) return CUFFT_INVALID_SIZE;
  auto p = std::make_unique<Plan>();
  p->type = type;
  p->batch = batch;
  for (int i = 0; i < rank; ++i) {
    if (n[i] < 1) return CUFFT_INVALID_SIZE;
    p->n.push_back(n[i]);
  }
  if (inembed && onembed) {
    p->inembed.assign(inembed, inembed + rank);
    p->onembed.assign(onembed, onembed + rank);
    p->istride = istride;
    p->idist = idist;
    p->ostride = ostride;
    p->odist = odist;
    if (istride < 1 || ostride < 1 || idist < 0 || odist < 0) return CUFFT_INVALID_VALUE;
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  *handle = g_next_handle++;
  g_plans[*handle] = std::move(p);
  return CUFFT_SUCCESS;
}

} // namespace

extern "C" {

cufftResult cufftPlan2d(cufftHandle *plan, int nx, int ny, cufftType type) {
  int n[2] = {nx, ny};
  return make_plan(plan, 2, n, nullptr, 1, 0, nullptr, 1, 0, type, 1);
}

cufftResult cufftPlanMany(cufftHandle *plan, int rank, int *n, int *inembed, int istride, int idist,
                          int *onembed, int ostride, int odist, cufftType type, int batch) {
  return make_plan(plan, rank, n, inembed, istride, idist, onembed, ostride, odist, type, batch);
}

cufftResult cufftSetStream(cufftHandle plan, cudaStream_t stream) {
  if (!sr_emu::stream_valid(stream)) return CUFFT_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(g_mutex);
  Plan *p = find_plan(plan);
  if (!p) return CUFFT_INVALID_PLAN;
  p->stream = stream;
  return CUFFT_SUCCESS;
}

// FFTW needs no work area from the caller.
cufftResult cufftGetSize(cufftHandle plan, size_t *workSize) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!find_plan(plan)) return CUFFT_INVALID_PLAN;
  if (!workSize) return CUFFT_INVALID_VALUE;
  *workSize = 0;
  return CUFFT_SUCCESS;
}

cufftResult cufftSetWorkArea(cufftHandle plan, void *workArea) {
  (void)workArea;
  std::lock_guard<std::mutex> lock(g_mutex);
  return find_plan(plan) ? CUFFT_SUCCESS : CUFFT_INVALID_PLAN;
}

cufftResult cufftExecC2C(cufftHandle plan, cufftComplex *idata, cufftComplex *odata,
                         int direction) {
  if (direction != CUFFT_FORWARD && direction != CUFFT_INVERSE) return CUFFT_INVALID_VALUE;
  return execute(plan, CUFFT_C2C, idata, odata, direction == CUFFT_INVERSE, "cufftExecC2C");
}

cufftResult cufftExecR2C(cufftHandle plan, cufftReal *idata, cufftComplex *odata) {
  return execute(plan, CUFFT_R2C, idata, odata, false, "cufftExecR2C");
}

cufftResult cufftExecC2R(cufftHandle plan, cufftComplex *idata, cufftReal *odata) {
  return execute(plan, CUFFT_C2R, idata, odata, true, "cufftExecC2R");
}

cufftResult cufftDestroy(cufftHandle plan) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_plans.find(plan);
  if (it == g_plans.end()) return CUFFT_INVALID_PLAN;
  for (auto &row : it->second->plans)
    for (fftwf_plan fp : row)
      if (fp) fftwf_destroy_plan(fp);
  g_plans.erase(it);
  return CUFFT_SUCCESS;
}

} // extern "C"
