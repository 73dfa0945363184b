/*
 * fam_gamma.c: the Gamma family (theory.md 2.10), f->n independent units.
 *
 * Per unit: x > 0, s(x) = (log x, x), log mu = 0, natural parameters
 * theta = (a - 1, -b) for shape a > 0 and rate b > 0. Parameters are
 * interleaved unit by unit: (theta1_0, theta2_0, theta1_1, ...).
 * psi = lgamma(a) - a log b, eta = (digamma(a) - log b, a / b).
 *
 * The inverse has no closed form: with c = log E[x] - E[log x] (> 0 by
 * Jensen) the shape solves log a - digamma(a) = c, and then b = a / E[x].
 * The equation is solved by Newton in t = log a, on which the left side is
 * a convex decreasing function, so the iteration converges monotonically
 * from Minka's (2002) closed-form start.
 */
#include <float.h>
#include <math.h>

#include "hm_engine.h"
#include "hm_specfun.h"
#include "selftest.h"
#include "selftest_util.h"

/* From this shape on, log a - digamma(a) and 1 - a trigamma(a) come from
 * their asymptotic series (first omitted term < 1e-18, as in hm_specfun.c):
 * the direct differences cancel to ~eps a relative error. */
#define GAM_ASYM_A 10.0


/* Bernoulli numbers B_2 .. B_16 (exact rationals). */
static const double bern[8] = {
    1.0 / 6.0,  -1.0 / 30.0,     1.0 / 42.0, -1.0 / 30.0,
    5.0 / 66.0, -691.0 / 2730.0, 7.0 / 6.0,  -3617.0 / 510.0,
};

// --- helpers ------------------------------------------------------------------

/*
 * h(a) = log a - digamma(a) > 0. For a >= GAM_ASYM_A the asymptotic
 * expansion of digamma gives h(a) = 1/(2a) + sum_k B_2k / (2k a^2k)
 * directly, with full relative accuracy even for a = 1e12 where the
 * difference of the two ~28-sized logs would keep only 4 digits.
 */
static double log_minus_digamma(double a) {
    if (a < GAM_ASYM_A) {
        return log(a) - hm_digamma(a);
    }
    double r2 = 1.0 / (a * a), acc = 0.0;
    for (int k = 8; k >= 1; k--) {
        acc = acc * r2 + bern[k - 1] / (double)(2 * k);
    }
    return 0.5 / a + acc * r2;
}

/*
 * d h / d(log a) = 1 - a trigamma(a) < 0; for large a from
 * a trigamma(a) = 1 + 1/(2a) + sum_k B_2k / a^2k.
 */
static double dh_dlog(double a) {
    if (a < GAM_ASYM_A) {
        return 1.0 - a * hm_trigamma(a);
    }
    double r2 = 1.0 / (a * a), acc = 0.0;
    for (int k = 8; k >= 1; k--) {
        acc = acc * r2 + bern[k - 1];
    }
    return -(0.5 / a + acc * r2);
}

/* The natural domain per unit: shape a = theta1 + 1 > 0, rate -theta2 > 0. */
static int unit_ok(const double *t) {
    return isfinite(t[0]) && isfinite(t[1]) && t[0] > -1.0 && t[1] < 0.0;
}

/*
 * One unit's inverse. The mean domain is E[x] > 0 and c = log E[x] -
 * E[log x] > 0. Start: Minka's approximation
 * a0 = (3 - c + sqrt((c - 3)^2 + 24 c)) / (12 c) (within ~1.5%). Newton in
 * t = log a; converged when the step is below tol (a relative change of a)
 * or when the residual is at the rounding level of h. On success th =
 * (a - 1, -b) and *psi = psi(th).
 */
