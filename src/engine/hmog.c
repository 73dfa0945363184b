/*
 * hmog.c: the hierarchical mixture of Gaussians (theory.md 4.1 - 4.3).
 *
 * A Normal(p) observable x is coupled by x'W y to a latent y whose model is
 * itself a conjugated harmonium whose observable is a full Normal(q)
 * (h->sub): a mixture of K Normal(q) components (HM_HM_MIXTURE), or again a
 * hierarchy of this kind, down to a mixture at the bottom (theory.md 4.1,
 * "deeper hierarchies follow recursively"). Every such sub-model keeps its
 * Normal(q) block first, in natural and in mean coordinates, which is all
 * this file reads of it. Integrating x out of exp(theta_X . s_X(x) +
 * x'W y) is the linear-Gaussian harmonium's conjugation (h->aux, an
 * HM_HM_LGM): rho . s_N(y) + chi with rho in Normal(q) coordinates. Every
 * component of the latent mixture contains s_N(y), so rho lifts into the
 * mixture's parameters by adding it to the anchor theta^(0) (theory.md
 * 4.1): the prior is theta_L + lift(rho), psi = psi_L(prior) + chi, and
 * the posterior at x is theta_L with W'x added to the anchor's location,
 * again a model of the same kind.
 *
 * M-step (theory.md 4.2): x | y is linear-Gaussian, so theta_X and W come
 * from the linear-Gaussian M-step on the overall moments of y, which are
 * the first block (the anchor's) of the mixture's mean coordinates; the
 * latent mixture's prior comes from its own M-step, and theta_L =
 * prior - lift(rho). Whitening maps y to L^-1 (y - mu) with mu, L L' the
 * overall latent mean and covariance, which fixes the hierarchy's affine
 * freedom as the LGM's whitening does.
 *
 * E-step over a latent mixture: per row, h_k = b_k + W'x with b_k the
 * location of theta_L's component k, which shares its precision P_k with
 * every row, so each P_k is factored once per call (P_k = L_k L_k'); the
 * rows need H = X W and per component (H + b_k) L_k^-T and its product
 * with L_k^-1 (the posterior means), all products (hm_kernel.c). Over a
 * deeper latent hierarchy the
 * rows share H = X W, and each row's posterior (theta_L with its H row
 * added) goes through the sub-model's own log-partition and to_mean: its
 * psi gives log p(x) and its mean coordinates are the row's expected
 * latent statistics.
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "hm_kernel.h"
#include "hm_kinds.h"
#include "linalg.h"

// Flat index of (i, j), i <= j, in a packed upper triangle of order d.
static size_t pk(int d, int i, int j) {
    return (size_t)i * (size_t)d - (size_t)i * (size_t)(i + 1) / 2 + (size_t)j;
}

static int hg_p(const hm_harmonium *h) {
    return h->obs->n;
}
static int hg_q(const hm_harmonium *h) {
    return h->lat->n;
}
static int hg_dn(const hm_harmonium *h) {
    return h->lat->dim;
}
static int hg_dl(const hm_harmonium *h) {
    return hm_hm_dim(h->sub);
}
static int hg_aux_dim(const hm_harmonium *h) {
    return hm_hm_dim(h->aux);
}
// Offset of theta_L (and of the latent mean block).
static size_t hg_off(const hm_harmonium *h) {
    return (size_t)h->obs->dim + (size_t)hg_p(h) * (size_t)hg_q(h);
}

static int hg_dim(const hm_harmonium *h) {
    return (int)hg_off(h) + hg_dl(h);
}

static int hg_post_len(const hm_harmonium *h) {
    return h->k + hg_q(h);
}

static int hg_z_len(const hm_harmonium *h) {
    return hg_q(h) + hm_hm_z_len(h->sub);
}

// The latent is a mixture (the closed-form E-step), not a deeper hierarchy.
static int hg_flat(const hm_harmonium *h) {
    return h->sub->kind == HM_HM_MIXTURE;
}

static int hg_rho_len(const hm_harmonium *h) {
    return hg_dl(h);
}

static size_t hg_work_len(const hm_harmonium *h) {
    const size_t q = (size_t)hg_q(h), a = hm_hm_work_len(h->aux), b = hm_hm_work_len(h->sub);
    return 2 * (size_t)hg_aux_dim(h) + 2 * (size_t)hg_dl(h) + 2 * (size_t)hg_dn(h) + 3 * q * q + 4 * q +
           (a > b ? a : b) + hm_fam_work_len(h->lat) + 16;
}

// [theta_X | W | the anchor of theta_L] into ta: an LGM parameter whose
// latent block only fills the layout (rho, chi do not read it).
static void hg_aux_theta(const hm_harmonium *h, const double *theta, double *ta) {
    const size_t off = hg_off(h);
    memcpy(ta, theta, off * sizeof(double));
    memcpy(ta + off, theta + off, (size_t)hg_dn(h) * sizeof(double));
}

static hm_status hg_rho_chi(const hm_harmonium *h, const double *theta, double *rho, double *chi, double *work) {
    double *ta = work, *rest = work + hg_aux_dim(h);
    hg_aux_theta(h, theta, ta);
    memset(rho, 0, (size_t)hg_dl(h) * sizeof(double));
    return hm_hm_rho_chi(h->aux, ta, rho, chi, rest);
}

static hm_status hg_prior_chi(const hm_harmonium *h, const double *theta, double *prior, double *chi, double *work) {
    hm_status st = hg_rho_chi(h, theta, prior, chi, work);
    if (st != HM_OK) {
        return st;
    }
    const double *thl = theta + hg_off(h);
    for (int i = 0; i < hg_dl(h); i++) {
        prior[i] += thl[i];
    }
    return HM_OK;
}

static hm_status hg_prior(const hm_harmonium *h, const double *theta, double *prior, double *work) {
    double chi;
    return hg_prior_chi(h, theta, prior, &chi, work);
}

static hm_status hg_log_partition(const hm_harmonium *h, const double *theta, double *psi, double *work) {
    double *prior = work, *rest = work + hg_dl(h);
    double chi, pl;
    hm_status st = hg_prior_chi(h, theta, prior, &chi, rest);
    if (st != HM_OK) {
        return st;
    }
    st = hm_hm_log_partition(h->sub, prior, &pl, rest);
    if (st != HM_OK) {
        return st;
    }
    *psi = pl + chi;
    return isfinite(*psi) ? HM_OK : HM_EDOM;
}

static hm_status hg_check_natural(const hm_harmonium *h, const double *theta, double *work) {
    if (!hm_all_finite(theta, hg_dim(h))) {
        return HM_EDOM;
    }
    hm_status st = hm_fam_check_natural(h->obs, theta);
    if (st != HM_OK) {
        return st;
    }
    double *prior = work, *rest = work + hg_dl(h);
    st = hg_prior(h, theta, prior, rest);
    if (st != HM_OK) {
        return st;
    }
    return hm_hm_check_natural(h->sub, prior, rest);
}

// x | y is linear-Gaussian, so the observable and cross moments depend on
// y through its overall mean and second moment only: they are those of
// the LGM whose Normal latent has the hierarchy's overall latent moments.
static hm_status hg_to_mean(const hm_harmonium *h, const double *theta, double *eta, double *work) {
    const size_t off = hg_off(h);
    const int dn = hg_dn(h);
    double *prior = work, *ta = prior + hg_dl(h), *ea = ta + hg_aux_dim(h), *rho = ea + hg_aux_dim(h);
    double *rest = rho + hg_dl(h);
    double chi;
    hm_status st = hg_prior_chi(h, theta, prior, &chi, rest);
    if (st != HM_OK) {
        return st;
    }
    st = hm_hm_to_mean(h->sub, prior, eta + off, rest);
    if (st != HM_OK) {
        return st;
    }
    st = hg_rho_chi(h, theta, rho, &chi, rest);
    if (st != HM_OK) {
        return st;
    }
    memcpy(ta, theta, off * sizeof(double));
    st = hm_fam_to_natural(h->lat, eta + off, ta + off, rest, NULL);
    if (st != HM_OK) {
        return st;
    }
    for (int i = 0; i < dn; i++) {
        ta[off + (size_t)i] -= rho[i];
    }
    st = hm_hm_to_mean(h->aux, ta, ea, rest);
    if (st != HM_OK) {
        return st;
    }
    memcpy(eta, ea, off * sizeof(double));
    return HM_OK;
}

static hm_status hg_to_natural(const hm_harmonium *h,
                               const double *eta,
                               double *theta,
                               double *work,
                               const hm_ctrl *ctl,
                               int *bad) {
    const size_t off = hg_off(h);
    const int dl = hg_dl(h);
    double *ta = work, *rho = ta + hg_aux_dim(h), *rest = rho + dl;
    double chi;
    int abad = -1;
    *bad = -1;
    // [eta_X | eta_XY | eta_N] is the LGM's mean vector: the anchor block
    // of the mixture's mean coordinates is E s_N(y).
    hm_status st = hm_hm_to_natural(h->aux, eta, ta, rest, ctl, &abad);
    if (st != HM_OK) {
        return st;
    }
    memcpy(theta, ta, off * sizeof(double));
    st = hm_hm_to_natural(h->sub, eta + off, theta + off, rest, ctl, bad);
    if (st != HM_OK) {
        return st;
    }
    st = hg_rho_chi(h, theta, rho, &chi, rest);
    if (st != HM_OK) {
        return st;
    }
    for (int i = 0; i < dl; i++) {
        theta[off + (size_t)i] -= rho[i];
    }
    return HM_OK;
}

// --- whitening ---------------------------------------------------------------

// v <- L^-1 v for the column-major lower factor L of order q.
static void fwd_solve(int q, const double *L, double *v) {
    for (int i = 0; i < q; i++) {
        double s = v[i];
        for (int j = 0; j < i; j++) {
            s -= L[(size_t)i + (size_t)j * (size_t)q] * v[j];
        }
        v[i] = s / L[(size_t)i + (size_t)i * (size_t)q];
    }
}

// The weighted moments (wt, e1 = E[1 y], packed e2 = E[1 y y']) of one
// block, mapped to those of L^-1 (y - mu). S is q x q scratch.
static void hg_affine(int q, const double *L, const double *mu, double wt, double *e1, double *e2, double *S) {
    // y' = A y + c with A = L^-1, c = -A mu: E[1 y'] = A e1 + wt c and
    // E[1 y' y'^T] = A (e2 - e1 mu' - mu e1' + wt mu mu') A'.
    for (int i = 0; i < q; i++) {
        for (int j = i; j < q; j++) {
            const double v = e2[pk(q, i, j)] - e1[i] * mu[j] - mu[i] * e1[j] + wt * mu[i] * mu[j];
            S[(size_t)i * (size_t)q + (size_t)j] = v;
            S[(size_t)j * (size_t)q + (size_t)i] = v;
        }
    }
    for (int j = 0; j < q; j++) {
        fwd_solve(q, L, S + (size_t)j * (size_t)q); // columns of A S
    }
    // (A S)' = S A'; its columns through A again give A S A'.
    for (int i = 0; i < q; i++) {
        for (int j = i + 1; j < q; j++) {
            const double t = S[(size_t)i * (size_t)q + (size_t)j];
            S[(size_t)i * (size_t)q + (size_t)j] = S[(size_t)j * (size_t)q + (size_t)i];
            S[(size_t)j * (size_t)q + (size_t)i] = t;
        }
    }
    for (int j = 0; j < q; j++) {
        fwd_solve(q, L, S + (size_t)j * (size_t)q);
    }
    for (int i = 0; i < q; i++) {
        for (int j = i; j < q; j++) {
            e2[pk(q, i, j)] = 0.5 * (S[(size_t)i * (size_t)q + (size_t)j] + S[(size_t)j * (size_t)q + (size_t)i]);
        }
        e1[i] -= wt * mu[i];
    }
    fwd_solve(q, L, e1);
}

// y -> L^-1 (y - mu) in mean coordinates: the cross block E[x y'], the
// latent's Normal(q) block (to (0, I)) and whatever of the latent model
// involves y: a mixture's per-component offsets, or a lower hierarchy's
// cross block.
static hm_status hg_whiten(const hm_harmonium *h, const double *eta_in, double *eta_out, double *work) {
    const int p = hg_p(h), q = hg_q(h), K = h->k, mz = K - 1, dn = hg_dn(h);
    const size_t off = hg_off(h);
    if (eta_out != eta_in) {
        memcpy(eta_out, eta_in, (size_t)hg_dim(h) * sizeof(double));
    }
    double *L = work, *mu = L + (size_t)q * (size_t)q, *S = mu + q, *e1 = S + (size_t)q * (size_t)q;
    double *e2 = e1 + q;
    double *etan = eta_out + off, *etaw = etan + dn, *etaz = etaw + (size_t)dn * (size_t)mz;
    memcpy(mu, etan, (size_t)q * sizeof(double));
    for (int i = 0; i < q; i++) {
        for (int j = 0; j < q; j++) {
            const int a = i < j ? i : j, b = i < j ? j : i;
            L[(size_t)i + (size_t)j * (size_t)q] = etan[q + (int)pk(q, a, b)] - mu[i] * mu[j];
        }
    }
    if (!hm_all_finite(L, q * q)) {
        return HM_EDOM;
    }
    hm_status st = hm_la_chol(q, L);
    if (st != HM_OK) {
        return st;
    }
    // The cross block: row i of E[x y'] maps to A row_i - E[x_i] A mu.
    double *exy = eta_out + h->obs->dim;
    for (int i = 0; i < p; i++) {
        double *r = exy + (size_t)i * (size_t)q;
        for (int j = 0; j < q; j++) {
            r[j] -= eta_out[i] * mu[j];
        }
        fwd_solve(q, L, r);
    }
    if (!hg_flat(h)) {
        // A hierarchy below: its cross block E[y u'] (q x r, row-major)
        // maps to A (E[y u'] - mu E[u]'), with E[u] the first r entries of
        // its latent mean block.
        const int r = h->sub->lat->n;
        double *eyu = etan + dn;
        const double *eu = eyu + (size_t)q * (size_t)r;
        for (int j = 0; j < r; j++) {
            for (int i = 0; i < q; i++) {
                e1[i] = eyu[(size_t)i * (size_t)r + (size_t)j] - mu[i] * eu[j];
            }
            fwd_solve(q, L, e1);
            for (int i = 0; i < q; i++) {
                eyu[(size_t)i * (size_t)r + (size_t)j] = e1[i];
            }
        }
    }
    for (int k = 1; k < K && hg_flat(h); k++) {
        for (int j = 0; j < dn; j++) {
            (j < q ? e1 : e2)[j < q ? j : j - q] = etaw[(size_t)j * (size_t)mz + (size_t)(k - 1)];
        }
        hg_affine(q, L, mu, etaz[k - 1], e1, e2, S);
        for (int j = 0; j < dn; j++) {
            etaw[(size_t)j * (size_t)mz + (size_t)(k - 1)] = j < q ? e1[j] : e2[j - q];
        }
    }
    // The anchor: the overall moments become exactly (0, I).
    for (int i = 0; i < q; i++) {
        etan[i] = 0.0;
        for (int j = i; j < q; j++) {
            etan[q + (int)pk(q, i, j)] = i == j ? 1.0 : 0.0;
        }
    }
    return HM_OK;
}

// --- sampling ----------------------------------------------------------------

static size_t hg_sample_work_len(const hm_harmonium *h, int n) {
    const size_t nn = (size_t)(n > 0 ? n : 0);
    return hg_work_len(h) + hm_hm_sample_work_len(h->sub, n) + hm_fam_sample_work_len(h->obs, 1) +
           nn * ((size_t)hg_q(h) + (size_t)hm_hm_z_len(h->sub)) + (size_t)h->obs->dim + (size_t)hg_dl(h) + 8;
}

// y (and the latent model's own latents) from the prior, then x | y ~
// (theta_x + W y, theta_xx). z rows are [y (q) | the latent model's z row]:
// [y | class (0-based)] over a mixture.
static hm_status hg_sample(const hm_harmonium *h,
                           const double *theta,
                           int n,
                           hm_rng *rng,
                           double *x,
                           double *z,
                           double *work) {
    if (n < 0) {
        return HM_EINVAL;
    }
    const int p = hg_p(h), q = hg_q(h), dx = h->obs->dim;
    const double *W = theta + dx;
    const int zs = hm_hm_z_len(h->sub);
    double *prior = work, *ys = prior + hg_dl(h), *cls = ys + (size_t)n * (size_t)q;
    double *tx = cls + (size_t)n * (size_t)zs;
    double *rest = tx + dx;
    hm_status st = hg_check_natural(h, theta, rest);
    if (st != HM_OK) {
        return st;
    }
    st = hg_prior(h, theta, prior, rest);
    if (st != HM_OK) {
        return st;
    }
    st = hm_hm_sample(h->sub, prior, n, rng, ys, cls, rest);
    if (st != HM_OK) {
        return st;
    }
    for (int i = 0; i < n; i++) {
        const double *yi = ys + (size_t)i * (size_t)q;
        memcpy(tx, theta, (size_t)dx * sizeof(double));
        for (int j = 0; j < p; j++) {
            double s = 0.0;
            for (int l = 0; l < q; l++) {
                s += W[(size_t)j * (size_t)q + (size_t)l] * yi[l];
            }
            tx[j] += s;
        }
        st = hm_fam_sample(h->obs, tx, 1, rng, x + (size_t)i * (size_t)p, rest);
        if (st != HM_OK) {
            return st;
        }
        memcpy(z + (size_t)i * (size_t)(q + zs), yi, (size_t)q * sizeof(double));
        memcpy(z + (size_t)i * (size_t)(q + zs) + q, cls + (size_t)i * (size_t)zs, (size_t)zs * sizeof(double));
    }
    return HM_OK;
}

// --- the E-step --------------------------------------------------------------

static int hg_block_rows(const hm_harmonium *h) {
    int m = hg_p(h) > h->k * hg_q(h) ? hg_p(h) : h->k * hg_q(h);
    int b = 32768 / (m > 0 ? m : 1);
    b = b < 64 ? 64 : (b > 1024 ? 1024 : b);
    return b - b % 16;
}

// Per call: each component's Sigma_k (q x q), location b_k (q), constant
// c_k = psi_N(theta^(k)) - b_k' Sigma_k b_k / 2 and class parameter.
static size_t hg_head_len(const hm_harmonium *h) {
    const size_t K = (size_t)h->k, q = (size_t)hg_q(h);
    return K * (3 * q * q + q + 2) + K * (size_t)hg_dn(h) + (size_t)hg_dl(h) + 8;
}

static size_t hg_thread_len(const hm_harmonium *h) {
    const size_t B = (size_t)hg_block_rows(h), p = (size_t)hg_p(h), q = (size_t)hg_q(h), K = (size_t)h->k;
    if (!hg_flat(h)) {
        return B * p + (size_t)h->obs->dim + 2 * B + 2 * B * q + 2 * (size_t)hg_dl(h) + hm_hm_work_len(h->sub) + 8;
    }
    return B * p + (size_t)h->obs->dim + 2 * B + 3 * B * q + K * B * q + B * K + q * q + 8;
}

typedef struct hg_ctx {
    const hm_harmonium *h;
    const double *theta;
    const hm_data *data;
    const double *sig; /* K x q x q */
    const double *fac; /* K x 2 x q x q: inverse Cholesky factors of the precisions, and transposes */
    const double *loc; /* K x q */
    const double *cst; /* K */
    const double *lam; /* K: 0 then the class parameters */
    double psi;
    double *logp;
    double *post;
} hg_ctx;

