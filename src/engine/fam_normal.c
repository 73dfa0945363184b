/*
 * fam_normal.c: the multivariate Normal family with full, diagonal or
 * isotropic covariance (theory.md 2.7).
 *
 * Location-shape family: s(x) = (x, S(x)) with S(x) the packed upper
 * triangle of x x' (full), the squares x_i^2 (diagonal) or their mean
 * (1/d) sum x_i^2 (isotropic); log mu(x) = -(d/2) log 2 pi. The natural
 * parameters are theta1 = P mu and theta2, the rep's packing of -P/2:
 * full: diagonal -P_ii / 2, off-diagonal -P_ij (each pair appears once in
 * S(x), so it carries both symmetric halves); diagonal: -P_ii / 2;
 * isotropic with P = p I: -(d/2) p (S(x) is a mean, so theta2 carries the
 * factor d). All the maps below rest on
 *   psi(theta) = 1/2 theta1' P^-1 theta1 - 1/2 log |P|,
 *   eta = (mu, packed Sigma + mu mu'),  Sigma = P^-1,  mu = Sigma theta1,
 *   phi(eta) = -1/2 log |Sigma| - d/2   (pure Legendre dual, theory.md 1.1).
 * Full matrices go through Cholesky factors (linalg.c, theory.md 8); the
 * diagonal and isotropic reps work elementwise and need no scratch.
 *
 * Full-rep scratch: one d x d matrix (column-major, both triangles; it is
 * symmetric, so row- and column-major coincide) followed by two d-vectors.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hm_engine.h"
#include "linalg.h"

// Smallest variance, relative to the second moment it is computed from,
// accepted by the mean -> natural map: 1000 ulps. Below it the difference
// E[x^2] - E[x]^2 is rounding noise and the covariance is rank deficient.
#define MIN_REL_VAR (1000.0 * DBL_EPSILON)
#include "selftest.h"
#include "selftest_util.h"

/* log(2 pi). */
#define LOG_2PI 1.8378770664093454836

/* Largest full-rep dimension whose precision check_natural factors exactly
 * on the stack (128 x 128 doubles = 128 KiB); see normal_check_natural. */
#define NORMAL_CHECK_MAX 128

// --- layout helpers ----------------------------------------------------------

// Flat index of (i, j), i <= j, in a packed upper triangle of order d
// (theory.md 0).
static size_t pidx(int d, int i, int j) {
    return (size_t)i * (size_t)d - (size_t)i * (size_t)(i + 1) / 2 + (size_t)j;
}

// Element (i, j) of a d x d column-major matrix.
static size_t midx(int d, int i, int j) {
    return (size_t)j * (size_t)d + (size_t)i;
}

// Unpacks the full-rep theta2 into the precision P: the diagonal entry is
// -2 theta2_ii and an off-diagonal one -theta2_ij, undoing the factor 2
// carried by the packed off-diagonals (theory.md 2.7, 8).
static void full_precision(int d, const double *th2, double *a) {
    for (int i = 0; i < d; i++) {
        for (int j = i; j < d; j++) {
            double v = th2[pidx(d, i, j)];
            double p = (i == j) ? -2.0 * v : -v;
            a[midx(d, i, j)] = p;
            a[midx(d, j, i)] = p;
        }
    }
}

// Fills a with Sigma = E[x x'] - mu mu' from full-rep mean coordinates,
// plus the ridge reg on the diagonal (hm_ctrl).
static void full_covariance(int d, const double *eta, double reg, double *a) {
    const double *m2 = eta + d;
    for (int i = 0; i < d; i++) {
        for (int j = i; j < d; j++) {
            double v = m2[pidx(d, i, j)] - eta[i] * eta[j];
            if (i == j) {
                v += reg;
            }
            a[midx(d, i, j)] = v;
            a[midx(d, j, i)] = v;
        }
    }
}

// Full rep, natural side: a <- chol(P) and mu <- P^-1 theta1 by two
// triangular solves. HM_ENOTPD if P is not positive definite.
static hm_status full_factor_natural(int d, const double *theta, double *a, double *mu) {
    full_precision(d, theta + d, a);
    hm_status st = hm_la_chol(d, a);
    if (st != HM_OK) {
        return st;
    }
    memcpy(mu, theta, (size_t)d * sizeof(double));
    return hm_la_chol_solve(d, 1, a, mu);
}

