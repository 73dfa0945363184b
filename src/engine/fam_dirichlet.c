/*
 * fam_dirichlet.c: the Dirichlet family (theory.md 2.9), f->n = k
 * components.
 *
 * A datum is k positive numbers summing to 1. s(x) = log x, log mu =
 * -sum log x, and the natural parameters are alpha itself (alpha_i > 0):
 * the "-1" of the textbook density x^(alpha - 1) is absorbed by the base
 * measure. psi = sum lgamma(alpha_i) - lgamma(alpha_0) with alpha_0 =
 * sum alpha, eta_i = E[log x_i] = digamma(alpha_i) - digamma(alpha_0).
 *
 * There is no closed-form inverse (digamma inversion, theory.md 2.9);
 * to_natural is a damped Newton ascent on the concave theta.eta - psi,
 * whose Hessian -(diag(trigamma(alpha)) - trigamma(alpha_0) 1 1') is
 * inverted in O(k) by Sherman-Morrison (Minka 2000, "Estimating a
 * Dirichlet distribution").
 */
#include <float.h>
#include <math.h>

#include "hm_engine.h"
#include "hm_specfun.h"
#include "selftest.h"
#include "selftest_util.h"

/* A datum's components must sum to 1 within this (hm_engine.h contract). */
#define DIR_SUM_TOL 1e-8

/* Halvings of a Newton step before giving up on the line search. */
#define DIR_MAX_HALVINGS 60


// --- helpers -------------------------------------------------------------------

/* The natural domain: every alpha_i finite and > 0 (theory.md 2.9). */
static int alpha_ok(const hm_family *f, const double *alpha) {
    for (int i = 0; i < f->n; i++) {
        if (!isfinite(alpha[i]) || !(alpha[i] > 0.0)) {
            return 0;
        }
    }
    return 1;
}

/* psi(alpha) without checks (callers have checked alpha > 0). */
static double dir_psi(int k, const double *alpha) {
    double acc = 0.0, a0 = 0.0;
    for (int i = 0; i < k; i++) {
        acc += hm_lgamma(alpha[i]);
        a0 += alpha[i];
    }
    return acc - hm_lgamma(a0);
}

/*
 * The mean domain: E[log x] of a law on the open simplex satisfies
 * sum exp(E[log x_i]) < sum E[x_i] = 1 by Jensen, and every such point is
 * attained, so the domain is {eta : sum exp(eta_i) < 1} (which forces every
 * eta_i < 0).
 */
static int in_mean_domain(int k, const double *eta) {
    double s = 0.0;
    for (int i = 0; i < k; i++) {
        if (!isfinite(eta[i]) || !(eta[i] < 0.0)) {
            return 0;
        }
        s += exp(eta[i]);
    }
    return s < 1.0;
}

/*
 * Starting point from digamma(a) ~ log(a - 1/2) (accurate for a > 1):
 * then exp(eta_i) ~ (alpha_i - 1/2) / (alpha_0 - 1/2), and summing over i
 * gives alpha_0 = (k - s) / (2 (1 - s)) with s = sum exp(eta_i) < 1, so
 * alpha_i = (alpha_0 - 1/2) exp(eta_i) + 1/2 > 0.
 */
static void dir_start(int k, const double *eta, double *alpha) {
    double s = 0.0;
    for (int i = 0; i < k; i++) {
        s += exp(eta[i]);
    }
    double a0 = ((double)k - s) / (2.0 * (1.0 - s));
    for (int i = 0; i < k; i++) {
        alpha[i] = (a0 - 0.5) * exp(eta[i]) + 0.5;
    }
}

/*
 * Newton ascent on f(alpha) = alpha.eta - psi(alpha). Gradient
 * g_i = eta_i - digamma(alpha_i) + digamma(alpha_0); Hessian -H with
 * H = D - c 1 1', D = diag(trigamma(alpha_i)), c = trigamma(alpha_0).
 * Sherman-Morrison: H^-1 g = D^-1 g + D^-1 1 (c 1'D^-1 g) / (1 - c 1'D^-1 1),
 * with 1 - c 1'D^-1 1 > 0 because H is a covariance (of log x). Each step
 * is first shortened so that no alpha_i falls by more than half (the
 * domain boundary alpha = 0 is a pole of psi), then halved until the
 * Armijo condition holds; below the rounding level of f the step is taken
 * as is. Converged when |g_i| <= tol |eta_i| for all i, or when the step
 * no longer changes alpha at working precision. work: 3k doubles.
 * On success *psi = psi(alpha).
 */