// Rows r0.. of the block into X (row-major), their observable statistics
// summed into the slot (zeroed first), e_i = theta_X . s_X(x_i) + log
// mu(x_i), the case weights, and H = X W.
static void hg_load_rows(const hg_ctx *c, int r0, int nr, double *X, double *s, double *e, double *wv, double *H,
                         double *slot) {
    const hm_harmonium *h = c->h;
    const hm_family *obs = h->obs;
    const int p = hg_p(h), q = hg_q(h), dx = obs->dim;
    const size_t ldx = (size_t)c->data->ldx;
    memset(slot, 0, (size_t)(hg_dim(h) + 2) * sizeof(double));
    for (int i = 0; i < nr; i++) {
        const size_t row = (size_t)(r0 + i);
        double *xi = X + (size_t)i * (size_t)p;
        for (int j = 0; j < p; j++) {
            xi[j] = c->data->x[(size_t)j * ldx + row];
        }
        hm_fam_stat(obs, xi, s);
        const double wi = c->data->w ? c->data->w[row] : 1.0;
        double en = hm_fam_log_base(obs, xi);
        for (int j = 0; j < dx; j++) {
            en += c->theta[j] * s[j];
            slot[j] += wi * s[j];
        }
        e[i] = en;
        wv[i] = wi;
    }
    hm_k_gemm_nn(nr, p, q, X, p, c->theta + dx, q, H, q);
}

