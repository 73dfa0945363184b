/*
 * conjugate.c: the Categorical-Dirichlet harmonium (theory.md 3.5),
 * HM_HM_CATEGORICAL_DIRICHLET: conjugate Bayesian updating of category
 * probabilities, run through the engine's one harmonium core.
 *
 * Observable Categorical(K) (s_X(x) = one-hot of x without category 0,
 * dim K - 1), latent Dirichlet(K) (s_Z(z) = log z, natural parameters
 * alpha), and a likelihood (theta_X, W) that is fixed, not fitted:
 *     theta_X = 0,   W ((K-1) x K, row-major) row i-1 = e_i - e_0,
 * so that the likelihood's natural parameters at z are
 *     (theta_X + W log z)_i = log z_i - log z_0 = log(z_i / z_0),
 * the log-odds of the probability vector z: x | z ~ Categorical(z), i.e.
 * log p(x = i | z) = log z_i. Parameters are [theta_X (K-1) | W | theta_Z
 * (K)] as for every kind, with mx = K - 1 and mz = K.
 *
 * Conjugation (theory.md 1.3). On the simplex sum_i z_i = 1, so
 *     psi_X(W log z) = log(1 + sum_{i>=1} z_i / z_0)
 *                    = log((z_0 + sum_{i>=1} z_i) / z_0) = -log z_0,
 * which is rho . log z + chi with rho = (-1, 0, ..., 0) and chi = 0. The
 * default convention chi = psi_X(theta_X) (= log K here) does not apply:
 * it evaluates the identity where s_Z vanishes, and s_Z = log z never does
 * (theory.md 2.9).
 *
 * The kind's operation table (hm_kind_catdir_ops, at the end of this file)
 * leaves the prior and the log-partition to the generic identities of
 * harmonium.c; everything else follows from them with
 * alpha = theta_Z + rho (so theta_Z = alpha + e_0):
 *   prior            Dirichlet(alpha);
 *   posterior at x   theta_Z + W' s_X(x) = alpha + e_x, because
 *                    W' s_X(x) = e_x - e_0 for x >= 1 and 0 for x = 0
 *                    (theory.md 3.5: alpha' = alpha - rho + W' s_X(x));
 *   log-partition    psi = psi_Dir(alpha) + chi = psi_Dir(alpha);
 *   log p(x)         psi_Dir(alpha + e_x) - psi_Dir(alpha) = log(alpha_x / A),
 *                    A = sum alpha (from Gamma(a + 1) = a Gamma(a)): the
 *                    Dirichlet-categorical predictive.
 * Mean coordinates under the joint z ~ Dir(alpha), x | z ~ Cat(z). The
 * identity z_i Dir(z; alpha) = (alpha_i / A) Dir(z; alpha + e_i) (the one
 * that makes the posterior alpha + e_i) turns every moment into a
 * Dirichlet mean:
 *   E[s_X]_i          = E[z_i] = alpha_i / A,                    i >= 1;
 *   E[1{x=i} log z_j] = E[z_i log z_j]
 *                     = (alpha_i / A) E_{Dir(alpha + e_i)}[log z_j]
 *                     = (alpha_i / A)(digamma(alpha_j + delta_ij) - digamma(A + 1));
 *   E[log z]_j        = digamma(alpha_j) - digamma(A).
 *
 * The M-step (mean -> natural map). The expected complete-data
 * log-likelihood splits into E[log p(z; alpha)] + E[log p(x | z)]
 * (theory.md 1.6), and the second term has no free parameter here, so the
 * exact M-step of this constrained harmonium moves only the prior: alpha
 * is the Dirichlet family's numerical to_natural of the latent mean block
 * E[log z], theta_Z = alpha - rho, and the fixed likelihood is written
 * back. The observable and interaction blocks of eta (implied by alpha) are
 * not read. Fitted to independent rows, each with its own z, the model's
 * p(x) = alpha_x / A depends on alpha only through alpha / A: EM converges
 * to the empirical frequencies, and the total concentration A stays where
 * the start put it (every point of that ray is a fixed point).
 *
 * Sequential updating of one shared z (each posterior becomes the next
 * prior) is hm_hm_posterior_fold in harmonium.c, written generically from
 * rho and the posterior at x; for this kind it gives alpha + the running
 * counts.
 *
 * Precision: theta_Z[0] = alpha_0 + 1 is stored, so an alpha_0 far below
 * the rounding level of 1 (about 1e-16) is not representable; the other
 * entries are alpha itself.
 */
