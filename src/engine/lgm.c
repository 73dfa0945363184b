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

// --- the E-step from the data's moments ---------------------------------------------------

/*
 * With a Normal observable and a Normal latent every expected statistic is
 * a polynomial of degree at most 2 in x (E[z | x] is affine in x, and
 * Sigma_post does not depend on x), and so is log p(x). Their sums over the
 * rows are therefore functions of the total weight, sum w x and
 * sum w x x' alone, which hm_lgm_moments gathers in one pass; an EM
 * iteration from them costs O(p^2 q) whatever n (theory.md 3.2). The
 * moments are summed in blocks of rows in block order (hm_run_blocks), so
 * they are the same for any thread count.
 */

int hm_lgm_moments_len(const hm_harmonium *h) {
    const int p = h->mx;
    return 1 + p + p * p;
}

// One block's slot: [sum w | sum w x (p) | packed upper sum w x x'].
static int moments_slot_len(const hm_harmonium *h) {
    const int p = h->mx;
    return 1 + p + p * (p + 1) / 2;
}

static size_t moments_thread_len(const hm_harmonium *h) {
    const size_t B = (size_t)hm_estep_block_rows(h), p = (size_t)h->mx;
    return 2 * B * p + B + p * p + 8;
}

size_t hm_lgm_moments_work_len(const hm_harmonium *h, int threads) {
    const size_t slen = (size_t)moments_slot_len(h);
    return slen + hm_blocks_work_len((int)slen, moments_thread_len(h), threads);
}

// Rows of the second-moment matrix per product in moments_block.
#define MOMENTS_PANEL 8

typedef struct moments_ctx {
    const hm_harmonium *h;
    const hm_data *data;
} moments_ctx;

static hm_status moments_block(const void *ctx, int r0, int nr, double *slot, double *tw) {
    const moments_ctx *c = (const moments_ctx *)ctx;
    const int p = c->h->mx, B = hm_estep_block_rows(c->h);
    const hm_data *data = c->data;
    const size_t ldx = (size_t)data->ldx;
    double *X = tw;
    double *XW = X + (size_t)B * (size_t)p;
    double *wv = XW + (size_t)B * (size_t)p;
    double *G = wv + B;
    double *s1 = slot + 1;
    double wt = 0.0;
    memset(s1, 0, (size_t)p * sizeof(double));
    for (int i = 0; i < nr; i++) {
        const size_t row = (size_t)(r0 + i);
        const double wi = data->w ? data->w[row] : 1.0;
        double *xi = X + (size_t)i * (size_t)p, *yi = XW + (size_t)i * (size_t)p;
        for (int j = 0; j < p; j++) {
            const double v = data->x[(size_t)j * ldx + row];
            if (!isfinite(v)) {
                return HM_EDOM;
            }
            xi[j] = v;
            yi[j] = wi * v;
            s1[j] += yi[j];
        }
        wv[i] = wi;
        wt += wi;
    }
    // Only the upper triangle of X'(w X) is kept: panels of MOMENTS_PANEL
    // rows of it, each from its diagonal to the last column, skip most of
    // the lower one. Each entry is still one chain over the rows in order
    // (hm_kernel.h), so the panels do not change its bits.
    memset(G, 0, (size_t)p * (size_t)p * sizeof(double));
    for (int a0 = 0; a0 < p; a0 += MOMENTS_PANEL) {
        const int k = p - a0 < MOMENTS_PANEL ? p - a0 : MOMENTS_PANEL;
        hm_k_gemm_tn_acc(nr, k, p - a0, X + a0, p, XW + a0, p, G + (size_t)a0 * (size_t)p + (size_t)a0,
                         p);
    }
    double *s2 = s1 + p;
    for (int i = 0; i < p; i++) {
        for (int j = i; j < p; j++) {
            s2[lgm_pidx(p, i, j)] = G[(size_t)i * (size_t)p + (size_t)j];
        }
    }
    slot[0] = wt;
    return HM_OK;
}

hm_status
hm_lgm_moments(const hm_harmonium *h, const hm_data *data, int threads, double *mom, double *work) {
    if (h->kind != HM_HM_LGM && h->kind != HM_HM_LGM_DIAG && h->kind != HM_HM_BOLTZMANN_LGM &&
        h->kind != HM_HM_BOLTZMANN_LGM_MF) {
        return HM_EINVAL;
    }
    const int p = h->mx, slen = moments_slot_len(h);
    double *tot = work;
    moments_ctx c = {h, data};
    hm_status st = hm_run_blocks(data->n, hm_estep_block_rows(h), threads, slen,
                                 moments_thread_len(h), moments_block, &c, tot, tot + slen, data->tree);
    if (st != HM_OK) {
        return st;
    }
    hm_lgm_moments_unpack(h, tot, mom);
    return HM_OK;
}

