/*
 * fam_vonmises.c: the von Mises family (theory.md 2.6), f->n independent
 * angles.
 *
 * Per unit: x an angle (radians, any finite value), s(x) = (cos x, sin x),
 * log mu = -log 2 pi, natural parameters theta = kappa (cos m, sin m) with
 * concentration kappa = |theta| and mean direction m. Parameters are
 * interleaved unit by unit: (theta1_0, theta2_0, theta1_1, ...).
 *
 * psi = log I0(kappa) and eta = A(kappa) theta / kappa with A = I1 / I0,
 * both from the exp-scaled Bessel evaluations of hm_specfun.c, so that
 * nothing overflows at large kappa. The inverse (no closed form, theory.md
 * 2.6) solves A(kappa) = |eta| by Newton in the direction eta / |eta|.
 */
#include <float.h>
#include <math.h>

#include "hm_engine.h"
#include "hm_specfun.h"
#include "selftest.h"
#include "selftest_util.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Below this concentration a draw is uniform (theory.md 2.6 uses 0.01;
 * the density differs from uniform by a factor 1 + O(kappa)). */
#define VM_KAPPA_UNIFORM 1e-8

/* Below this kappa, A(kappa)/kappa = 1/2 - kappa^2/16 + O(kappa^4) exactly
 * to double precision; avoids dividing two subnormals. */
#define VM_KAPPA_SMALL 1e-8

/* Above this kappa, A'(kappa) is taken from its expansion (the identity
 * 1 - A/kappa - A^2 cancels to ~eps kappa^2 relative error there). */
#define VM_KAPPA_LARGE 1e3

/* Proposals per draw before giving up (the acceptance rate of the
 * Best-Fisher envelope is above 0.65 for every kappa). */
#define VM_MAX_TRIES 1000


// --- helpers -----------------------------------------------------------------

/* A(kappa) / kappa, with its limit 1/2 at kappa = 0. */
static double ratio_over_kappa(double kappa) {
    if (kappa < VM_KAPPA_SMALL) {
        return 0.5 - kappa * kappa / 16.0;
    }
    return hm_bessel_ratio(kappa) / kappa;
}

/*
 * A'(kappa) = 1 - A/kappa - A^2 (hm_specfun.h). For large kappa the three
 * terms cancel to ~1/(2 kappa^2), so the expansion
 * A' = 1/(2k^2) + 1/(4k^3) + 3/(8k^4) + O(k^-5) is used instead; its error,
 * relative O(k^-3), only slows Newton imperceptibly.
 */
static double ratio_deriv(double kappa, double a) {
    if (kappa < VM_KAPPA_SMALL) {
        return 0.5;
    }
    if (kappa > VM_KAPPA_LARGE) {
        double r = 1.0 / kappa;
        return r * r * (0.5 + r * (0.25 + 0.375 * r));
    }
    return 1.0 - a / kappa - a * a;
}

/*
 * Solves A(kappa) = r for 0 < r < 1 by Newton from the Banerjee et al.
 * (2005) approximation r (2 - r^2) / (1 - r^2). A is increasing and
 * concave, so from the left of the root Newton climbs monotonically and
 * from the right its first step lands on the left; a step to kappa <= 0 is
 * replaced by halving kappa. Converged when the step is below tol relative
 * to kappa, or when the residual is at the rounding level of A (<= 1):
 * close to r = 1 the root is only determined to ~eps / A'(kappa).
 */
static hm_status vm_solve_kappa(double r, double tol, int maxit, double *kappa) {
    double k = r * (2.0 - r * r) / (1.0 - r * r);
    for (int it = 0; it < maxit; it++) {
        double a = hm_bessel_ratio(k), f = a - r;
        if (fabs(f) <= 2.0 * DBL_EPSILON) {
            *kappa = k;
            return HM_OK;
        }
        double kn = k - f / ratio_deriv(k, a);
        if (!(kn > 0.0)) {
            kn = 0.5 * k;
        }
        if (fabs(kn - k) <= tol * kn) {
            *kappa = kn;
            return HM_OK;
        }
        k = kn;
    }
    return HM_EMAXITER;
}

