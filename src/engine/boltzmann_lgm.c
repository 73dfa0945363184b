/*
 * boltzmann_lgm.c: the Gaussian-Boltzmann harmoniums (theory.md 3.3):
 * HM_HM_BOLTZMANN_LGM (a Boltzmann(q) latent) and its restricted-posterior
 * variant HM_HM_BOLTZMANN_LGM_MF (independent Bernoulli posterior units,
 * Boltzmann prior; theory.md 1.3). The Normal observable, conjugation,
 * moments, M-step, validity and sampling are shared with the Normal-latent
 * kinds (lgm_common.c); this file has what only a binary latent has: the
 * E-step block, the block size, contrastive divergence and the two
 * operation tables.
 *
 * E-step: each row's posterior (theta_Z with W'x on its biases) is
 * enumerated by the family's own log_partition and to_mean (2^q states
 * per row), so blocks are kept small; the mean-field kind's posterior has
 * the biases as its whole parameter (closed form, no enumeration per
 * row), and its psi(theta) = psi_Prr(prior) + chi comes from
 * hm_hm_log_partition, once per call.
 *
 * Contrastive divergence (theory.md 1.6): every conditional of the joint
 * is exact (Gaussian x | z; independent units, or a 2^q-state
 * enumeration, for z | x).
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "hm_kernel.h"
#include "hm_kinds.h"
#include "hm_specfun.h"
#include "lgm_common.h"

// Rows per block for a Boltzmann latent: each row costs two enumerations
// of 2^q states, so small blocks keep the threads balanced.
#define BOLTZMANN_BLOCK_ROWS 64

static int blgm_block_rows(const hm_harmonium *h) {
    (void)h;
    return BOLTZMANN_BLOCK_ROWS;
}

// --- the E-step ----------------------------------------------------------------------------

/*
 * Boltzmann latent: the posterior at x is theta_Z with (W'x)_i added to
 * each bias theta_ii (theory.md 3.3); its log-partition and packed mean
 * E[z z' | x] come from the family's enumeration, and the unit means
 * E[z_i | x] are that mean's diagonal.
 */
static hm_status blgm_block(const void *ctx, int r0, int nr, double *slot, double *tw) {
    const lgm_block_ctx *c = (const lgm_block_ctx *)ctx;
    const hm_harmonium *h = c->h;
    const hm_family *lat = h->lat;
    const int p = h->mx, q = h->mz, dx = h->obs->dim, dz = lat->dim, dim = hm_hm_dim(h);
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
    double *tp = G + (size_t)q * (size_t)q;
    double *ep = tp + dz;
    double *fw = ep + dz;
    const int full = h->obs->rep == HM_COV_FULL;
    double *XQ = fw + hm_fam_work_len(lat);
    double *GX = XQ + (full ? (size_t)B * (size_t)p : 0);
    double *etax = slot, *etaw = slot + dx, *etaz = etaw + (size_t)p * (size_t)q;
    // Unit k's bias: the diagonal of a Boltzmann machine's packed
    // couplings, or the k-th Bernoulli logit (the mean-field kind).
    const int bm = h->kind == HM_HM_BOLTZMANN_LGM;

    hm_lgm_gather(c, r0, nr, X, s, e, wv, etax, XQ, GX);
    hm_k_gemm_nn(nr, p, q, X, p, c->W, q, H, q);
    memset(etaz, 0, (size_t)dz * sizeof(double));
    double ll = 0.0, wt = 0.0;
    for (int i = 0; i < nr; i++) {
        const size_t row = (size_t)(r0 + i);
        const double *hi = H + (size_t)i * (size_t)q;
        double *mi = M + (size_t)i * (size_t)q, *mw = Mw + (size_t)i * (size_t)q;
        memcpy(tp, c->thz, (size_t)dz * sizeof(double));
        for (int k = 0; k < q; k++) {
            tp[bm ? lgm_pidx(q, k, k) : (size_t)k] += hi[k];
        }
        double psiz;
        hm_status st = hm_fam_log_partition(lat, tp, &psiz, fw);
        if (st == HM_OK) {
            st = hm_fam_to_mean(lat, tp, ep, fw);
        }
        if (st != HM_OK) {
            return st;
        }
        const double lp = e[i] + psiz - c->psi;
        if (c->logp) {
            c->logp[row] = lp;
        }
        for (int k = 0; k < q; k++) {
            mi[k] = ep[bm ? lgm_pidx(q, k, k) : (size_t)k];
            if (c->post) {
                c->post[(size_t)k * n + row] = mi[k];
            }
            mw[k] = wv[i] * mi[k];
        }
        for (int r = 0; r < dz; r++) {
            etaz[r] += wv[i] * ep[r];
        }
        ll += wv[i] * lp;
        wt += wv[i];
    }
    memset(etaw, 0, (size_t)p * (size_t)q * sizeof(double));
    hm_k_gemm_tn_acc(nr, p, q, X, p, Mw, q, etaw, q);
    slot[dim] = ll;
    slot[dim + 1] = wt;
    return HM_OK;
}

