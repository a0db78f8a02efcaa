#define _POSIX_C_SOURCE 200809L
#include "cli/mpi_glue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SR_HAVE_MPI
#include <mpi.h>
#endif

/* Set by the launchers we know (Open MPI, PMIx-based and PMI-based ones). */
static int launched_by_mpirun(int *size) {
  static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; ++i) {
    const char *v = getenv(vars[i]);
    if (v) {
      *size = atoi(v);
      return 1;
    }
  }
  if (getenv("PMIX_RANK")) {
    *size = 0; /* unknown */
    return 1;
  }
  return 0;
}

int sr_mpi_available(void) {
#ifdef SR_HAVE_MPI
  return 1;
#else
  return 0;
#endif
}

int sr_mpi_init(sr_mpi *out, char *why, size_t why_size) {
  memset(out, 0, sizeof *out);
  out->size = 1;
  int size = 0;
  if (!launched_by_mpirun(&size)) return 0;
#ifdef SR_HAVE_MPI
  int inited = 0;
  MPI_Initialized(&inited);
  if (!inited && MPI_Init(NULL, NULL) != MPI_SUCCESS) {
    snprintf(why, why_size, "MPI_Init failed");
    return -1;
  }
  out->active = !inited;
  MPI_Comm_rank(MPI_COMM_WORLD, &out->rank);
  MPI_Comm_size(MPI_COMM_WORLD, &out->size);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, out->rank, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &out->local_rank);
  MPI_Comm_free(&node);
  return 0;
#else
  if (size == 1) return 0;
  snprintf(why, why_size,
           "started by an MPI launcher but built without MPI (configure with Open MPI installed, "
           "SR_MPI=ON): every rank would reconstruct the whole manifest");
  return -1;
#endif
}

void sr_mpi_finalize(sr_mpi *mpi) {
#ifdef SR_HAVE_MPI
  if (mpi->active) MPI_Finalize();
#endif
  mpi->active = 0;
}

void sr_mpi_sum_u64(const sr_mpi *mpi, uint64_t *v, int n) {
#ifdef SR_HAVE_MPI
  if (mpi->size > 1) MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
#else
  (void)mpi, (void)v, (void)n;
#endif
}

void sr_mpi_max_double(const sr_mpi *mpi, double *v, int n) {
#ifdef SR_HAVE_MPI
  if (mpi->size > 1) MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
#else
  (void)mpi, (void)v, (void)n;
#endif
}

void sr_mpi_gather_doubles(const sr_mpi *mpi, const double *mine, int n, double *all) {
#ifdef SR_HAVE_MPI
  if (mpi->size > 1) {
    MPI_Gather(mine, n, MPI_DOUBLE, all, n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    return;
  }
#endif
  (void)mpi;
  if (all) memcpy(all, mine, (size_t)n * sizeof *mine);
}
