/*
 * fam_bernoulli.c: n independent Bernoulli units (theory.md 2.1).
 *
 * A datum is n values in {0, 1}; s(x) = x, log mu = 0, theta_i = logit p_i.
 *   psi = sum softplus(theta_i),   eta_i = sigmoid(theta_i) = p_i,
 *   theta(eta)_i = log eta_i - log(1 - eta_i),
 *   phi = sum eta log eta + (1 - eta) log(1 - eta)   (0 log 0 = 0).
 * softplus and sigmoid come from hm_specfun, which evaluates both without
 * overflow for any finite theta (theory.md 8). No scratch is needed.
 */
#include <math.h>

#include "hm_engine.h"
#include "hm_specfun.h"
#include "selftest.h"
#include "selftest_util.h"

// x log x with the limit 0 at x = 0 (theory.md 8, "0 log 0").
static double xlogx(double x) {
    return x > 0.0 ? x * log(x) : 0.0;
}

// --- tier 0 --------------------------------------------------------------------

// s(x) = x: the units are independent copies (theory.md 1.1, the
// replicated combinator), one statistic per unit.
static void ber_stat(const hm_family *f, const double *x, double *s) {
    for (int i = 0; i < f->n; i++) {
        s[i] = x[i];
    }
}

// The counting measure on {0, 1}^n: log mu = 0.
static double ber_log_base(const hm_family *f, const double *x) {
    (void)f;
    (void)x;
    return 0.0;
}

// --- tier 3 --------------------------------------------------------------------

// psi = sum softplus(theta): hm_log1pexp returns theta + log1p(e^-theta)
// for large theta, so psi stays finite and exact where e^theta overflows.
static hm_status ber_log_partition(const hm_family *f,
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
    *psi = acc;
    return HM_OK;
}

// eta = sigmoid(theta), evaluated on the side where the exponential
// cannot overflow (hm_sigmoid).
static hm_status ber_to_mean(const hm_family *f, const double *theta, double *eta, double *work) {
    (void)work;
    if (!hm_all_finite(theta, f->n)) {
        return HM_EDOM;
    }
    for (int i = 0; i < f->n; i++) {
        eta[i] = hm_sigmoid(theta[i]);
    }
    return HM_OK;
}

// --- tier 4 --------------------------------------------------------------------

// logit eta as log eta - log1p(-eta): log1p keeps 1 - eta accurate for small eta. Defined only
// strictly inside (0, 1), else HM_EDOM (all entries are checked before theta is written). With a
// boundary floor (hm_ctrl), means within the floor of 0 or 1 are moved to floor and 1 - floor
// (theory.md 8, Binomial/Bernoulli boundaries).
static hm_status ber_to_natural(const hm_family *f,
                                const double *eta,
                                double *theta,
                                double *work,
                                const hm_ctrl *ctl) {
    (void)work;
    const double fl = hm_ctrl_floor(ctl);
    for (int i = 0; i < f->n; i++) {
        if (!(eta[i] > 0.0 && eta[i] < 1.0) && !(fl > 0.0 && eta[i] >= -fl && eta[i] <= 1.0 + fl)) {
            return HM_EDOM;
        }
    }
    for (int i = 0; i < f->n; i++) {
        double e = eta[i] < fl ? fl : (eta[i] > 1.0 - fl ? 1.0 - fl : eta[i]);
        theta[i] = log(e) - log1p(-e);
    }
    return HM_OK;
}

// phi with 0 log 0 = 0: finite on the closed cube [0, 1]^n (the boundary
// is where theta is infinite), HM_EDOM outside it.
static hm_status ber_neg_entropy(const hm_family *f,
                                 const double *eta,
                                 double *phi,
                                 double *work,
                                 const hm_ctrl *ctl) {
    (void)work;
    (void)ctl;
    double acc = 0.0;
    for (int i = 0; i < f->n; i++) {
        if (!(eta[i] >= 0.0 && eta[i] <= 1.0)) {
            return HM_EDOM;
        }
        acc += xlogx(eta[i]) + xlogx(1.0 - eta[i]);
    }
    *phi = acc;
    return HM_OK;
}

// --- tier 2 --------------------------------------------------------------------

// One uniform per unit and draw: x = 1 when u < p. The host uniform never
// returns 0 or 1, so p = 0 and p = 1 give constant draws.
static hm_status ber_sample(const hm_family *f,
                            const double *theta,
                            int n,
                            hm_rng *rng,
                            double *x,
                            double *work) {
    const int d = f->n;
    (void)work;
    if (n < 0) {
        return HM_EINVAL;
    }
    if (!hm_all_finite(theta, d)) {
        return HM_EDOM;
    }
    for (int r = 0; r < n; r++) {
        for (int j = 0; j < d; j++) {
            x[(size_t)r * (size_t)d + (size_t)j] =
                rng->unif(rng->ctx) < hm_sigmoid(theta[j]) ? 1.0 : 0.0;
        }
    }
    return HM_OK;
}

// --- validity checks and scratch -----------------------------------------------

// Every finite theta is valid: the natural domain is all of R^n.
static hm_status ber_check_natural(const hm_family *f, const double *theta) {
    return hm_all_finite(theta, f->n) ? HM_OK : HM_EDOM;
}

// Exactly 0 or 1.
static hm_status ber_check_data(const hm_family *f, const double *x) {
    for (int i = 0; i < f->n; i++) {
        if (x[i] != 0.0 && x[i] != 1.0) {
            return HM_EDOM;
        }
    }
    return HM_OK;
}

