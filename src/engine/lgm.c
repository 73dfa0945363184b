/*
 * lgm.c: the linear-Gaussian harmoniums with a Normal latent (theory.md
 * 3.2): HM_HM_LGM (full Normal(q) latent) and its restricted-posterior
 * variant HM_HM_LGM_DIAG (diagonal Normal posterior, full Normal prior;
 * theory.md 1.3). What they share with the Boltzmann-latent kinds (the
 * loading form of the Normal observable, conjugation, moments, M-step,
 * validity, sampling and the observable half of the E-step) is in
 * lgm_common.c; this file has what only a Normal latent has: whitening
 * (HM_HM_LGM), the posterior covariance the E-step factors once per call,
 * the E-step block, and the two operation tables.
 *
 * E-step: for a Normal latent the posterior covariance Sigma_post is the
 * same for every row (factored once per call), the posterior means are
 * M = (H + theta_z) Sigma_post with H = X W, and psi_Z(posterior) =
 * 1/2 h' mu - 1/2 log |P_post| gives log p(x). The statistics are
 * X' (w M) and M' (w M) + (sum w) Sigma_post, both products (hm_kernel.c).
 * The diagonal kind is the same path with a diagonal Sigma_post and the
 * statistic (z, z_i^2); its psi(theta) = psi_Prr(prior) + chi comes from
 * hm_hm_log_partition, once per call.
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "hm_kernel.h"
#include "hm_kinds.h"
#include "lgm_common.h"
#include "linalg.h"

// --- whitening -------------------------------------------------------------------------

/*
 * whiten_prior (theory.md 3.2): with L = chol(Sigma_z), the latent
 * z~ = L^-1 (z - m) is N(0, I) under the prior, and x is unchanged, so the
 * cross moment becomes E[x z~'] = C L^-T (C = E[x z'] - mu_x m') and the
 * latent block the moments of N(0, I). The M-step from these coordinates
 * gives A~ A~' = C Sigma_z^-1 C' and b~ = mu_x, the same Sigma_x and hence
 * the same marginal of x. Row i of C L^-T is (L^-1 c_i)', one forward
 * substitution per row, done in place. Cost O(q^3 + p q^2).
 */
static hm_status lgm_whiten(const hm_harmonium *h, const double *eta_in, double *eta_out, double *work) {
    const int p = h->obs->n, q = h->mz, dz = h->lat->dim;
    const size_t off = lat_offset(h), dim = off + (size_t)dz;
    if (h->kind != HM_HM_LGM) {
        return HM_EINVAL;
    }
    if (!all_finite(eta_in, dim)) {
        return HM_EDOM;
    }
    double *cur = work;
    double *m = take(&cur, (size_t)q);
    double *l = take(&cur, (size_t)q * (size_t)q);
    hm_lgm_lat_moments(h, eta_in + off, m, l);
    for (int i = 0; i < q; i++) {
        for (int j = 0; j < q; j++) {
            l[midx(q, i, j)] -= m[i] * m[j];
        }
    }
    hm_status st = hm_la_chol(q, l);
    if (st != HM_OK) {
        return st;
    }
    if (eta_out != eta_in) {
        memcpy(eta_out, eta_in, off * sizeof(double));
    }
    double *cross = eta_out + h->obs->dim;
    for (int i = 0; i < p; i++) {
        double *c = cross + (size_t)i * (size_t)q;
        for (int j = 0; j < q; j++) {
            double v = c[j] - eta_out[i] * m[j];
            for (int k = 0; k < j; k++) {
                v -= l[midx(q, j, k)] * c[k];
            }
            c[j] = v / l[midx(q, j, j)];
        }
    }
    double *ez = eta_out + off;
    for (int i = 0; i < q; i++) {
        ez[i] = 0.0;
        for (int j = i; j < q; j++) {
            ez[(size_t)q + lgm_pidx(q, i, j)] = (i == j) ? 1.0 : 0.0;
        }
    }
    return HM_OK;
}

// --- the E-step's constant posterior covariance ------------------------------------------