#include <math.h>
#include <string.h>

#include "conjugate.h"
#include "hm_engine.h"
#include "hm_kinds.h"
#include "hm_specfun.h"

// Largest parameter length a harmonium may have (as for families).
#define MAX_DIM (1LL << 30)

// --- layout helpers ------------------------------------------------------------

// The fixed likelihood into theta[0 .. lat_offset): theta_X = 0 and W row
// i-1 = e_i - e_0, i = 1..K-1 (conjugate.h; the self-tests use it too).
void hm_catdir_likelihood(const hm_harmonium *h, double *theta) {
    const int K = h->mz;
    double *W = theta + h->obs->dim;
    memset(theta, 0, catdir_lat_offset(h) * sizeof(double));
    for (int i = 1; i < K; i++) {
        W[(size_t)(i - 1) * (size_t)K] = -1.0;
        W[(size_t)(i - 1) * (size_t)K + (size_t)i] = 1.0;
    }
}

// 1 if theta's likelihood block is exactly the fixed one. Exact comparison
// is intended: rho and chi are those of this likelihood only, and every
// producer (R's model_to_nat, the M-step) writes the exact values.
static int likelihood_ok(const hm_harmonium *h, const double *theta) {
    const int K = h->mz, m = h->mx;
    for (int i = 0; i < m; i++) {
        if (theta[i] != 0.0) {
            return 0;
        }
    }
    const double *W = theta + m;
    for (int i = 1; i < K; i++) {
        const double *row = W + (size_t)(i - 1) * (size_t)K;
        for (int j = 0; j < K; j++) {
            double want = (j == 0) ? -1.0 : (j == i ? 1.0 : 0.0);
            if (row[j] != want) {
                return 0;
            }
        }
    }
    return 1;
}

// alpha = theta_Z + rho into alpha[K]; HM_EDOM unless the likelihood is
// the fixed one and alpha is a valid Dirichlet parameter (finite, > 0).
static hm_status cd_prior(const hm_harmonium *h, const double *theta, double *alpha) {
    if (!likelihood_ok(h, theta)) {
        return HM_EDOM;
    }
    const double *thz = theta + catdir_lat_offset(h);
    memcpy(alpha, thz, (size_t)h->mz * sizeof(double));
    alpha[0] -= 1.0;
    return hm_fam_check_natural(h->lat, alpha);
}

// --- the kind's hooks ------------------------------------------------------------

static hm_status catdir_init(hm_harmonium *h) {
    const hm_family *obs = h->obs, *lat = h->lat;
    if (obs->kind != HM_FAM_CATEGORICAL || lat->kind != HM_FAM_DIRICHLET || obs->n < 2 ||
        lat->n != obs->n) {
        return HM_EINVAL;
    }
    const long long K = lat->n;
    if ((K - 1) + (K - 1) * K + K > MAX_DIM) {
        return HM_EOVERFLOW;
    }
    h->mx = obs->dim;
    h->mz = lat->dim;
    // A symmetric kind: the prior lives in the latent family itself.
    h->prr = *lat;
    return HM_OK;
}

// Two K-vectors (alpha and a digamma table, or the generic log-partition's
// prior) in front of the Dirichlet family's Newton scratch.
static size_t catdir_work_len(const hm_harmonium *h) {
    return 2 * (size_t)h->mz + hm_fam_work_len(h->lat) + hm_fam_work_len(h->obs) + 8;
}

// alpha in front of the Dirichlet sampler's scratch.
static size_t catdir_sample_work_len(const hm_harmonium *h, int n) {
    return catdir_work_len(h) + (size_t)h->mz + hm_fam_sample_work_len(h->lat, n);
}

