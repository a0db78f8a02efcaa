/* Shared by h5meas_read.c, h5meas_write.c and h5meas_check.c: HDF5 handle
 * hygiene and the complex64 compound type. */
#ifndef SR_IO_H5MEAS_INTERNAL_H
#define SR_IO_H5MEAS_INTERNAL_H

#include <hdf5.h>

#include "io/h5meas.h"

#define SR_H5_PI 3.14159265358979323846

/* HDF5 prints its error stack to stderr unless told not to; the library
 * never prints, so every entry point silences it first. */
void sr_h5_silence(void);

/* {r: float32, i: float32}, 8 bytes: fastMRI's complex64. Caller closes. */
hid_t sr_h5_complex64_type(void);

/* Closes any HDF5 identifier kind; ignores negative ids. */
void sr_h5_close(hid_t id);

#endif
