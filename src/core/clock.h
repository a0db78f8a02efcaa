/* Wall-clock time for progress lines, timing shares and throughput: one
 * monotonic clock (never jumps with the date). */
#ifndef SR_CORE_CLOCK_H
#define SR_CORE_CLOCK_H

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
double sr_clock_seconds(void);

#ifdef __cplusplus
}
#endif

#endif