static hm_status lgm_post_cov(const hm_harmonium *h, const double *theta, double *sig, double *half_logdet) {
    const int q = h->mz;
    if (h->kind == HM_HM_LGM_DIAG) {
        // A diagonal posterior: Sigma_post = diag(1 / P_ii), zeros off it,
        // so the E-step's products treat both Normal kinds alike.
        const double *th2 = theta + lat_offset(h) + q;
        double ld = 0.0;
        for (int i = 0; i < q; i++) {
            const double pii = -2.0 * th2[i];
            if (!(pii > 0.0)) {
                return HM_ENOTPD;
            }
            ld += log(pii);
            for (int j = 0; j < q; j++) {
                sig[midx(q, i, j)] = (i == j) ? 1.0 / pii : 0.0;
            }
        }
        *half_logdet = 0.5 * ld;
        return HM_OK;
    }
    if (h->kind != HM_HM_LGM) {
        return HM_EINVAL;
    }
    hm_lgm_lat_precision(q, theta + lat_offset(h) + q, sig);
    hm_status st = hm_la_chol(q, sig);
    if (st != HM_OK) {
        return st;
    }
    *half_logdet = 0.5 * hm_la_chol_logdet(q, sig);
    // After Sigma_post: Li = L^-1 of the precision's factor (lower,
    // column-major, which read row-major is Li') and its transpose, for
    // the rows' quadratic forms (lgm_block).
    hm_la_chol_inv_factor(q, sig, sig + (size_t)q * (size_t)q, sig + 2 * (size_t)q * (size_t)q);
    return hm_la_chol_inv(q, sig);
}

// --- the E-step ----------------------------------------------------------------------------

/*
 * Normal latent: posterior natural parameters (theta_z + W'x, theta_zz),
 * so with h = theta_z + W'x the posterior mean is Sigma_post h and
 * psi_Z(posterior) = 1/2 h' mu - 1/2 log |P_post| (theory.md 2.7, 3.2).
 * The latent second moment E[z z' | x] = Sigma_post + mu mu' is summed as
 * M' (w M) plus (sum w) Sigma_post.
 */
static hm_status lgm_block(const void *ctx, int r0, int nr, double *slot, double *tw) {
    const lgm_block_ctx *c = (const lgm_block_ctx *)ctx;
    const hm_harmonium *h = c->h;
    const int p = h->mx, q = h->mz, dx = h->obs->dim, dim = hm_hm_dim(h);
    const int B = hm_estep_block_rows(h);
    const size_t n = (size_t)c->data->n;
    double *X = tw;
    double *H = X + (size_t)B * (size_t)p;
    double *M = H + (size_t)B * (size_t)q;
    double *Mw = M + (size_t)B * (size_t)q;
    double *e = Mw + (size_t)B * (size_t)q;
    double *wv = e + B;
    double *s = wv + B;
    double *G = s + dx;
    double *XQ = G + (size_t)q * (size_t)q;
    double *GX = XQ + (size_t)B * (size_t)p;
    double *etax = slot, *etaw = slot + dx, *etaz = etaw + (size_t)p * (size_t)q;

    hm_lgm_gather(c, r0, nr, X, s, e, wv, etax, XQ, GX);
    hm_k_gemm_nn(nr, p, q, X, p, c->W, q, H, q);
    for (int i = 0; i < nr; i++) {
        for (int k = 0; k < q; k++) {
            H[(size_t)i * (size_t)q + (size_t)k] += c->thz[k];
        }
    }
    // A full posterior: h' Sigma_post h = |L^-1 h|^2 and the means L^-T
    // (L^-1 h), through the inverse factor of the precision P = L L'
    // (lgm_post_cov): forming Sigma_post first squares the condition
    // number, which near a vanishing noise variance (h of order 1 / psi)
    // is the error of the row's log p(x). Mw holds L^-1 h until the loop.
    const int full = h->kind == HM_HM_LGM;
    const size_t qq = (size_t)q * (size_t)q;
    if (full) {
        hm_k_gemm_nn(nr, q, q, H, q, c->sig + qq, q, Mw, q);
        hm_k_gemm_nn(nr, q, q, Mw, q, c->sig + 2 * qq, q, M, q);
    } else {
        hm_k_gemm_nn(nr, q, q, H, q, c->sig, q, M, q);
    }
    memset(etaz, 0, (size_t)q * sizeof(double));
    double ll = 0.0, wt = 0.0;
    for (int i = 0; i < nr; i++) {
        const size_t row = (size_t)(r0 + i);
        const double *hi = H + (size_t)i * (size_t)q, *mi = M + (size_t)i * (size_t)q;
        double *mw = Mw + (size_t)i * (size_t)q;
        double quad = 0.0;
        for (int k = 0; k < q; k++) {
            quad += full ? mw[k] * mw[k] : hi[k] * mi[k];
        }
        const double lp = e[i] + 0.5 * quad - c->half_logdet - c->psi;
        if (c->logp) {
            c->logp[row] = lp;
        }
        for (int k = 0; k < q; k++) {
            if (c->post) {
                c->post[(size_t)k * n + row] = mi[k];
            }
            mw[k] = wv[i] * mi[k];
            etaz[k] += mw[k];
        }
        ll += wv[i] * lp;
        wt += wv[i];
    }
    memset(etaw, 0, (size_t)p * (size_t)q * sizeof(double));
    hm_k_gemm_tn_acc(nr, p, q, X, p, Mw, q, etaw, q);
    memset(G, 0, (size_t)q * (size_t)q * sizeof(double));
    hm_k_gemm_tn_acc(nr, q, q, M, q, Mw, q, G, q);
    // A diagonal posterior's statistic is (z, z_i^2): only the diagonal
    // of E[z z' | x] = Sigma_post + mu mu' is kept.
    const int diag = h->kind == HM_HM_LGM_DIAG;
    for (int i = 0; i < q; i++) {
        for (int j = i; j < (diag ? i + 1 : q); j++) {
            const double v = G[(size_t)i * (size_t)q + (size_t)j] +
                             wt * c->sig[(size_t)i * (size_t)q + (size_t)j];
            etaz[(size_t)q + (diag ? (size_t)i : lgm_pidx(q, i, j))] = v;
        }
    }
    slot[dim] = ll;
    slot[dim + 1] = wt;
    return HM_OK;
}