static hm_status hg_block(const void *ctx, int r0, int nr, double *slot, double *tw) {
    const hg_ctx *c = (const hg_ctx *)ctx;
    const hm_harmonium *h = c->h;
    const hm_family *obs = h->obs;
    const int p = hg_p(h), q = hg_q(h), K = h->k, mz = K - 1, dx = obs->dim, dn = hg_dn(h);
    const int dim = hg_dim(h), B = hg_block_rows(h);
    const size_t off = hg_off(h), n = (size_t)c->data->n;
    double *X = tw, *s = X + (size_t)B * (size_t)p, *e = s + dx, *wv = e + B;
    double *H = wv + B, *T = H + (size_t)B * (size_t)q, *Y = T + (size_t)B * (size_t)q;
    double *M = Y + (size_t)B * (size_t)q, *R = M + (size_t)K * (size_t)B * (size_t)q;
    double *G = R + (size_t)B * (size_t)K;

    hg_load_rows(c, r0, nr, X, s, e, wv, H, slot);
    for (int k = 0; k < K; k++) {
        const double *bk = c->loc + (size_t)k * (size_t)q;
        double *Mk = M + (size_t)k * (size_t)B * (size_t)q;
        for (int i = 0; i < nr; i++) {
            for (int j = 0; j < q; j++) {
                T[(size_t)i * (size_t)q + (size_t)j] = H[(size_t)i * (size_t)q + (size_t)j] + bk[j];
            }
        }
        // Through the Cholesky factor P_k = L L': Z = T L^-T, t' Sigma_k t =
        // |z|^2 and the posterior means M_k = Z L^-1, two products with the
        // inverse factor. Forming Sigma_k = P_k^-1 itself squares the
        // condition number, which near a vanishing noise variance (t of
        // order 1 / psi) is the error of the row's log p(x).
        const double *Li = c->fac + (size_t)k * 2 * (size_t)q * (size_t)q;
        hm_k_gemm_nn(nr, q, q, T, q, Li, q, Y, q);
        hm_k_gemm_nn(nr, q, q, Y, q, Li + (size_t)q * (size_t)q, q, Mk, q);
        for (int i = 0; i < nr; i++) {
            double quad = 0.0;
            for (int j = 0; j < q; j++) {
                const double z = Y[(size_t)i * (size_t)q + (size_t)j];
                quad += z * z;
            }
            R[(size_t)i * (size_t)K + (size_t)k] = c->lam[k] + c->cst[k] + 0.5 * quad;
        }
    }
    double ll = 0.0, wt = 0.0;
    for (int i = 0; i < nr; i++) {
        const size_t row = (size_t)(r0 + i);
        double *r = R + (size_t)i * (size_t)K;
        double m = -INFINITY;
        for (int k = 0; k < K; k++) {
            m = r[k] > m ? r[k] : m;
        }
        if (!isfinite(m)) {
            return HM_EDOM;
        }
        double tot = 0.0;
        for (int k = 0; k < K; k++) {
            r[k] = exp(r[k] - m);
            tot += r[k];
        }
        const double lp = e[i] + m + log(tot) - c->psi;
        double *yi = Y + (size_t)i * (size_t)q;
        memset(yi, 0, (size_t)q * sizeof(double));
        for (int k = 0; k < K; k++) {
            r[k] /= tot;
            const double *mk = M + (size_t)k * (size_t)B * (size_t)q + (size_t)i * (size_t)q;
            for (int j = 0; j < q; j++) {
                yi[j] += r[k] * mk[j];
            }
        }
        if (c->logp) {
            c->logp[row] = lp;
        }
        if (c->post) {
            for (int k = 0; k < K; k++) {
                c->post[(size_t)k * n + row] = r[k];
            }
            for (int j = 0; j < q; j++) {
                c->post[(size_t)(K + j) * n + row] = yi[j];
            }
        }
        for (int j = 0; j < q; j++) {
            yi[j] *= wv[i];
        }
        ll += wv[i] * lp;
        wt += wv[i];
    }
    // E x y' summed: X' (w Ybar).
    hm_k_gemm_tn_acc(nr, p, q, X, p, Y, q, slot + dx, q);
    // The latent mixture's statistics: per component the weighted moments
    // (sum v, sum v m, sum v (Sigma_k + m m')) with v = w r_k.
    double *etan = slot + off, *etaw = etan + dn, *etaz = etaw + (size_t)dn * (size_t)mz;
    for (int k = 0; k < K; k++) {
        const double *Mk = M + (size_t)k * (size_t)B * (size_t)q;
        const double *sk = c->sig + (size_t)k * (size_t)q * (size_t)q;
        double sv = 0.0;
        for (int i = 0; i < nr; i++) {
            const double v = wv[i] * R[(size_t)i * (size_t)K + (size_t)k];
            sv += v;
            for (int j = 0; j < q; j++) {
                T[(size_t)i * (size_t)q + (size_t)j] = v * Mk[(size_t)i * (size_t)q + (size_t)j];
            }
        }
        memset(G, 0, (size_t)q * (size_t)q * sizeof(double));
        hm_k_gemm_tn_acc(nr, q, q, Mk, q, T, q, G, q);
        for (int j = 0; j < dn; j++) {
            double v;
            if (j < q) {
                v = 0.0;
                for (int i = 0; i < nr; i++) {
                    v += T[(size_t)i * (size_t)q + (size_t)j];
                }
            } else {
                int a = 0, t = j - q;
                while (t >= q - a) {
                    t -= q - a;
                    a++;
                }
                const int b = a + t;
                v = G[(size_t)a * (size_t)q + (size_t)b] + sv * sk[(size_t)a * (size_t)q + (size_t)b];
            }
            etan[j] += v;
            if (k > 0) {
                etaw[(size_t)j * (size_t)mz + (size_t)(k - 1)] = v;
            }
        }
        if (k > 0) {
            etaz[k - 1] = sv;
        }
    }
    slot[dim] = ll;
    slot[dim + 1] = wt;
    return HM_OK;
}

