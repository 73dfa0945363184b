/*
 * fam_boltzmann.c: the fully connected Boltzmann machine on f->n binary
 * units (theory.md 2.11), exact by enumeration of the 2^n states.
 *
 * x in {0,1}^n; s(x) = packed x x' (upper triangle row by row, index of
 * (i,j), i <= j, is i*n - i*(i+1)/2 + j; x_i^2 = x_i on the diagonal), so
 * the natural parameters are packed couplings with energy
 * E(x) = theta.s(x) = sum_i theta_ii x_i + sum_{i<j} theta_ij x_i x_j,
 * log mu = 0, psi = log sum_x exp E(x), and eta = packed E[x x'].
 *
 * States are visited in Gray-code order (state index LSB-first, x_i = bit
 * i): successive states differ in one unit k, and the energy changes by
 * +-(theta_kk + sum_{j != k} theta_kj x_j), an O(n) update instead of an
 * O(n^2) evaluation. The energy is recomputed exactly every 1024 states so
 * that rounding cannot drift. Sums are max-shifted (theory.md 8): every
 * weight is exp(E - E_max) <= 1, with E_max found in a first pass (or
 * tracked online when only psi is wanted), and weights are added in blocks
 * of 1024 so that rounding grows with the number of blocks only.
 *
 * Moments come from the superset-sum (zeta) transform of the 2^n state
 * weights, which yields P(all units of U on) for every subset U at once:
 * the mean parameters are the subsets of size <= 2 and the covariance of
 * s (the Newton Hessian) needs only those of size <= 4.
 *
 * Cost: psi O(n 2^n) time; eta and the Hessian O(n 2^n + dim^2) time and
 * 2^n doubles of scratch (about 0.3 s and 8 MiB at n = 20).
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "hm_specfun.h"
#include "selftest.h"
#include "selftest_util.h"

/* Exact energy recomputation and summation block period (a power of 2). */
#define BM_BLOCK 1024u

/* Gibbs sampler schedule (theory.md 2.11, as in both references). */
#define BM_GIBBS_BURNIN 1000
#define BM_GIBBS_THIN 10

/* Halvings of a Newton step before giving up on the line search. */
#define BM_MAX_HALVINGS 60


#define BM_MAXN HM_BOLTZMANN_MAX_UNITS

// --- layout helpers ---------------------------------------------------------------

/* Parameter length n(n+1)/2 (at most 210 for n = 20, so int indices suffice). */
static int bm_dim(int n) { return n * (n + 1) / 2; }

/* Row offsets of the packed layout: index(i, j) = off[i] + j for i <= j. */
static void packed_offsets(int n, int *off) {
    for (int i = 0; i < n; i++) {
        off[i] = i * n - i * (i + 1) / 2;
    }
}

/* Full symmetric n x n coupling matrix: M_ii = theta_ii, M_ij = M_ji = theta_ij. */
static void coupling_matrix(int n, const double *theta, double *m) {
    int off[BM_MAXN];
    packed_offsets(n, off);
    for (int i = 0; i < n; i++) {
        for (int j = i; j < n; j++) {
            m[i * n + j] = m[j * n + i] = theta[off[i] + j];
        }
    }
}

/* E(x) = sum_i x_i (M_ii + sum_{j>i} M_ij x_j), evaluated from scratch. */
static double energy(int n, const double *m, const int *x) {
    double e = 0.0;
    for (int i = 0; i < n; i++) {
        if (x[i]) {
            double r = m[i * n + i];
            for (int j = i + 1; j < n; j++) {
                if (x[j]) {
                    r += m[i * n + j];
                }
            }
            e += r;
        }
    }
    return e;
}

/* The unit flipped between Gray codes s - 1 and s: the lowest set bit of s. */
static int flipped_unit(unsigned long s) {
    int k = 0;
    while (!((s >> k) & 1ul)) {
        k++;
    }
    return k;
}

/*
 * Moves to the next Gray-code state: flips unit k and updates the energy
 * by the local field, or recomputes it at block boundaries.
 */
static double gray_step(int n, const double *m, int *x, unsigned long s, double e) {
    int k = flipped_unit(s);
    double h = m[k * n + k];
    for (int j = 0; j < n; j++) {
        if (j != k && x[j]) {
            h += m[k * n + j];
        }
    }
    if (x[k]) {
        x[k] = 0;
        e -= h;
    } else {
        x[k] = 1;
        e += h;
    }
    if ((s & (BM_BLOCK - 1u)) == 0u) {
        e = energy(n, m, x);
    }
    return e;
}