// rho = (-1, 0, ..., 0), chi = 0 (file comment). They hold for the fixed
// likelihood only, so any other likelihood block is a domain error.
static hm_status catdir_rho_chi(const hm_harmonium *h,
                                const double *theta,
                                double *rho,
                                double *chi,
                                double *work) {
    (void)work;
    if (!likelihood_ok(h, theta)) {
        return HM_EDOM;
    }
    rho[0] = -1.0;
    for (int j = 1; j < h->mz; j++) {
        rho[j] = 0.0;
    }
    *chi = 0.0;
    return HM_OK;
}

/*
 * The closed-form moments of the file comment. digamma(alpha_j) is
 * tabulated once (K calls), so the (K-1) x K cross block costs one
 * subtraction and one product per entry; the diagonal entries use
 * digamma(alpha_i + 1) directly rather than the recurrence
 * digamma(a) + 1/a, which cancels for small a. Work: 2K doubles.
 */
static hm_status catdir_to_mean(const hm_harmonium *h, const double *theta, double *eta, double *work) {
    const int K = h->mz, m = h->mx;
    double *alpha = work, *dg = work + K;
    hm_status st = cd_prior(h, theta, alpha);
    if (st != HM_OK) {
        return st;
    }
    double A = 0.0;
    for (int j = 0; j < K; j++) {
        A += alpha[j];
        dg[j] = hm_digamma(alpha[j]);
    }
    const double dA = hm_digamma(A), dA1 = hm_digamma(A + 1.0);
    double *etax = eta, *cross = eta + m, *etaz = eta + catdir_lat_offset(h);
    for (int i = 1; i < K; i++) {
        const double p = alpha[i] / A;
        double *row = cross + (size_t)(i - 1) * (size_t)K;
        etax[i - 1] = p;
        for (int j = 0; j < K; j++) {
            const double dj = (j == i) ? hm_digamma(alpha[j] + 1.0) : dg[j];
            row[j] = p * (dj - dA1);
        }
    }
    for (int j = 0; j < K; j++) {
        etaz[j] = dg[j] - dA;
    }
    return HM_OK;
}

// The M-step of the file comment: only the prior is free. The Dirichlet
// solve writes alpha straight into theta_Z's slot, then theta_Z = alpha -
// rho adds 1 to its first entry. Statuses of the Dirichlet to_natural
// (HM_EDOM outside its mean domain, HM_EMAXITER); *bad is always -1.
static hm_status catdir_to_natural(const hm_harmonium *h,
                                   const double *eta,
                                   double *theta,
                                   double *work,
                                   const hm_ctrl *ctl,
                                   int *bad) {
    const size_t off = catdir_lat_offset(h);
    *bad = -1;
    hm_status st = hm_fam_to_natural(h->lat, eta + off, theta + off, work, ctl);
    if (st != HM_OK) {
        return st;
    }
    hm_catdir_likelihood(h, theta);
    theta[off] += 1.0;
    return HM_OK;
}

static hm_status catdir_check_natural(const hm_harmonium *h, const double *theta, double *work) {
    return cd_prior(h, theta, work);
}

/*
 * Ancestral sampling (theory.md 1.3): z ~ Dir(alpha) by the Dirichlet
 * family's sampler, written straight into z (n x K row-major), then
 * x ~ Categorical(z) by inverse CDF on one uniform per row. If rounding
 * leaves the running sum a hair below u, the last category with positive
 * probability is taken.
 */
static hm_status catdir_sample(const hm_harmonium *h,
                               const double *theta,
                               int n,
                               hm_rng *rng,
                               double *x,
                               double *z,
                               double *work) {
    const int K = h->mz;
    double *alpha = work, *rest = work + K;
    if (n < 0) {
        return HM_EINVAL;
    }
    hm_status st = cd_prior(h, theta, alpha);
    if (st != HM_OK) {
        return st;
    }
    st = hm_fam_sample(h->lat, alpha, n, rng, z, rest);
    if (st != HM_OK) {
        return st;
    }
    for (int r = 0; r < n; r++) {
        const double *zr = z + (size_t)r * (size_t)K;
        const double u = rng->unif(rng->ctx);
        double cum = 0.0;
        int k = -1, last = 0;
        for (int j = 0; j < K; j++) {
            last = zr[j] > 0.0 ? j : last;
            cum += zr[j];
            if (k < 0 && u < cum) {
                k = j;
            }
        }
        x[r] = (double)(k < 0 ? last : k);
    }
    return HM_OK;
}

