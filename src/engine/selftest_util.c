/*
 * selftest_util.c: the generator, comparisons and generic checks shared by
 * the family self-tests (see selftest_util.h).
 *
 * Every check evaluates the family through its own operation table
 * (hm_family_ops_of), exactly as the tests did when each carried a copy of
 * this code, and reports the first failing coordinate with both values.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "selftest_util.h"

/* 2 pi, for Box-Muller. */
#define ST_TWO_PI 6.283185307179586

// --- the test generator --------------------------------------------------------

// splitmix64 (Steele, Lea and Flood 2014) mapped to (0, 1): the top 53
// bits of the output plus half a unit, so that log U is always finite.
static double st_unif(void *ctx) {
    hm_st_rng *g = ctx;
    uint64_t z = (g->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

// Box-Muller: r = sqrt(-2 log U1) and angle 2 pi U2 give two independent
// N(0, 1) variates, r cos and r sin; the second is kept for the next call.
static double st_norm(void *ctx) {
    hm_st_rng *g = ctx;
    if (g->has_spare) {
        g->has_spare = 0;
        return g->spare;
    }
    double r = sqrt(-2.0 * log(st_unif(ctx))), a = ST_TWO_PI * st_unif(ctx);
    g->spare = r * sin(a);
    g->has_spare = 1;
    return r * cos(a);
}

static double st_exp(void *ctx) { return -log(st_unif(ctx)); }

// Marsaglia and Tsang (2000): for a >= 1, d v with d = a - 1/3 and v =
// (1 + z / sqrt(9 d))^3, accepted with the squeeze-free log test; for
// a < 1, Gamma(a + 1) U^(1/a) has the Gamma(a) law.
static double st_gamma(void *ctx, double a) {
    if (a < 1.0) {
        return st_gamma(ctx, a + 1.0) * pow(st_unif(ctx), 1.0 / a);
    }
    double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double z = st_norm(ctx), v = 1.0 + c * z;
        if (v <= 0.0) {
            continue;
        }
        v = v * v * v;
        if (log(st_unif(ctx)) < 0.5 * z * z + d - d * v + d * log(v)) {
            return d * v;
        }
    }
}

// Poisson(mu) by inversion, P(k + 1) = P(k) mu / (k + 1). A mean above 30
// is split into two halves (the sum of independent Poissons is Poisson),
// so e^-mu never underflows; the walk stops at 1000 as a guard.
static double st_poisson(void *ctx, double mu) {
    if (mu > 30.0) {
        return st_poisson(ctx, 0.5 * mu) + st_poisson(ctx, 0.5 * mu);
    }
    double u = st_unif(ctx), p = exp(-mu), cdf = p, k = 0.0;
    while (u > cdf && k < 1000.0) {
        k += 1.0;
        p *= mu / k;
        cdf += p;
    }
    return k;
}

// Binomial(n, p) by inversion: walk the pmf with the ratio recurrence
// P(k + 1) / P(k) = (n - k) p / ((k + 1) q) until the CDF passes u. The
// uniform is drawn first in every case, so p = 1 uses the stream as any
// other p does.
static double st_binom(void *ctx, double n, double p) {
    const double u = st_unif(ctx), q = 1.0 - p;
    if (q <= 0.0) {
        return n;
    }
    double pk = pow(q, n), cdf = pk, k = 0.0;
    while (u > cdf && k < n) {
        pk *= (n - k) / (k + 1.0) * (p / q);
        k += 1.0;
        cdf += pk;
    }
    return k;
}

void hm_st_rng_init(hm_st_rng *state, uint64_t seed, hm_rng *out) {
    state->s = seed;
    state->has_spare = 0;
    state->spare = 0.0;
    out->ctx = state;
    out->unif = st_unif;
    out->norm = st_norm;
    out->exp = st_exp;
    out->gamma = st_gamma;
    out->poisson = st_poisson;
    out->binom = st_binom;
}

// --- tolerances ----------------------------------------------------------------

// Written so that a NaN on either side (diff = NaN) makes every branch
// false: a map that returns NaN never passes a check.
int hm_st_within(double got, double want, hm_st_tol tol) {
    const double diff = fabs(got - want);
    switch (tol.scale) {
    case HM_ST_SCALE_MAX1:
        return diff <= tol.abs + tol.rel * fmax(1.0, fmax(fabs(got), fabs(want)));
    case HM_ST_SCALE_GOT:
        return diff < tol.abs + tol.rel * fabs(got);
    default:
        return diff < tol.abs + tol.rel * fabs(want);
    }
}

int hm_st_near(double a, double b, double rtol) { return hm_st_within(a, b, HM_ST_NEAR(rtol)); }

// --- the test context ----------------------------------------------------------

// The label and the message go into one buffer: snprintf returns the
// length it wanted, which is clamped so that a long label only truncates.
int hm_st_fail(const hm_st_ctx *c, const char *fmt, ...) {
    if (c->msg == NULL || c->len == 0) {
        return 1;
    }
    size_t used = 0;
    if (c->label != NULL) {
        int k = snprintf(c->msg, c->len, "%s: ", c->label);
        used = k < 0 ? 0 : (size_t)k;
    }
    if (used < c->len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg + used, c->len - used, fmt, ap);
        va_end(ap);
    }
    return 1;
}

