/*
 * hmog_diag.c: the hierarchical mixture of Gaussians with a restricted
 * (diagonal) posterior, theory.md 4.3 "DifferentiableHMoG" (the
 * asymmetric hierarchy of theory.md 1.3 and 4.1).
 *
 * The lower harmonium is the linear-Gaussian coupling x'W y of a Normal(p)
 * observable with y in R^q. The latent biases theta_U live in POSTERIOR
 * coordinates: a complete mixture of K DIAGONAL Normal(q) components
 * (h->sub, an HM_HM_MIXTURE over Normal(q, diagonal)), laid out as
 * [anchor (2q) | offsets 2q x (K-1) row-major | class parameters (K-1)].
 * W'x touches only the anchor's location, so the posterior at x is theta_U
 * with W'x added there: again a mixture of diagonal Normals, each
 * component's covariance shared by all rows (a q-vector per component).
 *
 * The prior is not in that family: the conjugation parameters of the lower
 * harmonium (rho_L: location W'b and precision -W'Sigma_x W, a full q x q
 * matrix) are added to the anchor after theta_U is embedded into the
 * complete mixture of FULL Normal(q) components. The embedding copies each
 * diagonal block (location, -P_ii/2) into the full block's location and
 * packed diagonal with zero couplings, and keeps the class parameters;
 * the embedded point has the same joint density over (y, k), so
 * psi_full(embed(theta_U)) = psi_diag(theta_U), and the prior mixture's
 * components differ only inside the diagonal sub-manifold.
 *
 * Everything at the prior side is therefore the symmetric HMoG (h->aux,
 * an HM_HM_HMOG, engine/hmog.c) at theta_sym = [theta_X | W |
 * embed(theta_U)]: the same psi, rho, chi, prior and ancestral sampler,
 * and, since psi(theta) = psi_sym(theta_X, W, embed(theta_U)), the mean
 * coordinates are the symmetric kind's with the latent block projected
 * back through the embedding (theory.md 1.3: the gradient w.r.t. theta_U
 * is embed' eta_Ufull(prior)). Then "E-step statistics minus total
 * weight times to_mean" is the exact log-likelihood gradient (theory.md
 * 1.5). There is no closed-form M-step (to_natural: HM_EINVAL).
 *
 * E-step: per row, the posterior component k has precision D_k (diagonal,
 * from theta_U) and location b_k + W'x, so with Sigma_k = D_k^-1 and
 * t = b_k + W'x,
 *   psi_diag(posterior_k) = psi_diag(theta_U^(k)) + (t' Sigma_k t - b_k'
 *                           Sigma_k b_k) / 2,
 *   log p(x) = theta_X . s_X(x) + log mu(x) + log sum_k exp(lambda_k +
 *              psi_diag(posterior_k)) - psi_sym(theta_sym)
 * (lambda_0 = 0, lambda_k the class parameters; theory.md 1.3, 4.1). The
 * rows need H = X W (hm_kernel.c) and O(K q) per row; no factorisation.
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "hm_kernel.h"
#include "hm_kinds.h"

// Flat index of (i, j), i <= j, in a packed upper triangle of order d.
static size_t pk(int d, int i, int j) {
    return (size_t)i * (size_t)d - (size_t)i * (size_t)(i + 1) / 2 + (size_t)j;
}

static int hd_p(const hm_harmonium *h) {
    return h->obs->n;
}
static int hd_q(const hm_harmonium *h) {
    return h->lat->n;
}
// Length of one diagonal Normal(q) block (2q) and of one full one.
static int hd_dn(const hm_harmonium *h) {
    return h->lat->dim;
}
static int hd_df(const hm_harmonium *h) {
    return h->aux->lat->dim;
}
// Offset of theta_U (and of the latent mean block).
static size_t hd_off(const hm_harmonium *h) {
    return (size_t)h->obs->dim + (size_t)hd_p(h) * (size_t)hd_q(h);
}
static int hd_dl(const hm_harmonium *h) {
    return hm_hm_dim(h->sub);
}
static int hd_sym_dim(const hm_harmonium *h) {
    return hm_hm_dim(h->aux);
}

static int hd_dim(const hm_harmonium *h) {
    return (int)hd_off(h) + hd_dl(h);
}

static int hd_post_len(const hm_harmonium *h) {
    return h->k + hd_q(h);
}

// Latent draws are those of the symmetric HMoG: [y (q) | class].
static int hd_z_len(const hm_harmonium *h) {
    return hm_hm_z_len(h->aux);
}

// rho lives in the prior's (full mixture's) coordinates.
static int hd_rho_len(const hm_harmonium *h) {
    return hm_hm_rho_len(h->aux);
}

// theta_sym, its mean coordinates, and the symmetric kind's scratch.
static size_t hd_work_len(const hm_harmonium *h) {
    const size_t a = hm_hm_work_len(h->aux), b = hm_hm_work_len(h->sub), f = hm_fam_work_len(h->lat);
    size_t m = a > b ? a : b;
    m = m > f ? m : f;
    return 2 * (size_t)hd_sym_dim(h) + (size_t)hd_dn(h) + m + 16;
}

// --- the embedding -------------------------------------------------------------

// The full Normal(q) coordinate of diagonal coordinate j: the location
// for j < q, the packed diagonal entry (i, i) for j = q + i.
static size_t hd_full_index(int q, int j) {
    return j < q ? (size_t)j : (size_t)q + pk(q, j - q, j - q);
}

/*
 * theta_sym = [theta_X | W | embed(theta_U)]: the anchor's and every
 * offset's diagonal coordinates copied into the full block, couplings 0,
 * class parameters kept. O(dim_sym).
 */