// Precision of coordinate i in the diagonal and isotropic reps:
// -2 theta2_i, or p = -(2/d) theta2 for P = p I.
static double unit_precision(const hm_family *f, const double *th2, int i) {
    return f->rep == HM_COV_DIAG ? -2.0 * th2[i] : -2.0 * th2[0] / (double)f->n;
}

// Variance of coordinate i from diagonal/isotropic mean coordinates, plus
// reg. Isotropic: eta2 = (1/d) E[sum x_i^2], so sigma^2 = eta2 - mean(mu_i^2)
// (theory.md 2.7); the same value for every i.
static double unit_variance(const hm_family *f, const double *eta, int i, double reg) {
    const int d = f->n;
    if (f->rep == HM_COV_DIAG) {
        return eta[d + i] - eta[i] * eta[i] + reg;
    }
    double m2 = 0.0;
    for (int j = 0; j < d; j++) {
        m2 += eta[j] * eta[j];
    }
    return eta[d] - m2 / (double)d + reg;
}

// The ridge from the controls: 0 without controls, HM_EDOM if negative or
// not finite.
static hm_status ridge_of(const hm_ctrl *ctl, double *reg) {
    *reg = ctl != NULL ? ctl->reg : 0.0;
    return (isfinite(*reg) && *reg >= 0.0) ? HM_OK : HM_EDOM;
}

// --- tier 0: statistics and base measure -------------------------------------

// s(x) = (x, S(x)) in the rep's layout: the packed upper triangle of x x'
// row by row (its order matches pidx), the squares, or their mean. The
// isotropic statistic is a mean rather than a sum so that its natural
// parameter, -(d/2) p, is on the scale of the others (theory.md 2.7).
static void normal_stat(const hm_family *f, const double *x, double *s) {
    const int d = f->n;
    double *s2 = s + d;
    memcpy(s, x, (size_t)d * sizeof(double));
    if (f->rep == HM_COV_FULL) {
        size_t k = 0;
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                s2[k++] = x[i] * x[j];
            }
        }
    } else if (f->rep == HM_COV_DIAG) {
        for (int i = 0; i < d; i++) {
            s2[i] = x[i] * x[i];
        }
    } else {
        double acc = 0.0;
        for (int i = 0; i < d; i++) {
            acc += x[i] * x[i];
        }
        s2[0] = acc / (double)d;
    }
}

// The base measure -(d/2) log 2 pi is the same in every rep: the
// -1/2 x' P x term lives in theta2 . S(x), not in log mu (theory.md 2.7,
// and its pitfall about the identity-covariance Normal).
static double normal_log_base(const hm_family *f, const double *x) {
    (void)x;
    return -0.5 * (double)f->n * LOG_2PI;
}

// --- tier 3: log-partition and mean map --------------------------------------

/*
 * psi = 1/2 theta1 . mu - 1/2 log |P| with mu = P^-1 theta1. In the full
 * rep log |P| = 2 sum log L_ii from the Cholesky factor and mu comes from
 * triangular solves, never an explicit inverse (theory.md 8).
 */
static hm_status normal_log_partition(const hm_family *f,
                                      const double *theta,
                                      double *psi,
                                      double *work) {
    const int d = f->n;
    if (!hm_all_finite(theta, f->dim)) {
        return HM_EDOM;
    }
    double quad = 0.0, logdet = 0.0;
    if (f->rep == HM_COV_FULL) {
        double *a = work, *mu = work + (size_t)d * (size_t)d;
        hm_status st = full_factor_natural(d, theta, a, mu);
        if (st != HM_OK) {
            return st;
        }
        for (int i = 0; i < d; i++) {
            quad += theta[i] * mu[i];
        }
        logdet = hm_la_chol_logdet(d, a);
    } else {
        for (int i = 0; i < d; i++) {
            double p = unit_precision(f, theta + d, i);
            if (!(p > 0.0)) {
                return HM_ENOTPD;
            }
            quad += theta[i] * theta[i] / p;
            logdet += log(p);
        }
    }
    *psi = 0.5 * quad - 0.5 * logdet;
    return HM_OK;
}

/*
 * eta = (mu, packed Sigma + mu mu') in the rep's packing (isotropic: the
 * mean of the diagonal). Full rep: Sigma = P^-1 from the factor (dpotri).
 */
