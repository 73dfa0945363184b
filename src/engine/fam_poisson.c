/*
 * fam_poisson.c: n independent Poisson units (theory.md 2.4).
 *
 * A datum is n non-negative integer counts; s(x) = x, theta_i = log rate
 * and log mu(x) = -sum log x_i! (through log-gamma, thread-safe).
 *   psi = sum e^theta_i,   eta_i = e^theta_i,   theta(eta)_i = log eta_i,
 *   phi = sum eta log eta - eta   (0 log 0 = 0).
 * A rate that overflows a double (theta above about 709.78) is outside the
 * representable domain and gives HM_EDOM. No scratch is needed.
 */
#include <math.h>

#include "hm_engine.h"
#include "hm_specfun.h"
#include "selftest.h"
#include "selftest_util.h"

// --- tier 0 --------------------------------------------------------------------

// s(x) = x: the units are independent copies (theory.md 1.1, the
// replicated combinator), one statistic per unit.
static void poi_stat(const hm_family *f, const double *x, double *s) {
    for (int i = 0; i < f->n; i++) {
        s[i] = x[i];
    }
}

// -sum log Gamma(x_i + 1): exact for any count, never forming x!.
static double poi_log_base(const hm_family *f, const double *x) {
    double acc = 0.0;
    for (int i = 0; i < f->n; i++) {
        acc -= hm_lgamma(x[i] + 1.0);
    }
    return acc;
}

// --- tier 3 --------------------------------------------------------------------

// The rates e^theta into eta; HM_EDOM for a non-finite theta or an
// overflowing rate. eta is written only on success.
static hm_status rates(const hm_family *f, const double *theta, double *eta) {
    if (!hm_all_finite(theta, f->n)) {
        return HM_EDOM;
    }
    for (int i = 0; i < f->n; i++) {
        if (!isfinite(exp(theta[i]))) {
            return HM_EDOM;
        }
    }
    for (int i = 0; i < f->n; i++) {
        eta[i] = exp(theta[i]);
    }
    return HM_OK;
}

// psi = sum e^theta; an overflowing sum is reported, not returned as Inf.
static hm_status poi_log_partition(const hm_family *f,
                                   const double *theta,
                                   double *psi,
                                   double *work) {
    (void)work;
    if (!hm_all_finite(theta, f->n)) {
        return HM_EDOM;
    }
    double acc = 0.0;
    for (int i = 0; i < f->n; i++) {
        acc += exp(theta[i]);
    }
    if (!isfinite(acc)) {
        return HM_EDOM;
    }
    *psi = acc;
    return HM_OK;
}

// eta = e^theta, the rates.
static hm_status poi_to_mean(const hm_family *f, const double *theta, double *eta, double *work) {
    (void)work;
    return rates(f, theta, eta);
}

// --- tier 4 --------------------------------------------------------------------

// theta = log eta, defined for eta > 0 only (HM_EDOM otherwise; all entries are checked before
// theta is written). With a boundary floor (hm_ctrl) rates are raised to at least the floor (a
// component whose counts are all zero).
static hm_status poi_to_natural(const hm_family *f,
                                const double *eta,
                                double *theta,
                                double *work,
                                const hm_ctrl *ctl) {
    (void)work;
    const double fl = hm_ctrl_floor(ctl);
    for (int i = 0; i < f->n; i++) {
        if ((!(eta[i] > 0.0) && !(fl > 0.0 && eta[i] >= -fl)) || !isfinite(eta[i])) {
            return HM_EDOM;
        }
    }
    for (int i = 0; i < f->n; i++) {
        theta[i] = log(eta[i] < fl ? fl : eta[i]);
    }
    return HM_OK;
}

// phi = eta log eta - eta on eta >= 0, with the boundary value 0 at eta =
// 0 (an all-zero column of counts); HM_EDOM for negative or non-finite eta.
static hm_status poi_neg_entropy(const hm_family *f,
                                 const double *eta,
                                 double *phi,
                                 double *work,
                                 const hm_ctrl *ctl) {
    (void)work;
    (void)ctl;
    double acc = 0.0;
    for (int i = 0; i < f->n; i++) {
        const double e = eta[i];
        if (!(e >= 0.0) || !isfinite(e)) {
            return HM_EDOM;
        }
        acc += e > 0.0 ? e * log(e) - e : 0.0;
    }
    *phi = acc;
    return HM_OK;
}

// --- tier 2 --------------------------------------------------------------------

// Exact draws from the host's Poisson generator (R's rpois in the glue).
// The rates are computed once into the scratch, not once per draw.
static hm_status poi_sample(const hm_family *f,
                            const double *theta,
                            int n,
                            hm_rng *rng,
                            double *x,
                            double *work) {
    const int d = f->n;
    if (n < 0) {
        return HM_EINVAL;
    }
    hm_status st = rates(f, theta, work);
    if (st != HM_OK) {
        return st;
    }
    for (int r = 0; r < n; r++) {
        for (int j = 0; j < d; j++) {
            x[(size_t)r * (size_t)d + (size_t)j] = rng->poisson(rng->ctx, work[j]);
        }
    }
    return HM_OK;
}

// --- validity checks and scratch -----------------------------------------------

// Every finite theta is valid: the natural domain is all of R^n.
static hm_status poi_check_natural(const hm_family *f, const double *theta) {
    return hm_all_finite(theta, f->n) ? HM_OK : HM_EDOM;
}