static size_t lgm_estep_thread_len(const hm_harmonium *h) {
    return hm_lgm_thread_len(h);
}

static size_t lgm_estep_work_len(const hm_harmonium *h, int threads) {
    return hm_lgm_estep_work_len(h, lgm_estep_thread_len(h), threads);
}

static hm_status lgm_estep(const hm_harmonium *h,
                           const double *theta,
                           const hm_data *data,
                           const double *given,
                           double *stats,
                           double *logp,
                           double *post,
                           int threads,
                           double *work) {
    return hm_lgm_estep(h, theta, data, given, stats, logp, post, threads, work, lgm_post_cov, lgm_block,
                        lgm_estep_thread_len(h));
}

// --- sequential conjugate updating ---------------------------------------------------------

// The coupled statistic is the datum itself (r_X(x) = x), added to the
// latent location (hm_hm_posterior_fold). The diagonal kind has none: its
// posterior family cannot hold the prior's couplings.
static void lgm_fold_increment(const hm_harmonium *h,
                               const double *theta,
                               const double *x,
                               const double *rho,
                               double *s,
                               double *inc) {
    (void)s;
    hm_hm_fold_add(h, theta, x, rho, 0, inc);
}

// --- the operation tables --------------------------------------------------------------------

const hm_kind_ops hm_kind_lgm_ops = {
    .name = "lgm",
    .dim = hm_lgm_dim,
    .post_len = hm_lgm_post_len,
    .z_len = hm_lgm_z_len,
    .rho_len = hm_lgm_rho_len,
    .work_len = hm_lgm_work_len,
    .sample_work_len = hm_lgm_sample_work_len,
    .rho_chi = hm_lgm_rho_chi,
    .to_mean = hm_lgm_to_mean,
    .to_natural = hm_lgm_to_natural,
    .check_natural = hm_lgm_check_natural,
    .whiten = lgm_whiten,
    .sample = hm_lgm_sample,
    .estep_work_len = lgm_estep_work_len,
    .estep = lgm_estep,
    .init = hm_lgm_init,
    .embed_latent = hm_lgm_embed_latent,
    .fold_increment = lgm_fold_increment,
};

const hm_kind_ops hm_kind_lgm_diag_ops = {
    .name = "lgm_diag",
    .dim = hm_lgm_dim,
    .post_len = hm_lgm_post_len,
    .z_len = hm_lgm_z_len,
    .rho_len = hm_lgm_rho_len,
    .work_len = hm_lgm_work_len,
    .sample_work_len = hm_lgm_sample_work_len,
    .rho_chi = hm_lgm_rho_chi,
    .to_mean = hm_lgm_to_mean,
    .to_natural = hm_lgm_to_natural,
    .check_natural = hm_lgm_check_natural,
    .sample = hm_lgm_sample,
    .estep_work_len = lgm_estep_work_len,
    .estep = lgm_estep,
    .init = hm_lgm_init,
    .embed_latent = hm_lgm_embed_latent,
};