// A block over a deeper latent hierarchy: per row the posterior theta_L +
// (W'x, 0, ...) through the sub-model's psi and to_mean.
static hm_status hg_block_deep(const void *ctx, int r0, int nr, double *slot, double *tw) {
    const hg_ctx *c = (const hg_ctx *)ctx;
    const hm_harmonium *h = c->h;
    const hm_family *obs = h->obs;
    const int p = hg_p(h), q = hg_q(h), K = h->k, dx = obs->dim, dl = hg_dl(h);
    const int dim = hg_dim(h), B = hg_block_rows(h);
    const size_t off = hg_off(h), n = (size_t)c->data->n;
    const double *thl = c->theta + off;
    double *X = tw, *s = X + (size_t)B * (size_t)p, *e = s + dx, *wv = e + B;
    double *H = wv + B, *Y = H + (size_t)B * (size_t)q, *tp = Y + (size_t)B * (size_t)q, *ep = tp + dl;
    double *sw = ep + dl;

    hg_load_rows(c, r0, nr, X, s, e, wv, H, slot);
    double ll = 0.0, wt = 0.0;
    for (int i = 0; i < nr; i++) {
        const size_t row = (size_t)(r0 + i);
        memcpy(tp, thl, (size_t)dl * sizeof(double));
        for (int j = 0; j < q; j++) {
            tp[j] += H[(size_t)i * (size_t)q + (size_t)j];
        }
        double psi;
        hm_status st = hm_hm_log_partition(h->sub, tp, &psi, sw);
        if (st == HM_OK) {
            st = hm_hm_to_mean(h->sub, tp, ep, sw);
        }
        if (st != HM_OK) {
            return st;
        }
        const double lp = e[i] + psi - c->psi;
        if (!isfinite(lp)) {
            return HM_EDOM;
        }
        double *yi = Y + (size_t)i * (size_t)q;
        for (int j = 0; j < q; j++) {
            yi[j] = wv[i] * ep[j];
        }
        for (int j = 0; j < dl; j++) {
            slot[off + (size_t)j] += wv[i] * ep[j];
        }
        if (c->logp) {
            c->logp[row] = lp;
        }
        if (c->post) {
            // The bottom mixture's class probabilities close the latent
            // model's mean coordinates.
            const double *pz = ep + dl - (K - 1);
            double r0p = 1.0;
            for (int k = 1; k < K; k++) {
                c->post[(size_t)k * n + row] = pz[k - 1];
                r0p -= pz[k - 1];
            }
            c->post[row] = r0p;
            for (int j = 0; j < q; j++) {
                c->post[(size_t)(K + j) * n + row] = ep[j];
            }
        }
        ll += wv[i] * lp;
        wt += wv[i];
    }
    hm_k_gemm_tn_acc(nr, p, q, X, p, Y, q, slot + dx, q);
    slot[dim] = ll;
    slot[dim + 1] = wt;
    return HM_OK;
}