static hm_status normal_to_mean(const hm_family *f,
                                const double *theta,
                                double *eta,
                                double *work) {
    const int d = f->n;
    if (!hm_all_finite(theta, f->dim)) {
        return HM_EDOM;
    }
    if (f->rep == HM_COV_FULL) {
        double *a = work, *mu = work + (size_t)d * (size_t)d;
        hm_status st = full_factor_natural(d, theta, a, mu);
        if (st == HM_OK) {
            st = hm_la_chol_inv(d, a);
        }
        if (st != HM_OK) {
            return st;
        }
        memcpy(eta, mu, (size_t)d * sizeof(double));
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                eta[d + (int)pidx(d, i, j)] = a[midx(d, i, j)] + mu[i] * mu[j];
            }
        }
        return HM_OK;
    }
    // Elementwise reps: every precision is validated before eta is
    // written, so eta is untouched on failure.
    for (int i = 0; i < d; i++) {
        if (!(unit_precision(f, theta + d, i) > 0.0)) {
            return HM_ENOTPD;
        }
    }
    double m2 = 0.0, v = 0.0;
    for (int i = 0; i < d; i++) {
        const double p = unit_precision(f, theta + d, i);
        const double m = theta[i] / p;
        v = 1.0 / p;
        eta[i] = m;
        if (f->rep == HM_COV_DIAG) {
            eta[d + i] = v + m * m;
        }
        m2 += m * m;
    }
    if (f->rep == HM_COV_ISO) {
        eta[d] = v + m2 / (double)d;
    }
    return HM_OK;
}

// --- tier 4: inverse map and negative entropy --------------------------------

/*
 * theta = grad phi(eta): Sigma = second moments - mu mu' in the rep, plus
 * the ridge ctl->reg on every variance (a caller-chosen regularisation,
 * theory.md 8, "opt-in regularization"), then P = Sigma^-1 and theta1 =
 * P mu. Full rep: theta1 by triangular solves with chol(Sigma), P by
 * dpotri. HM_ENOTPD if the (ridged) Sigma is not positive definite, i.e.
 * a collapsing component in the M-step; HM_EDOM for non-finite input.
 */
static hm_status normal_to_natural(const hm_family *f,
                                   const double *eta,
                                   double *theta,
                                   double *work,
                                   const hm_ctrl *ctl) {
    const int d = f->n;
    double reg;
    hm_status st = ridge_of(ctl, &reg);
    if (st != HM_OK) {
        return st;
    }
    if (!hm_all_finite(eta, f->dim)) {
        return HM_EDOM;
    }
    if (f->rep == HM_COV_FULL) {
        double *a = work, *v = work + (size_t)d * (size_t)d;
        full_covariance(d, eta, reg, a);
        st = hm_la_chol(d, a);
        if (st != HM_OK) {
            return st;
        }
        // Each squared pivot L_ii^2 is the variance of x_i given x_1..x_i-1.
        // It comes from differences of second moments, so it carries a
        // rounding error of a few ulps of E[x_i^2]; a pivot below that is
        // noise, not a variance (collinear data, a collapsing component),
        // and the covariance is rank deficient.
        for (int i = 0; i < d; i++) {
            double lii = a[midx(d, i, i)];
            if (!(lii * lii > MIN_REL_VAR * (eta[d + (int)pidx(d, i, i)] + reg))) {
                return HM_ENOTPD;
            }
        }
        memcpy(v, eta, (size_t)d * sizeof(double));
        st = hm_la_chol_solve(d, 1, a, v);
        if (st == HM_OK) {
            st = hm_la_chol_inv(d, a);
        }
        if (st != HM_OK) {
            return st;
        }
        memcpy(theta, v, (size_t)d * sizeof(double));
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                double p = a[midx(d, i, j)];
                theta[d + (int)pidx(d, i, j)] = (i == j) ? -0.5 * p : -p;
            }
        }
        return HM_OK;
    }
    // Elementwise reps: all variances are checked before theta is written.
    // The same rank test as for the full rep: a variance within rounding
    // of zero, relative to the second moment it was computed from, is not
    // a variance.
    for (int i = 0; i < d; i++) {
        double m2 = f->rep == HM_COV_ISO ? eta[d] : eta[d + i];
        if (!(unit_variance(f, eta, i, reg) > MIN_REL_VAR * (fabs(m2) + reg))) {
            return HM_ENOTPD;
        }
    }
    if (f->rep == HM_COV_ISO) {
        const double s2 = unit_variance(f, eta, 0, reg);
        for (int i = 0; i < d; i++) {
            theta[i] = eta[i] / s2;
        }
        theta[d] = -0.5 * (double)d / s2;
        return HM_OK;
    }
    for (int i = 0; i < d; i++) {
        const double s2 = unit_variance(f, eta, i, reg);
        theta[i] = eta[i] / s2;
        theta[d + i] = -0.5 / s2;
    }
    return HM_OK;
}