// --- enumeration --------------------------------------------------------------------

/*
 * psi alone in one Gray-code pass, with an online maximum: when a state
 * beats the running maximum E_max, the sum of the others relative to it is
 * rescaled, rest <- (1 + rest) exp(E_max - E) (and the current block sum
 * with it), so every term is still <= 1 and the best state is kept out of
 * `rest` exactly as in the two-pass version below.
 */
static double enumerate_psi(int n, const double *m) {
    unsigned long ns = 1ul << n;
    int x[BM_MAXN];
    double e = 0.0, emax = 0.0, rest = 0.0, brest = 0.0;
    memset(x, 0, sizeof x);
    for (unsigned long s = 1; s < ns; s++) {
        e = gray_step(n, m, x, s, e);
        if (e > emax) {
            double c = exp(emax - e);
            rest = (1.0 + rest + brest) * c;
            brest = 0.0;
            emax = e;
        } else {
            brest += exp(e - emax);
        }
        if (((s + 1ul) & (BM_BLOCK - 1u)) == 0u) {
            rest += brest;
            brest = 0.0;
        }
    }
    return emax + log1p(rest + brest);
}

/*
 * psi at coupling matrix m by enumeration; if w is not NULL it also
 * receives the unnormalised weights w[x] = exp(E(x) - E_max) of all 2^n
 * states, indexed by the LSB-first state code. The maximal state
 * contributes exactly 1 and is kept out of the weight sum, so
 * psi = E_max + log1p(rest) stays exact also when one state carries nearly
 * all the mass.
 */
static double enumerate(int n, const double *m, double *w) {
    unsigned long ns = 1ul << n, smax = 0;
    int x[BM_MAXN];
    if (w == NULL) {
        return enumerate_psi(n, m);
    }

    // Pass 1: the energies by state (the Gray code s ^ (s >> 1) of step s),
    // the largest one and its state.
    double e = 0.0, emax = 0.0;
    memset(x, 0, sizeof x);
    w[0] = 0.0;
    for (unsigned long s = 1; s < ns; s++) {
        e = gray_step(n, m, x, s, e);
        w[s ^ (s >> 1)] = e;
        if (e > emax) {
            emax = e;
            smax = s ^ (s >> 1);
        }
    }

    // Pass 2: weights exp(E - E_max) <= 1, summed in blocks of BM_BLOCK.
    double rest = 0.0, brest = 0.0;
    for (unsigned long s = 0; s < ns; s++) {
        double wt = (s == smax) ? 1.0 : exp(w[s] - emax);
        if (s != smax) {
            brest += wt;
        }
        w[s] = wt;
        if (((s + 1ul) & (BM_BLOCK - 1u)) == 0u || s + 1ul == ns) {
            rest += brest;
            brest = 0.0;
        }
    }
    return emax + log1p(rest);
}

/*
 * Superset sums (the zeta transform of the subset lattice), in place:
 * afterwards w[U] = sum over states x whose set of active units contains
 * U of the old w[x], so w[U] / w[0] = E[prod_{u in U} x_u] for every U at
 * once, in O(n 2^n) additions. In particular w[{i,j}] / w[0] = E[x_i x_j]
 * (the mean parameters) and w[{i,j,k,l}] / w[0] = E[s_ij s_kl] (the
 * second moments of the statistic, for the Hessian). Every moment is a
 * pairwise-tree sum, so rounding grows like n eps only.
 */
static void superset_sums(int n, double *w) {
    unsigned long ns = 1ul << n;
    for (int i = 0; i < n; i++) {
        unsigned long bit = 1ul << i;
        for (unsigned long base = 0; base < ns; base += 2ul * bit) {
            for (unsigned long s = base; s < base + bit; s++) {
                w[s] += w[s | bit];
            }
        }
    }
}

/* eta (packed) from the superset sums w. */
static void mean_from_sums(int n, const double *w, double *eta) {
    int r = 0;
    double z = w[0];
    for (int i = 0; i < n; i++) {
        for (int j = i; j < n; j++) {
            eta[r++] = w[(1ul << i) | (1ul << j)] / z;
        }
    }
}