// --- the E-step ------------------------------------------------------------------

typedef struct catdir_block_ctx {
    const hm_harmonium *h;
    const double *T; /* the table of catdir_table */
    const hm_data *data;
    double *logp;
    double *post;
} catdir_block_ctx;

/*
 * The per-call table in the head (theory.md 3.5): alpha = theta_Z + rho,
 * digamma(alpha), digamma(alpha + 1), then digamma(A + 1) and log A with
 * A = sum alpha. digamma(alpha_j + 1) is evaluated, not formed as
 * digamma(alpha_j) + 1/alpha_j, which cancels for small alpha_j. work is
 * the single-point scratch (hm_hm_prior).
 */
static hm_status catdir_table(const hm_harmonium *h, const double *theta, double *tab, double *work) {
    const int K = h->mz;
    hm_status st = hm_hm_prior(h, theta, tab, work);
    if (st != HM_OK) {
        return st;
    }
    double A = 0.0;
    for (int j = 0; j < K; j++) {
        A += tab[j];
        tab[K + j] = hm_digamma(tab[j]);
        tab[2 * K + j] = hm_digamma(tab[j] + 1.0);
    }
    tab[3 * K] = hm_digamma(A + 1.0);
    tab[3 * K + 1] = log(A);
    return HM_OK;
}

/*
 * Each row's posterior is alpha + e_x, so everything a block contributes
 * depends on the data only through the weighted count c_i of each
 * category: the statistics are (c_1..c_{K-1}, c_i m_i' in row i-1 of the
 * cross block, sum_i c_i m_i) with m_i = E[log z | x = i], m_ij =
 * digamma(alpha_j + delta_ij) - digamma(A + 1). Rows cost O(1) (O(K) when
 * the posterior is written), the assembly O(K^2), the size of the cross
 * block itself. log p(x) = psi_Z(alpha + e_x) - psi_Z(alpha) - chi =
 * log(alpha_x / A) (theory.md 1.3, 3.5), in closed form. c->T is the table
 * of catdir_table.
 */
static hm_status catdir_block(const void *ctx, int r0, int nr, double *slot, double *tw) {
    const catdir_block_ctx *c = (const catdir_block_ctx *)ctx;
    const hm_harmonium *h = c->h;
    const int K = h->mz, m = h->mx, dim = hm_hm_dim(h);
    const double *alpha = c->T, *dg = alpha + K, *dg1 = dg + K;
    const double dA1 = dg1[K], lA = dg1[K + 1];
    const hm_data *data = c->data;
    const size_t n = (size_t)data->n;
    double *cnt = tw;
    memset(cnt, 0, (size_t)K * sizeof(double));
    double ll = 0.0, wt = 0.0;
    for (int i = 0; i < nr; i++) {
        const size_t row = (size_t)(r0 + i);
        const double v = data->x[row];
        if (!(v >= 0.0 && v <= (double)(K - 1)) || v != floor(v)) {
            return HM_EDOM;
        }
        const int k = (int)v;
        const double wi = data->w ? data->w[row] : 1.0;
        const double lp = log(alpha[k]) - lA;
        if (c->logp) {
            c->logp[row] = lp;
        }
        if (c->post) {
            for (int j = 0; j < K; j++) {
                c->post[(size_t)j * n + row] = alpha[j] + (j == k ? 1.0 : 0.0);
            }
        }
        cnt[k] += wi;
        ll += wi * lp;
        wt += wi;
    }
    double *etax = slot, *cross = slot + m, *etaz = slot + m + (size_t)m * (size_t)K;
    memset(etaz, 0, (size_t)K * sizeof(double));
    for (int i = 0; i < K; i++) {
        double *row = i > 0 ? cross + (size_t)(i - 1) * (size_t)K : NULL;
        for (int j = 0; j < K; j++) {
            const double e = cnt[i] * ((j == i ? dg1[j] : dg[j]) - dA1);
            etaz[j] += e;
            if (row) {
                row[j] = e;
            }
        }
        if (i > 0) {
            etax[i - 1] = cnt[i];
        }
    }
    slot[dim] = ll;
    slot[dim + 1] = wt;
    return HM_OK;
}

