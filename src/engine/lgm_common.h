/*
 * lgm_common.h: internal to the linear-Gaussian kinds (lgm.c) and their
 * self-tests (selftest_lgm.c); no generic file includes it.
 */
#ifndef HM_LGM_COMMON_H
#define HM_LGM_COMMON_H

#include <stddef.h>

// Flat index of (i, j), i <= j, in a packed upper triangle of order d.
static inline size_t lgm_pidx(int d, int i, int j) {
    return (size_t)i * (size_t)d - (size_t)i * (size_t)(i + 1) / 2 + (size_t)j;
}

#endif
