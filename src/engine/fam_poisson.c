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
    if (!all_finite(theta, f->n)) {
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
    if (!all_finite(theta, f->n)) {
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

// theta = log eta, defined for eta > 0 only (HM_EDOM otherwise; all
// entries are checked before theta is written).

// The boundary floor of hm_ctrl (0 when ctl is NULL).
static double floor_of(const hm_ctrl *ctl) {
    return (ctl != NULL && ctl->floor > 0.0) ? ctl->floor : 0.0;
}

// With a boundary floor (hm_ctrl) rates are raised to at least the floor (a
// component whose counts are all zero).
static hm_status poi_to_natural(const hm_family *f,
                                const double *eta,
                                double *theta,
                                double *work,
                                const hm_ctrl *ctl) {
    (void)work;
    const double fl = floor_of(ctl);
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
    return all_finite(theta, f->n) ? HM_OK : HM_EDOM;
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
// the duality identities, domain statuses, and sampling means through a
// splitmix64 generator with Poisson inversion.

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

// Poisson(mu) by inversion (P(k + 1) = P(k) mu / (k + 1)); adequate for
// the small rates of the test, where e^-mu does not underflow.
static double t_poisson(void *ctx, double mu) {
    const double u = t_unif(ctx);
    double pk = exp(-mu), cdf = pk, k = 0.0;
    while (u > cdf && k < 1000.0) {
        k += 1.0;
        pk *= mu / k;
        cdf += pk;
    }
    return k;
}

// |a - b| within rtol relative to max(1, |a|, |b|).
static int near(double a, double b, double rtol) {
    double s = fmax(1.0, fmax(fabs(a), fabs(b)));
    return fabs(a - b) <= rtol * s;
}

int hm_fam_poisson_selftest(char *msg, size_t msglen) {
    const hm_family_ops *ops = &hm_fam_poisson_ops;
    hm_family f;
    if (hm_family_init(&f, HM_FAM_POISSON, 2, 0, 0) != HM_OK || f.dim != 2 || f.d != 2) {
        snprintf(msg, msglen, "descriptor init failed");
        return 1;
    }
    double w[4];
    const double th[2] = {log(7.3), log(0.61)};
    double psi, eta[2], back[2], phi, s[2];
    if (ops->work_len(&f) > 4 || ops->log_partition(&f, th, &psi, w) != HM_OK ||
        ops->to_mean(&f, th, eta, w) != HM_OK || ops->to_natural(&f, eta, back, w, NULL) != HM_OK ||
        ops->neg_entropy(&f, eta, &phi, w, NULL) != HM_OK) {
        snprintf(msg, msglen, "a map failed at a valid theta");
        return 1;
    }
    // Normalisation over 0..500 for both units: the tails beyond 500 are
    // below 1e-300 at these rates, so the sum is 1 to rounding; this also
    // checks the base measure -log x!.
    double tot = 0.0;
    for (int a = 0; a <= 500; a++) {
        for (int b = 0; b <= 500; b++) {
            double x[2] = {(double)a, (double)b}, lp = ops->log_base(&f, x) - psi;
            ops->stat(&f, x, s);
            lp += th[0] * s[0] + th[1] * s[1];
            tot += exp(lp);
        }
    }
    if (!near(tot, 1.0, 1e-12)) {
        snprintf(msg, msglen, "normalisation %.15g", tot);
        return 1;
    }
    // to_natural(to_mean(theta)) = theta, the Legendre identity phi(eta) =
    // theta . eta - psi(theta), and eta = a central difference of psi.
    double dot = 0.0;
    for (int i = 0; i < 2; i++) {
        dot += th[i] * eta[i];
        if (!near(back[i], th[i], 1e-10)) {
            snprintf(msg, msglen, "round trip at %d: %.15g vs %.15g", i, back[i], th[i]);
            return 1;
        }
    }
    if (!near(phi, dot - psi, 1e-12) || !near(eta[0], 7.3, 1e-14)) {
        snprintf(msg, msglen, "Legendre identity: %.15g vs %.15g", phi, dot - psi);
        return 1;
    }
    for (int i = 0; i < 2; i++) {
        double tp[2] = {th[0], th[1]}, pp, pm, h = 1e-5;
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
    // Domain statuses: to_natural needs eta > 0, neg_entropy eta >= 0;
    // a rate that overflows is HM_EDOM; data must be non-negative integers.
    const double e0[2] = {0.0, 3.0}, eneg[2] = {-0.5, 3.0}, t_huge[2] = {710.0, 0.0};
    const double x_ok[2] = {0.0, 12.0}, x_frac[2] = {1.5, 2.0}, x_neg[2] = {-1.0, 2.0};
    const double t_nan[2] = {NAN, 0.0};
    if (ops->to_natural(&f, e0, back, w, NULL) != HM_EDOM ||
        ops->neg_entropy(&f, e0, &phi, w, NULL) != HM_OK ||
        !near(phi, 3.0 * log(3.0) - 3.0, 1e-14) ||
        ops->neg_entropy(&f, eneg, &phi, w, NULL) != HM_EDOM ||
        ops->log_partition(&f, t_huge, &psi, w) != HM_EDOM ||
        ops->to_mean(&f, t_huge, eta, w) != HM_EDOM || ops->check_data(&f, x_ok) != HM_OK ||
        ops->check_data(&f, x_frac) != HM_EDOM || ops->check_data(&f, x_neg) != HM_EDOM ||
        ops->check_natural(&f, t_nan) != HM_EDOM || ops->check_natural(&f, th) != HM_OK ||
        !near(ops->log_base(&f, x_ok), -log(479001600.0), 1e-14)) {
        snprintf(msg, msglen, "domain statuses wrong");
        return 1;
    }
    // Sampling means within 0.02 standard deviations, sd = sqrt(rate)
    // (about 4.5 standard errors at 50000 draws).
    enum { CHUNK = 500, NCHUNK = 100 };
    test_rng g = {271828u};
    hm_rng rng = {&g, t_unif, NULL, NULL, NULL, t_poisson, NULL};
    double x[CHUNK * 2], sum[2] = {0};
    ops->to_mean(&f, th, eta, w);
    for (int c = 0; c < NCHUNK; c++) {
        if (ops->sample(&f, th, CHUNK, &rng, x, w) != HM_OK) {
            snprintf(msg, msglen, "sampling failed");
            return 1;
        }
        for (int r = 0; r < CHUNK; r++) {
            sum[0] += x[2 * r];
            sum[1] += x[2 * r + 1];
        }
    }
    for (int i = 0; i < 2; i++) {
        double m = sum[i] / (double)(CHUNK * NCHUNK);
        if (fabs(m - eta[i]) > 0.02 * sqrt(eta[i])) {
            snprintf(msg, msglen, "sample mean of unit %d %.5g vs %.5g", i, m, eta[i]);
            return 1;
        }
    }
    return 0;
}