// The shared scratch, then one posterior natural and mean vector and the
// latent family's enumeration scratch.
static size_t blgm_thread_len(const hm_harmonium *h) {
    return hm_lgm_thread_len(h) + 2 * (size_t)h->lat->dim + hm_fam_work_len(h->lat);
}

static size_t blgm_estep_work_len(const hm_harmonium *h, int threads) {
    return hm_lgm_estep_work_len(h, blgm_thread_len(h), threads);
}

static hm_status blgm_estep(const hm_harmonium *h,
                            const double *theta,
                            const hm_data *data,
                            const double *given,
                            double *stats,
                            double *logp,
                            double *post,
                            int threads,
                            double *work) {
    return hm_lgm_estep(h, theta, data, given, stats, logp, post, threads, work, NULL, blgm_block,
                        blgm_thread_len(h));
}

// --- sequential conjugate updating ---------------------------------------------------------

// The coupled statistic is the datum itself, added to the unit biases on
// the diagonal of the packed couplings (z_i = z_i^2). The mean-field kind
// has none: its posterior family cannot hold the prior's couplings.
static void blgm_fold_increment(const hm_harmonium *h,
                                const double *theta,
                                const double *x,
                                const double *rho,
                                double *s,
                                double *inc) {
    (void)s;
    hm_hm_fold_add(h, theta, x, rho, 1, inc);
}

// --- contrastive divergence ---------------------------------------------------------------

// Index of unit k's bias in the latent family's parameters: the diagonal
// of a Boltzmann machine's packed couplings, or the Bernoulli logit.
static size_t bias_idx(const hm_harmonium *h, int k) {
    return h->kind == HM_HM_BOLTZMANN_LGM ? lgm_pidx(h->mz, k, k) : (size_t)k;
}

// The posterior natural parameters at x (theory.md 1.2, 3.3): theta_Z
// with (W'x)_k added to unit k's bias.
static void post_at(const hm_harmonium *h, const double *theta, const double *x, double *tp) {
    const int p = h->mx, q = h->mz;
    const double *W = theta + h->obs->dim;
    memcpy(tp, theta + lat_offset(h), (size_t)h->lat->dim * sizeof(double));
    for (int k = 0; k < q; k++) {
        double v = 0.0;
        for (int i = 0; i < p; i++) {
            v += x[i] * W[(size_t)i * (size_t)q + (size_t)k];
        }
        tp[bias_idx(h, k)] += v;
    }
}

// One exact draw z ~ p(z | x) from the posterior parameters tp:
// independent units for a Bernoulli posterior, inversion of the 2^q state
// probabilities (cdf: 2^q scratch) for a Boltzmann one.
static void draw_z(const hm_harmonium *h, const double *tp, hm_rng *rng, double *cdf, double *z) {
    const int q = h->mz;
    if (h->kind == HM_HM_BOLTZMANN_LGM) {
        hm_lgm_bm_cdf(q, tp, cdf);
        hm_lgm_bm_draw(q, cdf, rng->unif(rng->ctx), z);
        return;
    }
    for (int k = 0; k < q; k++) {
        z[k] = rng->unif(rng->ctx) < hm_sigmoid(tp[k]) ? 1.0 : 0.0;
    }
}

/*
 * The single-point scratch (which bounds the loading form and the latent
 * family's to_mean), the noise factor, eps, x, z, two latent vectors, one
 * observable statistic and, for a Boltzmann posterior, its 2^q cumulative
 * state probabilities.
 */
static size_t blgm_cd_gradient_work_len(const hm_harmonium *h) {
    if (!is_boltzmann(h)) {
        return 0;
    }
    const size_t p = (size_t)h->mx, q = (size_t)h->mz, dz = (size_t)h->lat->dim;
    size_t len = hm_lgm_work_len(h) + p * p + 3 * p + q + 2 * dz + (size_t)h->obs->dim + 8;
    if (h->kind == HM_HM_BOLTZMANN_LGM) {
        len += (size_t)1 << q;
    }
    return len;
}

/*
 * CD-k (theory.md 1.6), one chain per row, summed with the case weights:
 * + w E[s(x, z) | x] (the E-step's posterior statistics, exact), then
 * - w s(x_k, z_k) at the end of k Gibbs sweeps started from z_0 ~ p(z | x).
 * The positive phase is Rao-Blackwellised because it costs nothing extra
 * (the posterior's mean map is exact here); the negative phase uses the
 * sampled final state, the textbook estimator. Both phases accumulate the
 * full joint statistic s(x, z) = (s_X(x), x z', s_lat(z)), never
 * s(x, E[z | x]) for the Boltzmann posterior, whose s_lat is quadratic in
 * z (E[z_i z_j | x] != E[z_i | x] E[z_j | x] there).
 */