/* A unit's parameters must be finite; any kappa >= 0 is valid. */
static int unit_ok(const double *t) { return isfinite(t[0]) && isfinite(t[1]); }

// --- the ops table ------------------------------------------------------------

/* s(x) = (cos x, sin x) per unit. */
static void vm_stat(const hm_family *f, const double *x, double *s) {
    for (int i = 0; i < f->n; i++) {
        s[2 * i] = cos(x[i]);
        s[2 * i + 1] = sin(x[i]);
    }
}

static double vm_log_base(const hm_family *f, const double *x) {
    (void)x;
    return -(double)f->n * log(2.0 * M_PI);
}

static hm_status
vm_log_partition(const hm_family *f, const double *theta, double *psi, double *work) {
    (void)work;
    double acc = 0.0;
    for (int i = 0; i < f->n; i++) {
        if (!unit_ok(theta + 2 * i)) {
            return HM_EDOM;
        }
        acc += hm_log_i0(hypot(theta[2 * i], theta[2 * i + 1]));
    }
    *psi = acc;
    return HM_OK;
}

/* eta = A(kappa) theta / kappa; at kappa = 0 the limit theta / 2 = 0. */
static hm_status vm_to_mean(const hm_family *f, const double *theta, double *eta, double *work) {
    (void)work;
    for (int i = 0; i < f->n; i++) {
        if (!unit_ok(theta + 2 * i)) {
            return HM_EDOM;
        }
        double c = ratio_over_kappa(hypot(theta[2 * i], theta[2 * i + 1]));
        eta[2 * i] = c * theta[2 * i];
        eta[2 * i + 1] = c * theta[2 * i + 1];
    }
    return HM_OK;
}

/*
 * The mean domain is the open unit disc: |eta| = A(kappa) < 1. Each unit:
 * kappa from vm_solve_kappa, direction eta / |eta|; eta = 0 maps to 0.
 * With a boundary floor (hm_ctrl's cfloor), a mean within it of the
 * circle, where averages of identical angles land by rounding (on either
 * side), is moved to |eta| = 1 - cfloor: a finite, very large
 * concentration that the fit reports.
 * On success *psi (if not NULL) receives the log-partition at the result.
 */
static hm_status vm_natural_units(
    const hm_family *f, const double *eta, double *theta, const hm_ctrl *ctl, double *psi) {
    double tol, acc = 0.0;
    int maxit;
    hm_ctrl_solver(ctl, &tol, &maxit);
    for (int i = 0; i < f->n; i++) {
        double e1 = eta[2 * i], e2 = eta[2 * i + 1];
        if (!isfinite(e1) || !isfinite(e2)) {
            return HM_EDOM;
        }
        double r = hypot(e1, e2), kappa = 0.0;
        const double fl = hm_ctrl_cfloor(ctl);
        if (fl > 0.0 && r >= 1.0 - fl && r < 1.0 + fl) {
            e1 *= (1.0 - fl) / r;
            e2 *= (1.0 - fl) / r;
            r = hypot(e1, e2);
        }
        if (!(r < 1.0)) {
            return HM_EDOM;
        }
        if (r > 0.0) {
            hm_status st = vm_solve_kappa(r, tol, maxit, &kappa);
            if (st != HM_OK) {
                return st;
            }
        }
        theta[2 * i] = r > 0.0 ? kappa * e1 / r : 0.0;
        theta[2 * i + 1] = r > 0.0 ? kappa * e2 / r : 0.0;
        acc += hm_log_i0(kappa);
    }
    if (psi != NULL) {
        *psi = acc;
    }
    return HM_OK;
}

static hm_status vm_to_natural(
    const hm_family *f, const double *eta, double *theta, double *work, const hm_ctrl *ctl) {
    (void)work;
    return vm_natural_units(f, eta, theta, ctl, NULL);
}

/*
 * phi(eta) = theta.eta - psi(theta) = kappa |eta| - log I0(kappa) per unit
 * (theory.md 1.1). theta is staged in work (2n doubles).
 */