static hm_status dir_solve(
    int k, const double *eta, double *alpha, double *work, double tol, int maxit, double *psi) {
    if (!in_mean_domain(k, eta)) {
        return HM_EDOM;
    }
    double *g = work, *d = work + k, *trial = work + 2 * k;
    // psi is carried along with alpha: the line search evaluates it at each
    // trial point anyway, and the accepted value is the next f0.
    dir_start(k, eta, alpha);
    double ps = dir_psi(k, alpha);
    for (int it = 0; it < maxit; it++) {
        double a0 = 0.0;
        for (int i = 0; i < k; i++) {
            a0 += alpha[i];
        }
        double dg0 = hm_digamma(a0), c = hm_trigamma(a0);
        int conv = 1;
        for (int i = 0; i < k; i++) {
            g[i] = eta[i] - hm_digamma(alpha[i]) + dg0;
            if (fabs(g[i]) > tol * fabs(eta[i])) {
                conv = 0;
            }
        }
        if (conv) {
            *psi = ps;
            return HM_OK;
        }
        // The two scalars of Sherman-Morrison: 1'D^-1 1 and 1'D^-1 g.
        double sq = 0.0, sg = 0.0;
        for (int i = 0; i < k; i++) {
            double q = hm_trigamma(alpha[i]);
            d[i] = q; // staged: D
            sq += 1.0 / q;
            sg += g[i] / q;
        }
        double den = 1.0 - c * sq;
        // den > 0 in exact arithmetic; at rounding level fall back to the
        // diagonal part (still an ascent direction).
        double corr = den > 0.0 ? c * sg / den : 0.0;
        double shrink = 1.0;
        int small = 1;
        for (int i = 0; i < k; i++) {
            d[i] = (g[i] + corr) / d[i];
            if (d[i] < -0.5 * alpha[i]) {
                shrink = fmin(shrink, -0.5 * alpha[i] / d[i]);
            }
            if (fabs(d[i]) > 4.0 * DBL_EPSILON * alpha[i]) {
                small = 0;
            }
        }
        if (small) {
            *psi = ps;
            return HM_OK;
        }
        // f at the current point, the directional derivative g.d (> 0: H is
        // positive definite) and the magnitude of the terms of f, whose
        // rounding bounds how small a gain can still be measured.
        double f0 = -ps, slope = 0.0, scale = fabs(ps);
        for (int i = 0; i < k; i++) {
            d[i] *= shrink;
            f0 += alpha[i] * eta[i];
            scale += fabs(alpha[i] * eta[i]);
            slope += g[i] * d[i];
        }
        double noise = 8.0 * DBL_EPSILON * scale, step = 1.0;
        int accepted = 0;
        for (int h = 0; h < DIR_MAX_HALVINGS && !accepted; h++, step *= 0.5) {
            double fn = 0.0;
            int ok = 1;
            for (int i = 0; i < k; i++) {
                trial[i] = alpha[i] + step * d[i];
                ok = ok && trial[i] > 0.0;
                fn += trial[i] * eta[i];
            }
            if (!ok) {
                continue;
            }
            double pn = dir_psi(k, trial);
            fn -= pn;
            if (fn >= f0 + 1e-4 * step * slope || step * slope <= noise) {
                for (int i = 0; i < k; i++) {
                    alpha[i] = trial[i];
                }
                ps = pn;
                accepted = 1;
            }
        }
        if (!accepted) {
            return HM_EMAXITER;
        }
    }
    return HM_EMAXITER;
}

// --- the ops table -------------------------------------------------------------

/* s(x) = log x componentwise; x is assumed to pass check_data. */
static void dir_stat(const hm_family *f, const double *x, double *s) {
    for (int i = 0; i < f->n; i++) {
        s[i] = log(x[i]);
    }
}

/* log mu(x) = -sum log x_i: the "-1" of x^(alpha - 1) (theory.md 2.9). */
static double dir_log_base(const hm_family *f, const double *x) {
    double acc = 0.0;
    for (int i = 0; i < f->n; i++) {
        acc -= log(x[i]);
    }
    return acc;
}

static hm_status
dir_log_partition(const hm_family *f, const double *theta, double *psi, double *work) {
    (void)work;
    if (!alpha_ok(f, theta)) {
        return HM_EDOM;
    }
    *psi = dir_psi(f->n, theta);
    return HM_OK;
}

/* eta_i = E[log x_i] = digamma(alpha_i) - digamma(alpha_0). */
static hm_status dir_to_mean(const hm_family *f, const double *theta, double *eta, double *work) {
    (void)work;
    if (!alpha_ok(f, theta)) {
        return HM_EDOM;
    }
    double a0 = 0.0;
    for (int i = 0; i < f->n; i++) {
        a0 += theta[i];
    }
    double dg0 = hm_digamma(a0);
    for (int i = 0; i < f->n; i++) {
        eta[i] = hm_digamma(theta[i]) - dg0;
    }
    return HM_OK;
}