// The start of every check: f must fit the stack vectors (dim <=
// HM_ST_MAX_DIM) and eta = to_mean(theta) must succeed. Returns 0, or 1
// after a message naming the check `what`.
static int mean_at(
    const hm_st_ctx *c, const hm_family *f, const double *theta, double *eta, const char *what) {
    if (f->dim > HM_ST_MAX_DIM) {
        return hm_st_fail(c, "%s: dim %d exceeds HM_ST_MAX_DIM (%d)", what, f->dim, HM_ST_MAX_DIM);
    }
    if (hm_family_ops_of(f)->to_mean(f, theta, eta, c->work) != HM_OK) {
        return hm_st_fail(c, "%s: to_mean failed", what);
    }
    return 0;
}

// --- checks that hold for every family -----------------------------------------

double hm_st_log_density(const hm_family *f, const double *theta, double psi, const double *x) {
    if (f->dim > HM_ST_MAX_DIM) {
        return NAN;
    }
    const hm_family_ops *ops = hm_family_ops_of(f);
    double s[HM_ST_MAX_DIM], dot = 0.0;
    ops->stat(f, x, s);
    for (int i = 0; i < f->dim; i++) {
        dot += theta[i] * s[i];
    }
    return dot + ops->log_base(f, x) - psi;
}

// The central-difference step for a coordinate at value t.
static double step_of(double h, int step, double t) {
    switch (step) {
    case HM_ST_STEP_REL:
        return h * fabs(t);
    case HM_ST_STEP_MAX1:
        return h * fmax(1.0, fabs(t));
    case HM_ST_STEP_PLUS1:
        return h * (1.0 + fabs(t));
    default:
        return h;
    }
}

int hm_st_check_gradient(const hm_st_ctx *c,
                         const hm_family *f,
                         const double *theta,
                         double h,
                         int step,
                         hm_st_tol tol) {
    const hm_family_ops *ops = hm_family_ops_of(f);
    double eta[HM_ST_MAX_DIM], tp[HM_ST_MAX_DIM], pp, pm;
    if (mean_at(c, f, theta, eta, "gradient")) {
        return 1;
    }
    // One coordinate moves at a time and is put back exactly afterwards,
    // so every difference is taken around theta itself. The step is
    // divided out as 2 h_i, not as the difference of the two rounded
    // points, which costs a relative ~eps |theta_i| / h_i (2e-10 at h_i =
    // 1e-6 and |theta_i| near 1), far below any tolerance used.
    memcpy(tp, theta, (size_t)f->dim * sizeof(double));
    for (int i = 0; i < f->dim; i++) {
        const double hi = step_of(h, step, theta[i]);
        tp[i] = theta[i] + hi;
        hm_status sp = ops->log_partition(f, tp, &pp, c->work);
        tp[i] = theta[i] - hi;
        hm_status sm = ops->log_partition(f, tp, &pm, c->work);
        tp[i] = theta[i];
        if (sp != HM_OK || sm != HM_OK) {
            return hm_st_fail(c, "gradient: log_partition failed next to theta_%d", i);
        }
        const double fd = (pp - pm) / (2.0 * hi);
        if (!hm_st_within(fd, eta[i], tol)) {
            return hm_st_fail(c, "gradient at %d: d psi / d theta %.12g vs eta %.12g", i, fd,
                              eta[i]);
        }
    }
    return 0;
}