static void hd_embed(const hm_harmonium *h, const double *theta, double *ts) {
    const int q = hd_q(h), dn = hd_dn(h), df = hd_df(h), mz = h->k - 1;
    const size_t off = hd_off(h);
    memcpy(ts, theta, off * sizeof(double));
    double *tl = ts + off;
    const double *ul = theta + off;
    memset(tl, 0, (size_t)(hd_sym_dim(h) - (int)off) * sizeof(double));
    for (int j = 0; j < dn; j++) {
        const size_t f = hd_full_index(q, j);
        tl[f] = ul[j];
        for (int k = 0; k < mz; k++) {
            tl[(size_t)df + f * (size_t)mz + (size_t)k] = ul[(size_t)dn + (size_t)j * (size_t)mz + (size_t)k];
        }
    }
    for (int k = 0; k < mz; k++) {
        tl[(size_t)df * (size_t)h->k + (size_t)k] = ul[(size_t)dn * (size_t)h->k + (size_t)k];
    }
}

/*
 * The pull-back of the embedding in mean coordinates: the full mixture's
 * mean block ef (anchor E[s_full(y)], per class w_k E[s_full(y) | k],
 * weights) into the diagonal mixture's, keeping (E[y], diagonal of
 * E[y y']) of every block. O(K q).
 */
static void hd_project(const hm_harmonium *h, const double *ef, double *ed) {
    const int q = hd_q(h), dn = hd_dn(h), df = hd_df(h), mz = h->k - 1;
    for (int j = 0; j < dn; j++) {
        const size_t f = hd_full_index(q, j);
        ed[j] = ef[f];
        for (int k = 0; k < mz; k++) {
            ed[(size_t)dn + (size_t)j * (size_t)mz + (size_t)k] = ef[(size_t)df + f * (size_t)mz + (size_t)k];
        }
    }
    for (int k = 0; k < mz; k++) {
        ed[(size_t)dn * (size_t)h->k + (size_t)k] = ef[(size_t)df * (size_t)h->k + (size_t)k];
    }
}

// Component k of theta_U (anchor plus offset k) into c[2q].
static void hd_component(const hm_harmonium *h, const double *thu, int k, double *c) {
    const int dn = hd_dn(h), mz = h->k - 1;
    for (int j = 0; j < dn; j++) {
        c[j] = thu[j] + (k > 0 ? thu[(size_t)dn + (size_t)j * (size_t)mz + (size_t)(k - 1)] : 0.0);
    }
}

// --- the prior side: the symmetric HMoG at theta_sym ---------------------------------

static hm_status hd_rho_chi(const hm_harmonium *h, const double *theta, double *rho, double *chi, double *work) {
    double *ts = work, *rest = work + hd_sym_dim(h);
    hd_embed(h, theta, ts);
    return hm_hm_rho_chi(h->aux, ts, rho, chi, rest);
}

