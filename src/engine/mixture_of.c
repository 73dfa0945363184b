/*
 * mixture_of.c: the complete mixture of K copies of a conjugated harmonium
 * (theory.md 4.4), e.g. a mixture of factor analysers.
 *
 * The base model B (any kind with the hm_hm_* operations) plays the role
 * the observable family plays in a mixture (theory.md 3.1): the joint of
 * (x, its latent, the class k) is exp(theta^(k) . s_B + lambda_k - psi),
 * so the parameters are laid out as a mixture's, [theta^(0) | offsets
 * theta^(k) - theta^(0) | lambda_1..lambda_{K-1}], with rho_k =
 * psi_B(theta^(k)) - psi_B(theta^(0)), chi = psi_B(theta^(0)) and mean
 * coordinates (E s_B, w_k E[s_B | k] for k >= 1, w_1..w_{K-1}). Every map
 * is the mixture algebra with psi_B, to_mean_B and to_natural_B in place of
 * the family's; whitening is the base's, component by component.
 *
 * The E-step runs in chunks of rows: the base E-step gives each component's
 * log p_k(x) (phase 1), Bayes' rule the responsibilities r_k(x), and a
 * second base pass with case weights w r_k the component's expected
 * statistics (phase 2). Chunks are reduced in order and the base E-step is
 * itself deterministic, so the result does not depend on the thread count.
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "hm_kinds.h"

// Rows per chunk, in base blocks: enough blocks for the threads to share.
#define CHUNK_BLOCKS 16

static int mo_base_dim(const hm_harmonium *h) {
    return hm_hm_dim(h->sub);
}

static int mo_dim(const hm_harmonium *h) {
    const int db = mo_base_dim(h), K = h->k;
    return db * K + K - 1;
}

static int mo_post_len(const hm_harmonium *h) {
    return h->k + hm_hm_post_len(h->sub);
}

static int mo_z_len(const hm_harmonium *h) {
    return 1 + hm_hm_z_len(h->sub);
}

static int mo_rho_len(const hm_harmonium *h) {
    return h->k - 1;
}

static size_t mo_work_len(const hm_harmonium *h) {
    const size_t K = (size_t)h->k, db = (size_t)mo_base_dim(h);
    return K * db + 3 * db + 3 * K + hm_hm_work_len(h->sub) + 8;
}

// theta^(k) into out: the anchor plus column k-1 of the offsets.
static void mo_component(const hm_harmonium *h, const double *theta, int k, double *out) {
    const int db = mo_base_dim(h), mz = h->k - 1;
    memcpy(out, theta, (size_t)db * sizeof(double));
    if (k > 0) {
        const double *W = theta + db;
        for (int j = 0; j < db; j++) {
            out[j] += W[(size_t)j * (size_t)mz + (size_t)(k - 1)];
        }
    }
}

static const double *mo_lambda(const hm_harmonium *h, const double *theta) {
    const int db = mo_base_dim(h);
    return theta + (size_t)db * (size_t)h->k;
}

static hm_status mo_rho_chi(const hm_harmonium *h, const double *theta, double *rho, double *chi, double *work) {
    const int db = mo_base_dim(h);
    double *comp = work, *bw = work + db;
    double psi0, psik;
    hm_status st = hm_hm_log_partition(h->sub, theta, &psi0, bw);
    if (st != HM_OK) {
        return st;
    }
    for (int k = 1; k < h->k; k++) {
        mo_component(h, theta, k, comp);
        st = hm_hm_log_partition(h->sub, comp, &psik, bw);
        if (st != HM_OK) {
            return st;
        }
        rho[k - 1] = psik - psi0;
    }
    *chi = psi0;
    return HM_OK;
}

static hm_status mo_prior(const hm_harmonium *h, const double *theta, double *prior, double *work) {
    double chi;
    hm_status st = mo_rho_chi(h, theta, prior, &chi, work);
    if (st != HM_OK) {
        return st;
    }
    const double *lam = mo_lambda(h, theta);
    for (int k = 0; k < h->k - 1; k++) {
        prior[k] += lam[k];
    }
    return HM_OK;
}

// The class weights w[K] from the prior's K - 1 log-odds against class 0.
static void mo_weights(int K, const double *prior, double *w) {
    double m = 0.0;
    for (int k = 1; k < K; k++) {
        m = prior[k - 1] > m ? prior[k - 1] : m;
    }
    double tot = exp(-m);
    w[0] = tot;
    for (int k = 1; k < K; k++) {
        w[k] = exp(prior[k - 1] - m);
        tot += w[k];
    }
    for (int k = 0; k < K; k++) {
        w[k] /= tot;
    }
}

static hm_status mo_log_partition(const hm_harmonium *h, const double *theta, double *psi, double *work) {
    const int K = h->k;
    double *prior = work, *rest = work + K;
    double chi;
    hm_status st = mo_rho_chi(h, theta, prior, &chi, rest);
    if (st != HM_OK) {
        return st;
    }
    const double *lam = mo_lambda(h, theta);
    double m = 0.0;
    for (int k = 1; k < K; k++) {
        prior[k - 1] += lam[k - 1];
        m = prior[k - 1] > m ? prior[k - 1] : m;
    }
    double s = exp(-m);
    for (int k = 1; k < K; k++) {
        s += exp(prior[k - 1] - m);
    }
    *psi = m + log(s) + chi;
    return isfinite(*psi) ? HM_OK : HM_EDOM;
}

static hm_status mo_to_mean(const hm_harmonium *h, const double *theta, double *eta, double *work) {
    const int K = h->k, db = mo_base_dim(h);
    double *prior = work, *w = prior + K, *comp = w + K, *ek = comp + db, *rest = ek + db;
    hm_status st = mo_prior(h, theta, prior, rest);
    if (st != HM_OK) {
        return st;
    }
    mo_weights(K, prior, w);
    memset(eta, 0, (size_t)db * sizeof(double));
    for (int k = 0; k < K; k++) {
        mo_component(h, theta, k, comp);
        st = hm_hm_to_mean(h->sub, comp, ek, rest);
        if (st != HM_OK) {
            return st;
        }
        hm_cmix_add_mean(K, db, k, w[k], ek, eta);
    }
    return HM_OK;
}

static hm_status mo_to_natural(const hm_harmonium *h,
                               const double *eta,
                               double *theta,
                               double *work,
                               const hm_ctrl *ctl,
                               int *bad) {
    const int K = h->k, db = mo_base_dim(h), mz = K - 1;
    double *comps = work, *ek = comps + (size_t)K * (size_t)db, *w = ek + db, *psik = w + K;
    double *rest = psik + K;
    *bad = -1;
    hm_status st = hm_cmix_weights(K, db, eta, w, bad);
    if (st != HM_OK) {
        return st;
    }
    for (int k = 0; k < K; k++) {
        hm_cmix_component_mean(K, db, eta, w, k, ek);
        double *tk = comps + (size_t)k * (size_t)db;
        int sub_bad = -1;
        st = hm_hm_to_natural(h->sub, ek, tk, rest, ctl, &sub_bad);
        if (st == HM_OK) {
            st = hm_hm_log_partition(h->sub, tk, &psik[k], rest);
        }
        if (st != HM_OK) {
            *bad = k;
            return st;
        }
    }
    double *W = theta + db, *lam = theta + (size_t)db * (size_t)K;
    memcpy(theta, comps, (size_t)db * sizeof(double));
    for (int k = 1; k < K; k++) {
        const double *tk = comps + (size_t)k * (size_t)db;
        for (int j = 0; j < db; j++) {
            W[(size_t)j * (size_t)mz + (size_t)(k - 1)] = tk[j] - comps[j];
        }
        lam[k - 1] = log(w[k] / w[0]) - (psik[k] - psik[0]);
    }
    return HM_OK;
}

static hm_status mo_check_natural(const hm_harmonium *h, const double *theta, double *work) {
    const int db = mo_base_dim(h);
    double *comp = work, *rest = work + db;
    if (!hm_all_finite(mo_lambda(h, theta), h->k - 1)) {
        return HM_EDOM;
    }
    for (int k = 0; k < h->k; k++) {
        mo_component(h, theta, k, comp);
        hm_status st = hm_hm_check_natural(h->sub, comp, rest);
        if (st != HM_OK) {
            return st;
        }
    }
    return HM_OK;
}

// Each component's average statistics through the base's whitening, then
// weighted back; the class weights are unchanged.
static hm_status mo_whiten(const hm_harmonium *h, const double *eta_in, double *eta_out, double *work) {
    const int K = h->k, db = mo_base_dim(h), mz = K - 1, dim = mo_dim(h);
    double *comps = work, *w = comps + (size_t)K * (size_t)db, *rest = w + K;
    int bad = -1;
    hm_status st = hm_cmix_weights(K, db, eta_in, w, &bad);
    if (st != HM_OK) {
        return st;
    }
    for (int k = 0; k < K; k++) {
        double *ek = comps + (size_t)k * (size_t)db;
        hm_cmix_component_mean(K, db, eta_in, w, k, ek);
        st = hm_hm_whiten(h->sub, ek, ek, rest);
        if (st != HM_OK) {
            return st;
        }
    }
    if (eta_out != eta_in) {
        memcpy(eta_out, eta_in, (size_t)dim * sizeof(double));
    }
    double *etax = eta_out, *etaw = eta_out + db;
    for (int j = 0; j < db; j++) {
        double s = 0.0;
        for (int k = 0; k < K; k++) {
            const double v = w[k] * comps[(size_t)k * (size_t)db + (size_t)j];
            s += v;
            if (k > 0) {
                etaw[(size_t)j * (size_t)mz + (size_t)(k - 1)] = v;
            }
        }
        etax[j] = s;
    }
    return HM_OK;
}

// --- sampling ----------------------------------------------------------------

static size_t mo_sample_work_len(const hm_harmonium *h, int n) {
    const size_t nn = (size_t)(n > 0 ? n : 0);
    const size_t d = (size_t)h->sub->obs->d, zl = (size_t)hm_hm_z_len(h->sub);
    return mo_work_len(h) + hm_hm_sample_work_len(h->sub, n) + nn * (d + zl + 1) + 8;
}

// Classes by inverse CDF on the prior weights, then each component's draws
// in one call to the base sampler, scattered back to that class's rows in
// order. z rows are [class (0-based) | the base's latent draws].
static hm_status mo_sample(const hm_harmonium *h,
                           const double *theta,
                           int n,
                           hm_rng *rng,
                           double *x,
                           double *z,
                           double *work) {
    if (n < 0) {
        return HM_EINVAL;
    }
    const int K = h->k, db = mo_base_dim(h), d = h->sub->obs->d, zl = hm_hm_z_len(h->sub);
    const int zo = zl + 1;
    double *prior = work, *w = prior + K, *comp = w + K, *cls = comp + db;
    double *xs = cls + n, *zs = xs + (size_t)n * (size_t)d, *rest = zs + (size_t)n * (size_t)zl;
    hm_status st = mo_check_natural(h, theta, rest);
    if (st != HM_OK) {
        return st;
    }
    st = mo_prior(h, theta, prior, rest);
    if (st != HM_OK) {
        return st;
    }
    mo_weights(K, prior, w);
    for (int i = 0; i < n; i++) {
        const double u = rng->unif(rng->ctx);
        double c = 0.0;
        int k = K - 1;
        for (int l = 0; l < K; l++) {
            c += w[l];
            if (u < c) {
                k = l;
                break;
            }
        }
        cls[i] = (double)k;
    }
    for (int k = 0; k < K; k++) {
        int nk = 0;
        for (int i = 0; i < n; i++) {
            nk += cls[i] == (double)k;
        }
        if (nk == 0) {
            continue;
        }
        mo_component(h, theta, k, comp);
        st = hm_hm_sample(h->sub, comp, nk, rng, xs, zs, rest);
        if (st != HM_OK) {
            return st;
        }
        int at = 0;
        for (int i = 0; i < n; i++) {
            if (cls[i] != (double)k) {
                continue;
            }
            memcpy(x + (size_t)i * (size_t)d, xs + (size_t)at * (size_t)d, (size_t)d * sizeof(double));
            z[(size_t)i * (size_t)zo] = (double)k;
            memcpy(z + (size_t)i * (size_t)zo + 1, zs + (size_t)at * (size_t)zl, (size_t)zl * sizeof(double));
            at++;
        }
    }
    return HM_OK;
}

// --- the E-step --------------------------------------------------------------

static int mo_chunk_rows(const hm_harmonium *h) {
    return CHUNK_BLOCKS * hm_estep_block_rows(h->sub);
}

static size_t mo_estep_work_len(const hm_harmonium *h, int threads) {
    const size_t K = (size_t)h->k, db = (size_t)mo_base_dim(h), C = (size_t)mo_chunk_rows(h);
    const size_t bp = (size_t)hm_hm_post_len(h->sub);
    const size_t sl = (size_t)mo_dim(h) + 2;
    return K * db + 2 * K + C * K + C + C * bp + db + 2 + mo_work_len(h) + hm_estep_work_len(h->sub, threads) + 8 +
           sl + HM_TREE_STACK_LEN(sl);
}

static hm_status mo_estep(const hm_harmonium *h,
                          const double *theta,
                          const hm_data *data,
                          const double *given,
                          double *stats,
                          double *logp,
                          double *post,
                          int threads,
                          double *work) {
    const int K = h->k, db = mo_base_dim(h), mz = K - 1, dim = mo_dim(h);
    const int C = mo_chunk_rows(h), bp = hm_hm_post_len(h->sub), slen = db + 2;
    const int n = data->n;
    const size_t nn = (size_t)n;
    double *comps = work;
    double *lpi = comps + (size_t)K * (size_t)db;
    double *psik = lpi + K;
    double *R = psik + K;
    double *v = R + (size_t)C * (size_t)K;
    double *pb = v + C;
    double *sst = pb + (size_t)C * (size_t)bp;
    double *hw = sst + slen;
    double *blk = hw + mo_work_len(h);
    double *tsw = blk + (size_t)dim + 2;
    double *bw = tsw + HM_TREE_STACK_LEN(dim + 2);

    hm_status st = mo_check_natural(h, theta, hw);
    if (st != HM_OK) {
        return st;
    }
    // log w_k = lambda_k + psi_B(theta^(k)) - log sum_l exp(lambda_l + psi_B(theta^(l))).
    const double *lam = mo_lambda(h, theta);
    double m = -INFINITY;
    for (int k = 0; k < K; k++) {
        double *tk = comps + (size_t)k * (size_t)db;
        mo_component(h, theta, k, tk);
        st = hm_hm_log_partition(h->sub, tk, &psik[k], hw);
        if (st != HM_OK) {
            return st;
        }
        lpi[k] = psik[k] + (k > 0 ? lam[k - 1] : 0.0);
        m = lpi[k] > m ? lpi[k] : m;
    }
    double s = 0.0;
    for (int k = 0; k < K; k++) {
        s += exp(lpi[k] - m);
    }
    const double lse = m + log(s);
    for (int k = 0; k < K; k++) {
        lpi[k] -= lse;
    }
    // Each chunk of C rows (the kind's block, hm_estep_block_rows) sums into
    // blk, and the chunks' sums are reduced by the engine's tree over their
    // global indices (hm_tree), as hm_run_blocks reduces other kinds' blocks.
    double *acc = (stats || data->tree) ? blk : NULL;
    hm_tree_stack ts;
    hm_tree_stack_init(&ts, dim + 2, tsw);
    const double g0 = data->tree ? data->tree->b0 : 0.0;
    if (post) {
        memset(post + (size_t)K * nn, 0, (size_t)bp * nn * sizeof(double));
    }
    for (int r0 = 0; r0 < n; r0 += C) {
        const int nr = n - r0 < C ? n - r0 : C;
        double ll = 0.0, wt = 0.0;
        if (acc) {
            memset(acc, 0, (size_t)(dim + 2) * sizeof(double));
        }
        hm_data view;
        view.tree = NULL;
        view.x = data->x + r0;
        view.n = nr;
        view.ldx = data->ldx;
        view.w = NULL;
        if (given == NULL) {
            for (int k = 0; k < K; k++) {
                st = hm_estep(h->sub, comps + (size_t)k * (size_t)db, &view, NULL, NULL, R + (size_t)k * (size_t)nr,
                              NULL, threads, bw);
                if (st != HM_OK) {
                    return st;
                }
            }
            for (int i = 0; i < nr; i++) {
                const size_t row = (size_t)(r0 + i);
                double mi = -INFINITY;
                for (int k = 0; k < K; k++) {
                    double *a = R + (size_t)k * (size_t)nr + (size_t)i;
                    *a += lpi[k];
                    mi = *a > mi ? *a : mi;
                }
                if (!isfinite(mi)) {
                    return HM_EDOM;
                }
                double tot = 0.0;
                for (int k = 0; k < K; k++) {
                    double *a = R + (size_t)k * (size_t)nr + (size_t)i;
                    *a = exp(*a - mi);
                    tot += *a;
                }
                const double wi = data->w ? data->w[row] : 1.0;
                const double lp = mi + log(tot);
                for (int k = 0; k < K; k++) {
                    R[(size_t)k * (size_t)nr + (size_t)i] /= tot;
                    if (post) {
                        post[(size_t)k * nn + row] = R[(size_t)k * (size_t)nr + (size_t)i];
                    }
                }
                if (logp) {
                    logp[row] = lp;
                }
                ll += wi * lp;
                wt += wi;
            }
        } else {
            for (int i = 0; i < nr; i++) {
                const size_t row = (size_t)(r0 + i);
                for (int k = 0; k < K; k++) {
                    R[(size_t)k * (size_t)nr + (size_t)i] = given[(size_t)k * nn + row];
                }
                wt += data->w ? data->w[row] : 1.0;
            }
        }
        if (acc == NULL && post == NULL) {
            continue;
        }
        for (int k = 0; k < K; k++) {
            const double *rk = R + (size_t)k * (size_t)nr;
            for (int i = 0; i < nr; i++) {
                v[i] = rk[i] * (data->w ? data->w[r0 + i] : 1.0);
            }
            view.w = v;
            st = hm_estep(h->sub, comps + (size_t)k * (size_t)db, &view, NULL, acc ? sst : NULL, NULL,
                          post ? pb : NULL, threads, bw);
            if (st != HM_OK) {
                return st;
            }
            if (acc) {
                for (int j = 0; j < db; j++) {
                    acc[j] += sst[j];
                    if (k > 0) {
                        acc[(size_t)db + (size_t)j * (size_t)mz + (size_t)(k - 1)] += sst[j];
                    }
                }
                if (k > 0) {
                    acc[(size_t)db * (size_t)K + (size_t)(k - 1)] += sst[db + 1];
                }
            }
            if (post) {
                for (int j = 0; j < bp; j++) {
                    double *pj = post + (size_t)(K + j) * nn + (size_t)r0;
                    const double *bj = pb + (size_t)j * (size_t)nr;
                    for (int i = 0; i < nr; i++) {
                        pj[i] += rk[i] * bj[i];
                    }
                }
            }
        }
        if (acc) {
            acc[dim] = given ? 0.0 : ll;
            acc[dim + 1] = wt;
            st = hm_tree_stack_push(&ts, g0 + (double)(r0 / C), 1.0, acc);
            if (st != HM_OK) {
                return st;
            }
        }
    }
    if (data->tree) {
        st = hm_tree_stack_export(&ts, data->tree);
        if (st != HM_OK) {
            return st;
        }
    }
    if (stats) {
        hm_tree_stack_total(&ts, stats);
    }
    return HM_OK;
}

hm_status hm_hm_init_mixture_of(hm_harmonium *h, int k, const hm_harmonium *base) {
    if (base == NULL || k < 1 || hm_kind_lookup(base->kind) == &hm_kind_mixture_of_ops) {
        return HM_EINVAL;
    }
    h->kind = HM_HM_MIXTURE_OF;
    h->obs = base->obs;
    h->lat = base->lat;
    h->mx = 0;
    h->mz = 0;
    h->prr = base->prr;
    h->k = k;
    h->sub = base;
    h->aux = NULL;
    const double dim = (double)hm_hm_dim(base) * k + k;
    return dim > 1073741824.0 ? HM_EOVERFLOW : HM_OK;
}

const hm_kind_ops hm_kind_mixture_of_ops = {
    .name = "mixture_of",
    .dim = mo_dim,
    .post_len = mo_post_len,
    .z_len = mo_z_len,
    .rho_len = mo_rho_len,
    .work_len = mo_work_len,
    .sample_work_len = mo_sample_work_len,
    .rho_chi = mo_rho_chi,
    .prior = mo_prior,
    .log_partition = mo_log_partition,
    .to_mean = mo_to_mean,
    .to_natural = mo_to_natural,
    .check_natural = mo_check_natural,
    .whiten = mo_whiten,
    .sample = mo_sample,
    .estep_work_len = mo_estep_work_len,
    .estep = mo_estep,
    .block_rows = mo_chunk_rows,
};

// --- per-component log densities (the emission of a hidden Markov chain) -----

// log p_k(x) for every row and component, by the base E-step at theta^(k) on
// chunks of the complete rows: each chunk's rows without a NaN are copied
// into a compact block, the base gives their log densities component by
// component, and these are scattered into the row-major n x K output; a row
// with a NaN is a missing observation and gets 0 for every component (as
// hm_mix_log_densities). The class weights play no part. The base E-step is
// deterministic, so the output does not depend on the thread count.
size_t hm_mixof_log_densities_work_len(const hm_harmonium *h, int threads) {
    const size_t C = (size_t)mo_chunk_rows(h), d = (size_t)h->obs->d, db = (size_t)mo_base_dim(h);
    return C * d + 2 * C + db + mo_work_len(h) + hm_estep_work_len(h->sub, threads) + 8;
}

hm_status hm_mixof_log_densities(const hm_harmonium *h,
                                 const double *theta,
                                 const hm_data *data,
                                 double *logp,
                                 int threads,
                                 double *work) {
    if (h->kind != HM_HM_MIXTURE_OF || !theta || !data || !logp || !work || data->n < 0) {
        return HM_EINVAL;
    }
    const int K = h->k, d = h->obs->d, C = mo_chunk_rows(h), n = data->n;
    const size_t ldx = (size_t)data->ldx, KK = (size_t)K, CC = (size_t)C;
    double *xc = work;               /* C x d column-major: the chunk's complete rows */
    double *lc = xc + CC * (size_t)d; /* C: one component's log densities */
    double *rows = lc + CC;          /* C: their stacked indices */
    double *comp = rows + CC;        /* db: theta^(k) */
    double *hw = comp + mo_base_dim(h);
    double *bw = hw + mo_work_len(h);
    hm_status st = mo_check_natural(h, theta, hw);
    if (st != HM_OK) {
        return st;
    }
    for (int r0 = 0; r0 < n; r0 += C) {
        const int nr = n - r0 < C ? n - r0 : C;
        int nc = 0;
        for (int i = 0; i < nr; i++) {
            const size_t row = (size_t)(r0 + i);
            int na = 0;
            for (int j = 0; j < d && !na; j++) {
                na = isnan(data->x[(size_t)j * ldx + row]);
            }
            if (na) {
                for (int k = 0; k < K; k++) {
                    logp[row * KK + (size_t)k] = 0.0;
                }
                continue;
            }
            for (int j = 0; j < d; j++) {
                xc[(size_t)j * CC + (size_t)nc] = data->x[(size_t)j * ldx + row];
            }
            rows[nc] = (double)row;
            nc++;
        }
        if (nc == 0) {
            continue;
        }
        hm_data view;
        view.tree = NULL;
        view.x = xc;
        view.n = nc;
        view.ldx = C;
        view.w = NULL;
        for (int k = 0; k < K; k++) {
            mo_component(h, theta, k, comp);
            st = hm_estep(h->sub, comp, &view, NULL, NULL, lc, NULL, threads, bw);
            if (st != HM_OK) {
                return st;
            }
            for (int r = 0; r < nc; r++) {
                logp[(size_t)rows[r] * KK + (size_t)k] = lc[r];
            }
        }
    }
    return HM_OK;
}
