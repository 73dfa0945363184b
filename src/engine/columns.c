/*
 * columns.c: one pass over the columns of a column-major data matrix for
 * the standardisation that fits do before the E-step (means and root mean
 * squares about them; centring and scaling into a new matrix), so that the
 * host makes no temporary copies of the n x d data.
 *
 * Means are two-pass (the mean, then the mean of squared deviations), as
 * R's colMeans(sweep(x, 2, m)^2) computes them, so results match R's to
 * round-off.
 */
#include <math.h>
#include <stddef.h>

#include "hm_engine.h"

hm_status hm_col_moments(int n, int d, const double *x, double *mean, double *rms) {
    if (n < 1 || d < 0 || x == NULL || mean == NULL || rms == NULL) {
        return HM_EINVAL;
    }
    for (int j = 0; j < d; j++) {
        const double *c = x + (size_t)j * (size_t)n;
        double s = 0.0;
        for (int i = 0; i < n; i++) {
            s += c[i];
        }
        const double m = s / n;
        double v = 0.0;
        for (int i = 0; i < n; i++) {
            const double e = c[i] - m;
            v += e * e;
        }
        mean[j] = m;
        rms[j] = sqrt(v / n);
    }
    return HM_OK;
}

hm_status hm_col_scale(int n, int d, const double *x, const double *center, const double *scale, double *out) {
    if (n < 0 || d < 0 || x == NULL || center == NULL || scale == NULL || out == NULL) {
        return HM_EINVAL;
    }
    for (int j = 0; j < d; j++) {
        const double *c = x + (size_t)j * (size_t)n;
        double *o = out + (size_t)j * (size_t)n;
        const double m = center[j], s = scale[j];
        for (int i = 0; i < n; i++) {
            o[i] = (c[i] - m) / s;
        }
    }
    return HM_OK;
}