static hm_status hd_prior(const hm_harmonium *h, const double *theta, double *prior, double *work) {
    double *ts = work, *rest = work + hd_sym_dim(h);
    hd_embed(h, theta, ts);
    return hm_hm_prior(h->aux, ts, prior, rest);
}

static hm_status hd_log_partition(const hm_harmonium *h, const double *theta, double *psi, double *work) {
    double *ts = work, *rest = work + hd_sym_dim(h);
    hd_embed(h, theta, ts);
    return hm_hm_log_partition(h->aux, ts, psi, rest);
}

/*
 * Valid when theta is finite, the observable's parameters are valid, every
 * posterior component of theta_U is a valid diagonal Normal, and the full
 * prior (checked by the symmetric kind: every prior component's precision
 * D_k - W'Sigma_x W positive definite) is valid.
 */
static hm_status hd_check_natural(const hm_harmonium *h, const double *theta, double *work) {
    if (!hm_all_finite(theta, hd_dim(h))) {
        return HM_EDOM;
    }
    hm_status st = hm_fam_check_natural(h->obs, theta);
    if (st != HM_OK) {
        return st;
    }
    double *c = work, *ts = work + hd_dn(h), *rest = ts + hd_sym_dim(h);
    for (int k = 0; k < h->k; k++) {
        hd_component(h, theta + hd_off(h), k, c);
        st = hm_fam_check_natural(h->lat, c);
        if (st != HM_OK) {
            return st;
        }
    }
    hd_embed(h, theta, ts);
    return hm_hm_check_natural(h->aux, ts, rest);
}

static hm_status hd_to_mean(const hm_harmonium *h, const double *theta, double *eta, double *work) {
    const int ds = hd_sym_dim(h);
    const size_t off = hd_off(h);
    double *ts = work, *es = ts + ds, *rest = es + ds;
    hd_embed(h, theta, ts);
    hm_status st = hm_hm_to_mean(h->aux, ts, es, rest);
    if (st != HM_OK) {
        return st;
    }
    memcpy(eta, es, off * sizeof(double));
    hd_project(h, es + off, eta + off);
    return HM_OK;
}

// No closed-form M-step (theory.md 1.3): fit by gradient.
static hm_status hd_to_natural(const hm_harmonium *h,
                               const double *eta,
                               double *theta,
                               double *work,
                               const hm_ctrl *ctl,
                               int *bad) {
    (void)h;
    (void)eta;
    (void)theta;
    (void)work;
    (void)ctl;
    *bad = -1;
    return HM_EINVAL;
}

static size_t hd_sample_work_len(const hm_harmonium *h, int n) {
    return (size_t)hd_sym_dim(h) + hd_work_len(h) + hm_hm_sample_work_len(h->aux, n) + 8;
}

// Ancestral sampling from the full prior (y, k), then x | y: the
// symmetric kind's sampler at theta_sym. z rows are [y (q) | class].
static hm_status hd_sample(const hm_harmonium *h,
                           const double *theta,
                           int n,
                           hm_rng *rng,
                           double *x,
                           double *z,
                           double *work) {
    if (n < 0) {
        return HM_EINVAL;
    }
    double *ts = work, *rest = work + hd_sym_dim(h);
    hm_status st = hd_check_natural(h, theta, rest);
    if (st != HM_OK) {
        return st;
    }
    hd_embed(h, theta, ts);
    return hm_hm_sample(h->aux, ts, n, rng, x, z, rest);
}

// --- the E-step --------------------------------------------------------------

static int hd_block_rows(const hm_harmonium *h) {
    int m = hd_p(h) > h->k * hd_q(h) ? hd_p(h) : h->k * hd_q(h);
    int b = 32768 / (m > 0 ? m : 1);
    b = b < 64 ? 64 : (b > 1024 ? 1024 : b);
    return b - b % 16;
}

// Per call: each component's variances Sigma_k (q), location b_k (q),
// constant c_k = psi_diag(theta_U^(k)) - b_k' Sigma_k b_k / 2, class
// parameter lambda_k, and one component vector.
static size_t hd_head_len(const hm_harmonium *h) {
    const size_t K = (size_t)h->k, q = (size_t)hd_q(h);
    return K * (2 * q + 2) + (size_t)hd_dn(h) + 8;
}

