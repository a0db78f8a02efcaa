/* The few MPI calls a manifest run makes, behind functions that work the
 * same without MPI (one rank): init when launched by mpirun, ranks and the
 * local rank (which GPU to take), sums and a gather for the summary. Built
 * with MPI when CMake finds it (SR_MPI); MPI is initialised only when a
 * launcher's environment says so, so the same binary runs alone. */
#ifndef SR_CLI_MPI_GLUE_H
#define SR_CLI_MPI_GLUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sr_mpi {
  int rank, size;
  int local_rank; /* rank among the ranks on this node */
  int active;     /* MPI was initialised here */
} sr_mpi;

/* 1 when built with MPI. */
int sr_mpi_available(void);

/* Initialises MPI when a launcher started this process (OMPI_COMM_WORLD_SIZE,
 * PMIX_RANK or PMI_SIZE set); otherwise rank 0 of 1. Returns 0, or -1 with
 * a reason in why (launched by mpirun but built without MPI: every rank
 * would run the whole manifest). */
int sr_mpi_init(sr_mpi *out, char *why, size_t why_size);
void sr_mpi_finalize(sr_mpi *mpi);

/* Element-wise sum over ranks, in place (every rank gets the result). */
void sr_mpi_sum_u64(const sr_mpi *mpi, uint64_t *v, int n);
/* The maximum over ranks, in place. */
void sr_mpi_max_double(const sr_mpi *mpi, double *v, int n);
/* Gathers n doubles from each rank into all (size * n, rank-major) on rank
 * 0; all may be NULL elsewhere. */
void sr_mpi_gather_doubles(const sr_mpi *mpi, const double *mine, int n, double *all);

#endif
