/*
 * fam_compoisson.c: the Conway-Maxwell-Poisson family (theory.md 2.5),
 * f->n independent units.
 *
 * Per unit: x in {0, 1, 2, ...}, s(x) = (x, log x!), log mu = 0, natural
 * parameters theta = (nu log mode, -nu) with nu > 0, i.e. p(x) is
 * proportional to (mode^x / x!)^nu. Parameters and statistics are
 * interleaved unit by unit: (theta1_0, theta2_0, theta1_1, theta2_1, ...).
 *
 * The log-partition psi = log sum_j exp(theta1 j + theta2 log j!) is an
 * infinite series with no closed form. It is summed adaptively in log space
 * around the mode m = floor(mode), where the terms peak (their ratio
 * t_j / t_{j-1} = (mode / j)^nu crosses 1 there), normalised by the mode
 * term so that every summand is <= ~1 and nothing overflows. Going away
 * from the mode the ratio of successive terms only shrinks, so the whole
 * remaining tail is bounded by a geometric series; the sum stops once that
 * bound is below 1e-17 of the total (theory.md 2.5 and 8 recommend the
 * Haskell-style adaptive sum; the tail bound makes the stopping rule
 * rigorous also when nu -> 0 and the terms decay slowly). The same pass
 * gives the moments E[x], E[log x!] (to_mean) and their covariance (the
 * Hessian of psi, for the Newton inverse). There is no closed-form inverse;
 * to_natural is a damped Newton ascent on the concave theta.eta - psi.
 */
#include <float.h>
#include <math.h>

#include "hm_engine.h"
#include "hm_specfun.h"
#include "selftest.h"
#include "selftest_util.h"

/* Relative size of the neglected tail of the series (about DBL_EPSILON/20). */
#define CMP_TAIL_EPS 1e-17

/*
 * Cap on the number of series terms per evaluation (~0.3 s). A series that
 * needs more (nu -> 0, or a mode beyond ~1e11) gives HM_EMAXITER.
 */
#define CMP_MAX_TERMS 10000000.0

/*
 * Largest mode handled: beyond ~2^52 consecutive integers are no longer
 * representable, so the series could not be walked term by term.
 */
#define CMP_MAX_MODE 1e15

/* Cap on rejection-sampler proposals per draw. */
#define CMP_MAX_TRIES 1000000

/* Halvings of a Newton step before giving up on the line search. */
#define CMP_MAX_HALVINGS 60


// --- the series ----------------------------------------------------------------

/* Neumaier-compensated running sum (theory.md 8: long series). */
typedef struct ksum {
    double s, c;
} ksum;

static void ksum_add(ksum *a, double v) {
    double t = a->s + v;
    if (fabs(a->s) >= fabs(v)) {
        a->c += (a->s - t) + v;
    } else {
        a->c += (v - t) + a->s;
    }
    a->s = t;
}

static double ksum_get(const ksum *a) { return a->s + a->c; }

/*
 * Moments of one unit at theta = (t1, t2). The statistics are accumulated
 * relative to the mode, k = j - m and dl = log j! - log m!, so that the
 * variances come out as differences of small numbers instead of
 * E[x^2] - E[x]^2 at large modes.
 */
typedef struct cmp_moments {
    double logz; /* psi */
    double ex;   /* E[x] */
    double el;   /* E[log x!] */
    double vxx;  /* Var[x] */
    double vxl;  /* Cov[x, log x!] */
    double vll;  /* Var[log x!] */
} cmp_moments;

/*
 * The six running sums of w, w k, w dl, w k^2, w k dl, w dl^2, and the
 * plain sums of w |k| and w |dl| that scale the stopping rule.
 */
typedef struct cmp_acc {
    ksum w, k, l, kk, kl, ll;
    double ak, al;
} cmp_acc;

static void acc_add(cmp_acc *a, double w, double k, double dl) {
    ksum_add(&a->w, w);
    ksum_add(&a->k, w * k);
    ksum_add(&a->l, w * dl);
    ksum_add(&a->kk, w * k * k);
    ksum_add(&a->kl, w * k * dl);
    ksum_add(&a->ll, w * dl * dl);
    a->ak += w * fabs(k);
    a->al += w * fabs(dl);
}