/*
 * phi(eta) = -1/2 log |Sigma| - d/2, the pure Legendre dual (theory.md
 * 1.1, 2.7): at the exact inverse theta(eta), theta . eta - psi(theta) =
 * -1/2 tr(P Sigma) + 1/2 log |P|, and tr(P Sigma) = d. The ridge of the
 * controls is deliberately not applied: it regularises the inverse map
 * of the M-step, whereas phi is a property of eta itself (KL, entropy).
 */
static hm_status normal_neg_entropy(const hm_family *f,
                                    const double *eta,
                                    double *phi,
                                    double *work,
                                    const hm_ctrl *ctl) {
    const int d = f->n;
    (void)ctl;
    if (!hm_all_finite(eta, f->dim)) {
        return HM_EDOM;
    }
    double logdet = 0.0;
    if (f->rep == HM_COV_FULL) {
        double *a = work;
        full_covariance(d, eta, 0.0, a);
        hm_status st = hm_la_chol(d, a);
        if (st != HM_OK) {
            return st;
        }
        logdet = hm_la_chol_logdet(d, a);
    } else {
        for (int i = 0; i < d; i++) {
            double s2 = unit_variance(f, eta, i, 0.0);
            if (!(s2 > 0.0)) {
                return HM_ENOTPD;
            }
            logdet += log(s2);
        }
    }
    *phi = -0.5 * logdet - 0.5 * (double)d;
    return HM_OK;
}

// --- tier 2: sampling --------------------------------------------------------

/*
 * n exact draws x = mu + L eps, eps ~ N(0, I) from the host RNG, with
 * L = chol(Sigma) in the full rep (theory.md 2.7) and L = diag(sigma_i)
 * otherwise. Drawing from chol(Sigma) rather than from the precision
 * factor makes a draw the same function of eps as R's
 * mu + t(chol(Sigma)) %*% rnorm(d), which keeps simulations comparable
 * with plain-R oracles. Draws are written row-major, d values per row.
 */
static hm_status normal_sample(const hm_family *f,
                               const double *theta,
                               int n,
                               hm_rng *rng,
                               double *x,
                               double *work) {
    const int d = f->n;
    if (n < 0) {
        return HM_EINVAL;
    }
    if (!hm_all_finite(theta, f->dim)) {
        return HM_EDOM;
    }
    if (f->rep == HM_COV_FULL) {
        double *a = work, *mu = work + (size_t)d * (size_t)d, *eps = mu + d;
        hm_status st = full_factor_natural(d, theta, a, mu);
        if (st == HM_OK) {
            st = hm_la_chol_inv(d, a);
        }
        if (st == HM_OK) {
            st = hm_la_chol(d, a);
        }
        if (st != HM_OK) {
            return st;
        }
        for (int r = 0; r < n; r++) {
            double *xr = x + (size_t)r * (size_t)d;
            for (int j = 0; j < d; j++) {
                eps[j] = rng->norm(rng->ctx);
            }
            hm_la_trmv_lower(d, a, eps);
            for (int j = 0; j < d; j++) {
                xr[j] = mu[j] + eps[j];
            }
        }
        return HM_OK;
    }
    for (int i = 0; i < d; i++) {
        if (!(unit_precision(f, theta + d, i) > 0.0)) {
            return HM_ENOTPD;
        }
    }
    for (int r = 0; r < n; r++) {
        double *xr = x + (size_t)r * (size_t)d;
        for (int j = 0; j < d; j++) {
            double p = unit_precision(f, theta + d, j);
            xr[j] = theta[j] / p + rng->norm(rng->ctx) / sqrt(p);
        }
    }
    return HM_OK;
}

// --- validity checks and scratch ---------------------------------------------