static hm_status vm_neg_entropy(
    const hm_family *f, const double *eta, double *phi, double *work, const hm_ctrl *ctl) {
    double psi;
    hm_status st = vm_natural_units(f, eta, work, ctl, &psi);
    if (st != HM_OK) {
        return st;
    }
    double dot = 0.0;
    for (int i = 0; i < 2 * f->n; i++) {
        dot += work[i] * eta[i];
    }
    *phi = dot - psi;
    return HM_OK;
}

/*
 * One draw by the Best-Fisher (1979) wrapped-Cauchy rejection algorithm
 * (theory.md 2.6). The envelope parameter rho = (tau - sqrt(2 tau)) / (2k),
 * tau = 1 + sqrt(1 + 4k^2), is computed in the algebraically equal form
 * 2 k tau / ((sqrt(1 + 4k^2) + 1)(tau + sqrt(2 tau))), which has no
 * cancellation as k -> 0 (the direct form loses ~log10(1/k^2) digits).
 * The angle is returned wrapped to [-pi, pi).
 */
static hm_status vm_draw(double kappa, double mdir, hm_rng *rng, double *x) {
    if (kappa < VM_KAPPA_UNIFORM) {
        *x = M_PI * (2.0 * rng->unif(rng->ctx) - 1.0);
        return HM_OK;
    }
    double sq = hypot(1.0, 2.0 * kappa), tau = 1.0 + sq;
    double rho = 2.0 * kappa * tau / ((sq + 1.0) * (tau + sqrt(2.0 * tau)));
    double s = (1.0 + rho * rho) / (2.0 * rho);
    for (int k = 0; k < VM_MAX_TRIES; k++) {
        double u = 2.0 * rng->unif(rng->ctx) - 1.0, v = rng->unif(rng->ctx);
        double z = cos(M_PI * u);
        double w = (1.0 + s * z) / (s + z);
        w = w > 1.0 ? 1.0 : (w < -1.0 ? -1.0 : w); // rounding at z ~ -s
        double y = kappa * (s - w);
        if (y * (2.0 - y) >= v || log(y / v) + 1.0 >= y) {
            double a = (u < 0.0 ? -acos(w) : acos(w)) + mdir;
            if (a >= M_PI) {
                a -= 2.0 * M_PI;
            } else if (a < -M_PI) {
                a += 2.0 * M_PI;
            }
            *x = a;
            return HM_OK;
        }
    }
    return HM_EMAXITER;
}

static hm_status
vm_sample(const hm_family *f, const double *theta, int n, hm_rng *rng, double *x, double *work) {
    (void)work;
    for (int u = 0; u < f->n; u++) {
        if (!unit_ok(theta + 2 * u)) {
            return HM_EDOM;
        }
        double kappa = hypot(theta[2 * u], theta[2 * u + 1]);
        double mdir = atan2(theta[2 * u + 1], theta[2 * u]);
        for (int i = 0; i < n; i++) {
            hm_status st = vm_draw(kappa, mdir, rng, &x[(size_t)i * (size_t)f->d + (size_t)u]);
            if (st != HM_OK) {
                return st;
            }
        }
    }
    return HM_OK;
}

static hm_status vm_check_natural(const hm_family *f, const double *theta) {
    for (int i = 0; i < f->n; i++) {
        if (!unit_ok(theta + 2 * i)) {
            return HM_EDOM;
        }
    }
    return HM_OK;
}

static hm_status vm_check_data(const hm_family *f, const double *x) {
    for (int i = 0; i < f->n; i++) {
        if (!isfinite(x[i])) {
            return HM_EDOM;
        }
    }
    return HM_OK;
}

/* neg_entropy stages theta (2n doubles). */
static size_t vm_work_len(const hm_family *f) { return 2 * (size_t)f->n; }

const hm_family_ops hm_fam_vonmises_ops = {
    "vonmises",     vm_stat,   vm_log_base,      vm_log_partition, vm_to_mean,  vm_to_natural,
    vm_neg_entropy, vm_sample, vm_check_natural, vm_check_data,    vm_work_len, 0,
};

// --- self-test ---------------------------------------------------------------
// Three units from near-uniform to concentrated: the density and its
// moments by quadrature, the duality identities, kappa = 0 and extreme
// concentrations, sampling through the shared test generator
// (selftest_util.h) and every status.