static hm_status gam_solve(double e1, double e2, double tol, int maxit, double *th, double *psi) {
    if (!isfinite(e1) || !isfinite(e2) || !(e2 > 0.0)) {
        return HM_EDOM;
    }
    double c = log(e2) - e1;
    if (!(c > 0.0)) {
        return HM_EDOM;
    }
    double a = (3.0 - c + sqrt((c - 3.0) * (c - 3.0) + 24.0 * c)) / (12.0 * c);
    // Newton on t = log a keeps a > 0 without any safeguard, and h is
    // close to linear in t at both ends (h ~ 1/a and h ~ 1/(2a)).
    double t = log(a);
    int done = 0;
    for (int it = 0; it < maxit && !done; it++) {
        double r = log_minus_digamma(a) - c;
        if (fabs(r) <= 4.0 * DBL_EPSILON * c) {
            done = 1;
            break;
        }
        double dt = -r / dh_dlog(a);
        t += dt;
        a = exp(t);
        done = fabs(dt) <= tol;
    }
    if (!done) {
        return HM_EMAXITER;
    }
    double b = a / e2;
    th[0] = a - 1.0;
    th[1] = -b;
    *psi = hm_lgamma(a) - a * log(b);
    return HM_OK;
}

// --- the ops table -----------------------------------------------------------

/* s(x) = (log x, x) per unit; x is assumed to pass check_data. */
static void gam_stat(const hm_family *f, const double *x, double *s) {
    for (int i = 0; i < f->n; i++) {
        s[2 * i] = log(x[i]);
        s[2 * i + 1] = x[i];
    }
}

static double gam_log_base(const hm_family *f, const double *x) {
    (void)f;
    (void)x;
    return 0.0;
}

/* psi = sum over units of lgamma(a) - a log b. */
static hm_status
gam_log_partition(const hm_family *f, const double *theta, double *psi, double *work) {
    (void)work;
    double acc = 0.0;
    for (int i = 0; i < f->n; i++) {
        const double *t = theta + 2 * i;
        if (!unit_ok(t)) {
            return HM_EDOM;
        }
        double a = t[0] + 1.0, b = -t[1];
        acc += hm_lgamma(a) - a * log(b);
    }
    *psi = acc;
    return HM_OK;
}

/* eta = (E[log x], E[x]) = (digamma(a) - log b, a / b) per unit. */
static hm_status gam_to_mean(const hm_family *f, const double *theta, double *eta, double *work) {
    (void)work;
    for (int i = 0; i < f->n; i++) {
        const double *t = theta + 2 * i;
        if (!unit_ok(t)) {
            return HM_EDOM;
        }
        double a = t[0] + 1.0, b = -t[1];
        eta[2 * i] = hm_digamma(a) - log(b);
        eta[2 * i + 1] = a / b;
    }
    return HM_OK;
}

/*
 * With a boundary floor (hm_ctrl's cfloor), a unit whose
 * c = log E[x] - E[log x] is within the floor of 0, where the averages of
 * identical values land by rounding (on either side), gets c = floor: a
 * finite, very large shape that the fit reports.
 */
static hm_status gam_to_natural(
    const hm_family *f, const double *eta, double *theta, double *work, const hm_ctrl *ctl) {
    (void)work;
    const double fl = hm_ctrl_cfloor(ctl);
    if (!(fl > 0.0)) {
        return hm_unit2_to_natural(f, eta, theta, ctl, gam_solve);
    }
    double tol, psi;
    int maxit;
    hm_ctrl_solver(ctl, &tol, &maxit);
    for (int i = 0; i < f->n; i++) {
        double e1 = eta[2 * i], e2 = eta[2 * i + 1];
        if (isfinite(e1) && isfinite(e2) && e2 > 0.0) {
            const double c = log(e2) - e1;
            if (c < fl && c > -fl * (1.0 + fabs(e1))) {
                e1 = log(e2) - fl;
            }
        }
        hm_status st = gam_solve(e1, e2, tol, maxit, theta + 2 * i, &psi);
        if (st != HM_OK) {
            return st;
        }
    }
    return HM_OK;
}

/* phi(eta) = theta(eta).eta - psi(theta(eta)), unit by unit (theory.md 1.1). */
static hm_status gam_neg_entropy(
    const hm_family *f, const double *eta, double *phi, double *work, const hm_ctrl *ctl) {
    (void)work;
    return hm_unit2_neg_entropy(f, eta, phi, ctl, gam_solve);
}

/*
 * x = G(a) / b. For a < 1 the variate is formed on the log scale as
 * exp(log G(a + 1) + log(U) / a - log b) (the Marsaglia-Tsang boost, an
 * exact identity), so that small shapes underflow to 0 only when the value
 * itself is below the smallest double.
 */