static size_t hg_estep_work_len(const hm_harmonium *h, int threads) {
    return hg_head_len(h) + hg_work_len(h) + hm_blocks_work_len(hg_dim(h) + 2, hg_thread_len(h), threads);
}

static hm_status hg_estep(const hm_harmonium *h,
                          const double *theta,
                          const hm_data *data,
                          const double *given,
                          double *stats,
                          double *logp,
                          double *post,
                          int threads,
                          double *work) {
    if (given != NULL) {
        return HM_EINVAL;
    }
    const int q = hg_q(h), K = h->k, dn = hg_dn(h);
    const size_t off = hg_off(h), qq = (size_t)q * (size_t)q;
    double *sig = work, *loc = sig + (size_t)K * qq, *cst = loc + (size_t)K * (size_t)q, *lam = cst + K;
    double *fac = lam + K, *comps = fac + 2 * (size_t)K * qq, *prior = comps + (size_t)K * (size_t)dn;
    double *hw = prior + hg_dl(h) + 8;
    double *bw = hw + hg_work_len(h);
    hm_status st = hg_check_natural(h, theta, hw);
    if (st != HM_OK) {
        return st;
    }
    hg_ctx c;
    c.h = h;
    c.theta = theta;
    c.data = data;
    c.sig = sig;
    c.fac = fac;
    c.loc = loc;
    c.cst = cst;
    c.lam = lam;
    c.logp = logp;
    c.post = post;
    st = hg_log_partition(h, theta, &c.psi, hw);
    if (st != HM_OK) {
        return st;
    }
    if (!hg_flat(h)) {
        return hm_run_blocks(data->n, hg_block_rows(h), threads, hg_dim(h) + 2, hg_thread_len(h), hg_block_deep, &c,
                             stats, bw, data->tree);
    }
    // theta_L's components (the posterior's, before W'x is added).
    st = hm_mix_split(h->sub, theta + off, comps, prior, hw);
    if (st != HM_OK) {
        return st;
    }
    const double *thz = theta + off + (size_t)dn * (size_t)K;
    for (int k = 0; k < K; k++) {
        const double *tk = comps + (size_t)k * (size_t)dn;
        double *sk = sig + (size_t)k * qq;
        for (int i = 0; i < q; i++) {
            for (int j = i; j < q; j++) {
                const double t = tk[q + (int)pk(q, i, j)];
                const double v = i == j ? -2.0 * t : -t;
                sk[(size_t)i * (size_t)q + (size_t)j] = v;
                sk[(size_t)j * (size_t)q + (size_t)i] = v;
            }
        }
        st = hm_la_chol(q, sk);
        if (st == HM_OK) {
            // The inverse factor and its transpose: the rows' two products.
            double *fk = fac + (size_t)k * 2 * qq;
            hm_la_chol_inv_factor(q, sk, fk, fk + qq);
            st = hm_la_chol_inv(q, sk);
        }
        if (st != HM_OK) {
            return st;
        }
        // c_k = psi_N(b_k, P_k) - b_k' Sigma_k b_k / 2 = psi_N(0, P_k): the
        // log-partition at a zero location. Subtracting the quadratic form
        // instead cancels two numbers of order |b_k|^2 |Sigma_k|, which near
        // a vanishing noise variance (|b_k| ~ 1 / psi) costs all the digits
        // of a row's log-likelihood.
        double *t0 = hw;
        memcpy(t0, tk, (size_t)dn * sizeof(double));
        memset(t0, 0, (size_t)q * sizeof(double));
        st = hm_fam_log_partition(h->lat, t0, &cst[k], hw + dn);
        if (st != HM_OK) {
            return st;
        }
        for (int i = 0; i < q; i++) {
            loc[(size_t)k * (size_t)q + (size_t)i] = tk[i];
        }
        lam[k] = k > 0 ? thz[k - 1] : 0.0;
    }
    return hm_run_blocks(data->n, hg_block_rows(h), threads, hg_dim(h) + 2, hg_thread_len(h), hg_block, &c, stats,
                         bw, data->tree);
}

