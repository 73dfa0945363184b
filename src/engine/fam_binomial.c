/*
 * fam_binomial.c: n independent Binomial(t) units, t = f->trials
 * (theory.md 2.2).
 *
 * A datum is n counts in 0..t; s(x) = x, theta_i = logit p_i and
 * log mu(x) = sum log C(t, x_i).
 *   psi = t sum softplus(theta_i),   eta_i = t sigmoid(theta_i),
 *   theta(eta)_i = log eta_i - log(t - eta_i),
 *   phi = sum eta log p + (t - eta) log(1 - p),  p = eta / t,
 * which is t [p log p + (1 - p) log(1 - p)] per unit (0 log 0 = 0).
 * Binomial(1) is the Bernoulli family (checked in the self-test). No
 * scratch is needed.
 */
#include <math.h>

#include "hm_engine.h"
#include "hm_specfun.h"
#include "selftest.h"
#include "selftest_util.h"

// x log y with the limit 0 at x = 0 (theory.md 8, "xlogy").
static double xlogy(double x, double y) {
    return x > 0.0 ? x * log(y) : 0.0;
}

// --- tier 0 --------------------------------------------------------------------

// s(x) = x: the units are independent copies (theory.md 1.1, the
// replicated combinator), one statistic per unit.
static void bin_stat(const hm_family *f, const double *x, double *s) {
    for (int i = 0; i < f->n; i++) {
        s[i] = x[i];
    }
}

// sum log C(t, x_i) through log-gamma differences (hm_lchoose), exact for
// any t without forming the possibly huge coefficient itself.
static double bin_log_base(const hm_family *f, const double *x) {
    const double t = (double)f->trials;
    double acc = 0.0;
    for (int i = 0; i < f->n; i++) {
        acc += hm_lchoose(t, x[i]);
    }
    return acc;
}

// --- tier 3 --------------------------------------------------------------------

// psi = t sum softplus(theta): finite for any finite theta (hm_log1pexp).
static hm_status bin_log_partition(const hm_family *f,
                                   const double *theta,
                                   double *psi,
                                   double *work) {
    (void)work;
    if (!hm_all_finite(theta, f->n)) {
        return HM_EDOM;
    }
    double acc = 0.0;
    for (int i = 0; i < f->n; i++) {
        acc += hm_log1pexp(theta[i]);
    }
    *psi = (double)f->trials * acc;
    return HM_OK;
}

// eta = t sigmoid(theta), the expected counts.
static hm_status bin_to_mean(const hm_family *f, const double *theta, double *eta, double *work) {
    (void)work;
    if (!hm_all_finite(theta, f->n)) {
        return HM_EDOM;
    }
    const double t = (double)f->trials;
    for (int i = 0; i < f->n; i++) {
        eta[i] = t * hm_sigmoid(theta[i]);
    }
    return HM_OK;
}

// --- tier 4 --------------------------------------------------------------------

// theta = log(eta / (t - eta)), defined only strictly inside (0, t), else HM_EDOM (all entries are
// checked before theta is written). With a boundary floor (hm_ctrl) the success probability eta /
// t is kept within [floor, 1 - floor].
static hm_status bin_to_natural(const hm_family *f,
                                const double *eta,
                                double *theta,
                                double *work,
                                const hm_ctrl *ctl) {
    const double t = (double)f->trials;
    (void)work;
    const double fl = hm_ctrl_floor(ctl);
    for (int i = 0; i < f->n; i++) {
        const int inside = eta[i] > 0.0 && eta[i] < t;
        const int near = fl > 0.0 && eta[i] >= -fl * t && eta[i] <= t * (1.0 + fl);
        if (!inside && !near) {
            return HM_EDOM;
        }
    }
    for (int i = 0; i < f->n; i++) {
        double p = eta[i] / t;
        p = p < fl ? fl : (p > 1.0 - fl ? 1.0 - fl : p);
        theta[i] = log(p) - log1p(-p);
    }
    return HM_OK;
}

