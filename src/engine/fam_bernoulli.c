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
#include <stdint.h>
#include <stdio.h>

#include "hm_engine.h"
#include "hm_specfun.h"
#include "selftest.h"

// 1 if all len entries of v are finite.
static int all_finite(const double *v, int len) {
    for (int i = 0; i < len; i++) {
        if (!isfinite(v[i])) {
            return 0;
        }
    }
    return 1;
}

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
    if (!all_finite(theta, f->n)) {
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
    if (!all_finite(theta, f->n)) {
        return HM_EDOM;
    }
    for (int i = 0; i < f->n; i++) {
        eta[i] = hm_sigmoid(theta[i]);
    }
    return HM_OK;
}

// --- tier 4 --------------------------------------------------------------------

// logit eta as log eta - log1p(-eta): log1p keeps 1 - eta accurate for
// small eta. Defined only strictly inside (0, 1), else HM_EDOM (all
// entries are checked before theta is written).

// The boundary floor of hm_ctrl (0 when ctl is NULL).
static double floor_of(const hm_ctrl *ctl) {
    return (ctl != NULL && ctl->floor > 0.0) ? ctl->floor : 0.0;
}

// With a boundary floor (hm_ctrl), means within the floor of 0 or 1 are
// moved to floor and 1 - floor (theory.md 8, Binomial/Bernoulli boundaries).
static hm_status ber_to_natural(const hm_family *f,
                                const double *eta,
                                double *theta,
                                double *work,
                                const hm_ctrl *ctl) {
    (void)work;
    const double fl = floor_of(ctl);
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
    if (!all_finite(theta, d)) {
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
    return all_finite(theta, f->n) ? HM_OK : HM_EDOM;
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
// statuses, and sampling frequencies through a splitmix64 generator.

// The test generator's state. It lives in the test's stack frame and is
// reached only through hm_rng.ctx, so the test keeps no static state.
typedef struct test_rng {
    uint64_t s;
} test_rng;

// splitmix64 step mapped to (0, 1): 53 random bits, offset by half a unit.
static double t_unif(void *ctx) {
    test_rng *g = ctx;
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

// |a - b| within rtol relative to max(1, |a|, |b|).
static int near(double a, double b, double rtol) {
    double s = fmax(1.0, fmax(fabs(a), fabs(b)));
    return fabs(a - b) <= rtol * s;
}

int hm_fam_bernoulli_selftest(char *msg, size_t msglen) {
    const hm_family_ops *ops = &hm_fam_bernoulli_ops;
    hm_family f;
    if (hm_family_init(&f, HM_FAM_BERNOULLI, 3, 0, 0) != HM_OK || f.dim != 3 || f.d != 3) {
        snprintf(msg, msglen, "descriptor init failed");
        return 1;
    }
    double w[1];
    const double th[3] = {0.61, -2.385, 1.7};
    double psi, eta[3], back[3], phi, s[3];
    if (ops->log_partition(&f, th, &psi, w) != HM_OK || ops->to_mean(&f, th, eta, w) != HM_OK ||
        ops->to_natural(&f, eta, back, w, NULL) != HM_OK ||
        ops->neg_entropy(&f, eta, &phi, w, NULL) != HM_OK) {
        snprintf(msg, msglen, "a map failed at a valid theta");
        return 1;
    }
    // Normalisation over the 2^3 states (bit i of b is unit i).
    double tot = 0.0;
    for (int b = 0; b < 8; b++) {
        double x[3] = {(double)(b & 1), (double)((b >> 1) & 1), (double)((b >> 2) & 1)};
        double lp = ops->log_base(&f, x) - psi;
        ops->stat(&f, x, s);
        for (int i = 0; i < 3; i++) {
            lp += th[i] * s[i];
        }
        tot += exp(lp);
    }
    if (!near(tot, 1.0, 1e-13)) {
        snprintf(msg, msglen, "normalisation %.15g", tot);
        return 1;
    }
    // to_natural(to_mean(theta)) = theta, the Legendre identity phi(eta) =
    // theta . eta - psi(theta), and eta = a central difference of psi.
    double dot = 0.0;
    for (int i = 0; i < 3; i++) {
        dot += th[i] * eta[i];
        if (!near(back[i], th[i], 1e-10) || !near(eta[i], 1.0 / (1.0 + exp(-th[i])), 1e-14)) {
            snprintf(msg, msglen, "round trip at %d: %.15g vs %.15g", i, back[i], th[i]);
            return 1;
        }
    }
    if (!near(phi, dot - psi, 1e-12)) {
        snprintf(msg, msglen, "Legendre identity: %.15g vs %.15g", phi, dot - psi);
        return 1;
    }
    for (int i = 0; i < 3; i++) {
        double tp[3] = {th[0], th[1], th[2]}, pp, pm, h = 1e-5;
        tp[i] += h;
        ops->log_partition(&f, tp, &pp, w);
        tp[i] -= 2.0 * h;
        ops->log_partition(&f, tp, &pm, w);
        if (!near((pp - pm) / (2.0 * h), eta[i], 1e-8)) {
            snprintf(msg, msglen, "gradient at %d: %.12g vs %.12g", i, (pp - pm) / (2.0 * h),
                     eta[i]);
            return 1;
        }
    }
    // Huge natural parameters: psi ~ theta for theta >> 0 and ~ e^theta
    // for theta << 0, with no overflow in either the sum or the means.
    const double big[3] = {800.0, -800.0, 40.0};
    if (ops->log_partition(&f, big, &psi, w) != HM_OK || ops->to_mean(&f, big, eta, w) != HM_OK ||
        !near(psi, 840.0, 1e-14) || eta[0] != 1.0 || !(eta[1] >= 0.0 && eta[1] < 1e-300)) {
        snprintf(msg, msglen, "overflow at large theta: psi %.15g", psi);
        return 1;
    }
    // Domain statuses: to_natural needs the open cube, neg_entropy the
    // closed one (a boundary point has finite phi); data must be 0/1.
    const double e0[3] = {0.2, 0.0, 0.3}, e1[3] = {0.2, 1.0, 0.3}, eb[3] = {0.2, 1.5, 0.3};
    const double x_ok[3] = {0.0, 1.0, 1.0}, x_bad[3] = {0.0, 2.0, 1.0};
    const double t_nan[3] = {0.0, NAN, 1.0};
    if (ops->to_natural(&f, e0, back, w, NULL) != HM_EDOM ||
        ops->to_natural(&f, e1, back, w, NULL) != HM_EDOM ||
        ops->neg_entropy(&f, e1, &phi, w, NULL) != HM_OK ||
        !near(phi, 0.2 * log(0.2) + 0.8 * log(0.8) + 0.3 * log(0.3) + 0.7 * log(0.7),
              1e-14) ||
        ops->neg_entropy(&f, eb, &phi, w, NULL) != HM_EDOM ||
        ops->check_data(&f, x_ok) != HM_OK || ops->check_data(&f, x_bad) != HM_EDOM ||
        ops->check_natural(&f, t_nan) != HM_EDOM || ops->check_natural(&f, th) != HM_OK) {
        snprintf(msg, msglen, "domain statuses wrong");
        return 1;
    }
    // Sampling frequencies within 0.02 standard deviations, sd =
    // sqrt(p (1 - p)) (about 4.5 standard errors at 50000 draws).
    enum { CHUNK = 500, NCHUNK = 100 };
    test_rng g = {424242u};
    hm_rng rng = {&g, t_unif, NULL, NULL, NULL, NULL, NULL};
    double x[CHUNK * 3], cnt[3] = {0};
    ops->to_mean(&f, th, eta, w);
    for (int c = 0; c < NCHUNK; c++) {
        if (ops->sample(&f, th, CHUNK, &rng, x, w) != HM_OK) {
            snprintf(msg, msglen, "sampling failed");
            return 1;
        }
        for (int r = 0; r < CHUNK; r++) {
            for (int i = 0; i < 3; i++) {
                cnt[i] += x[3 * r + i];
            }
        }
    }
    for (int i = 0; i < 3; i++) {
        double m = cnt[i] / (double)(CHUNK * NCHUNK), sd = sqrt(eta[i] * (1.0 - eta[i]));
        if (fabs(m - eta[i]) > 0.02 * sd) {
            snprintf(msg, msglen, "frequency of unit %d %.5g vs %.5g", i, m, eta[i]);
            return 1;
        }
    }
    return 0;
}
