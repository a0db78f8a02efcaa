/* The context: which backend runs the ops, and the last error message. */
#ifndef SR_CORE_CONTEXT_H
#define SR_CORE_CONTEXT_H

#include "scorerecon.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sr_backend;

struct sr_context {
  sr_backend_kind kind; /* resolved: CPU or CUDA */
  int device;
  int threads;
  struct sr_backend *backend; /* NULL only while a failed create is reported */
  sr_status last_status;
  char last_error[1024];
};

#ifdef __cplusplus
}
#endif

#endif