// phi on the closed box [0, t]^n with xlogy at the boundary; HM_EDOM
// outside it.
static hm_status bin_neg_entropy(const hm_family *f,
                                 const double *eta,
                                 double *phi,
                                 double *work,
                                 const hm_ctrl *ctl) {
    const double t = (double)f->trials;
    (void)work;
    (void)ctl;
    double acc = 0.0;
    for (int i = 0; i < f->n; i++) {
        if (!(eta[i] >= 0.0 && eta[i] <= t)) {
            return HM_EDOM;
        }
        const double q = t - eta[i];
        acc += xlogy(eta[i], eta[i] / t) + xlogy(q, q / t);
    }
    *phi = acc;
    return HM_OK;
}

// --- tier 2 --------------------------------------------------------------------

// Exact draws from the host's binomial generator (R's rbinom in the glue).
static hm_status bin_sample(const hm_family *f,
                            const double *theta,
                            int n,
                            hm_rng *rng,
                            double *x,
                            double *work) {
    const int d = f->n;
    const double t = (double)f->trials;
    (void)work;
    if (n < 0) {
        return HM_EINVAL;
    }
    if (!hm_all_finite(theta, d)) {
        return HM_EDOM;
    }
    for (int r = 0; r < n; r++) {
        for (int j = 0; j < d; j++) {
            x[(size_t)r * (size_t)d + (size_t)j] = rng->binom(rng->ctx, t, hm_sigmoid(theta[j]));
        }
    }
    return HM_OK;
}

// --- validity checks and scratch -----------------------------------------------

// Every finite theta is valid: the natural domain is all of R^n.
static hm_status bin_check_natural(const hm_family *f, const double *theta) {
    return hm_all_finite(theta, f->n) ? HM_OK : HM_EDOM;
}

// Integer counts in 0..t, stored as doubles (the glue passes R doubles);
// a fractional or out-of-range count has no base measure.
static hm_status bin_check_data(const hm_family *f, const double *x) {
    const double t = (double)f->trials;
    for (int i = 0; i < f->n; i++) {
        if (!isfinite(x[i]) || x[i] != floor(x[i]) || x[i] < 0.0 || x[i] > t) {
            return HM_EDOM;
        }
    }
    return HM_OK;
}

// Everything is elementwise: no scratch.
static size_t bin_work_len(const hm_family *f) {
    (void)f;
    return 0;
}

const hm_family_ops hm_fam_binomial_ops = {
    "binomial",
    bin_stat,
    bin_log_base,
    bin_log_partition,
    bin_to_mean,
    bin_to_natural,
    bin_neg_entropy,
    bin_sample,
    bin_check_natural,
    bin_check_data,
    bin_work_len,
    1,
};

// --- self-test -----------------------------------------------------------------
// Two Binomial(7) units: normalisation over all 64 states, the duality
// identities, domain statuses, Binomial(1) = Bernoulli, and sampling means
// through the shared test generator (binomial inversion, selftest_util.h).