// Everything is elementwise: no scratch.
static size_t ber_work_len(const hm_family *f) {
    (void)f;
    return 0;
}

const hm_family_ops hm_fam_bernoulli_ops = {
    "bernoulli",
    ber_stat,
    ber_log_base,
    ber_log_partition,
    ber_to_mean,
    ber_to_natural,
    ber_neg_entropy,
    ber_sample,
    ber_check_natural,
    ber_check_data,
    ber_work_len,
    1,
};

// --- self-test -----------------------------------------------------------------
// Three units with high-entropy parameters: normalisation over all 8
// states, the duality identities, stability at huge theta, domain
// statuses, and sampling frequencies through the shared test generator
// (selftest_util.h).

int hm_fam_bernoulli_selftest(char *msg, size_t msglen) {
    const hm_family_ops *ops = &hm_fam_bernoulli_ops;
    double w[1];
    const hm_st_ctx c = {w, NULL, NULL, msg, msglen};
    hm_family f;
    HM_ST_CHECK(&c,
                hm_family_init(&f, HM_FAM_BERNOULLI, 3, 0, 0) == HM_OK && f.dim == 3 && f.d == 3,
                "descriptor init failed");
    const double th[3] = {0.61, -2.385, 1.7};
    double psi, eta[3], back[3], phi;
    HM_ST_CHECK(
        &c, ops->log_partition(&f, th, &psi, w) == HM_OK && ops->to_mean(&f, th, eta, w) == HM_OK,
        "a map failed at a valid theta");
    // Normalisation over the 2^3 states (bit i of b is unit i).
    double tot = 0.0;
    for (int b = 0; b < 8; b++) {
        double x[3] = {(double)(b & 1), (double)((b >> 1) & 1), (double)((b >> 2) & 1)};
        tot += exp(hm_st_log_density(&f, th, psi, x));
    }
    HM_ST_CHECK(&c, hm_st_near(tot, 1.0, 1e-13), "normalisation %.15g", tot);
    // to_natural(to_mean(theta)) = theta, eta = sigmoid(theta), the
    // Legendre identity phi(eta) = theta . eta - psi(theta), and eta = a
    // central difference of psi.
    if (hm_st_check_round_trip(&c, &f, th, HM_ST_NEAR(1e-10)) ||
        hm_st_check_legendre(&c, &f, th, HM_ST_NEAR(1e-12)) ||
        hm_st_check_gradient(&c, &f, th, 1e-5, HM_ST_STEP_ABS, HM_ST_NEAR(1e-8))) {
        return 1;
    }
    for (int i = 0; i < 3; i++) {
        HM_ST_CHECK(&c, hm_st_near(eta[i], 1.0 / (1.0 + exp(-th[i])), 1e-14),
                    "eta at %d: %.15g is not sigmoid(theta)", i, eta[i]);
    }
    // Huge natural parameters: psi ~ theta for theta >> 0 and ~ e^theta
    // for theta << 0, with no overflow in either the sum or the means.
    const double big[3] = {800.0, -800.0, 40.0};
    double ebig[3];
    HM_ST_CHECK(&c,
                ops->log_partition(&f, big, &psi, w) == HM_OK &&
                    ops->to_mean(&f, big, ebig, w) == HM_OK && hm_st_near(psi, 840.0, 1e-14) &&
                    ebig[0] == 1.0 && ebig[1] >= 0.0 && ebig[1] < 1e-300,
                "overflow at large theta: psi %.15g", psi);
    // Domain statuses: to_natural needs the open cube, neg_entropy the
    // closed one (a boundary point has finite phi); data must be 0/1.
    const double e0[3] = {0.2, 0.0, 0.3}, e1[3] = {0.2, 1.0, 0.3}, eb[3] = {0.2, 1.5, 0.3};
    const double x_ok[3] = {0.0, 1.0, 1.0}, x_bad[3] = {0.0, 2.0, 1.0};
    const double t_nan[3] = {0.0, NAN, 1.0};
    HM_ST_CHECK(&c,
                ops->to_natural(&f, e0, back, w, NULL) == HM_EDOM &&
                    ops->to_natural(&f, e1, back, w, NULL) == HM_EDOM &&
                    ops->neg_entropy(&f, e1, &phi, w, NULL) == HM_OK &&
                    hm_st_near(phi,
                               0.2 * log(0.2) + 0.8 * log(0.8) + 0.3 * log(0.3) + 0.7 * log(0.7),
                               1e-14) &&
                    ops->neg_entropy(&f, eb, &phi, w, NULL) == HM_EDOM &&
                    ops->check_data(&f, x_ok) == HM_OK && ops->check_data(&f, x_bad) == HM_EDOM &&
                    ops->check_natural(&f, t_nan) == HM_EDOM && ops->check_natural(&f, th) == HM_OK,
                "domain statuses wrong");
    // Sampling frequencies within 0.02 standard deviations, sd =
    // sqrt(p (1 - p)) (about 4.5 standard errors at 50000 draws).
    double sd[3];
    for (int i = 0; i < 3; i++) {
        sd[i] = sqrt(eta[i] * (1.0 - eta[i]));
    }
    hm_st_rng g;
    hm_rng rng;
    hm_st_rng_init(&g, 424242u, &rng);
    const hm_st_moments mom = {50000, 500, 0.02, sd, HM_ST_ABS(0.0), NULL, NULL};
    return hm_st_check_moments(&c, &f, th, &rng, &mom);
}