/* The dim x dim covariance of s (row-major) from the superset sums w and eta. */
static void cov_from_sums(int n, const double *w, const double *eta, double *cov) {
    int dim = bm_dim(n), r = 0;
    double z = w[0];
    for (int i = 0; i < n; i++) {
        for (int j = i; j < n; j++, r++) {
            unsigned long ur = (1ul << i) | (1ul << j);
            int c = 0;
            for (int k = 0; k < n; k++) {
                for (int l = k; l < n; l++, c++) {
                    if (c >= r) {
                        double v = w[ur | (1ul << k) | (1ul << l)] / z - eta[r] * eta[c];
                        cov[r * dim + c] = cov[c * dim + r] = v;
                    }
                }
            }
        }
    }
}

// --- Newton inverse -----------------------------------------------------------------

/* In-place Cholesky of a row-major d x d SPD matrix (lower triangle); 0 on success. */
static int chol(int d, double *a) {
    for (int j = 0; j < d; j++) {
        double s = a[j * d + j];
        for (int k = 0; k < j; k++) {
            s -= a[j * d + k] * a[j * d + k];
        }
        if (!(s > 0.0) || !isfinite(s)) {
            return 1;
        }
        double l = sqrt(s);
        a[j * d + j] = l;
        for (int i = j + 1; i < d; i++) {
            double t = a[i * d + j];
            for (int k = 0; k < j; k++) {
                t -= a[i * d + k] * a[j * d + k];
            }
            a[i * d + j] = t / l;
        }
    }
    return 0;
}

/* Solves L L' y = b in place of b, given the factor from chol(). */
static void chol_solve(int d, const double *l, double *b) {
    for (int i = 0; i < d; i++) {
        double t = b[i];
        for (int k = 0; k < i; k++) {
            t -= l[i * d + k] * b[k];
        }
        b[i] = t / l[i * d + i];
    }
    for (int i = d - 1; i >= 0; i--) {
        double t = b[i];
        for (int k = i + 1; k < d; k++) {
            t -= l[k * d + i] * b[k];
        }
        b[i] = t / l[i * d + i];
    }
}

/*
 * Necessary conditions for eta to lie in the interior of the marginal
 * polytope: 0 < eta_ii < 1 and, for i < j, the Frechet bounds
 * max(0, eta_ii + eta_jj - 1) < eta_ij < min(eta_ii, eta_jj). (For n >= 3
 * the polytope has further facets; a point violating only those makes the
 * Newton iteration diverge and gives HM_EMAXITER.)
 */
static int in_mean_domain(int n, const double *eta) {
    int off[BM_MAXN];
    packed_offsets(n, off);
    for (int i = 0; i < n; i++) {
        double p = eta[off[i] + i];
        if (!isfinite(p) || !(p > 0.0 && p < 1.0)) {
            return 0;
        }
    }
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            double pi = eta[off[i] + i], pj = eta[off[j] + j], q = eta[off[i] + j];
            if (!isfinite(q) || !(q > 0.0 && q > pi + pj - 1.0 && q < pi && q < pj)) {
                return 0;
            }
        }
    }
    return 1;
}

/*
 * Damped Newton ascent on the concave f(theta) = theta.eta - psi(theta)
 * (gradient eta - E_theta[s], Hessian -Cov_theta[s], theory.md 1.1), from
 * the independent-units start theta_ii = logit(eta_ii), theta_ij = 0. The
 * Newton system is solved by Cholesky; if the covariance is numerically
 * singular the step falls back to the gradient. A step is first scaled to
 * at most 1 + max |theta| in every coordinate (the raw step can be huge
 * where the model is nearly deterministic), then halved until the Armijo
 * condition holds or the predicted gain is below the rounding level of f.
 * Converged when |g_r| <= tol eta_r for every r, or when the step no
 * longer changes theta at working precision.
 * work: 2^n + dim^2 + 4 dim doubles. On success *psi = psi(theta).
 */