/*
 * The stopping rule. With q < 1 the ratio of the next term to the current
 * one (w, log w = r) and ratios only shrinking further out, the rest of the
 * series is at most w q / (1 - q). It must be negligible against the sum of
 * the weights, and, weighted by each statistic, against the moment sums
 * sum w |k| and sum w |dl|: when nearly all the mass sits on 0 and 1,
 * E[log x!] comes entirely from the tail. Along the tail |k| grows by 1 and
 * |dl| by about `step` (the next log j) per term, which adds at most
 * bound / (1 - q) and step bound / (1 - q) to the two moment tails.
 */
static int
tail_negligible(const cmp_acc *a, double r, double lq, double kn, double dln, double step) {
    if (!(lq < 0.0)) {
        return 0;
    }
    double omq = -expm1(lq), bound = exp(r + lq) / omq;
    return bound <= CMP_TAIL_EPS * (1.0 + ksum_get(&a->w)) &&
           bound * (fabs(kn) + 1.0 / omq) <= CMP_TAIL_EPS * a->ak &&
           bound * (fabs(dln) + step / omq) <= CMP_TAIL_EPS * a->al;
}

/*
 * Sums the series of one unit. The log ratio of successive terms is
 * t2 (log j - log mode) (because t1 = -t2 log mode), which is computed
 * directly instead of as the difference of two large products. Below the
 * mode the terms are visited downwards from m, above it upwards from m + 1,
 * each direction until tail_negligible().
 * Statuses: HM_EDOM if theta2 >= 0 or theta is not finite, HM_EMAXITER if
 * the series needs more than CMP_MAX_TERMS terms.
 */
