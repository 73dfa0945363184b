/*
 * threads.h: the engine's only OpenMP include. When OpenMP is unavailable
 * the few omp_* functions the engine uses are stubbed so that every
 * parallel region degrades to its serial path.
 */
#ifndef HM_THREADS_H
#define HM_THREADS_H

#ifdef _OPENMP
#include <omp.h>
#else
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_thread_limit(void) { return 1; }
static inline int omp_get_num_procs(void) { return 1; }
#endif

#endif