static hm_status dir_to_natural(
    const hm_family *f, const double *eta, double *theta, double *work, const hm_ctrl *ctl) {
    double tol, psi;
    int maxit;
    hm_ctrl_solver(ctl, &tol, &maxit);
    return dir_solve(f->n, eta, theta, work, tol, maxit, &psi);
}

/* phi = alpha.eta - psi(alpha) at alpha = theta(eta); alpha staged in work. */
static hm_status dir_neg_entropy(
    const hm_family *f, const double *eta, double *phi, double *work, const hm_ctrl *ctl) {
    double tol, psi;
    int maxit, k = f->n;
    hm_ctrl_solver(ctl, &tol, &maxit);
    double *alpha = work;
    hm_status st = dir_solve(k, eta, alpha, work + k, tol, maxit, &psi);
    if (st != HM_OK) {
        return st;
    }
    double dot = 0.0;
    for (int i = 0; i < k; i++) {
        dot += alpha[i] * eta[i];
    }
    *phi = dot - psi;
    return HM_OK;
}

/*
 * Normalised Gamma(alpha_i, 1) variates (theory.md 2.9), normalised on the
 * log scale. For alpha_i < 1 the log variate is drawn as
 * log G(alpha_i + 1) + log(U) / alpha_i (the Marsaglia-Tsang boost, an
 * exact identity), which stays finite where G(alpha_i) itself would
 * underflow to 0 and leave a component outside the open simplex.
 */
static hm_status
dir_sample(const hm_family *f, const double *theta, int n, hm_rng *rng, double *x, double *work) {
    (void)work;
    if (!alpha_ok(f, theta)) {
        return HM_EDOM;
    }
    int k = f->n;
    for (int r = 0; r < n; r++) {
        double *row = x + (size_t)r * (size_t)k;
        for (int i = 0; i < k; i++) {
            double a = theta[i];
            if (a < 1.0) {
                row[i] = log(rng->gamma(rng->ctx, a + 1.0)) + log(rng->unif(rng->ctx)) / a;
            } else {
                row[i] = log(rng->gamma(rng->ctx, a));
            }
        }
        // x_i = G_i / sum G = exp(log G_i - lse(log G)): no overflow for
        // huge alpha, no underflow of the whole row for tiny alpha.
        double l = hm_lse(row, k);
        for (int i = 0; i < k; i++) {
            row[i] = exp(row[i] - l);
        }
    }
    return HM_OK;
}

static hm_status dir_check_natural(const hm_family *f, const double *theta) {
    return alpha_ok(f, theta) ? HM_OK : HM_EDOM;
}

/* A point of the open simplex: positive, finite, summing to 1. */
static hm_status dir_check_data(const hm_family *f, const double *x) {
    double s = 0.0;
    for (int i = 0; i < f->n; i++) {
        if (!isfinite(x[i]) || !(x[i] > 0.0)) {
            return HM_EDOM;
        }
        s += x[i];
    }
    return fabs(s - 1.0) <= DIR_SUM_TOL ? HM_OK : HM_EDOM;
}

/* Newton: gradient, direction and trial point (3k); neg_entropy adds alpha. */
static size_t dir_work_len(const hm_family *f) { return 4 * (size_t)f->n; }

const hm_family_ops hm_fam_dirichlet_ops = {
    "dirichlet",     dir_stat,   dir_log_base,      dir_log_partition, dir_to_mean,  dir_to_natural,
    dir_neg_entropy, dir_sample, dir_check_natural, dir_check_data,    dir_work_len, 0,
};

// --- self-test -------------------------------------------------------------------
// Three components: the density against the textbook formula, the duality
// identities (also at small and large alpha), sampling through the shared
// test generator (Marsaglia-Tsang gammas, selftest_util.h) and every status.

enum { DIR_TEST_K = 3, DIR_TEST_DRAWS = 50000 };

/* log p(x) through the family's own pieces. */
static double dir_log_density(const hm_family *f, const double *alpha, const double *x) {
    double psi;
    hm_fam_dirichlet_ops.log_partition(f, alpha, &psi, NULL);
    return hm_st_log_density(f, alpha, psi, x);
}