// Per thread: X (B x p), s_X, row energies and weights, H = X W and the
// weighted posterior mean (B x q each), the component means (K x B x q),
// the responsibilities (B x K) and the per-component moment sums.
static size_t hd_thread_len(const hm_harmonium *h) {
    const size_t B = (size_t)hd_block_rows(h), p = (size_t)hd_p(h), q = (size_t)hd_q(h), K = (size_t)h->k;
    return B * p + (size_t)h->obs->dim + 2 * B + 2 * B * q + K * B * q + B * K + K * (2 * q + 1) + 8;
}

typedef struct hd_ctx {
    const hm_harmonium *h;
    const double *theta;
    const hm_data *data;
    const double *sig; /* K x q posterior variances */
    const double *loc; /* K x q posterior locations before W'x */
    const double *cst; /* K */
    const double *lam; /* K: 0 then the class parameters */
    double psi;        /* psi_sym(theta_sym) = psi_full(prior) + chi */
    double *logp;
    double *post;
} hd_ctx;

static hm_status hd_block(const void *ctx, int r0, int nr, double *slot, double *tw) {
    const hd_ctx *c = (const hd_ctx *)ctx;
    const hm_harmonium *h = c->h;
    const hm_family *obs = h->obs;
    const int p = hd_p(h), q = hd_q(h), K = h->k, mz = K - 1, dx = obs->dim, dn = hd_dn(h);
    const int dim = hd_dim(h), B = hd_block_rows(h);
    const size_t off = hd_off(h), n = (size_t)c->data->n, ldx = (size_t)c->data->ldx;
    const size_t Bq = (size_t)B * (size_t)q;
    const double *W = c->theta + dx;
    double *X = tw, *s = X + (size_t)B * (size_t)p, *e = s + dx, *wv = e + B;
    double *H = wv + B, *Y = H + Bq, *M = Y + Bq, *R = M + (size_t)K * Bq;
    double *acc = R + (size_t)B * (size_t)K;

    memset(slot, 0, (size_t)(dim + 2) * sizeof(double));
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
    hm_k_gemm_nn(nr, p, q, X, p, W, q, H, q);
    // Component k's posterior mean at row i is Sigma_k (b_k + (W'x)_i),
    // elementwise; its energy lambda_k + c_k + t' Sigma_k t / 2.
    for (int k = 0; k < K; k++) {
        const double *bk = c->loc + (size_t)k * (size_t)q, *sk = c->sig + (size_t)k * (size_t)q;
        double *Mk = M + (size_t)k * Bq;
        for (int i = 0; i < nr; i++) {
            const double *hi = H + (size_t)i * (size_t)q;
            double *mi = Mk + (size_t)i * (size_t)q;
            double quad = 0.0;
            for (int j = 0; j < q; j++) {
                const double t = hi[j] + bk[j];
                mi[j] = sk[j] * t;
                quad += t * mi[j];
            }
            R[(size_t)i * (size_t)K + (size_t)k] = c->lam[k] + c->cst[k] + 0.5 * quad;
        }
    }
    memset(acc, 0, (size_t)K * (size_t)(2 * q + 1) * sizeof(double));
    double ll = 0.0, wt = 0.0;
    for (int i = 0; i < nr; i++) {
        const size_t row = (size_t)(r0 + i);
        double *r = R + (size_t)i * (size_t)K;
        // log-sum-exp over the classes, shifted by the largest energy.
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
            const double *mk = M + (size_t)k * Bq + (size_t)i * (size_t)q;
            const double *sk = c->sig + (size_t)k * (size_t)q;
            const double v = wv[i] * r[k];
            double *ak = acc + (size_t)k * (size_t)(2 * q + 1);
            for (int j = 0; j < q; j++) {
                yi[j] += r[k] * mk[j];
                ak[j] += v * mk[j];
                ak[q + j] += v * (mk[j] * mk[j] + sk[j]);
            }
            ak[2 * q] += v;
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
    // The posterior mixture's mean coordinates: the anchor holds the sums
    // over all classes, offset column k-1 and class entry k-1 those of
    // class k (weighted moments (sum v, sum v m, sum v (sigma^2 + m^2))).
    double *etan = slot + off, *etaw = etan + dn, *etaz = etaw + (size_t)dn * (size_t)mz;
    for (int k = 0; k < K; k++) {
        const double *ak = acc + (size_t)k * (size_t)(2 * q + 1);
        for (int j = 0; j < dn; j++) {
            etan[j] += ak[j];
            if (k > 0) {
                etaw[(size_t)j * (size_t)mz + (size_t)(k - 1)] = ak[j];
            }
        }
        if (k > 0) {
            etaz[k - 1] = ak[2 * q];
        }
    }
    slot[dim] = ll;
    slot[dim + 1] = wt;
    return HM_OK;
}

static size_t hd_estep_work_len(const hm_harmonium *h, int threads) {
    return hd_head_len(h) + hd_work_len(h) + hm_blocks_work_len(hd_dim(h) + 2, hd_thread_len(h), threads);
}

static hm_status hd_estep(const hm_harmonium *h,
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
    const int q = hd_q(h), K = h->k;
    const size_t off = hd_off(h);
    double *sig = work, *loc = sig + (size_t)K * (size_t)q, *cst = loc + (size_t)K * (size_t)q;
    double *lam = cst + K, *comp = lam + K, *hw = comp + hd_dn(h) + 8;
    double *bw = hw + hd_work_len(h);
    hm_status st = hd_check_natural(h, theta, hw);
    if (st != HM_OK) {
        return st;
    }
    hd_ctx c;
    c.h = h;
    c.theta = theta;
    c.data = data;
    c.sig = sig;
    c.loc = loc;
    c.cst = cst;
    c.lam = lam;
    c.logp = logp;
    c.post = post;
    st = hd_log_partition(h, theta, &c.psi, hw);
    if (st != HM_OK) {
        return st;
    }
    const double *thu = theta + off, *thz = thu + (size_t)hd_dn(h) * (size_t)K;
    for (int k = 0; k < K; k++) {
        hd_component(h, thu, k, comp);
        double psik;
        st = hm_fam_log_partition(h->lat, comp, &psik, hw);
        if (st != HM_OK) {
            return st;
        }
        // Diagonal Normal coordinates (theory.md 2.7): (P_jj mu_j, -P_jj/2).
        double quad = 0.0;
        for (int j = 0; j < q; j++) {
            const double v = -0.5 / comp[q + j];
            sig[(size_t)k * (size_t)q + (size_t)j] = v;
            loc[(size_t)k * (size_t)q + (size_t)j] = comp[j];
            quad += comp[j] * comp[j] * v;
        }
        cst[k] = psik - 0.5 * quad;
        lam[k] = k > 0 ? thz[k - 1] : 0.0;
    }
    return hm_run_blocks(data->n, hd_block_rows(h), threads, hd_dim(h) + 2, hd_thread_len(h), hd_block, &c, stats,
                         bw, data->tree);
}

// --- descriptor ----------------------------------------------------------------

hm_status hm_hm_init_hmog_diag(hm_harmonium *h,
                               const hm_family *obs,
                               const hm_harmonium *posterior,
                               const hm_harmonium *sym) {
    if (obs == NULL || posterior == NULL || sym == NULL || posterior->kind != HM_HM_MIXTURE ||
        posterior->obs->kind != HM_FAM_NORMAL || posterior->obs->rep != HM_COV_DIAG || sym->kind != HM_HM_HMOG ||
        sym->obs != obs || sym->k != posterior->lat->n || sym->lat->n != posterior->obs->n) {
        return HM_EINVAL;
    }
    h->kind = HM_HM_HMOG_DIAG;
    h->obs = obs;
    h->lat = posterior->obs;
    h->mx = obs->n;
    h->mz = posterior->obs->n;
    h->prr = *sym->lat;
    h->k = sym->k;
    h->sub = posterior;
    h->aux = sym;
    return HM_OK;
}

const hm_kind_ops hm_kind_hmog_diag_ops = {
    .name = "hmog_diag",
    .block_rows = hd_block_rows,
    .dim = hd_dim,
    .post_len = hd_post_len,
    .z_len = hd_z_len,
    .rho_len = hd_rho_len,
    .work_len = hd_work_len,
    .sample_work_len = hd_sample_work_len,
    .rho_chi = hd_rho_chi,
    .prior = hd_prior,
    .log_partition = hd_log_partition,
    .to_mean = hd_to_mean,
    .to_natural = hd_to_natural,
    .check_natural = hd_check_natural,
    .whiten = NULL,
    .sample = hd_sample,
    .estep_work_len = hd_estep_work_len,
    .estep = hd_estep,
};