static hm_status
gam_sample(const hm_family *f, const double *theta, int n, hm_rng *rng, double *x, double *work) {
    (void)work;
    for (int u = 0; u < f->n; u++) {
        const double *t = theta + 2 * u;
        if (!unit_ok(t)) {
            return HM_EDOM;
        }
        double a = t[0] + 1.0, b = -t[1];
        for (int i = 0; i < n; i++) {
            double v;
            if (a < 1.0) {
                v = exp(log(rng->gamma(rng->ctx, a + 1.0)) + log(rng->unif(rng->ctx)) / a - log(b));
            } else {
                v = rng->gamma(rng->ctx, a) / b;
            }
            x[(size_t)i * (size_t)f->d + (size_t)u] = v;
        }
    }
    return HM_OK;
}

static hm_status gam_check_natural(const hm_family *f, const double *theta) {
    for (int i = 0; i < f->n; i++) {
        if (!unit_ok(theta + 2 * i)) {
            return HM_EDOM;
        }
    }
    return HM_OK;
}

/* The support: finite x > 0 in every unit. */
static hm_status gam_check_data(const hm_family *f, const double *x) {
    for (int i = 0; i < f->n; i++) {
        if (!isfinite(x[i]) || !(x[i] > 0.0)) {
            return HM_EDOM;
        }
    }
    return HM_OK;
}

/* Every map works unit by unit on the stack. */
static size_t gam_work_len(const hm_family *f) {
    (void)f;
    return 0;
}

const hm_family_ops hm_fam_gamma_ops = {
    "gamma",         gam_stat,   gam_log_base,      gam_log_partition, gam_to_mean,  gam_to_natural,
    gam_neg_entropy, gam_sample, gam_check_natural, gam_check_data,    gam_work_len, 0,
};

// --- self-test ---------------------------------------------------------------
// Two units: the density against the textbook formula, the duality
// identities (also at very small and large shapes), sampling through the
// shared test generator (Marsaglia-Tsang, selftest_util.h) and every status.

enum { GAM_TEST_UNITS = 2, GAM_TEST_DRAWS = 50000 };