int hm_fam_dirichlet_selftest(char *msg, size_t len) {
    const hm_family_ops *ops = &hm_fam_dirichlet_ops;
    double work[4 * DIR_TEST_K];
    hm_ctrl ctl = {0.0, 1e-12, 100, 0.0, 0.0};
    const hm_st_ctx c = {work, &ctl, NULL, msg, len};
    hm_family f;
    HM_ST_CHECK(&c, hm_family_init(&f, HM_FAM_DIRICHLET, DIR_TEST_K, 0, 0) == HM_OK,
                "descriptor init");
    HM_ST_CHECK(&c, ops->work_len(&f) <= 4 * DIR_TEST_K, "work_len");
    const double alpha[DIR_TEST_K] = {2.385, 0.73, 5.1};
    const double x[DIR_TEST_K] = {0.2, 0.35, 0.45};
    double eta[DIR_TEST_K];

    // The density against the textbook formula (tgamma, pow) and Dirichlet(1,1,1) = 2.
    {
        double want = tgamma(alpha[0] + alpha[1] + alpha[2]),
               got = exp(dir_log_density(&f, alpha, x));
        for (int i = 0; i < DIR_TEST_K; i++) {
            want *= pow(x[i], alpha[i] - 1.0) / tgamma(alpha[i]);
        }
        HM_ST_CHECK(&c, fabs(got - want) < 1e-12 * want, "density %.17g vs textbook %.17g", got,
                    want);
        const double one[DIR_TEST_K] = {1.0, 1.0, 1.0};
        double p1 = exp(dir_log_density(&f, one, x));
        HM_ST_CHECK(&c, fabs(p1 - 2.0) < 1e-14, "Dirichlet(1,1,1) density %.17g, not 2", p1);
    }

    // to_mean is the gradient of psi (central differences, steps relative
    // to alpha > 0); round trips at moderate, small and large alpha; the
    // Legendre identity.
    const double sets[2][DIR_TEST_K] = {{0.05, 0.31, 0.0113}, {120.5, 250.25, 80.2}};
    if (hm_st_check_gradient(&c, &f, alpha, 1e-6, HM_ST_STEP_REL, HM_ST_REL(1e-7, 1e-7)) ||
        hm_st_check_round_trip(&c, &f, alpha, HM_ST_REL(0.0, 1e-8)) ||
        hm_st_check_round_trip(&c, &f, sets[0], HM_ST_REL(0.0, 1e-8)) ||
        hm_st_check_round_trip(&c, &f, sets[1], HM_ST_REL(0.0, 1e-8)) ||
        hm_st_check_legendre(&c, &f, alpha, HM_ST_REL_GOT(1e-10, 1e-10))) {
        return 1;
    }

    // Sampling: mean log x of 50000 draws against to_mean (standard errors
    // are below 0.3% of |eta| here, so 2% is a loose but telling bound);
    // every draw must be in the simplex.
    {
        hm_st_rng g;
        hm_rng rng;
        hm_st_rng_init(&g, 27182818u, &rng);
        const hm_st_moments mom = {DIR_TEST_DRAWS, 1, 0.0, NULL, HM_ST_REL(0.0, 0.02), NULL, NULL};
        if (hm_st_check_moments(&c, &f, alpha, &rng, &mom)) {
            return 1;
        }
        // Tiny alpha: draws stay inside the open simplex.
        const double tiny[DIR_TEST_K] = {0.004, 0.002, 0.003};
        double xs[DIR_TEST_K];
        for (int r = 0; r < 1000; r++) {
            HM_ST_CHECK(&c, ops->sample(&f, tiny, 1, &rng, xs, work) == HM_OK, "sample failed");
            double sum = xs[0] + xs[1] + xs[2];
            HM_ST_CHECK(&c, fabs(sum - 1.0) < 1e-12 && !isnan(xs[0]), "tiny-alpha draw sums to %g",
                        sum);
        }
    }

    // Statuses: each error path is provoked once (style.md 3.11).
    {
        const double e0[DIR_TEST_K] = {-1.0, 0.0, -2.0}, e1[DIR_TEST_K] = {-0.5, -0.5, -0.5};
        const double a0[DIR_TEST_K] = {1.0, -0.1, 2.0};
        const double xb[DIR_TEST_K] = {0.2, 0.3, 0.4}, xn[DIR_TEST_K] = {0.0, 0.5, 0.5};
        double b[DIR_TEST_K], psi;
        HM_ST_CHECK(&c, ops->to_natural(&f, e0, b, work, &ctl) == HM_EDOM, "eta_i = 0 accepted");
        HM_ST_CHECK(&c, ops->to_natural(&f, e1, b, work, &ctl) == HM_EDOM,
                    "sum exp(eta) > 1 accepted");
        HM_ST_CHECK(&c,
                    ops->check_natural(&f, a0) == HM_EDOM &&
                        ops->log_partition(&f, a0, &psi, NULL) == HM_EDOM,
                    "alpha <= 0 accepted");
        HM_ST_CHECK(&c,
                    ops->check_data(&f, xb) == HM_EDOM && ops->check_data(&f, xn) == HM_EDOM &&
                        ops->check_data(&f, x) == HM_OK,
                    "check_data");
        hm_ctrl one = {0.0, 1e-12, 1, 0.0, 0.0};
        HM_ST_CHECK(&c,
                    ops->to_mean(&f, alpha, eta, NULL) == HM_OK &&
                        ops->to_natural(&f, eta, b, work, &one) == HM_EMAXITER,
                    "maxit = 1 converged");
    }
    return 0;
}