static hm_status blgm_cd_gradient(const hm_harmonium *h,
                                 const double *theta,
                                 const hm_data *data,
                                 int k,
                                 hm_rng *rng,
                                 double *grad,
                                 double *work) {
    if (!is_boltzmann(h) || k < 1 || data->n < 0) {
        return HM_EINVAL;
    }
    hm_status st = hm_lgm_check_natural(h, theta, work);
    if (st != HM_OK) {
        return st;
    }
    const hm_family *obs = h->obs, *lat = h->lat;
    const int p = obs->n, q = h->mz, dx = obs->dim, dz = lat->dim;
    const size_t off = lat_offset(h), ldx = (size_t)data->ldx;
    double *cur = work;
    lgm_like L;
    st = hm_lgm_like_factor(h, theta, &L, &cur);
    if (st != HM_OK) {
        return st;
    }
    double *sf;
    st = hm_lgm_noise_factor(h, &L, &cur, &sf);
    if (st != HM_OK) {
        return st;
    }
    double *eps = take(&cur, (size_t)p);
    double *x = take(&cur, (size_t)p);
    double *z = take(&cur, (size_t)q);
    double *tp = take(&cur, (size_t)dz);
    double *ep = take(&cur, (size_t)dz);
    double *s = take(&cur, (size_t)dx);
    double *cdf = take(&cur, h->kind == HM_HM_BOLTZMANN_LGM ? (size_t)1 << q : 0);
    double *fw = cur;
    memset(grad, 0, (off + (size_t)dz) * sizeof(double));
    for (int r = 0; r < data->n; r++) {
        const double wr = data->w ? data->w[r] : 1.0;
        for (int i = 0; i < p; i++) {
            x[i] = data->x[(size_t)i * ldx + (size_t)r];
        }
        // Positive phase: E[s(x, z) | x] with the data clamped.
        hm_fam_stat(obs, x, s);
        for (int j = 0; j < dx; j++) {
            grad[j] += wr * s[j];
        }
        post_at(h, theta, x, tp);
        st = hm_fam_to_mean(lat, tp, ep, fw);
        if (st != HM_OK) {
            return st;
        }
        for (int i = 0; i < p; i++) {
            for (int c = 0; c < q; c++) {
                grad[(size_t)dx + (size_t)i * (size_t)q + (size_t)c] +=
                    wr * x[i] * ep[bias_idx(h, c)];
            }
        }
        for (int j = 0; j < dz; j++) {
            grad[off + (size_t)j] += wr * ep[j];
        }
        // The chain: z_0 | x, then k sweeps x | z, z | x.
        draw_z(h, tp, rng, cdf, z);
        for (int t = 0; t < k; t++) {
            hm_lgm_draw_x(h, &L, sf, z, rng, eps, x);
            post_at(h, theta, x, tp);
            draw_z(h, tp, rng, cdf, z);
        }
        // Negative phase: the joint statistic at the final state.
        hm_fam_stat(obs, x, s);
        for (int j = 0; j < dx; j++) {
            grad[j] -= wr * s[j];
        }
        for (int i = 0; i < p; i++) {
            for (int c = 0; c < q; c++) {
                grad[(size_t)dx + (size_t)i * (size_t)q + (size_t)c] -= wr * x[i] * z[c];
            }
        }
        hm_fam_stat(lat, z, ep);
        for (int j = 0; j < dz; j++) {
            grad[off + (size_t)j] -= wr * ep[j];
        }
    }
    return HM_OK;
}

// --- the operation tables --------------------------------------------------------------------

const hm_kind_ops hm_kind_boltzmann_lgm_ops = {
    .name = "boltzmann_lgm",
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
    .estep_work_len = blgm_estep_work_len,
    .estep = blgm_estep,
    .init = hm_lgm_init,
    .embed_latent = hm_lgm_embed_latent,
    .block_rows = blgm_block_rows,
    .fold_increment = blgm_fold_increment,
    .cd_gradient_work_len = blgm_cd_gradient_work_len,
    .cd_gradient = blgm_cd_gradient,
};

const hm_kind_ops hm_kind_boltzmann_lgm_mf_ops = {
    .name = "boltzmann_lgm_mf",
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
    .estep_work_len = blgm_estep_work_len,
    .estep = blgm_estep,
    .init = hm_lgm_init,
    .embed_latent = hm_lgm_embed_latent,
    .cd_gradient_work_len = blgm_cd_gradient_work_len,
    .cd_gradient = blgm_cd_gradient,
};