int hm_fam_gamma_selftest(char *msg, size_t len) {
    const hm_family_ops *ops = &hm_fam_gamma_ops;
    hm_ctrl ctl = {0.0, 1e-12, 100, 0.0, 0.0};
    const hm_st_ctx c = {NULL, &ctl, NULL, msg, len};
    hm_family f1, f2;
    HM_ST_CHECK(&c,
                hm_family_init(&f1, HM_FAM_GAMMA, 1, 0, 0) == HM_OK &&
                    hm_family_init(&f2, HM_FAM_GAMMA, GAM_TEST_UNITS, 0, 0) == HM_OK,
                "descriptor init failed");
    // (shape, rate) = (2.385, 0.73) and (0.41, 3.7).
    const double sh[GAM_TEST_UNITS] = {2.385, 0.41}, rt[GAM_TEST_UNITS] = {0.73, 3.7};
    double th[2 * GAM_TEST_UNITS];
    for (int u = 0; u < GAM_TEST_UNITS; u++) {
        th[2 * u] = sh[u] - 1.0;
        th[2 * u + 1] = -rt[u];
    }

    // The density against the textbook formula b^a x^(a-1) e^(-bx) / Gamma(a),
    // evaluated with libm's tgamma and pow on a geometric grid of x that
    // spans both tails.
    for (int u = 0; u < GAM_TEST_UNITS; u++) {
        double psi;
        HM_ST_CHECK(&c, ops->log_partition(&f1, th + 2 * u, &psi, NULL) == HM_OK,
                    "log_partition failed");
        for (double x = 0.013; x < 40.0; x *= 1.7) {
            double got = exp(hm_st_log_density(&f1, th + 2 * u, psi, &x));
            double want = pow(rt[u], sh[u]) * pow(x, sh[u] - 1.0) * exp(-rt[u] * x) / tgamma(sh[u]);
            HM_ST_CHECK(&c, fabs(got - want) < 1e-12 * want,
                        "unit %d density at %g: %.17g vs %.17g", u, x, got, want);
        }
    }

    // to_mean is the gradient of psi (central differences: truncation ~h^2,
    // rounding ~1e-16 / h, both far below the tolerance); the round trip and
    // the Legendre identity.
    if (hm_st_check_gradient(&c, &f2, th, 1e-6, HM_ST_STEP_ABS, HM_ST_REL(1e-7, 1e-7)) ||
        hm_st_check_round_trip(&c, &f2, th, HM_ST_REL(0.0, 1e-8)) ||
        hm_st_check_legendre(&c, &f2, th, HM_ST_REL_GOT(1e-11, 1e-11))) {
        return 1;
    }
    // Round trips at very small and large shapes, to the shape's own
    // precision: for huge shapes c = log E[x] - E[log x] ~ 1/(2a) is itself
    // only known to ~eps a.
    {
        const double shapes[4] = {1.3e-3, 0.97, 37.5, 3.1e4};
        for (int i = 0; i < 4; i++) {
            double t[2] = {shapes[i] - 1.0, -1.9}, e[2], b[2];
            HM_ST_CHECK(&c,
                        ops->to_mean(&f1, t, e, NULL) == HM_OK &&
                            ops->to_natural(&f1, e, b, NULL, &ctl) == HM_OK,
                        "round trip failed at shape %g", shapes[i]);
            HM_ST_CHECK(&c,
                        fabs(b[0] + 1.0 - shapes[i]) < 1e-9 * shapes[i] &&
                            fabs(b[1] - t[1]) < 1e-9 * fabs(t[1]),
                        "shape %g back as %.17g", shapes[i], b[0] + 1.0);
        }
    }

    // Sampling: the average statistic of 50000 draws against to_mean (the
    // largest standard error here is ~0.7% of |eta|, at E[x] of shape 0.41);
    // every draw must be in the support.
    {
        hm_st_rng g;
        hm_rng rng;
        hm_st_rng_init(&g, 16180339u, &rng);
        const hm_st_moments mom = {GAM_TEST_DRAWS, 1, 0.0, NULL, HM_ST_REL(0.0, 0.03), NULL, NULL};
        if (hm_st_check_moments(&c, &f2, th, &rng, &mom)) {
            return 1;
        }
    }

    // Statuses: each error path is provoked once (style.md 3.11).
    {
        double t[2], psi;
        double e0[2] = {log(2.0), 2.0}, e1[2] = {0.1, -1.0}, e2[2] = {1.0, 2.0};
        HM_ST_CHECK(&c, ops->to_natural(&f1, e0, t, NULL, &ctl) == HM_EDOM, "c = 0 accepted");
        HM_ST_CHECK(&c, ops->to_natural(&f1, e1, t, NULL, &ctl) == HM_EDOM, "E[x] < 0 accepted");
        HM_ST_CHECK(&c, ops->to_natural(&f1, e2, t, NULL, &ctl) == HM_EDOM, "c < 0 accepted");
        // With a floor, c = 0 (identical values) gives a finite, huge shape;
        // c clearly below 0 is still outside the domain.
        hm_ctrl fctl = ctl;
        fctl.cfloor = 1e-12;
        HM_ST_CHECK(&c,
                    ops->to_natural(&f1, e0, t, NULL, &fctl) == HM_OK && t[0] > 1e10 && isfinite(t[0]) &&
                        isfinite(t[1]),
                    "a floored c = 0 gives shape %g", t[0] + 1.0);
        HM_ST_CHECK(&c, ops->to_natural(&f1, e2, t, NULL, &fctl) == HM_EDOM, "floored c < 0 accepted");
        double b1[2] = {-1.0, -1.0}, b2[2] = {0.5, 0.0};
        HM_ST_CHECK(&c,
                    ops->check_natural(&f1, b1) == HM_EDOM &&
                        ops->check_natural(&f1, b2) == HM_EDOM &&
                        ops->log_partition(&f1, b1, &psi, NULL) == HM_EDOM,
                    "invalid theta accepted");
        double x0 = 0.0, x1 = 3.2;
        HM_ST_CHECK(&c, ops->check_data(&f1, &x0) == HM_EDOM && ops->check_data(&f1, &x1) == HM_OK,
                    "check_data");
        hm_ctrl one = {0.0, 1e-14, 1, 0.0, 0.0};
        double e3[2];
        ops->to_mean(&f1, th, e3, NULL);
        HM_ST_CHECK(&c, ops->to_natural(&f1, e3, t, NULL, &one) == HM_EMAXITER,
                    "maxit = 1 converged");
    }
    return 0;
}