/*
 * HM_EDOM for non-finite entries, HM_ENOTPD unless P is positive definite.
 * This entry has no workspace (hm_engine.h), so the full rep factors P in
 * a stack array sized to d x d, up to NORMAL_CHECK_MAX. Above that only
 * the necessary conditions P_ii > 0 and P_ij^2 < P_ii P_jj are checked;
 * every map that uses P (log_partition, to_mean, sample) still factors it
 * in its workspace and reports HM_ENOTPD, so no invalid theta is ever
 * used silently.
 */
static hm_status normal_check_natural(const hm_family *f, const double *theta) {
    const int d = f->n;
    if (!hm_all_finite(theta, f->dim)) {
        return HM_EDOM;
    }
    if (f->rep != HM_COV_FULL) {
        for (int i = 0; i < d; i++) {
            if (!(unit_precision(f, theta + d, i) > 0.0)) {
                return HM_ENOTPD;
            }
        }
        return HM_OK;
    }
    if (d <= NORMAL_CHECK_MAX) {
        double a[(size_t)d * (size_t)d];
        full_precision(d, theta + d, a);
        return hm_la_chol(d, a);
    }
    const double *th2 = theta + d;
    for (int i = 0; i < d; i++) {
        double pii = -2.0 * th2[pidx(d, i, i)];
        if (!(pii > 0.0)) {
            return HM_ENOTPD;
        }
        for (int j = 0; j < i; j++) {
            double pjj = -2.0 * th2[pidx(d, j, j)], pij = th2[pidx(d, j, i)];
            if (!(pij * pij < pii * pjj)) {
                return HM_ENOTPD;
            }
        }
    }
    return HM_OK;
}

// Any finite vector is in the support of a Normal.
static hm_status normal_check_data(const hm_family *f, const double *x) {
    return hm_all_finite(x, f->n) ? HM_OK : HM_EDOM;
}

// Full rep: two d x d matrices and four d-vectors (the maps above use one
// matrix and two vectors; the rest is headroom for callers composing
// Normal maps). The elementwise reps need a few vectors at most.
static size_t normal_work_len(const hm_family *f) {
    const size_t d = (size_t)f->n;
    return f->rep == HM_COV_FULL ? 2 * d * d + 4 * d : 4 * d;
}

const hm_family_ops hm_fam_normal_ops = {
    "normal",
    normal_stat,
    normal_log_base,
    normal_log_partition,
    normal_to_mean,
    normal_to_natural,
    normal_neg_entropy,
    normal_sample,
    normal_check_natural,
    normal_check_data,
    normal_work_len,
    1,
};

// --- self-test ---------------------------------------------------------------
// A 3-D example with a high-entropy covariance, checked against formulas
// written directly in (mu, Sigma) with a cofactor inverse; the three reps
// checked against each other at embedded covariances; the duality
// identities and sampling moments in every rep through the shared checks
// and test generator (splitmix64 + Box-Muller, selftest_util.h).

// Determinant and inverse of a 3 x 3 (row-major) by cofactors: an
// independent reference for the Cholesky-based maps.
static double inv3(const double m[3][3], double out[3][3]) {
    double c[3][3];
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            int i1 = (i + 1) % 3, i2 = (i + 2) % 3, j1 = (j + 1) % 3, j2 = (j + 2) % 3;
            c[i][j] = m[i1][j1] * m[i2][j2] - m[i1][j2] * m[i2][j1];
        }
    }
    double det = m[0][0] * c[0][0] + m[0][1] * c[0][1] + m[0][2] * c[0][2];
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            out[i][j] = c[j][i] / det;
        }
    }
    return det;
}

// log p(x) through the family: theta . s(x) + log mu(x) - psi(theta).
static double t_logp(const hm_family *f, const double *theta, const double *x, double *w) {
    double psi;
    hm_fam_normal_ops.log_partition(f, theta, &psi, w);
    return hm_st_log_density(f, theta, psi, x);
}

// Natural parameters of N(mu, Sigma) in each rep, built by hand: full
// from the cofactor inverse, diagonal from diag(Sigma), isotropic from
// sigma^2 = s2 (the packing of theory.md 2.7 written out independently).
static void t_theta_full(const double mu[3], double pr[3][3], double *th) {
    for (int i = 0; i < 3; i++) {
        th[i] = pr[i][0] * mu[0] + pr[i][1] * mu[1] + pr[i][2] * mu[2];
    }
    int k = 3;
    for (int i = 0; i < 3; i++) {
        for (int j = i; j < 3; j++) {
            th[k++] = (i == j) ? -0.5 * pr[i][i] : -pr[i][j];
        }
    }
}