static hm_status cmp_series(double t1, double t2, cmp_moments *out) {
    if (!isfinite(t1) || !isfinite(t2) || !(t2 < 0.0)) {
        return HM_EDOM;
    }
    double nu = -t2, lmode = t1 / nu;
    // At least ~2 sqrt(mode / nu) terms carry mass (the sd of x is about
    // sqrt(mode / nu)): refuse at once a series that cannot fit in the cap.
    if (lmode > log(CMP_MAX_MODE) ||
        (lmode > 0.0 && 0.5 * lmode - 0.5 * log(nu) > log(0.5 * CMP_MAX_TERMS))) {
        return HM_EMAXITER;
    }
    double m = lmode > 0.0 ? floor(exp(lmode)) : 0.0;
    // The mode term (w = 1, k = dl = 0) is kept out of the sums: psi then
    // comes out as log1p(rest), exact also when the rest is ~1e-10 (all the
    // mass on x = 0), where log(1 + rest) would keep only 6 digits of it.
    cmp_acc a = {{0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, 0.0, 0.0};
    double nterms = 1.0;

    // Downwards: term j - 1 from term j, log t_{j-1} = log t_j + nu (log j - lmode).
    double r = 0.0, dl = 0.0, lj = m >= 1.0 ? log(m) : 0.0;
    for (double j = m; j >= 1.0; j -= 1.0) {
        r += nu * (lj - lmode);
        dl -= lj;
        double w = exp(r), k = j - 1.0 - m;
        acc_add(&a, w, k, dl);
        if (j - 1.0 < 1.0) {
            break;
        }
        lj = log(j - 1.0);
        double lq = nu * (lj - lmode); // log(t_{j-2} / t_{j-1}) < 0
        if (tail_negligible(&a, r, lq, k - 1.0, dl - lj, lj)) {
            break;
        }
        nterms += 1.0;
        if (nterms > CMP_MAX_TERMS) {
            return HM_EMAXITER;
        }
    }

    // Upwards: log t_j = log t_{j-1} - nu (log j - lmode).
    r = 0.0;
    dl = 0.0;
    double lnext = log(m + 1.0);
    for (double j = m + 1.0;; j += 1.0) {
        double l = lnext, w, k = j - m;
        r -= nu * (l - lmode);
        dl += l;
        w = exp(r);
        acc_add(&a, w, k, dl);
        lnext = log(j + 1.0);
        double lq = -nu * (lnext - lmode); // log(t_{j+1} / t_j) < 0
        if (tail_negligible(&a, r, lq, k + 1.0, dl + lnext, lnext)) {
            break;
        }
        nterms += 1.0;
        if (nterms > CMP_MAX_TERMS) {
            return HM_EMAXITER;
        }
    }

    double rest = ksum_get(&a.w), s = 1.0 + rest;
    double mk = ksum_get(&a.k) / s, ml = ksum_get(&a.l) / s;
    double lgm = hm_lgamma(m + 1.0);
    out->logz = t1 * m + t2 * lgm + log1p(rest);
    out->ex = m + mk;
    out->el = lgm + ml;
    out->vxx = ksum_get(&a.kk) / s - mk * mk;
    out->vxl = ksum_get(&a.kl) / s - mk * ml;
    out->vll = ksum_get(&a.ll) / s - ml * ml;
    return HM_OK;
}

// --- the ops table -----------------------------------------------------------------

static void cmp_stat(const hm_family *f, const double *x, double *s) {
    for (int i = 0; i < f->n; i++) {
        s[2 * i] = x[i];
        s[2 * i + 1] = hm_lgamma(x[i] + 1.0);
    }
}

static double cmp_log_base(const hm_family *f, const double *x) {
    (void)f;
    (void)x;
    return 0.0;
}

static hm_status
cmp_log_partition(const hm_family *f, const double *theta, double *psi, double *work) {
    (void)work;
    double acc = 0.0;
    for (int i = 0; i < f->n; i++) {
        cmp_moments mo;
        hm_status st = cmp_series(theta[2 * i], theta[2 * i + 1], &mo);
        if (st != HM_OK) {
            return st;
        }
        acc += mo.logz;
    }
    *psi = acc;
    return HM_OK;
}

static hm_status cmp_to_mean(const hm_family *f, const double *theta, double *eta, double *work) {
    (void)work;
    for (int i = 0; i < f->n; i++) {
        cmp_moments mo;
        hm_status st = cmp_series(theta[2 * i], theta[2 * i + 1], &mo);
        if (st != HM_OK) {
            return st;
        }
        eta[2 * i] = mo.ex;
        eta[2 * i + 1] = mo.el;
    }
    return HM_OK;
}

/*
 * The mean domain is the interior of the convex hull of the points
 * (j, log j!): E[x] > 0 and E[log x!] above the chord of the convex curve
 * j -> log j! through the integers around E[x]. (By Jensen E[log x!] >=
 * log Gamma(E[x] + 1) for every distribution on the integers, and the
 * chord is the exact lower boundary.)
 */
static int cmp_in_mean_domain(double e1, double e2) {
    if (!isfinite(e1) || !isfinite(e2) || !(e1 > 0.0)) {
        return 0;
    }
    double fl = floor(e1);
    double chord = hm_lgamma(fl + 1.0) + (e1 - fl) * log(fl + 1.0);
    return e2 > chord;
}

/*
 * Starting point from the moment approximations of theory.md 2.5:
 * E[x] ~ mode + 1/(2 nu) - 1/2 and Var[x] ~ mode / nu, with the variance
 * itself recovered from E[log x!] by the delta method,
 * E[log x!] ~ log Gamma(E[x] + 1) + Var[x] psi'(E[x] + 1) / 2. Eliminating
 * the mode gives var nu^2 - (E[x] + 1/2) nu + 1/2 = 0; the larger root is
 * the right one (it gives nu = 1 for a Poisson) when E[x] > 1/2, the
 * smaller one below. Anything implausible falls back to the Poisson start.
 */
static void cmp_start(double e1, double e2, double *t1, double *t2) {
    double nu = 1.0, mode = e1;
    double v = 2.0 * (e2 - hm_lgamma(e1 + 1.0)) / hm_trigamma(e1 + 1.0);
    double b = e1 + 0.5, disc = b * b - 2.0 * v;
    if (v > 0.0 && disc >= 0.0) {
        double c = e1 > 0.5 ? (b + sqrt(disc)) / (2.0 * v) : (b - sqrt(disc)) / (2.0 * v);
        if (c > 1e-3 && c < 1e3 && v * c > 0.0) {
            nu = c;
            mode = v * c;
        }
    }
    *t1 = nu * log(mode);
    *t2 = -nu;
}

/*
 * Damped Newton ascent for one unit on f(theta) = theta.eta - psi(theta),
 * which is strictly concave with gradient eta - E_theta[s] and Hessian
 * -Cov_theta[s] (theory.md 1.1), both from one pass of cmp_series. Steps are
 * halved until theta2 < 0, the series is summable and the Armijo condition
 * holds; near the optimum, where the predicted gain is below the rounding
 * level of f, the Newton step is taken as is. Converged when
 * |gradient_i| <= tol |eta_i| for both coordinates, or when the Newton step
 * no longer changes theta at working precision. On success *logz = psi.
 */
static hm_status cmp_solve(double e1, double e2, double tol, int maxit, double *th, double *logz) {
    if (!cmp_in_mean_domain(e1, e2)) {
        return HM_EDOM;
    }
    double t1, t2;
    cmp_moments mo;
    cmp_start(e1, e2, &t1, &t2);
    if (cmp_series(t1, t2, &mo) != HM_OK) {
        t1 = log(e1);
        t2 = -1.0;
        if (cmp_series(t1, t2, &mo) != HM_OK) {
            return HM_EMAXITER;
        }
    }
    for (int it = 0; it < maxit; it++) {
        double g1 = e1 - mo.ex, g2 = e2 - mo.el;
        if (fabs(g1) <= tol * fabs(e1) && fabs(g2) <= tol * fabs(e2)) {
            th[0] = t1;
            th[1] = t2;
            *logz = mo.logz;
            return HM_OK;
        }
        // Newton direction Cov^-1 g (2 x 2, by Cramer's rule); a singular
        // covariance (all mass on one or two points) falls back to g.
        double det = mo.vxx * mo.vll - mo.vxl * mo.vxl;
        double d1 = g1, d2 = g2;
        if (det > 0.0 && isfinite(det)) {
            d1 = (mo.vll * g1 - mo.vxl * g2) / det;
            d2 = (mo.vxx * g2 - mo.vxl * g1) / det;
        }
        // Damping: a step may change theta1 by at most 1 + |theta1| and theta2
        // by at most |theta2|. Where the law is nearly degenerate (nu large,
        // tiny covariance) the raw Newton step is enormous and would
        // otherwise exhaust the halvings below.
        double big = fmax(fabs(d1) / (1.0 + fabs(t1)), fabs(d2) / fabs(t2));
        if (big > 1.0) {
            d1 /= big;
            d2 /= big;
        }
        if (fabs(d1) <= 4.0 * DBL_EPSILON * (fabs(t1) + fabs(t2)) &&
            fabs(d2) <= 4.0 * DBL_EPSILON * fabs(t2)) {
            th[0] = t1;
            th[1] = t2;
            *logz = mo.logz;
            return HM_OK;
        }
        double f0 = t1 * e1 + t2 * e2 - mo.logz;
        double slope = g1 * d1 + g2 * d2;
        double noise = 8.0 * DBL_EPSILON * (fabs(t1 * e1) + fabs(t2 * e2) + fabs(mo.logz));
        double step = 1.0;
        int accepted = 0;
        for (int h = 0; h < CMP_MAX_HALVINGS; h++, step *= 0.5) {
            double n1 = t1 + step * d1, n2 = t2 + step * d2;
            cmp_moments mn;
            if (!(n2 < 0.0) || cmp_series(n1, n2, &mn) != HM_OK) {
                continue;
            }
            double fn = n1 * e1 + n2 * e2 - mn.logz;
            if (fn >= f0 + 1e-4 * step * slope || step * slope <= noise) {
                t1 = n1;
                t2 = n2;
                mo = mn;
                accepted = 1;
                break;
            }
        }
        if (!accepted) {
            return HM_EMAXITER;
        }
    }
    return HM_EMAXITER;
}

static hm_status cmp_to_natural(
    const hm_family *f, const double *eta, double *theta, double *work, const hm_ctrl *ctl) {
    (void)work;
    return hm_unit2_to_natural(f, eta, theta, ctl, cmp_solve);
}

/* phi(eta) = theta(eta).eta - psi(theta(eta)), unit by unit (theory.md 1.1). */
static hm_status cmp_neg_entropy(
    const hm_family *f, const double *eta, double *phi, double *work, const hm_ctrl *ctl) {
    (void)work;
    return hm_unit2_neg_entropy(f, eta, phi, ctl, cmp_solve);
}

/*
 * One draw by the rejection samplers of Benson & Friel (2021) as given in
 * theory.md 2.5, with every density ratio in log space (mode^(nu y) and y!
 * overflow long before the ratios do). Target q(y) = (mode^y / y!)^nu.
 *   nu >= 1: Poisson(mode) proposal; q(y) / (mode^y / y!) =
 *            (mode^y / y!)^(nu - 1) is largest at y = floor(mode), so the
 *            log acceptance is (nu - 1)(g(y) - g(m)) <= 0 with
 *            g(y) = y log mode - log y!.
 *   nu < 1:  geometric(p) proposal, p = 2 nu / (2 mode nu + 1 + nu); the
 *            log ratio r(y) = nu g(y) - y log(1 - p) - log p is largest at
 *            y = floor(mode / (1 - p)^(1/nu)) (its increments change sign
 *            there), and the log acceptance is r(y) - r(m).
 */
static hm_status cmp_draw(double t1, double t2, hm_rng *rng, double *y) {
    double nu = -t2, lmode = t1 / nu, mode = exp(lmode);
    if (nu >= 1.0) {
        double m = floor(mode);
        double gm = m * lmode - hm_lgamma(m + 1.0);
        for (int k = 0; k < CMP_MAX_TRIES; k++) {
            double c = rng->poisson(rng->ctx, mode);
            double la = (nu - 1.0) * (c * lmode - hm_lgamma(c + 1.0) - gm);
            if (log(rng->unif(rng->ctx)) <= la) {
                *y = c;
                return HM_OK;
            }
        }
        return HM_EMAXITER;
    }
    double p = 2.0 * nu / (2.0 * mode * nu + 1.0 + nu);
    double l1p = log1p(-p), lp = log(p);
    double m = floor(exp(lmode - l1p / nu));
    double rm = nu * (m * lmode - hm_lgamma(m + 1.0)) - m * l1p - lp;
    for (int k = 0; k < CMP_MAX_TRIES; k++) {
        double c = floor(log(rng->unif(rng->ctx)) / l1p);
        double rc = nu * (c * lmode - hm_lgamma(c + 1.0)) - c * l1p - lp;
        if (log(rng->unif(rng->ctx)) <= rc - rm) {
            *y = c;
            return HM_OK;
        }
    }
    return HM_EMAXITER;
}

/*
 * Modes beyond the series limit are refused (HM_EMAXITER) so that the
 * sampler and the log-partition accept exactly the same parameters.
 */
static hm_status
cmp_sample(const hm_family *f, const double *theta, int n, hm_rng *rng, double *x, double *work) {
    (void)work;
    for (int u = 0; u < f->n; u++) {
        double t1 = theta[2 * u], t2 = theta[2 * u + 1];
        if (!isfinite(t1) || !isfinite(t2) || !(t2 < 0.0)) {
            return HM_EDOM;
        }
        double lmode = t1 / (-t2);
        if (lmode > log(CMP_MAX_MODE) ||
            (lmode > 0.0 && 0.5 * lmode - 0.5 * log(-t2) > log(0.5 * CMP_MAX_TERMS))) {
            return HM_EMAXITER;
        }
        for (int i = 0; i < n; i++) {
            hm_status st = cmp_draw(t1, t2, rng, &x[(size_t)i * (size_t)f->d + (size_t)u]);
            if (st != HM_OK) {
                return st;
            }
        }
    }
    return HM_OK;
}

static hm_status cmp_check_natural(const hm_family *f, const double *theta) {
    for (int i = 0; i < f->n; i++) {
        if (!isfinite(theta[2 * i]) || !isfinite(theta[2 * i + 1]) || !(theta[2 * i + 1] < 0.0)) {
            return HM_EDOM;
        }
    }
    return HM_OK;
}

/* Counts: finite non-negative integers. */
static hm_status cmp_check_data(const hm_family *f, const double *x) {
    for (int i = 0; i < f->n; i++) {
        if (!isfinite(x[i]) || x[i] < 0.0 || x[i] != floor(x[i])) {
            return HM_EDOM;
        }
    }
    return HM_OK;
}

/* Every map works unit by unit on the stack. */
static size_t cmp_work_len(const hm_family *f) {
    (void)f;
    return 0;
}

const hm_family_ops hm_fam_compoisson_ops = {
    "compoisson",    cmp_stat,   cmp_log_base,      cmp_log_partition, cmp_to_mean,  cmp_to_natural,
    cmp_neg_entropy, cmp_sample, cmp_check_natural, cmp_check_data,    cmp_work_len, 0,
};

// --- self-test -------------------------------------------------------------------
// Three units spanning under- and over-dispersion: the pmf against to_mean,
// the Poisson special case, the duality identities, a far round trip,
// sampling through the shared test generator (selftest_util.h) and every
// status.

enum { CMP_TEST_UNITS = 3, CMP_TEST_DRAWS = 50000 };

int hm_fam_compoisson_selftest(char *msg, size_t len) {
    const hm_family_ops *ops = &hm_fam_compoisson_ops;
    hm_ctrl ctl = {0.0, 1e-12, 100, 0.0, 0.0};
    const hm_st_ctx c = {NULL, &ctl, NULL, msg, len};
    hm_family f1, f3;
    HM_ST_CHECK(&c,
                hm_family_init(&f1, HM_FAM_COMPOISSON, 1, 0, 0) == HM_OK &&
                    hm_family_init(&f3, HM_FAM_COMPOISSON, CMP_TEST_UNITS, 0, 0) == HM_OK,
                "descriptor init failed");
    // Units: (mode, nu) = (6.85, 1.37) under-dispersed, (3.2, 0.61)
    // over-dispersed, (0.45, 2.385) with mode 0.
    const double mode[CMP_TEST_UNITS] = {6.85, 3.2, 0.45};
    const double nu[CMP_TEST_UNITS] = {1.37, 0.61, 2.385};
    double th[2 * CMP_TEST_UNITS];
    for (int u = 0; u < CMP_TEST_UNITS; u++) {
        th[2 * u] = nu[u] * log(mode[u]);
        th[2 * u + 1] = -nu[u];
    }

    // The pmf over 0..400 sums to 1 and reproduces to_mean, unit by unit.
    for (int u = 0; u < CMP_TEST_UNITS; u++) {
        double psi, e[2], tot = 0.0, m1 = 0.0, m2 = 0.0;
        HM_ST_CHECK(&c,
                    ops->log_partition(&f1, th + 2 * u, &psi, NULL) == HM_OK &&
                        ops->to_mean(&f1, th + 2 * u, e, NULL) == HM_OK,
                    "log_partition / to_mean failed for unit %d", u);
        for (int j = 0; j <= 400; j++) {
            double x = (double)j, s[2];
            ops->stat(&f1, &x, s);
            double p = exp(hm_st_log_density(&f1, th + 2 * u, psi, &x));
            tot += p;
            m1 += p * s[0];
            m2 += p * s[1];
        }
        HM_ST_CHECK(&c, fabs(tot - 1.0) < 1e-13, "pmf of unit %d sums to %.17g", u, tot);
        HM_ST_CHECK(&c, fabs(m1 - e[0]) < 1e-12 * e[0] && fabs(m2 - e[1]) < 1e-12 * e[1],
                    "to_mean of unit %d differs from the direct sums", u);
    }

    // nu = 1 is the Poisson: psi = e^theta1, E[x] = rate.
    {
        double tp[2] = {log(2.385), -1.0}, psi, e[2];
        HM_ST_CHECK(&c,
                    ops->log_partition(&f1, tp, &psi, NULL) == HM_OK &&
                        fabs(psi - 2.385) < 1e-14 * 2.385,
                    "nu = 1: psi = %.17g, not 2.385", psi);
        HM_ST_CHECK(&c, ops->to_mean(&f1, tp, e, NULL) == HM_OK && fabs(e[0] - 2.385) < 1e-13,
                    "nu = 1: E[x] = %.17g", e[0]);
        double tl[2] = {log(750.3), -1.0};
        HM_ST_CHECK(&c,
                    ops->log_partition(&f1, tl, &psi, NULL) == HM_OK &&
                        fabs(psi - 750.3) < 1e-12 * 750.3,
                    "nu = 1, large rate: psi = %.17g", psi);
    }

    // to_mean is the gradient of psi (central differences); the round trip
    // and the Legendre identity; a round trip far from the start (large
    // mode, strong under-dispersion).
    const double tb[2] = {8.3 * log(412.6), -8.3};
    if (hm_st_check_gradient(&c, &f3, th, 1e-5, HM_ST_STEP_PLUS1, HM_ST_REL(1e-7, 1e-7)) ||
        hm_st_check_round_trip(&c, &f3, th, HM_ST_REL(1e-12, 1e-8)) ||
        hm_st_check_legendre(&c, &f3, th, HM_ST_REL_GOT(1e-10, 1e-10)) ||
        hm_st_check_round_trip(&c, &f1, tb, HM_ST_REL(0.0, 1e-8))) {
        return 1;
    }

    // Sampling: the average statistic of 50000 draws, one per call, against
    // to_mean (within 3% of each eta); every draw must be in the support.
    {
        hm_st_rng g;
        hm_rng rng;
        hm_st_rng_init(&g, 20240611u, &rng);
        const hm_st_moments mom = {CMP_TEST_DRAWS, 1, 0.0, NULL, HM_ST_REL(0.0, 0.03), NULL, NULL};
        if (hm_st_check_moments(&c, &f3, th, &rng, &mom)) {
            return 1;
        }
    }

    // Statuses: invalid parameters, means outside the domain, a divergent series.
    {
        double bad[2] = {0.3, 0.0}, e[2], t[2], psi;
        HM_ST_CHECK(&c, ops->check_natural(&f1, bad) == HM_EDOM, "theta2 = 0 accepted");
        HM_ST_CHECK(&c, ops->log_partition(&f1, bad, &psi, NULL) == HM_EDOM, "psi at theta2 = 0");
        double e0[2] = {0.0, 0.1}, elow[2] = {2.5, 1.0}, enan[2] = {NAN, 1.0};
        HM_ST_CHECK(&c, ops->to_natural(&f1, e0, t, NULL, &ctl) == HM_EDOM, "E[x] = 0 accepted");
        HM_ST_CHECK(&c, ops->to_natural(&f1, elow, t, NULL, &ctl) == HM_EDOM,
                    "E[log x!] below hull");
        HM_ST_CHECK(&c, ops->to_natural(&f1, enan, t, NULL, &ctl) == HM_EDOM, "NaN mean accepted");
        double slow[2] = {1e-9 * log(1e6), -1e-9};
        HM_ST_CHECK(&c,
                    ops->log_partition(&f1, slow, &psi, NULL) == HM_EMAXITER &&
                        ops->to_mean(&f1, slow, e, NULL) == HM_EMAXITER,
                    "nu -> 0 with a large mode did not give HM_EMAXITER");
        hm_ctrl one = {0.0, 1e-12, 1, 0.0, 0.0};
        double e1[2];
        ops->to_mean(&f1, th, e1, NULL);
        HM_ST_CHECK(&c, ops->to_natural(&f1, e1, t, NULL, &one) == HM_EMAXITER,
                    "maxit = 1 converged");
        double x1 = 2.5, x2 = -1.0, x3 = 3.0;
        HM_ST_CHECK(&c,
                    ops->check_data(&f1, &x1) == HM_EDOM && ops->check_data(&f1, &x2) == HM_EDOM &&
                        ops->check_data(&f1, &x3) == HM_OK,
                    "check_data");
    }
    return 0;
}