int hm_lgm_moments_packed_len(const hm_harmonium *h) {
    return moments_slot_len(h);
}

void hm_lgm_moments_unpack(const hm_harmonium *h, const double *tot, double *mom) {
    const int p = h->mx;
    mom[0] = tot[0];
    memcpy(mom + 1, tot + 1, (size_t)p * sizeof(double));
    double *S = mom + 1 + p;
    const double *s2 = tot + 1 + p;
    for (int i = 0; i < p; i++) {
        for (int j = i; j < p; j++) {
            const double v = s2[lgm_pidx(p, i, j)];
            S[(size_t)i * (size_t)p + (size_t)j] = v;
            S[(size_t)j * (size_t)p + (size_t)i] = v;
        }
    }
}

size_t hm_lgm_moments_estep_work_len(const hm_harmonium *h) {
    const size_t p = (size_t)h->mx, q = (size_t)h->mz;
    // sig (3 q x q + 8), V and XV, T and U, three q-vectors, s_X, and slack.
    return 5 * q * q + 2 * p * q + 3 * q + (size_t)h->obs->dim + hm_hm_work_len(h) + 16;
}

/*
 * The statistics vector of hm_estep from the moments mom = [W | s1 = sum w x
 * | S2 = sum w x x' (p x p, row-major)]. Sigma_post = R1 R2 with R1 = L^-T
 * (read row-major) and R2 = R1', the factors the row path uses (P_post =
 * L L'). Each row's whitened field R1' h = c + V'x, with c = R1' theta_z
 * and V = W R1, is what the row path squares; squaring after the
 * whitening, as here, keeps the rounding of a near-singular noise
 * covariance (W of order 1 / psi) out of the well-determined directions.
 * With T = sum w (R1'h)(R1'h)' = V'(S2 V + s1 c') + c (V's1)' + W c c',
 *   sum w s_X(x)        s1 and the rep's projection of S2,
 *   sum w E[z|x]        (V's1 + W c)' R2,
 *   sum w x E[z|x]'     (S2 V + s1 c') R2,
 *   sum w E[z z'|x]     R2' T R2 + W Sigma_post,
 *   sum w log p(x)      W log mu + theta_X . sum s_X + 1/2 tr T
 *                       - W (1/2 log |P_post| + psi).
 * The diagonal-posterior kind (HM_HM_LGM_DIAG) is the same with
 * R1 = R2 = Sigma_post^(1/2) and only the diagonal of E[z z' | x] kept.
 * Cost O(p^2 q).
 */
