/*
 * conjugate.h: internal to the Categorical-Dirichlet kind (conjugate.c)
 * and its self-tests (selftest_conjugate.c); no generic file includes it.
 */
#ifndef HM_CONJUGATE_H
#define HM_CONJUGATE_H

#include <stddef.h>

#include "hm_engine.h"

// Offset of theta_Z (or eta_Z) in a parameter vector: (K - 1) + (K - 1) K.
static inline size_t catdir_lat_offset(const hm_harmonium *h) {
    return (size_t)h->obs->dim + (size_t)h->mx * (size_t)h->mz;
}

// The fixed likelihood into theta[0 .. catdir_lat_offset): theta_X = 0 and
// W row i-1 = e_i - e_0, i = 1..K-1.
void hm_catdir_likelihood(const hm_harmonium *h, double *theta);

#endif
