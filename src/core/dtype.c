#include <string.h>

#include "scorerecon.h"

size_t sr_dtype_size(sr_dtype dtype) {
  switch (dtype) {
  case SR_DTYPE_F32: return 4;
  case SR_DTYPE_F64: return 8;
  case SR_DTYPE_C64: return 8;
  case SR_DTYPE_F16: return 2;
  case SR_DTYPE_BF16: return 2;
  case SR_DTYPE_I16: return 2;
  case SR_DTYPE_U8: return 1;
  case SR_DTYPE_I32: return 4;
  case SR_DTYPE_I64: return 8;
  case SR_DTYPE_COUNT: break;
  }
  return 0;
}

const char *sr_dtype_name(sr_dtype dtype) {
  switch (dtype) {
  case SR_DTYPE_F32: return "float32";
  case SR_DTYPE_F64: return "float64";
  case SR_DTYPE_C64: return "complex64";
  case SR_DTYPE_F16: return "float16";
  case SR_DTYPE_BF16: return "bfloat16";
  case SR_DTYPE_I16: return "int16";
  case SR_DTYPE_U8: return "uint8";
  case SR_DTYPE_I32: return "int32";
  case SR_DTYPE_I64: return "int64";
  case SR_DTYPE_COUNT: break;
  }
  return "unknown";
}

const char *sr_backend_name(sr_backend_kind kind) {
  switch (kind) {
  case SR_BACKEND_AUTO: return "auto";
  case SR_BACKEND_CPU: return "cpu";
  case SR_BACKEND_CUDA: return "cuda";
  }
  return "unknown";
}

const char *sr_precision_name(sr_precision precision) {
  switch (precision) {
  case SR_PRECISION_FP32: return "fp32";
  case SR_PRECISION_TF32: return "tf32";
  case SR_PRECISION_BF16: return "bf16";
  case SR_PRECISION_FP16: return "fp16";
  }
  return "unknown";
}

int sr_precision_from_name(const char *name, sr_precision *out) {
  static const sr_precision all[] = {SR_PRECISION_FP32, SR_PRECISION_TF32, SR_PRECISION_BF16,
                                     SR_PRECISION_FP16};
  for (size_t i = 0; name && i < sizeof all / sizeof all[0]; ++i)
    if (strcmp(name, sr_precision_name(all[i])) == 0) {
      *out = all[i];
      return 0;
    }
  return -1;
}