hm_status hm_lgm_moments_estep(
    const hm_harmonium *h, const double *theta, const double *mom, double *stats, double *work) {
    if (h->kind != HM_HM_LGM && h->kind != HM_HM_LGM_DIAG) {
        return HM_EINVAL;
    }
    const int diag = h->kind == HM_HM_LGM_DIAG;
    const int p = h->mx, q = h->mz, dx = h->obs->dim, dim = hm_hm_dim(h);
    const size_t qq = (size_t)q * (size_t)q;
    const double wt = mom[0], *s1 = mom + 1, *S2 = mom + 1 + p;
    const double *W = theta + dx, *thz = theta + lat_offset(h);
    double *cur = work;
    double *sig = take(&cur, 3 * qq + 8);
    double *hw = take(&cur, hm_hm_work_len(h));
    double *V = take(&cur, (size_t)p * (size_t)q);
    double *XV = take(&cur, (size_t)p * (size_t)q);
    double *T = take(&cur, qq);
    double *U = take(&cur, qq);
    double *c = take(&cur, (size_t)q);
    double *vs = take(&cur, (size_t)q);
    double *hs = take(&cur, (size_t)q);
    double *sx = take(&cur, (size_t)dx);
    if (!(wt >= 0.0) || !all_finite(mom, (size_t)hm_lgm_moments_len(h))) {
        return HM_EDOM;
    }
    hm_status st = hm_hm_check_natural(h, theta, hw);
    if (st != HM_OK) {
        return st;
    }
    double psi = 0.0, half_logdet = 0.0;
    st = hm_hm_log_partition(h, theta, &psi, hw);
    if (st != HM_OK) {
        return st;
    }
    st = lgm_post_cov(h, theta, sig, &half_logdet);
    if (st != HM_OK) {
        return st;
    }
    // A diagonal posterior's factors: R1 = R2 = Sigma_post^(1/2), diagonal.
    if (diag) {
        for (int i = 0; i < q; i++) {
            for (int j = 0; j < q; j++) {
                const double v = (i == j) ? sqrt(sig[midx(q, i, i)]) : 0.0;
                sig[qq + midx(q, i, j)] = v;
                sig[2 * qq + midx(q, i, j)] = v;
            }
        }
    }
    const double *R1 = sig + qq, *R2 = sig + 2 * qq;
    // The observable statistics and their energy.
    memcpy(sx, s1, (size_t)p * sizeof(double));
    if (h->obs->rep == HM_COV_FULL) {
        for (int i = 0; i < p; i++) {
            for (int j = i; j < p; j++) {
                sx[(size_t)p + lgm_pidx(p, i, j)] = S2[(size_t)i * (size_t)p + (size_t)j];
            }
        }
    } else if (h->obs->rep == HM_COV_DIAG) {
        for (int i = 0; i < p; i++) {
            sx[(size_t)p + (size_t)i] = S2[(size_t)i * (size_t)p + (size_t)i];
        }
    } else {
        double tr = 0.0;
        for (int i = 0; i < p; i++) {
            tr += S2[(size_t)i * (size_t)p + (size_t)i];
        }
        sx[p] = tr / (double)p;
    }
    double e = wt * hm_fam_log_base(h->obs, s1);
    for (int j = 0; j < dx; j++) {
        e += theta[j] * sx[j];
    }
    // The whitened field: V = W R1, c = R1' theta_z (theta_z' R1 as a row).
    hm_k_gemm_nn(p, q, q, W, q, R1, q, V, q);
    hm_k_vec_mat(q, q, thz, R1, q, c);
    // XV = S2 V + s1 c' = sum w x (R1'h)'; vs = V's1; hs = sum w R1'h.
    hm_k_gemm_nn(p, p, q, S2, p, V, q, XV, q);
    for (int i = 0; i < p; i++) {
        for (int k = 0; k < q; k++) {
            XV[(size_t)i * (size_t)q + (size_t)k] += s1[i] * c[k];
        }
    }
    hm_k_vec_mat(p, q, s1, V, q, vs);
    for (int k = 0; k < q; k++) {
        hs[k] = vs[k] + wt * c[k];
    }
    // T = V' XV + c vs' + W c c' (V' XV = V' S2 V + vs c'; both triangles).
    memset(T, 0, qq * sizeof(double));
    hm_k_gemm_tn_acc(p, q, q, V, q, XV, q, T, q);
    double quad = 0.0;
    for (int a = 0; a < q; a++) {
        for (int b = 0; b < q; b++) {
            T[(size_t)a * (size_t)q + (size_t)b] += c[a] * vs[b] + wt * c[a] * c[b];
        }
        quad += T[(size_t)a * (size_t)q + (size_t)a];
    }
    // The statistics, in hm_estep's layout.
    memcpy(stats, sx, (size_t)dx * sizeof(double));
    double *cross = stats + dx, *etaz = cross + (size_t)p * (size_t)q;
    hm_k_gemm_nn(p, q, q, XV, q, R2, q, cross, q);
    hm_k_vec_mat(q, q, hs, R2, q, etaz);
    memset(U, 0, qq * sizeof(double));
    hm_k_gemm_tn_acc(q, q, q, R2, q, T, q, U, q);
    hm_k_gemm_nn(q, q, q, U, q, R2, q, T, q);
    // A diagonal posterior's statistic is (z, z_i^2): the diagonal only.
    for (int i = 0; i < q; i++) {
        for (int j = i; j < (diag ? i + 1 : q); j++) {
            const double v = T[(size_t)i * (size_t)q + (size_t)j] + wt * sig[midx(q, i, j)];
            etaz[(size_t)q + (diag ? (size_t)i : lgm_pidx(q, i, j))] = v;
        }
    }
    stats[dim] = e + 0.5 * quad - wt * (half_logdet + psi);
    stats[dim + 1] = wt;
    return HM_OK;
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