// Per-thread scratch: the block's K weighted category counts.
static size_t catdir_thread_len(const hm_harmonium *h) {
    return (size_t)h->mz + 8;
}

// Shared scratch in front of the single-point scratch and the slots: the
// table of catdir_table (3K + 2).
static size_t catdir_head_len(const hm_harmonium *h) {
    return 3 * (size_t)h->mz + 8;
}

static size_t catdir_estep_work_len(const hm_harmonium *h, int threads) {
    return catdir_head_len(h) + hm_hm_work_len(h) +
           hm_blocks_work_len(hm_stats_len(h), catdir_thread_len(h), threads);
}

// The posterior is fixed by the datum (alpha + e_x), so the blocks reduce
// the rows to weighted category counts and assemble the statistics from a
// per-call digamma table.
static hm_status catdir_estep(const hm_harmonium *h,
                              const double *theta,
                              const hm_data *data,
                              const double *given,
                              double *stats,
                              double *logp,
                              double *post,
                              int threads,
                              double *work) {
    // A Dirichlet posterior is fixed by the datum: no given posteriors.
    if (given != NULL) {
        return HM_EINVAL;
    }
    const int slen = hm_stats_len(h), B = hm_estep_block_rows(h);
    double *T = work;
    double *hw = T + catdir_head_len(h);
    double *slots = hw + hm_hm_work_len(h);
    catdir_block_ctx c;
    c.h = h;
    c.T = T;
    c.data = data;
    c.logp = logp;
    c.post = post;
    // psi is not needed by the closed-form log p(x), but its status is
    // part of the contract (a parameter the log-partition rejects).
    double psi;
    hm_status st = hm_hm_check_natural(h, theta, hw);
    if (st != HM_OK) {
        return st;
    }
    st = hm_hm_log_partition(h, theta, &psi, hw);
    if (st != HM_OK) {
        return st;
    }
    // The Categorical-Dirichlet prior and digamma tables, once.
    st = catdir_table(h, theta, T, hw);
    if (st != HM_OK) {
        return st;
    }
    return hm_run_blocks(data->n, B, threads, slen, catdir_thread_len(h), catdir_block, &c, stats, slots, data->tree);
}

// --- sequential conjugate updating ---------------------------------------------

// The coupled statistic is s_X(x); the increment is exactly e_x (no
// rounding is added to the counts).
static void catdir_fold_increment(const hm_harmonium *h,
                                  const double *theta,
                                  const double *x,
                                  const double *rho,
                                  double *s,
                                  double *inc) {
    hm_fam_stat(h->obs, x, s);
    hm_hm_fold_add(h, theta, s, rho, 0, inc);
}

// --- the operation table ---------------------------------------------------------

static int catdir_dim(const hm_harmonium *h) {
    return h->obs->dim + h->mx * h->mz + h->lat->dim;
}

// The K posterior Dirichlet parameters.
static int catdir_post_len(const hm_harmonium *h) {
    return h->mz;
}

static int catdir_z_len(const hm_harmonium *h) {
    return h->lat->d;
}

static int catdir_rho_len(const hm_harmonium *h) {
    return h->prr.dim;
}

const hm_kind_ops hm_kind_catdir_ops = {
    .name = "categorical_dirichlet",
    .dim = catdir_dim,
    .post_len = catdir_post_len,
    .z_len = catdir_z_len,
    .rho_len = catdir_rho_len,
    .work_len = catdir_work_len,
    .sample_work_len = catdir_sample_work_len,
    .rho_chi = catdir_rho_chi,
    .to_mean = catdir_to_mean,
    .to_natural = catdir_to_natural,
    .check_natural = catdir_check_natural,
    .sample = catdir_sample,
    .estep_work_len = catdir_estep_work_len,
    .estep = catdir_estep,
    .init = catdir_init,
    .fold_increment = catdir_fold_increment,
};