static hm_status bm_solve(
    int n, const double *eta, double *theta, double *work, double tol, int maxit, double *psi) {
    if (!in_mean_domain(n, eta)) {
        return HM_EDOM;
    }
    int dim = bm_dim(n), off[BM_MAXN];
    double m[BM_MAXN * BM_MAXN];
    double *ws = work, *cov = ws + (1ul << n), *em = cov + dim * dim;
    double *g = em + dim, *d = g + dim, *trial = d + dim;
    packed_offsets(n, off);
    for (int r = 0; r < dim; r++) {
        theta[r] = 0.0;
    }
    for (int i = 0; i < n; i++) {
        double p = eta[off[i] + i];
        theta[off[i] + i] = log(p / (1.0 - p));
    }
    double lz;
    for (int it = 0; it < maxit; it++) {
        // One enumeration gives psi, eta and the Hessian at theta.
        coupling_matrix(n, theta, m);
        lz = enumerate(n, m, ws);
        superset_sums(n, ws);
        mean_from_sums(n, ws, em);
        cov_from_sums(n, ws, em, cov);
        int conv = 1;
        double tmax = 0.0;
        for (int r = 0; r < dim; r++) {
            g[r] = eta[r] - em[r];
            d[r] = g[r];
            if (fabs(g[r]) > tol * eta[r]) {
                conv = 0;
            }
            tmax = fmax(tmax, fabs(theta[r]));
        }
        if (conv) {
            *psi = lz;
            return HM_OK;
        }
        // d = Cov^-1 g; d stays = g when the covariance is not numerically
        // positive definite (e.g. a unit almost always on).
        if (chol(dim, cov) == 0) {
            chol_solve(dim, cov, d);
        }
        double big = 0.0;
        for (int r = 0; r < dim; r++) {
            big = fmax(big, fabs(d[r]));
        }
        if (big <= 4.0 * DBL_EPSILON * (1.0 + tmax)) {
            *psi = lz;
            return HM_OK;
        }
        double shrink = big > 1.0 + tmax ? (1.0 + tmax) / big : 1.0;
        // f, its directional derivative g.d and the rounding scale of f.
        double f0 = -lz, slope = 0.0, scale = fabs(lz);
        for (int r = 0; r < dim; r++) {
            d[r] *= shrink;
            f0 += theta[r] * eta[r];
            scale += fabs(theta[r] * eta[r]);
            slope += g[r] * d[r];
        }
        double noise = 8.0 * DBL_EPSILON * scale, step = 1.0;
        int accepted = 0;
        for (int h = 0; h < BM_MAX_HALVINGS && !accepted; h++, step *= 0.5) {
            double fn = 0.0, lzn;
            for (int r = 0; r < dim; r++) {
                trial[r] = theta[r] + step * d[r];
                fn += trial[r] * eta[r];
            }
            coupling_matrix(n, trial, m);
            lzn = enumerate(n, m, NULL);
            fn -= lzn;
            if (fn >= f0 + 1e-4 * step * slope || step * slope <= noise) {
                memcpy(theta, trial, (size_t)dim * sizeof(double));
                accepted = 1;
            }
        }
        if (!accepted) {
            return HM_EMAXITER;
        }
    }
    return HM_EMAXITER;
}

// --- the ops table ------------------------------------------------------------------

/* The stack arrays below are sized for HM_BOLTZMANN_MAX_UNITS units. */
static int size_ok(const hm_family *f) { return f->n >= 1 && f->n <= BM_MAXN; }

static int theta_ok(const hm_family *f, const double *theta) {
    for (int r = 0; r < bm_dim(f->n); r++) {
        if (!isfinite(theta[r])) {
            return 0;
        }
    }
    return 1;
}

/* s(x) = packed x x', row by row (x_i x_i = x_i on the diagonal). */
static void bm_stat(const hm_family *f, const double *x, double *s) {
    int n = f->n, r = 0;
    for (int i = 0; i < n; i++) {
        for (int j = i; j < n; j++) {
            s[r++] = x[i] * x[j];
        }
    }
}

static double bm_log_base(const hm_family *f, const double *x) {
    (void)f;
    (void)x;
    return 0.0;
}

static hm_status
bm_log_partition(const hm_family *f, const double *theta, double *psi, double *work) {
    (void)work;
    if (!size_ok(f)) {
        return HM_EINVAL;
    }
    if (!theta_ok(f, theta)) {
        return HM_EDOM;
    }
    double m[BM_MAXN * BM_MAXN];
    coupling_matrix(f->n, theta, m);
    *psi = enumerate(f->n, m, NULL);
    return HM_OK;
}