int hm_fam_normal_selftest(char *msg, size_t msglen) {
    const hm_family_ops *ops = &hm_fam_normal_ops;
    hm_family ff, fd, fi;
    if (hm_family_init(&ff, HM_FAM_NORMAL, 3, HM_COV_FULL, 0) != HM_OK ||
        hm_family_init(&fd, HM_FAM_NORMAL, 3, HM_COV_DIAG, 0) != HM_OK ||
        hm_family_init(&fi, HM_FAM_NORMAL, 3, HM_COV_ISO, 0) != HM_OK || ff.dim != 9 ||
        fd.dim != 6 || fi.dim != 4) {
        snprintf(msg, msglen, "descriptor init failed");
        return 1;
    }
    double w[256];
    if (ops->work_len(&ff) > 256) {
        snprintf(msg, msglen, "work_len too large for the test");
        return 1;
    }
    const double mu[3] = {0.7, -1.3, 2.385};
    const double S[3][3] = {{2.385, 0.61, -0.43}, {0.61, 1.72, 0.37}, {-0.43, 0.37, 0.95}};
    double P[3][3];
    const double detS = inv3(S, P);
    const hm_ctrl ctl0 = {0.0, 1e-12, 100, 0.0, 0.0};

    // Full rep: to_natural of the exact moments against the hand-built
    // theta, and to_mean of that theta back to the moments. Both sides are
    // computed without Cholesky (cofactors), so a packing or factor-of-2
    // error in either direction shows up here.
    double th[9], eta[9], got[9];
    t_theta_full(mu, P, th);
    for (int i = 0, k = 3; i < 3; i++) {
        eta[i] = mu[i];
        for (int j = i; j < 3; j++) {
            eta[k++] = S[i][j] + mu[i] * mu[j];
        }
    }
    if (ops->to_natural(&ff, eta, got, w, &ctl0) != HM_OK) {
        snprintf(msg, msglen, "full to_natural failed");
        return 1;
    }
    for (int i = 0; i < 9; i++) {
        if (!hm_st_near(got[i], th[i], 1e-10)) {
            snprintf(msg, msglen, "full to_natural at %d: %.15g vs %.15g", i, got[i], th[i]);
            return 1;
        }
    }
    if (ops->to_mean(&ff, th, got, w) != HM_OK) {
        snprintf(msg, msglen, "full to_mean failed");
        return 1;
    }
    for (int i = 0; i < 9; i++) {
        if (!hm_st_near(got[i], eta[i], 1e-10)) {
            snprintf(msg, msglen, "full to_mean at %d: %.15g vs %.15g", i, got[i], eta[i]);
            return 1;
        }
    }
    double phi;
    ops->neg_entropy(&ff, eta, &phi, w, NULL);
    if (!hm_st_near(phi, -0.5 * log(detS) - 1.5, 1e-12)) {
        snprintf(msg, msglen, "full neg_entropy %.15g vs %.15g", phi, -0.5 * log(detS) - 1.5);
        return 1;
    }

    // The log density against the direct formula in (mu, Sigma):
    // -(d/2) log 2 pi - 1/2 log |Sigma| - 1/2 (x - mu)' Sigma^-1 (x - mu),
    // at the origin and two points a few standard deviations out.
    const double xs[3][3] = {{0.0, 0.0, 0.0}, {1.9, -0.4, 3.1}, {-2.2, -3.05, 0.8}};
    for (int t = 0; t < 3; t++) {
        double z[3], q = 0.0;
        for (int i = 0; i < 3; i++) {
            z[i] = xs[t][i] - mu[i];
        }
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                q += z[i] * P[i][j] * z[j];
            }
        }
        double ref = -1.5 * LOG_2PI - 0.5 * log(detS) - 0.5 * q;
        double lp = t_logp(&ff, th, xs[t], w);
        if (!hm_st_near(lp, ref, 1e-12)) {
            snprintf(msg, msglen, "full log density at x%d: %.15g vs %.15g", t, lp, ref);
            return 1;
        }
    }

    // Diagonal and isotropic reps against the full rep at the embedded
    // covariances diag(Sigma) and s2 I (the exact natural-coordinate
    // embedding of theory.md 2.7): equal psi, equal log densities, and
    // mean coordinates that are the projections of the full ones (the
    // diagonal of the second moments, then its average).
    const double s2 = 1.4385;
    double thd[6], thi[4], thdf[9] = {0}, thif[9] = {0};
    for (int i = 0; i < 3; i++) {
        thd[i] = mu[i] / S[i][i];
        thd[3 + i] = -0.5 / S[i][i];
        thi[i] = mu[i] / s2;
        thdf[i] = thd[i];
        thif[i] = thi[i];
        thdf[3 + (int)pidx(3, i, i)] = thd[3 + i];
        thif[3 + (int)pidx(3, i, i)] = -0.5 / s2;
    }
    thi[3] = -1.5 / s2;
    double pd, pdf, pi, pif, ed[6], edf[9], ei[4], eif[9];
    if (ops->log_partition(&fd, thd, &pd, w) != HM_OK ||
        ops->log_partition(&ff, thdf, &pdf, w) != HM_OK ||
        ops->log_partition(&fi, thi, &pi, w) != HM_OK ||
        ops->log_partition(&ff, thif, &pif, w) != HM_OK || ops->to_mean(&fd, thd, ed, w) ||
        ops->to_mean(&ff, thdf, edf, w) || ops->to_mean(&fi, thi, ei, w) ||
        ops->to_mean(&ff, thif, eif, w)) {
        snprintf(msg, msglen, "diag/iso maps failed");
        return 1;
    }
    if (!hm_st_near(pd, pdf, 1e-12) || !hm_st_near(pi, pif, 1e-12)) {
        snprintf(msg, msglen, "diag/iso psi differ from full: %.15g %.15g %.15g %.15g", pd, pdf, pi,
                 pif);
        return 1;
    }
    double imean = 0.0;
    for (int i = 0; i < 3; i++) {
        double dd = edf[3 + (int)pidx(3, i, i)];
        imean += eif[3 + (int)pidx(3, i, i)] / 3.0;
        if (!hm_st_near(ed[i], edf[i], 1e-12) || !hm_st_near(ei[i], eif[i], 1e-12) ||
            !hm_st_near(ed[3 + i], dd, 1e-12)) {
            snprintf(msg, msglen, "diag/iso to_mean differ from full at %d", i);
            return 1;
        }
    }
    if (!hm_st_near(ei[3], imean, 1e-12)) {
        snprintf(msg, msglen, "iso second moment %.15g vs %.15g", ei[3], imean);
        return 1;
    }
    for (int t = 0; t < 3; t++) {
        if (!hm_st_near(t_logp(&fd, thd, xs[t], w), t_logp(&ff, thdf, xs[t], w), 1e-12) ||
            !hm_st_near(t_logp(&fi, thi, xs[t], w), t_logp(&ff, thif, xs[t], w), 1e-12)) {
            snprintf(msg, msglen, "diag/iso log density differs from full at x%d", t);
            return 1;
        }
    }

    // Round trips to_natural(to_mean(theta)) = theta, the Legendre identity
    // phi(eta) = theta . eta - psi(theta), and eta = a central-difference
    // gradient of psi, in every rep.
    const hm_family *fams[3] = {&ff, &fd, &fi};
    const double *thetas[3] = {th, thd, thi};
    const char *labels[3] = {"rep 0", "rep 1", "rep 2"};
    for (int r = 0; r < 3; r++) {
        const hm_st_ctx c = {w, NULL, labels[r], msg, msglen};
        if (hm_st_check_round_trip(&c, fams[r], thetas[r], HM_ST_NEAR(1e-10)) ||
            hm_st_check_legendre(&c, fams[r], thetas[r], HM_ST_NEAR(1e-10)) ||
            hm_st_check_gradient(&c, fams[r], thetas[r], 1e-5, HM_ST_STEP_MAX1, HM_ST_NEAR(1e-6))) {
            return 1;
        }
    }

    // The ridge adds exactly reg to every variance and nothing elsewhere.
    const hm_ctrl ctlr = {0.3125, 1e-12, 100, 0.0, 0.0};
    for (int r = 0; r < 3; r++) {
        const hm_family *f = fams[r];
        double e0[9], tr[9], e1[9];
        ops->to_mean(f, thetas[r], e0, w);
        if (ops->to_natural(f, e0, tr, w, &ctlr) != HM_OK || ops->to_mean(f, tr, e1, w) != HM_OK) {
            snprintf(msg, msglen, "rep %d: ridged to_natural failed", r);
            return 1;
        }
        for (int i = 0; i < 3; i++) {
            if (!hm_st_near(e1[i], e0[i], 1e-10)) {
                snprintf(msg, msglen, "rep %d: ridge moved the mean", r);
                return 1;
            }
        }
        for (int k = 3; k < f->dim; k++) {
            int diag_entry = r != HM_COV_FULL;
            for (int i = 0; i < 3 && !diag_entry; i++) {
                diag_entry = (k == 3 + (int)pidx(3, i, i));
            }
            double want = e0[k] + (diag_entry ? ctlr.reg : 0.0);
            if (!hm_st_near(e1[k], want, 1e-10)) {
                snprintf(msg, msglen, "rep %d: ridged moment %d: %.15g vs %.15g", r, k, e1[k],
                         want);
                return 1;
            }
        }
    }

    // Statuses: second moments whose covariance is not PD in each rep (an
    // off-diagonal covariance above the geometric mean of its variances; a
    // negative variance), a precision with a negative diagonal, and
    // non-finite parameters and data.
    double bad[9];
    memcpy(bad, eta, sizeof bad);
    bad[3 + 1] = 3.0 + mu[0] * mu[1]; // Sigma_01 = 3 > sqrt(Sigma_00 Sigma_11)
    double bd[6], bi[4];
    memcpy(bd, ed, sizeof bd);
    bd[3] = mu[0] * mu[0] - 0.1;
    memcpy(bi, ei, sizeof bi);
    bi[3] = (mu[0] * mu[0] + mu[1] * mu[1] + mu[2] * mu[2]) / 3.0 - 0.01;
    if (ops->to_natural(&ff, bad, got, w, NULL) != HM_ENOTPD ||
        ops->to_natural(&fd, bd, got, w, NULL) != HM_ENOTPD ||
        ops->to_natural(&fi, bi, got, w, NULL) != HM_ENOTPD ||
        ops->neg_entropy(&ff, bad, &phi, w, NULL) != HM_ENOTPD) {
        snprintf(msg, msglen, "non-PD second moments not reported as HM_ENOTPD");
        return 1;
    }
    double tbad[9];
    memcpy(tbad, th, sizeof tbad);
    tbad[3] = -tbad[3]; // P_00 < 0
    double psi;
    if (ops->check_natural(&ff, th) != HM_OK || ops->check_natural(&fd, thd) != HM_OK ||
        ops->check_natural(&fi, thi) != HM_OK || ops->check_natural(&ff, tbad) != HM_ENOTPD ||
        ops->log_partition(&ff, tbad, &psi, w) != HM_ENOTPD ||
        ops->to_mean(&ff, tbad, got, w) != HM_ENOTPD) {
        snprintf(msg, msglen, "precision check wrong");
        return 1;
    }
    tbad[3] = NAN;
    const double xinf[3] = {0.0, INFINITY, 1.0};
    if (ops->check_natural(&ff, tbad) != HM_EDOM || ops->check_data(&ff, xinf) != HM_EDOM ||
        ops->check_data(&ff, xs[1]) != HM_OK) {
        snprintf(msg, msglen, "non-finite input not reported as HM_EDOM");
        return 1;
    }

    // Sampling: the mean statistics of 50000 draws (in chunks of 500)
    // against to_mean in every rep, each within 0.02 sample standard
    // deviations of the statistic (about 4.5 standard errors), so a
    // covariance off by a few percent fails. Each rep starts the generator
    // afresh from the same seed.
    for (int r = 0; r < 3; r++) {
        const hm_st_ctx c = {w, NULL, labels[r], msg, msglen};
        const hm_st_moments mom = {50000, 500, 0.02, NULL, HM_ST_ABS(0.0), NULL, NULL};
        hm_st_rng g;
        hm_rng rng;
        hm_st_rng_init(&g, 20240607u, &rng);
        if (hm_st_check_moments(&c, fams[r], thetas[r], &rng, &mom)) {
            return 1;
        }
    }
    return 0;
}