// Non-negative integer counts, stored as doubles (the glue passes R
// doubles); a fractional count has no base measure.
static hm_status poi_check_data(const hm_family *f, const double *x) {
    for (int i = 0; i < f->n; i++) {
        if (!isfinite(x[i]) || x[i] != floor(x[i]) || x[i] < 0.0) {
            return HM_EDOM;
        }
    }
    return HM_OK;
}

// The sampler keeps the n rates in its scratch.
static size_t poi_work_len(const hm_family *f) {
    return (size_t)f->n;
}

const hm_family_ops hm_fam_poisson_ops = {
    "poisson",
    poi_stat,
    poi_log_base,
    poi_log_partition,
    poi_to_mean,
    poi_to_natural,
    poi_neg_entropy,
    poi_sample,
    poi_check_natural,
    poi_check_data,
    poi_work_len,
    1,
};

// --- self-test -----------------------------------------------------------------
// Two units with rates 7.3 and 0.61: normalisation over 0..500 squared,
// the duality identities, domain statuses, and sampling means through the
// shared test generator (Poisson inversion, selftest_util.h).

int hm_fam_poisson_selftest(char *msg, size_t msglen) {
    const hm_family_ops *ops = &hm_fam_poisson_ops;
    double w[4];
    const hm_st_ctx c = {w, NULL, NULL, msg, msglen};
    hm_family f;
    HM_ST_CHECK(&c, hm_family_init(&f, HM_FAM_POISSON, 2, 0, 0) == HM_OK && f.dim == 2 && f.d == 2,
                "descriptor init failed");
    const double th[2] = {log(7.3), log(0.61)};
    double psi, eta[2], back[2], phi;
    HM_ST_CHECK(&c,
                ops->work_len(&f) <= 4 && ops->log_partition(&f, th, &psi, w) == HM_OK &&
                    ops->to_mean(&f, th, eta, w) == HM_OK,
                "a map failed at a valid theta");
    // Normalisation over 0..500 for both units: the tails beyond 500 are
    // below 1e-300 at these rates, so the sum is 1 to rounding; this also
    // checks the base measure -log x!.
    double tot = 0.0;
    for (int a = 0; a <= 500; a++) {
        for (int b = 0; b <= 500; b++) {
            double x[2] = {(double)a, (double)b};
            tot += exp(hm_st_log_density(&f, th, psi, x));
        }
    }
    HM_ST_CHECK(&c, hm_st_near(tot, 1.0, 1e-12), "normalisation %.15g", tot);
    // to_natural(to_mean(theta)) = theta, eta = the rate, the Legendre
    // identity phi(eta) = theta . eta - psi(theta), and eta = a central
    // difference of psi.
    if (hm_st_check_round_trip(&c, &f, th, HM_ST_NEAR(1e-10)) ||
        hm_st_check_legendre(&c, &f, th, HM_ST_NEAR(1e-12)) ||
        hm_st_check_gradient(&c, &f, th, 1e-5, HM_ST_STEP_ABS, HM_ST_NEAR(1e-8))) {
        return 1;
    }
    HM_ST_CHECK(&c, hm_st_near(eta[0], 7.3, 1e-14), "eta %.15g is not the rate 7.3", eta[0]);
    // Domain statuses: to_natural needs eta > 0, neg_entropy eta >= 0;
    // a rate that overflows is HM_EDOM; data must be non-negative integers.
    const double e0[2] = {0.0, 3.0}, eneg[2] = {-0.5, 3.0}, t_huge[2] = {710.0, 0.0};
    const double x_ok[2] = {0.0, 12.0}, x_frac[2] = {1.5, 2.0}, x_neg[2] = {-1.0, 2.0};
    const double t_nan[2] = {NAN, 0.0};
    double ehuge[2];
    HM_ST_CHECK(
        &c,
        ops->to_natural(&f, e0, back, w, NULL) == HM_EDOM &&
            ops->neg_entropy(&f, e0, &phi, w, NULL) == HM_OK &&
            hm_st_near(phi, 3.0 * log(3.0) - 3.0, 1e-14) &&
            ops->neg_entropy(&f, eneg, &phi, w, NULL) == HM_EDOM &&
            ops->log_partition(&f, t_huge, &psi, w) == HM_EDOM &&
            ops->to_mean(&f, t_huge, ehuge, w) == HM_EDOM && ops->check_data(&f, x_ok) == HM_OK &&
            ops->check_data(&f, x_frac) == HM_EDOM && ops->check_data(&f, x_neg) == HM_EDOM &&
            ops->check_natural(&f, t_nan) == HM_EDOM && ops->check_natural(&f, th) == HM_OK &&
            hm_st_near(ops->log_base(&f, x_ok), -log(479001600.0), 1e-14),
        "domain statuses wrong");
    // Sampling means within 0.02 standard deviations, sd = sqrt(rate)
    // (about 4.5 standard errors at 50000 draws).
    const double sd[2] = {sqrt(eta[0]), sqrt(eta[1])};
    hm_st_rng g;
    hm_rng rng;
    hm_st_rng_init(&g, 271828u, &rng);
    const hm_st_moments mom = {50000, 500, 0.02, sd, HM_ST_ABS(0.0), NULL, NULL};
    return hm_st_check_moments(&c, &f, th, &rng, &mom);
}