hm_status hm_hm_init_hmog(hm_harmonium *h, const hm_family *obs, const hm_harmonium *latent, const hm_harmonium *lgm) {
    if (obs == NULL || latent == NULL || lgm == NULL ||
        (latent->kind != HM_HM_MIXTURE && latent->kind != HM_HM_HMOG) || latent->obs->kind != HM_FAM_NORMAL ||
        latent->obs->rep != HM_COV_FULL || lgm->kind != HM_HM_LGM || lgm->obs != obs ||
        lgm->lat->n != latent->obs->n || lgm->lat->rep != HM_COV_FULL || latent->obs->n >= obs->n) {
        return HM_EINVAL;
    }
    h->kind = HM_HM_HMOG;
    h->obs = obs;
    h->lat = latent->obs;
    h->mx = obs->n;
    h->mz = latent->obs->n;
    h->prr = *latent->obs;
    h->k = latent->kind == HM_HM_MIXTURE ? latent->lat->n : latent->k;
    h->sub = latent;
    h->aux = lgm;
    return HM_OK;
}

const hm_kind_ops hm_kind_hmog_ops = {
    .name = "hmog",
    .block_rows = hg_block_rows,
    .dim = hg_dim,
    .post_len = hg_post_len,
    .z_len = hg_z_len,
    .rho_len = hg_rho_len,
    .work_len = hg_work_len,
    .sample_work_len = hg_sample_work_len,
    .rho_chi = hg_rho_chi,
    .prior = hg_prior,
    .log_partition = hg_log_partition,
    .to_mean = hg_to_mean,
    .to_natural = hg_to_natural,
    .check_natural = hg_check_natural,
    .whiten = hg_whiten,
    .sample = hg_sample,
    .estep_work_len = hg_estep_work_len,
    .estep = hg_estep,
};