int hm_fam_binomial_selftest(char *msg, size_t msglen) {
    const hm_family_ops *ops = &hm_fam_binomial_ops;
    double w[1];
    const hm_st_ctx c = {w, NULL, NULL, msg, msglen};
    hm_family f, f1, fb;
    HM_ST_CHECK(&c,
                hm_family_init(&f, HM_FAM_BINOMIAL, 2, 0, 7) == HM_OK &&
                    hm_family_init(&f1, HM_FAM_BINOMIAL, 2, 0, 1) == HM_OK &&
                    hm_family_init(&fb, HM_FAM_BERNOULLI, 2, 0, 0) == HM_OK && f.dim == 2 &&
                    f.trials == 7,
                "descriptor init failed");
    const double th[2] = {0.61, -1.385};
    double psi, eta[2], back[2], phi;
    HM_ST_CHECK(
        &c, ops->log_partition(&f, th, &psi, w) == HM_OK && ops->to_mean(&f, th, eta, w) == HM_OK,
        "a map failed at a valid theta");
    // Normalisation over all (t + 1)^2 states; this also checks the base
    // measure log C(t, x) (a wrong sign or a missing term is far off 1).
    double tot = 0.0;
    for (int a = 0; a <= 7; a++) {
        for (int b = 0; b <= 7; b++) {
            double x[2] = {(double)a, (double)b};
            tot += exp(hm_st_log_density(&f, th, psi, x));
        }
    }
    HM_ST_CHECK(&c, hm_st_near(tot, 1.0, 1e-13), "normalisation %.15g", tot);
    // to_natural(to_mean(theta)) = theta, the Legendre identity phi(eta) =
    // theta . eta - psi(theta), and eta = a central difference of psi.
    if (hm_st_check_round_trip(&c, &f, th, HM_ST_NEAR(1e-10)) ||
        hm_st_check_legendre(&c, &f, th, HM_ST_NEAR(1e-12)) ||
        hm_st_check_gradient(&c, &f, th, 1e-5, HM_ST_STEP_ABS, HM_ST_NEAR(1e-8))) {
        return 1;
    }
    // Binomial(1) agrees with the Bernoulli family map by map (theory.md
    // 2.2): psi, eta and the base measure log C(1, x) = 0.
    const hm_family_ops *bops = &hm_fam_bernoulli_ops;
    double p1, pb, e1[2], eb[2];
    const double x01[2] = {1.0, 0.0};
    HM_ST_CHECK(&c,
                ops->log_partition(&f1, th, &p1, w) == HM_OK &&
                    bops->log_partition(&fb, th, &pb, w) == HM_OK &&
                    ops->to_mean(&f1, th, e1, w) == HM_OK &&
                    bops->to_mean(&fb, th, eb, w) == HM_OK && hm_st_near(p1, pb, 1e-15) &&
                    hm_st_near(e1[0], eb[0], 1e-15) && hm_st_near(e1[1], eb[1], 1e-15) &&
                    hm_st_near(ops->log_base(&f1, x01), bops->log_base(&fb, x01), 1e-15),
                "Binomial(1) differs from Bernoulli");
    // Domain statuses: to_natural needs (0, t), neg_entropy [0, t]; data
    // must be integers in 0..t.
    const double e0[2] = {0.0, 3.0}, et[2] = {7.0, 3.0}, eo[2] = {7.5, 3.0};
    const double x_ok[2] = {0.0, 7.0}, x_frac[2] = {1.5, 2.0}, x_big[2] = {8.0, 2.0};
    const double t_nan[2] = {NAN, 0.0};
    HM_ST_CHECK(&c,
                ops->to_natural(&f, e0, back, w, NULL) == HM_EDOM &&
                    ops->to_natural(&f, et, back, w, NULL) == HM_EDOM &&
                    ops->neg_entropy(&f, et, &phi, w, NULL) == HM_OK &&
                    hm_st_near(phi, 3.0 * log(3.0 / 7.0) + 4.0 * log(4.0 / 7.0), 1e-14) &&
                    ops->neg_entropy(&f, eo, &phi, w, NULL) == HM_EDOM &&
                    ops->check_data(&f, x_ok) == HM_OK && ops->check_data(&f, x_frac) == HM_EDOM &&
                    ops->check_data(&f, x_big) == HM_EDOM &&
                    ops->check_natural(&f, t_nan) == HM_EDOM && ops->check_natural(&f, th) == HM_OK,
                "domain statuses wrong");
    // Sampling means within 0.02 standard deviations of each count, sd =
    // sqrt(t p (1 - p)) (about 4.5 standard errors at 50000 draws); the
    // draws must also pass check_data.
    const double sd[2] = {sqrt(eta[0] * (1.0 - eta[0] / 7.0)), sqrt(eta[1] * (1.0 - eta[1] / 7.0))};
    hm_st_rng g;
    hm_rng rng;
    hm_st_rng_init(&g, 31337u, &rng);
    const hm_st_moments mom = {50000, 500, 0.02, sd, HM_ST_ABS(0.0), NULL, NULL};
    return hm_st_check_moments(&c, &f, th, &rng, &mom);
}
