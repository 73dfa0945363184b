/*
 * em.c: one exact EM iteration and the convergence test (theory.md 1.6).
 *
 * The caller owns the loop (GSL's init / iterate / test pattern): the glue
 * runs hm_em_iterate, hm_em_test and an interrupt check per iteration and
 * keeps the log-likelihood trace. The E-step statistics are sums; dividing
 * by the total weight gives the harmonium's mean coordinates, and the
 * harmonium's mean -> natural map is the M-step. In between, the mean
 * coordinates are whitened (theory.md 1.6, 3.2): a Gaussian latent is
 * identified only up to an affine map, and resetting its prior to N(0, I)
 * at each step leaves p(x), and so the log-likelihood trace, unchanged
 * while keeping the latent scale from drifting. For identified latents
 * (categorical, binary) hm_hm_whiten is the identity.
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"

size_t hm_em_work_len(const hm_harmonium *h, int threads) {
    size_t a = hm_estep_work_len(h, threads);
    size_t b = hm_hm_work_len(h);
    return (a > b ? a : b) + (size_t)hm_hm_dim(h);
}

// The M-step half of an iteration: stats / total weight, whitened, mapped
// to natural coordinates. eta is dim doubles, rest hm_hm_work_len(h).
static hm_status em_mstep(const hm_harmonium *h,
                          const double *stats,
                          const hm_ctrl *ctl,
                          double *theta_new,
                          int *bad,
                          double *eta,
                          double *rest) {
    const int dim = hm_hm_dim(h);
    const double wt = stats[dim + 1];
    if (!(wt > 0.0)) {
        return HM_ENOPROG;
    }
    for (int i = 0; i < dim; i++) {
        eta[i] = stats[i] / wt;
    }
    hm_status st = hm_hm_whiten(h, eta, eta, rest);
    if (st != HM_OK) {
        return st;
    }
    return hm_hm_to_natural(h, eta, theta_new, rest, ctl, bad);
}

size_t hm_em_mstep_work_len(const hm_harmonium *h) {
    return hm_hm_work_len(h) + (size_t)hm_hm_dim(h);
}

hm_status hm_em_mstep(const hm_harmonium *h, const double *stats, const hm_ctrl *ctl, double *theta_new, int *bad,
                      double *work) {
    *bad = -1;
    return em_mstep(h, stats, ctl, theta_new, bad, work, work + hm_hm_dim(h));
}

hm_status hm_em_iterate(const hm_harmonium *h,
                        const double *theta,
                        const hm_data *data,
                        const hm_ctrl *ctl,
                        int threads,
                        double *stats,
                        double *theta_new,
                        double *loglik,
                        int *bad,
                        double *work) {
    const int dim = hm_hm_dim(h);
    double *eta = work;
    double *rest = work + dim;
    *bad = -1;
    hm_status st = hm_estep(h, theta, data, NULL, stats, NULL, NULL, threads, rest);
    if (st != HM_OK) {
        return st;
    }
    *loglik = stats[dim];
    return em_mstep(h, stats, ctl, theta_new, bad, eta, rest);
}

size_t hm_em_moments_work_len(const hm_harmonium *h) {
    size_t a = hm_lgm_moments_estep_work_len(h);
    size_t b = hm_hm_work_len(h);
    return (a > b ? a : b) + (size_t)hm_hm_dim(h);
}

hm_status hm_em_iterate_moments(const hm_harmonium *h,
                                const double *theta,
                                const double *mom,
                                const hm_ctrl *ctl,
                                double *stats,
                                double *theta_new,
                                double *loglik,
                                int *bad,
                                double *work) {
    const int dim = hm_hm_dim(h);
    double *eta = work;
    double *rest = work + dim;
    *bad = -1;
    hm_status st = hm_lgm_moments_estep(h, theta, mom, stats, rest);
    if (st != HM_OK) {
        return st;
    }
    *loglik = stats[dim];
    return em_mstep(h, stats, ctl, theta_new, bad, eta, rest);
}

// The relative change |l_new - l_old| / (1 + |l_new|) of api.md.
hm_status hm_em_test(double ll_new, double ll_old, double tol) {
    if (!isfinite(ll_new)) {
        return HM_EDOM;
    }
    double rel = fabs(ll_new - ll_old) / (1.0 + fabs(ll_new));
    return rel < tol ? HM_OK : HM_CONTINUE;
}

// Aitken's limit at the largest of the last m rates, all in (0, 1).
hm_status hm_em_aitken_limit(const double *l, int m, double *limit) {
    if (m < 1) {
        return HM_CONTINUE;
    }
    for (int i = 0; i < m + 2; i++) {
        if (!isfinite(l[i])) {
            return HM_CONTINUE;
        }
    }
    double amax = 0.0;
    for (int i = 2; i < m + 2; i++) {
        const double d0 = l[i] - l[i - 1], d1 = l[i - 1] - l[i - 2];
        if (!(d0 > 0.0) || !(d1 > 0.0) || !(d0 < d1)) {
            return HM_CONTINUE;
        }
        const double a = d0 / d1;
        amax = a > amax ? a : amax;
    }
    const double last = l[m + 1] - l[m];
    *limit = l[m + 1] + last * amax / (1.0 - amax);
    return HM_OK;
}