/* work: 2^n doubles (the state weights, then their superset sums). */
static hm_status bm_to_mean(const hm_family *f, const double *theta, double *eta, double *work) {
    if (!size_ok(f)) {
        return HM_EINVAL;
    }
    if (!theta_ok(f, theta)) {
        return HM_EDOM;
    }
    double m[BM_MAXN * BM_MAXN];
    coupling_matrix(f->n, theta, m);
    enumerate(f->n, m, work);
    superset_sums(f->n, work);
    mean_from_sums(f->n, work, eta);
    return HM_OK;
}

static hm_status bm_to_natural(
    const hm_family *f, const double *eta, double *theta, double *work, const hm_ctrl *ctl) {
    if (!size_ok(f)) {
        return HM_EINVAL;
    }
    double tol, psi;
    int maxit;
    hm_ctrl_solver(ctl, &tol, &maxit);
    return bm_solve(f->n, eta, theta, work, tol, maxit, &psi);
}

/* phi = theta.eta - psi at theta = theta(eta); theta staged after the Newton scratch. */
static hm_status bm_neg_entropy(
    const hm_family *f, const double *eta, double *phi, double *work, const hm_ctrl *ctl) {
    if (!size_ok(f)) {
        return HM_EINVAL;
    }
    double tol, psi;
    int maxit, dim = bm_dim(f->n);
    hm_ctrl_solver(ctl, &tol, &maxit);
    double *theta = work + (1ul << f->n) + dim * dim + 4 * dim;
    hm_status st = bm_solve(f->n, eta, theta, work, tol, maxit, &psi);
    if (st != HM_OK) {
        return st;
    }
    double dot = 0.0;
    for (int r = 0; r < dim; r++) {
        dot += theta[r] * eta[r];
    }
    *phi = dot - psi;
    return HM_OK;
}

/*
 * Gibbs sampling (theory.md 2.11): one chain from a uniform random state;
 * each sweep visits the units in a fresh random order (Fisher-Yates with
 * rng->unif) and redraws unit k from its conditional,
 * P(x_k = 1 | rest) = sigma(theta_kk + sum_{j != k} theta_kj x_j);
 * BM_GIBBS_BURNIN sweeps of burn-in, then one draw every BM_GIBBS_THIN
 * sweeps. The draws are therefore approximate and serially dependent.
 */