int hm_st_check_round_trip(const hm_st_ctx *c,
                           const hm_family *f,
                           const double *theta,
                           hm_st_tol tol) {
    // The inverse is taken from the exact mean point of theta, so the
    // tolerance measures to_natural's own accuracy (Newton tolerance and
    // conditioning), not that of an estimate.
    double eta[HM_ST_MAX_DIM], back[HM_ST_MAX_DIM];
    if (mean_at(c, f, theta, eta, "round trip")) {
        return 1;
    }
    if (hm_family_ops_of(f)->to_natural(f, eta, back, c->work, c->ctl) != HM_OK) {
        return hm_st_fail(c, "round trip: to_natural failed");
    }
    for (int i = 0; i < f->dim; i++) {
        if (!hm_st_within(back[i], theta[i], tol)) {
            return hm_st_fail(c, "round trip at %d: %.17g vs %.17g", i, back[i], theta[i]);
        }
    }
    return 0;
}

int hm_st_check_legendre(const hm_st_ctx *c,
                         const hm_family *f,
                         const double *theta,
                         hm_st_tol tol) {
    // phi comes from neg_entropy at eta alone; for the Newton families it
    // re-solves theta(eta) internally, so this also checks that solve.
    const hm_family_ops *ops = hm_family_ops_of(f);
    double eta[HM_ST_MAX_DIM], psi, phi, dot = 0.0;
    if (mean_at(c, f, theta, eta, "Legendre identity")) {
        return 1;
    }
    if (ops->log_partition(f, theta, &psi, c->work) != HM_OK) {
        return hm_st_fail(c, "Legendre identity: log_partition failed");
    }
    if (ops->neg_entropy(f, eta, &phi, c->work, NULL) != HM_OK) {
        return hm_st_fail(c, "Legendre identity: neg_entropy failed");
    }
    for (int i = 0; i < f->dim; i++) {
        dot += theta[i] * eta[i];
    }
    if (!hm_st_within(phi, dot - psi, tol)) {
        return hm_st_fail(c, "Legendre identity: phi %.17g vs theta . eta - psi %.17g", phi,
                          dot - psi);
    }
    return 0;
}

int hm_st_check_moments(const hm_st_ctx *c,
                        const hm_family *f,
                        const double *theta,
                        hm_rng *rng,
                        const hm_st_moments *m) {
    // The draws of one chunk are held at once, on the stack.
    if (m->chunk < 1 || m->draws < m->chunk || m->draws % m->chunk != 0 ||
        (size_t)m->chunk * (size_t)f->d > HM_ST_MAX_DRAW) {
        return hm_st_fail(c, "moments: %d draws in chunks of %d do not fit", m->draws, m->chunk);
    }
    const hm_family_ops *ops = hm_family_ops_of(f);
    double x[HM_ST_MAX_DRAW], s[HM_ST_MAX_DIM], eta[HM_ST_MAX_DIM];
    double sum[HM_ST_MAX_DIM] = {0}, sq[HM_ST_MAX_DIM] = {0};
    if (mean_at(c, f, theta, eta, "moments")) {
        return 1;
    }
    for (int done = 0; done < m->draws; done += m->chunk) {
        if (ops->sample(f, theta, m->chunk, rng, x, c->work) != HM_OK) {
            return hm_st_fail(c, "sampling failed");
        }
        for (int r = 0; r < m->chunk; r++) {
            const double *xr = x + (size_t)r * (size_t)f->d;
            if (ops->check_data(f, xr) != HM_OK) {
                return hm_st_fail(c, "draw %d outside the support", done + r);
            }
            ops->stat(f, xr, s);
            for (int i = 0; i < f->dim; i++) {
                sum[i] += s[i];
                sq[i] += s[i] * s[i];
            }
        }
        if (m->visit != NULL && m->visit(c, f, m->arg, x, m->chunk)) {
            return 1;
        }
    }
    // Sums, divided once at the end, so that chunks change nothing but the
    // sampler's own calls. The sample sd comes from the same sums (the
    // one-pass E[s^2] - E[s]^2 is accurate enough for a tolerance: it only
    // scales the bound, and is floored at 0 against cancellation).
    const double nn = (double)m->draws;
    for (int i = 0; i < f->dim; i++) {
        const double mean = sum[i] / nn;
        if (m->nsd > 0.0) {
            const double sd = m->sd != NULL ? m->sd[i] : sqrt(fmax(sq[i] / nn - mean * mean, 0.0));
            if (fabs(mean - eta[i]) > m->nsd * sd) {
                return hm_st_fail(c, "sample mean of s_%d %.6g vs eta %.6g (sd %.3g)", i, mean,
                                  eta[i], sd);
            }
        } else if (!hm_st_within(mean, eta[i], m->tol)) {
            return hm_st_fail(c, "sample mean of s_%d %.6g vs eta %.6g", i, mean, eta[i]);
        }
    }
    return 0;
}