enum { VM_TEST_UNITS = 3, VM_TEST_DRAWS = 50000, VM_TEST_GRID = 4096 };

// Sampling hook: every draw is wrapped to [-pi, pi).
static int
vm_wrapped(const hm_st_ctx *c, const hm_family *f, void *arg, const double *x, int rows) {
    (void)arg;
    for (int i = 0; i < rows * f->d; i++) {
        HM_ST_CHECK(c, x[i] >= -M_PI && x[i] < M_PI, "draw %.17g not wrapped to [-pi, pi)", x[i]);
    }
    return 0;
}

int hm_fam_vonmises_selftest(char *msg, size_t len) {
    const hm_family_ops *ops = &hm_fam_vonmises_ops;
    double work[2 * VM_TEST_UNITS];
    hm_ctrl ctl = {0.0, 1e-12, 100, 0.0, 0.0};
    const hm_st_ctx c = {work, &ctl, NULL, msg, len};
    hm_family f1, f3;
    HM_ST_CHECK(&c,
                hm_family_init(&f1, HM_FAM_VONMISES, 1, 0, 0) == HM_OK &&
                    hm_family_init(&f3, HM_FAM_VONMISES, VM_TEST_UNITS, 0, 0) == HM_OK,
                "descriptor init failed");
    // kappa = 2.385, 0.173 (power series) and 41.7 (large-x expansion).
    const double kap[VM_TEST_UNITS] = {2.385, 0.173, 41.7};
    const double dir[VM_TEST_UNITS] = {0.7, -2.9, 1.95};
    double th[2 * VM_TEST_UNITS];
    for (int u = 0; u < VM_TEST_UNITS; u++) {
        th[2 * u] = kap[u] * cos(dir[u]);
        th[2 * u + 1] = kap[u] * sin(dir[u]);
    }

    // The density integrates to 1 and its moments are to_mean: a Riemann sum
    // over [-pi, pi), exact to rounding for a smooth periodic integrand.
    for (int u = 0; u < VM_TEST_UNITS; u++) {
        double psi, e[2], tot = 0.0, mc = 0.0, ms = 0.0, h = 2.0 * M_PI / VM_TEST_GRID;
        HM_ST_CHECK(&c,
                    ops->log_partition(&f1, th + 2 * u, &psi, NULL) == HM_OK &&
                        ops->to_mean(&f1, th + 2 * u, e, NULL) == HM_OK,
                    "log_partition / to_mean failed");
        for (int g = 0; g < VM_TEST_GRID; g++) {
            double x = -M_PI + g * h, s[2];
            ops->stat(&f1, &x, s);
            double p = exp(hm_st_log_density(&f1, th + 2 * u, psi, &x));
            tot += p * h;
            mc += p * h * s[0];
            ms += p * h * s[1];
        }
        HM_ST_CHECK(&c, fabs(tot - 1.0) < 1e-13, "unit %d: density integrates to %.17g", u, tot);
        HM_ST_CHECK(&c, fabs(mc - e[0]) < 1e-13 && fabs(ms - e[1]) < 1e-13,
                    "unit %d: to_mean differs from the integral", u);
    }

    // to_mean is the gradient of psi (central differences); the round trip
    // and the Legendre identity.
    if (hm_st_check_gradient(&c, &f3, th, 1e-6, HM_ST_STEP_ABS, HM_ST_ABS(1e-8)) ||
        hm_st_check_round_trip(&c, &f3, th, HM_ST_REL(0.0, 1e-8)) ||
        hm_st_check_legendre(&c, &f3, th, HM_ST_REL_GOT(1e-11, 1e-11))) {
        return 1;
    }
    // kappa = 0 both ways, and round trips at extreme concentrations.
    {
        double z[2] = {0.0, 0.0}, e[2], t[2];
        HM_ST_CHECK(&c, ops->to_mean(&f1, z, e, NULL) == HM_OK && e[0] == 0.0 && e[1] == 0.0,
                    "eta(0)");
        HM_ST_CHECK(&c,
                    ops->to_natural(&f1, z, t, NULL, &ctl) == HM_OK && t[0] == 0.0 && t[1] == 0.0,
                    "theta(0)");
        // Newton from the Banerjee start needs at most ~6 steps anywhere.
        hm_ctrl ten = {0.0, 1e-12, 10, 0.0, 0.0};
        const double ks[4] = {1e-9, 3.1e-4, 2.4e3, 5.7e5};
        for (int i = 0; i < 4; i++) {
            double tk[2] = {ks[i] * cos(-1.1), ks[i] * sin(-1.1)};
            HM_ST_CHECK(&c,
                        ops->to_mean(&f1, tk, e, NULL) == HM_OK &&
                            ops->to_natural(&f1, e, t, NULL, &ten) == HM_OK,
                        "round trip failed at kappa %g", ks[i]);
            // Near |eta| = 1 kappa is only determined to ~eps kappa^2.
            double tolk = 1e-9 + 8.0 * DBL_EPSILON * ks[i];
            HM_ST_CHECK(&c, fabs(hypot(t[0], t[1]) - ks[i]) < tolk * ks[i],
                        "kappa %g back as %.17g", ks[i], hypot(t[0], t[1]));
        }
    }

    // Sampling: the average statistic of 50000 draws against to_mean
    // (|eta| <= 1 and standard errors are below 0.0032, so 0.02 absolute);
    // every draw must be finite and wrapped to [-pi, pi).
    {
        hm_st_rng g;
        hm_rng rng;
        hm_st_rng_init(&g, 31415926u, &rng);
        const hm_st_moments mom = {VM_TEST_DRAWS, 1, 0.0, NULL, HM_ST_ABS(0.02), vm_wrapped, NULL};
        if (hm_st_check_moments(&c, &f3, th, &rng, &mom)) {
            return 1;
        }
        // The uniform branch.
        double t0[2] = {1e-10, 0.0}, x0, mc = 0.0;
        for (int i = 0; i < VM_TEST_DRAWS; i++) {
            ops->sample(&f1, t0, 1, &rng, &x0, NULL);
            mc += cos(x0) / VM_TEST_DRAWS;
        }
        HM_ST_CHECK(&c, fabs(mc) < 0.02, "near-uniform draws have mean cos %g", mc);
    }

    // Statuses: each error path is provoked once (style.md 3.11).
    {
        double out[2] = {0.6, 0.8}, on[2] = {1.0, 0.0}, nan2[2] = {NAN, 0.1}, t[2], psi;
        HM_ST_CHECK(&c, ops->to_natural(&f1, out, t, NULL, &ctl) == HM_EDOM, "|eta| = 1 accepted");
        HM_ST_CHECK(&c, ops->to_natural(&f1, on, t, NULL, &ctl) == HM_EDOM,
                    "eta on the circle accepted");
        // With a floor, a mean on the circle to rounding is moved inside it,
        // one beyond the floor's reach is still outside the domain.
        hm_ctrl fctl = ctl;
        fctl.cfloor = 1e-12;
        double past[2] = {1.0 + 1e-9, 0.0};
        HM_ST_CHECK(&c,
                    ops->to_natural(&f1, on, t, NULL, &fctl) == HM_OK && t[0] > 1e10 && isfinite(t[0]) &&
                        fabs(t[1]) == 0.0,
                    "a floored mean on the circle gives kappa %g", t[0]);
        HM_ST_CHECK(&c, ops->to_natural(&f1, past, t, NULL, &fctl) == HM_EDOM, "|eta| > 1 + floor accepted");
        HM_ST_CHECK(&c,
                    ops->check_natural(&f1, nan2) == HM_EDOM &&
                        ops->log_partition(&f1, nan2, &psi, NULL) == HM_EDOM,
                    "NaN theta accepted");
        double x1 = 123.4, x2 = INFINITY;
        HM_ST_CHECK(&c, ops->check_data(&f1, &x1) == HM_OK && ops->check_data(&f1, &x2) == HM_EDOM,
                    "check_data");
        hm_ctrl one = {0.0, 1e-14, 1, 0.0, 0.0};
        double e[2] = {0.93, 0.05};
        HM_ST_CHECK(&c, ops->to_natural(&f1, e, t, NULL, &one) == HM_EMAXITER,
                    "maxit = 1 converged");
    }
    return 0;
}