static hm_status
bm_sample(const hm_family *f, const double *theta, int n, hm_rng *rng, double *x, double *work) {
    (void)work;
    if (!size_ok(f)) {
        return HM_EINVAL;
    }
    if (!theta_ok(f, theta)) {
        return HM_EDOM;
    }
    int u = f->n, state[BM_MAXN], perm[BM_MAXN];
    double m[BM_MAXN * BM_MAXN];
    coupling_matrix(u, theta, m);
    for (int k = 0; k < u; k++) {
        state[k] = rng->unif(rng->ctx) < 0.5;
        perm[k] = k;
    }
    // draw = -1 is the burn-in; every later pass ends with one draw.
    for (int draw = -1; draw < n; draw++) {
        int sweeps = draw < 0 ? BM_GIBBS_BURNIN : BM_GIBBS_THIN;
        for (int sw = 0; sw < sweeps; sw++) {
            for (int i = u - 1; i > 0; i--) {
                int j = (int)(rng->unif(rng->ctx) * (double)(i + 1));
                j = j > i ? i : j;
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            for (int q = 0; q < u; q++) {
                int k = perm[q];
                double h = m[k * u + k];
                for (int j = 0; j < u; j++) {
                    if (j != k && state[j]) {
                        h += m[k * u + j];
                    }
                }
                state[k] = rng->unif(rng->ctx) < hm_sigmoid(h);
            }
        }
        if (draw >= 0) {
            for (int k = 0; k < u; k++) {
                x[(size_t)draw * (size_t)u + (size_t)k] = (double)state[k];
            }
        }
    }
    return HM_OK;
}

static hm_status bm_check_natural(const hm_family *f, const double *theta) {
    if (!size_ok(f)) {
        return HM_EINVAL;
    }
    return theta_ok(f, theta) ? HM_OK : HM_EDOM;
}

static hm_status bm_check_data(const hm_family *f, const double *x) {
    for (int i = 0; i < f->n; i++) {
        if (x[i] != 0.0 && x[i] != 1.0) {
            return HM_EDOM;
        }
    }
    return HM_OK;
}

/*
 * State weights (2^n, 8 MiB at n = 20), covariance (dim^2), model mean,
 * gradient, step and trial point (4 dim); neg_entropy stages theta (dim).
 */
static size_t bm_work_len(const hm_family *f) {
    if (!size_ok(f)) {
        return 0;
    }
    size_t dim = (size_t)bm_dim(f->n);
    return ((size_t)1 << f->n) + dim * dim + 5 * dim;
}

const hm_family_ops hm_fam_boltzmann_ops = {
    "boltzmann",    bm_stat,   bm_log_base,      bm_log_partition, bm_to_mean,  bm_to_natural,
    bm_neg_entropy, bm_sample, bm_check_natural, bm_check_data,    bm_work_len, 0,
};

// --- self-test ----------------------------------------------------------------------
// Four units (and eleven, and one): psi, eta and the Newton Hessian against
// brute force, the duality identities (also at strong couplings), Gibbs
// sampling through the shared test generator (selftest_util.h) with its
// autocorrelation, and every status.

enum {
    BM_TEST_N = 4,
    BM_TEST_DIM = 10,
    BM_TEST_BIG = 11, /* 2048 states: crosses the exact-recompute period */
    BM_TEST_BIGDIM = 66,
    BM_TEST_DRAWS = 50000,
    BM_TEST_CHUNK = 500
};

/*
 * Brute force for n units: log p(x) = theta.s(x) - psi over all states
 * through the family's stat(), with psi from hm_lse; optionally the
 * probability-weighted mean statistic. lw has 2^n doubles.
 */
static double brute_psi(const hm_family *f, const double *theta, double *lw, double *mean) {
    int n = f->n, dim = bm_dim(n);
    unsigned long ns = 1ul << n;
    double x[BM_MAXN], s[BM_MAXN * (BM_MAXN + 1) / 2];
    for (unsigned long st = 0; st < ns; st++) {
        for (int i = 0; i < n; i++) {
            x[i] = (double)((st >> i) & 1ul);
        }
        hm_fam_boltzmann_ops.stat(f, x, s);
        double e = 0.0;
        for (int r = 0; r < dim; r++) {
            e += theta[r] * s[r];
        }
        lw[st] = e;
    }
    double psi = hm_lse(lw, (int)ns);
    if (mean != NULL) {
        for (int r = 0; r < dim; r++) {
            mean[r] = 0.0;
        }
        for (unsigned long st = 0; st < ns; st++) {
            double p = exp(lw[st] - psi);
            for (int i = 0; i < n; i++) {
                x[i] = (double)((st >> i) & 1ul);
            }
            hm_fam_boltzmann_ops.stat(f, x, s);
            for (int r = 0; r < dim; r++) {
                mean[r] += p * s[r];
            }
        }
    }
    return psi;
}

/* Lag-1 products (x_t,u - mu_u)(x_t-1,u - mu_u) of successive draws within
 * each Gibbs chain (one chain per call to sample, i.e. per chunk). */
typedef struct bm_lag {
    double mu[BM_TEST_N];
    double lag[BM_TEST_N];
} bm_lag;

static int
bm_lag_visit(const hm_st_ctx *c, const hm_family *f, void *arg, const double *x, int rows) {
    (void)c;
    bm_lag *a = arg;
    for (int i = 1; i < rows; i++) {
        const double *xi = x + f->n * i;
        for (int u = 0; u < f->n; u++) {
            a->lag[u] += (xi[u] - a->mu[u]) * (xi[u - f->n] - a->mu[u]);
        }
    }
    return 0;
}

int hm_fam_boltzmann_selftest(char *msg, size_t len) {
    const hm_family_ops *ops = &hm_fam_boltzmann_ops;
    double work[(1 << BM_TEST_BIG) + BM_TEST_BIGDIM * BM_TEST_BIGDIM + 5 * BM_TEST_BIGDIM];
    double lw[1 << BM_TEST_BIG];
    hm_ctrl ctl = {0.0, 1e-12, 100, 0.0, 0.0};
    const hm_st_ctx c = {work, &ctl, NULL, msg, len};
    hm_family f, fb, f1;
    HM_ST_CHECK(&c,
                hm_family_init(&f, HM_FAM_BOLTZMANN, BM_TEST_N, 0, 0) == HM_OK &&
                    hm_family_init(&fb, HM_FAM_BOLTZMANN, BM_TEST_BIG, 0, 0) == HM_OK &&
                    hm_family_init(&f1, HM_FAM_BOLTZMANN, 1, 0, 0) == HM_OK &&
                    f.dim == BM_TEST_DIM && fb.dim == BM_TEST_BIGDIM,
                "descriptor init failed");
    HM_ST_CHECK(&c, ops->work_len(&f) <= sizeof work / sizeof work[0], "work_len");
    // Packed couplings, row by row: (0,0),(0,1),(0,2),(0,3),(1,1),(1,2),...
    const double th[BM_TEST_DIM] = {0.35, 0.9, -0.6, 0.25, -1.2, 1.1, -0.75, 0.8, 0.4, -0.45};
    double eta[BM_TEST_DIM], bm[BM_TEST_BIGDIM];

    // psi and eta against brute force (every state through stat() and
    // hm_lse, independent of the Gray code); the probabilities sum to 1.
    {
        double psi, want = brute_psi(&f, th, lw, bm), tot = 0.0;
        HM_ST_CHECK(&c, ops->log_partition(&f, th, &psi, NULL) == HM_OK && fabs(psi - want) < 1e-13,
                    "psi %.17g vs brute force %.17g", psi, want);
        for (int st = 0; st < (1 << BM_TEST_N); st++) {
            tot += exp(lw[st] - psi);
        }
        HM_ST_CHECK(&c, fabs(tot - 1.0) < 1e-14, "probabilities sum to %.17g", tot);
        HM_ST_CHECK(&c, ops->to_mean(&f, th, eta, work) == HM_OK, "to_mean failed");
        for (int r = 0; r < BM_TEST_DIM; r++) {
            HM_ST_CHECK(&c, fabs(eta[r] - bm[r]) < 1e-14, "eta_%d %.17g vs brute force %.17g", r,
                        eta[r], bm[r]);
        }
    }
    // Eleven units (exact recomputation and block sums in play), one unit.
    {
        double tb[BM_TEST_BIGDIM], eb[BM_TEST_BIGDIM], psi;
        for (int r = 0; r < BM_TEST_BIGDIM; r++) {
            tb[r] = 1.7 * sin(2.385 * (double)(r + 1)) - 0.3;
        }
        double want = brute_psi(&fb, tb, lw, bm);
        HM_ST_CHECK(&c,
                    ops->log_partition(&fb, tb, &psi, NULL) == HM_OK &&
                        fabs(psi - want) < 1e-13 * (1.0 + fabs(want)),
                    "11 units: psi %.17g vs %.17g", psi, want);
        HM_ST_CHECK(&c, ops->work_len(&fb) <= sizeof work / sizeof work[0], "work_len (11 units)");
        HM_ST_CHECK(&c, ops->to_mean(&fb, tb, eb, work) == HM_OK, "11 units: to_mean failed");
        for (int r = 0; r < BM_TEST_BIGDIM; r++) {
            HM_ST_CHECK(&c, fabs(eb[r] - bm[r]) < 1e-13, "11 units: eta_%d", r);
        }
        double t1 = 2.385, p1;
        HM_ST_CHECK(&c,
                    ops->log_partition(&f1, &t1, &p1, NULL) == HM_OK &&
                        fabs(p1 - hm_log1pexp(t1)) < 1e-15,
                    "one unit: psi is not softplus");
    }

    // to_mean is the gradient of psi (central differences).
    if (hm_st_check_gradient(&c, &f, th, 1e-6, HM_ST_STEP_ABS, HM_ST_ABS(1e-8))) {
        return 1;
    }

    // The Newton Hessian (covariance of s from the superset sums) is the
    // Jacobian of to_mean (central differences).
    {
        double m[BM_TEST_N * BM_TEST_N], cov[BM_TEST_DIM * BM_TEST_DIM], em[BM_TEST_DIM];
        coupling_matrix(BM_TEST_N, th, m);
        enumerate(BM_TEST_N, m, work);
        superset_sums(BM_TEST_N, work);
        mean_from_sums(BM_TEST_N, work, em);
        cov_from_sums(BM_TEST_N, work, em, cov);
        for (int col = 0; col < BM_TEST_DIM; col++) {
            double tp[BM_TEST_DIM], tm[BM_TEST_DIM], ep[BM_TEST_DIM], en[BM_TEST_DIM], h = 1e-6;
            memcpy(tp, th, sizeof tp);
            memcpy(tm, th, sizeof tm);
            tp[col] += h;
            tm[col] -= h;
            ops->to_mean(&f, tp, ep, work);
            ops->to_mean(&f, tm, en, work);
            for (int r = 0; r < BM_TEST_DIM; r++) {
                double fd = (ep[r] - en[r]) / (2.0 * h);
                HM_ST_CHECK(&c, fabs(fd - cov[r * BM_TEST_DIM + col]) < 1e-8,
                            "Hessian (%d, %d): %.12g vs %.12g", r, col, cov[r * BM_TEST_DIM + col],
                            fd);
            }
        }
    }

    // Round trip and the Legendre identity; a round trip at strong
    // couplings (a nearly deterministic model) from the independent start.
    {
        double ts[BM_TEST_DIM];
        for (int r = 0; r < BM_TEST_DIM; r++) {
            ts[r] = 3.7 * th[r];
        }
        if (hm_st_check_round_trip(&c, &f, th, HM_ST_REL(0.0, 1e-8)) ||
            hm_st_check_legendre(&c, &f, th, HM_ST_ABS(1e-11)) ||
            hm_st_check_round_trip(&c, &f, ts, HM_ST_REL(0.0, 1e-7))) {
            return 1;
        }
    }

    // Gibbs sampling: the average statistic of 50000 draws against to_mean
    // (standard error ~0.0025 for an indicator at 50000 thinned draws, so
    // 0.01 absolute), every draw binary, and the lag-1 autocorrelation of
    // each unit within a chain, which the thinning keeps near 0 (it is
    // 0.02-0.1 here without thinning).
    {
        bm_lag lag = {{0}, {0}};
        int off[BM_TEST_N];
        packed_offsets(BM_TEST_N, off);
        for (int u = 0; u < BM_TEST_N; u++) {
            lag.mu[u] = eta[off[u] + u];
        }
        hm_st_rng g;
        hm_rng rng;
        hm_st_rng_init(&g, 14142135u, &rng);
        const hm_st_moments mom = {BM_TEST_DRAWS,   BM_TEST_CHUNK, 0.0, NULL,
                                   HM_ST_ABS(0.01), bm_lag_visit,  &lag};
        if (hm_st_check_moments(&c, &f, th, &rng, &mom)) {
            return 1;
        }
        for (int u = 0; u < BM_TEST_N; u++) {
            double rho = lag.lag[u] / ((double)(BM_TEST_DRAWS - BM_TEST_DRAWS / BM_TEST_CHUNK) *
                                       lag.mu[u] * (1.0 - lag.mu[u]));
            HM_ST_CHECK(&c, fabs(rho) < 0.03, "unit %d: lag-1 autocorrelation %.4f", u, rho);
        }
    }

    // Statuses: each error path is provoked once (style.md 3.11).
    {
        double e1[BM_TEST_DIM], e2[BM_TEST_DIM], b[BM_TEST_DIM], x[BM_TEST_N] = {0, 1, 0.5, 1};
        memcpy(e1, eta, sizeof e1);
        memcpy(e2, eta, sizeof e2);
        e1[0] = 1.0;                         // eta_00 on the boundary
        e2[1] = fmin(eta[0], eta[4]) + 1e-3; // eta_01 above min(eta_00, eta_11)
        HM_ST_CHECK(&c, ops->to_natural(&f, e1, b, work, &ctl) == HM_EDOM, "eta_00 = 1 accepted");
        HM_ST_CHECK(&c, ops->to_natural(&f, e2, b, work, &ctl) == HM_EDOM,
                    "Frechet bound violated");
        HM_ST_CHECK(&c, ops->check_data(&f, x) == HM_EDOM, "0.5 accepted as binary");
        x[2] = 0.0;
        HM_ST_CHECK(&c, ops->check_data(&f, x) == HM_OK, "binary datum rejected");
        double tn[BM_TEST_DIM];
        memcpy(tn, th, sizeof tn);
        tn[3] = NAN;
        HM_ST_CHECK(&c, ops->check_natural(&f, tn) == HM_EDOM, "NaN coupling accepted");
        hm_ctrl one = {0.0, 1e-12, 1, 0.0, 0.0};
        HM_ST_CHECK(&c, ops->to_natural(&f, eta, b, work, &one) == HM_EMAXITER,
                    "maxit = 1 converged");
    }
    return 0;
}
