/*
 * mixture.c: the mixture kind HM_HM_MIXTURE (theory.md 3.1). Z is
 * Categorical(K), s_Z(z) the one-hot vector without class 0, and the
 * likelihood at class k is the component natural parameter theta^(k) =
 * theta_X + Theta[, k-1] (theta^(0) = theta_X), for any observable family.
 * The conjugation parameters are rho_k = psi_X(theta^(k)) - psi_X(theta_X)
 * and chi = psi_X(theta_X), exact for any observable family with a
 * computable log-partition; the prior theta_Z + rho and the log-partition
 * psi_Z(prior) + chi are the generic ones of harmonium.c.
 *
 * E-step: for a block of B rows the observable sufficient statistics are
 * stored transposed, St (mx x B: one row per statistic, one column per
 * datum; a Normal builds it from the data columns with vectorised
 * products). One product with T = [Theta | theta_X] (mx x (mz + 1)) gives
 * Qt = T' St, per datum the posterior natural parameters theta_Z + Theta'
 * s(x) (theory.md 1.2) and theta_X . s(x); a column-wise log-sum-exp then
 * gives log p(x) (theory.md 1.3) and the softmax the responsibilities. A
 * second product St Rt' with Rt = [w r | w]' accumulates the block's
 * expected statistics: the interaction block and, through the last
 * column, sum w s_X(x) (theory.md 1.5). Both products and the softmax run
 * in the engine's own kernels (hm_kernel.c).
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "hm_kernel.h"
#include "hm_kinds.h"

// Shifted logits below this give responsibilities of exactly zero (exp(-700)
// is 1e-304 relative to the largest class, whose shifted logit is 0).
#define EXP_FLOOR (-700.0)

// --- covariance structures ------------------------------------------------------------

// A Normal observable whose covariance structure couples the components
// in the M-step (covstruct.c); the other structures' M-step is the
// per-component one.
static int mix_structured(const hm_harmonium *h) {
    return h->obs->kind == HM_FAM_NORMAL && hm_cs_constrains(h->obs->cstr);
}

// A Normal observable with one precision shared by all components (EII,
// EEI, EEE): the harmonium's interaction Theta is zero on the second-order
// statistic, so it acts on the linear statistic x alone.
static int mix_tied(const hm_harmonium *h) {
    return h->obs->kind == HM_FAM_NORMAL && hm_cs_tied(h->obs->cstr);
}

// --- descriptor and scratch ------------------------------------------------------------

static hm_status mix_init(hm_harmonium *h) {
    if (h->lat->kind != HM_FAM_CATEGORICAL) {
        return HM_EINVAL;
    }
    h->mx = h->obs->dim;
    h->mz = h->lat->dim;
    return HM_OK;
}

static int mix_dim(const hm_harmonium *h) {
    return h->obs->dim + h->mx * h->mz + h->lat->dim;
}

// The K class probabilities.
static int mix_post_len(const hm_harmonium *h) {
    return h->lat->n;
}

// The 0-based class, one double.
static int mix_z_len(const hm_harmonium *h) {
    (void)h;
    return 1;
}

static int mix_rho_len(const hm_harmonium *h) {
    return h->prr.dim;
}

// Scratch of the single-point routines: K component vectors, two spare
// observable vectors, K latent entries, and the observable family's own
// scratch at the end.
static size_t mix_work_len(const hm_harmonium *h) {
    size_t k = (size_t)h->lat->n;
    size_t dx = (size_t)h->obs->dim;
    size_t len = k * dx + 2 * dx + 2 * k + hm_fam_work_len(h->obs) + hm_fam_work_len(h->lat) + 8;
    if (mix_structured(h)) {
        size_t d = (size_t)h->obs->n;
        len += k * d + 2 * k * d * d + d * d + hm_cs_work_len((int)d, (int)k);
    }
    return len;
}

static size_t mix_sample_work_len(const hm_harmonium *h, int n) {
    size_t nn = (size_t)(n > 0 ? n : 0);
    return hm_hm_work_len(h) + hm_fam_sample_work_len(h->obs, n) + nn * (size_t)h->obs->d + nn;
}

// --- mixture components ----------------------------------------------------

// theta^(k) into out: theta_X plus column k-1 of the row-major interaction.
static void mix_component(const hm_harmonium *h, const double *theta, int k, double *out) {
    const int dx = h->obs->dim;
    memcpy(out, theta, (size_t)dx * sizeof(double));
    if (k > 0) {
        const double *W = theta + dx;
        for (int j = 0; j < dx; j++) {
            out[j] += W[(size_t)j * (size_t)h->mz + (size_t)(k - 1)];
        }
    }
}

static hm_status mix_rho_chi(const hm_harmonium *h,
                           const double *theta,
                           double *rho,
                           double *chi,
                           double *work) {
    const int K = h->lat->n;
    double *comp = work;
    double *fw = work + 2 * (size_t)h->obs->dim;
    double psi0, psik;
    hm_status st = hm_fam_log_partition(h->obs, theta, &psi0, fw);
    if (st != HM_OK) {
        return st;
    }
    for (int k = 1; k < K; k++) {
        mix_component(h, theta, k, comp);
        st = hm_fam_log_partition(h->obs, comp, &psik, fw);
        if (st != HM_OK) {
            return st;
        }
        rho[k - 1] = psik - psi0;
    }
    *chi = psi0;
    return HM_OK;
}

// Mixture weights w[0..K-1] = softmax([0, prior]) with a max shift.
static void mix_weights(int K, const double *prior, double *w) {
    double m = 0.0;
    for (int k = 1; k < K; k++) {
        if (prior[k - 1] > m) {
            m = prior[k - 1];
        }
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

// to_mean of a mixture is join_mean_mixture (theory.md 3.1.3): eta_X is the
// weighted average of the component means, the interaction block holds
// w_k eta^(k) for k >= 1, and eta_Z the weights of classes 1..K-1.
static hm_status mix_to_mean(const hm_harmonium *h, const double *theta, double *eta, double *work) {
    const int K = h->lat->n, dx = h->obs->dim;
    double *w = work;
    double *prior = work + K;
    double *comp = prior + K;
    double *ek = comp + dx;
    double *rest = ek + dx;
    hm_status st = hm_hm_prior(h, theta, prior, rest);
    if (st != HM_OK) {
        return st;
    }
    mix_weights(K, prior, w);
    memset(eta, 0, (size_t)dx * sizeof(double));
    for (int k = 0; k < K; k++) {
        mix_component(h, theta, k, comp);
        st = hm_fam_to_mean(h->obs, comp, ek, rest);
        if (st != HM_OK) {
            return st;
        }
        hm_cmix_add_mean(K, dx, k, w[k], ek, eta);
    }
    return HM_OK;
}

void hm_cmix_add_mean(int K, int d, int k, double w, const double *ek, double *eta) {
    const int mz = K - 1;
    double *etax = eta, *etaw = eta + d, *etaz = eta + (size_t)d * (size_t)K;
    for (int j = 0; j < d; j++) {
        etax[j] += w * ek[j];
        if (k > 0) {
            etaw[(size_t)j * (size_t)mz + (size_t)(k - 1)] = w * ek[j];
        }
    }
    if (k > 0) {
        etaz[k - 1] = w;
    }
}

hm_status hm_cmix_weights(int K, int d, const double *eta, double *w, int *bad) {
    const double *etaz = eta + (size_t)d * (size_t)K;
    double w0 = 1.0;
    for (int k = 1; k < K; k++) {
        w[k] = etaz[k - 1];
        w0 -= etaz[k - 1];
    }
    w[0] = w0;
    for (int k = 0; k < K; k++) {
        if (!(w[k] > 0.0) || !isfinite(w[k])) {
            *bad = k;
            return HM_ENOPROG;
        }
    }
    return HM_OK;
}

void hm_cmix_component_mean(int K, int d, const double *eta, const double *w, int k, double *ek) {
    const int mz = K - 1;
    const double *etax = eta, *etaw = eta + d;
    for (int j = 0; j < d; j++) {
        if (k > 0) {
            ek[j] = etaw[(size_t)j * (size_t)mz + (size_t)(k - 1)] / w[k];
        } else {
            double s = etax[j];
            for (int l = 1; l < K; l++) {
                s -= etaw[(size_t)j * (size_t)mz + (size_t)(l - 1)];
            }
            ek[j] = s / w[0];
        }
    }
}

// Flat index of (i, j), i <= j, in the Normal's packed upper triangle.
static size_t mix_pidx(int d, int i, int j) {
    return (size_t)i * (size_t)d - (size_t)i * (size_t)(i + 1) / 2 + (size_t)j;
}

// The second-moment block m2 of a Normal's mean coordinates in rep `rep`
// (packed upper triangle, the squares, or their mean) into the full d x d
// matrix M (off-diagonals 0 outside the full rep).
static void mix_unpack_moments(int rep, int d, const double *m2, double *M) {
    memset(M, 0, (size_t)d * (size_t)d * sizeof(double));
    for (int i = 0; i < d; i++) {
        if (rep == HM_COV_FULL) {
            for (int j = i; j < d; j++) {
                double v = m2[mix_pidx(d, i, j)];
                M[(size_t)j * (size_t)d + (size_t)i] = v;
                M[(size_t)i * (size_t)d + (size_t)j] = v;
            }
        } else {
            M[(size_t)i * (size_t)d + (size_t)i] = rep == HM_COV_DIAG ? m2[i] : m2[0];
        }
    }
}

// M -= c mu mu' (only the diagonal outside the full rep).
static void mix_sub_outer(int rep, int d, double c, const double *mu, double *M) {
    for (int j = 0; j < d; j++) {
        for (int i = 0; i < d; i++) {
            if (rep == HM_COV_FULL || i == j) {
                M[(size_t)j * (size_t)d + (size_t)i] -= c * mu[i] * mu[j];
            }
        }
    }
}

// Mean coordinates (mu, second moments Sigma + mu mu' in rep's packing).
static void mix_pack_moments(int rep, int d, const double *mu, const double *S, double *e) {
    memcpy(e, mu, (size_t)d * sizeof(double));
    double iso = 0.0;
    for (int i = 0; i < d; i++) {
        if (rep == HM_COV_FULL) {
            for (int j = i; j < d; j++) {
                e[d + (int)mix_pidx(d, i, j)] = S[(size_t)j * (size_t)d + (size_t)i] + mu[i] * mu[j];
            }
        } else if (rep == HM_COV_DIAG) {
            e[d + i] = S[(size_t)i * (size_t)d + (size_t)i] + mu[i] * mu[i];
        } else {
            iso += S[(size_t)i * (size_t)d + (size_t)i] + mu[i] * mu[i];
        }
    }
    if (rep == HM_COV_ISO) {
        e[d] = iso / (double)d;
    }
}

// y = P mu for the precision encoded by the second-order natural block th2
// of rep `rep` (full: -P_ii / 2 and -P_ij; diagonal: -P_ii / 2; isotropic:
// -(d / 2) p).
static void mix_precision_times(int rep, int d, const double *th2, const double *mu, double *y) {
    for (int i = 0; i < d; i++) {
        double s = 0.0;
        if (rep == HM_COV_FULL) {
            for (int j = 0; j < d; j++) {
                double v = i <= j ? th2[mix_pidx(d, i, j)] : th2[mix_pidx(d, j, i)];
                s += (i == j ? -2.0 * v : -v) * mu[j];
            }
        } else if (rep == HM_COV_DIAG) {
            s = -2.0 * th2[i] * mu[i];
        } else {
            s = -2.0 * th2[0] / (double)d * mu[i];
        }
        y[i] = s;
    }
}

/*
 * The M-step of a Normal mixture under a covariance structure (covstruct.c):
 * the closed-form per-component moments (w_k, mu_k and the scatter W_k /
 * n), the structure's constrained covariances Sigma_k, then each
 * component's natural parameters from (mu_k, Sigma_k) by the family's map
 * (the ridge ctl->reg is added to each component's covariance before the
 * structure, so the result keeps it). The tied structures (EII, EEI, EEE) need
 * only the pooled scatter, taken from the total second moments eta_X (the
 * E-step of a tied mixture does not accumulate the second-order interaction
 * statistics; see mix_block), and factor the one covariance once: theta^(k)
 * = (P mu_k, the common second-order block), so the interaction's
 * second-order rows are exactly 0, and psi^(k) - psi^(0) = (mu_k' P mu_k -
 * mu_0' P mu_0) / 2.
 */
static hm_status mix_to_natural_cs(const hm_harmonium *h,
                                   const double *eta,
                                   double *theta,
                                   double *work,
                                   const hm_ctrl *ctl,
                                   int *bad) {
    const hm_family *f = h->obs;
    const int K = h->lat->n, dx = f->dim, d = f->n, mz = h->mz, rep = f->rep, cs = f->cstr;
    const int tied = hm_cs_tied(cs);
    const size_t dd = (size_t)d * (size_t)d;
    double *comps = work;                          /* K x dx */
    double *ek = comps + (size_t)K * (size_t)dx;   /* dx */
    double *w = ek + dx;                           /* K */
    double *psik = w + K;                          /* K */
    double *mu = psik + K;                         /* K x d */
    double *Wm = mu + (size_t)K * (size_t)d;       /* K dd */
    double *sig = Wm + (size_t)K * dd;             /* K dd */
    double *y = sig + (size_t)K * dd;              /* dd */
    double *csw = y + dd;
    double *fw = csw + hm_cs_work_len(d, K);
    *bad = -1;
    hm_status st = hm_cmix_weights(K, dx, eta, w, bad);
    if (st != HM_OK) {
        return st;
    }
    memset(Wm, 0, (size_t)K * dd * sizeof(double));
    for (int k = 0; k < K; k++) {
        hm_cmix_component_mean(K, dx, eta, w, k, ek);
        memcpy(mu + (size_t)k * (size_t)d, ek, (size_t)d * sizeof(double));
        if (!tied) {
            double *Wk = Wm + (size_t)k * dd;
            mix_unpack_moments(rep, d, ek + d, Wk);
            mix_sub_outer(rep, d, 1.0, ek, Wk);
            for (size_t e = 0; e < dd; e++) {
                Wk[e] *= w[k];
            }
        }
    }
    if (tied) {
        mix_unpack_moments(rep, d, eta + d, Wm);
        for (int k = 0; k < K; k++) {
            mix_sub_outer(rep, d, w[k], mu + (size_t)k * (size_t)d, Wm);
        }
    }
    // The ridge ctl->reg goes on the per-component covariances before the
    // structure (W_k + reg w_k I), so the result has the structure exactly.
    hm_ctrl c0 = {0.0, 0.0, 0, 0.0, 0.0};
    if (ctl != NULL) {
        c0 = *ctl;
        if (!(isfinite(ctl->reg) && ctl->reg >= 0.0)) {
            return HM_EDOM;
        }
        for (int k = 0; k < (tied ? 1 : K); k++) {
            double add = tied ? ctl->reg : ctl->reg * w[k];
            for (int i = 0; i < d; i++) {
                Wm[(size_t)k * dd + (size_t)i * (size_t)d + (size_t)i] += add;
            }
        }
        c0.reg = 0.0;
    }
    int iters = 0;
    st = hm_cs_covariances(cs, d, K, w, Wm, sig, HM_CS_TOL, HM_CS_MAXIT, csw, &iters);
    if (st != HM_OK) {
        return st;
    }
    for (int k = 0; k < (tied ? 1 : K); k++) {
        double *tk = comps + (size_t)k * (size_t)dx;
        mix_pack_moments(rep, d, mu + (size_t)k * (size_t)d, sig + (size_t)k * dd, ek);
        st = hm_fam_to_natural(f, ek, tk, fw, ctl != NULL ? &c0 : NULL);
        if (st == HM_OK) {
            st = hm_fam_log_partition(f, tk, &psik[k], fw);
        }
        if (st != HM_OK) {
            *bad = k;
            return st;
        }
    }
    if (tied) {
        const double *t0 = comps;
        double q0 = 0.0;
        for (int i = 0; i < d; i++) {
            q0 += t0[i] * mu[i];
        }
        for (int k = 1; k < K; k++) {
            double *tk = comps + (size_t)k * (size_t)dx;
            const double *mk = mu + (size_t)k * (size_t)d;
            mix_precision_times(rep, d, t0 + d, mk, tk);
            memcpy(tk + d, t0 + d, (size_t)(dx - d) * sizeof(double));
            double qk = 0.0;
            for (int i = 0; i < d; i++) {
                qk += tk[i] * mk[i];
            }
            psik[k] = psik[0] + 0.5 * (qk - q0);
        }
    }
    double *thx = theta, *Wt = theta + dx, *thz = theta + dx + (size_t)dx * (size_t)mz;
    memcpy(thx, comps, (size_t)dx * sizeof(double));
    for (int k = 1; k < K; k++) {
        const double *tk = comps + (size_t)k * (size_t)dx;
        for (int j = 0; j < dx; j++) {
            Wt[(size_t)j * (size_t)mz + (size_t)(k - 1)] = tk[j] - comps[j];
        }
        thz[k - 1] = log(w[k] / w[0]) - (psik[k] - psik[0]);
    }
    return HM_OK;
}

// The exact M-step (theory.md 1.6, 3.1.4): split_mean_mixture gives each
// component's average statistics, the observable family's mean -> natural
// map gives theta^(k), the categorical map gives the prior, and
// join_conjugated subtracts rho. Component 0's statistics are recovered as
// (eta_X - sum_k eta_int[, k]) / w_0; in standardised data coordinates the
// cancellation costs at most a few digits when w_0 is small.
static hm_status mix_to_natural(const hm_harmonium *h,
                              const double *eta,
                              double *theta,
                              double *work,
                              const hm_ctrl *ctl,
                              int *bad) {
    const int K = h->lat->n, dx = h->obs->dim, mz = h->mz;
    double *comps = work;                             /* K x dx */
    double *ek = comps + (size_t)K * (size_t)dx;      /* dx */
    double *w = ek + dx;                              /* K */
    double *psik = w + K;                             /* K */
    double *fw = psik + K + dx;
    if (mix_structured(h)) {
        return mix_to_natural_cs(h, eta, theta, work, ctl, bad);
    }
    *bad = -1;
    hm_status sw = hm_cmix_weights(K, dx, eta, w, bad);
    if (sw != HM_OK) {
        return sw;
    }
    const double w0 = w[0];
    for (int k = 0; k < K; k++) {
        hm_cmix_component_mean(K, dx, eta, w, k, ek);
        double *tk = comps + (size_t)k * (size_t)dx;
        hm_status st = hm_fam_to_natural(h->obs, ek, tk, fw, ctl);
        if (st != HM_OK) {
            *bad = k;
            return st;
        }
        st = hm_fam_log_partition(h->obs, tk, &psik[k], fw);
        if (st != HM_OK) {
            *bad = k;
            return st;
        }
    }
    double *thx = theta, *W = theta + dx, *thz = theta + dx + (size_t)dx * (size_t)mz;
    memcpy(thx, comps, (size_t)dx * sizeof(double));
    for (int k = 1; k < K; k++) {
        const double *tk = comps + (size_t)k * (size_t)dx;
        for (int j = 0; j < dx; j++) {
            W[(size_t)j * (size_t)mz + (size_t)(k - 1)] = tk[j] - comps[j];
        }
        thz[k - 1] = log(w[k] / w0) - (psik[k] - psik[0]);
    }
    return HM_OK;
}

static hm_status mix_check_natural(const hm_harmonium *h, const double *theta, double *work) {
    const int K = h->lat->n, n = hm_hm_dim(h);
    for (int i = 0; i < n; i++) {
        if (!isfinite(theta[i])) {
            return HM_EDOM;
        }
    }
    double *comp = work;
    for (int k = 0; k < K; k++) {
        mix_component(h, theta, k, comp);
        hm_status st = hm_fam_check_natural(h->obs, comp);
        if (st != HM_OK) {
            return st;
        }
    }
    return HM_OK;
}

// --- split and join --------------------------------------------------------

hm_status hm_mix_split(const hm_harmonium *h,
                       const double *theta,
                       double *comp,
                       double *prior,
                       double *work) {
    if (h->kind != HM_HM_MIXTURE) {
        return HM_EINVAL;
    }
    const int K = h->lat->n, dx = h->obs->dim;
    for (int k = 0; k < K; k++) {
        mix_component(h, theta, k, comp + (size_t)k * (size_t)dx);
    }
    return hm_hm_prior(h, theta, prior, work);
}

hm_status hm_mix_join(const hm_harmonium *h,
                      const double *comp,
                      const double *prior,
                      double *theta,
                      double *work) {
    if (h->kind != HM_HM_MIXTURE) {
        return HM_EINVAL;
    }
    const int K = h->lat->n, dx = h->obs->dim, mz = h->mz;
    double *W = theta + dx, *thz = theta + dx + (size_t)dx * (size_t)mz;
    memcpy(theta, comp, (size_t)dx * sizeof(double));
    for (int k = 1; k < K; k++) {
        for (int j = 0; j < dx; j++) {
            W[(size_t)j * (size_t)mz + (size_t)(k - 1)] = comp[(size_t)k * (size_t)dx + (size_t)j] - comp[j];
        }
    }
    double chi;
    hm_status st = hm_hm_rho_chi(h, theta, thz, &chi, work);
    if (st != HM_OK) {
        return st;
    }
    for (int k = 1; k < K; k++) {
        thz[k - 1] = prior[k - 1] - thz[k - 1];
    }
    return HM_OK;
}

// --- sampling --------------------------------------------------------------

// Ancestral sampling (theory.md 1.3): classes by inverse CDF on the prior
// weights, then each component's draws in one call to its sampler (a
// Boltzmann component runs one Gibbs chain per class), scattered back to
// the rows of that class in order.
static hm_status mix_sample(const hm_harmonium *h,
                          const double *theta,
                          int n,
                          hm_rng *rng,
                          double *x,
                          double *z,
                          double *work) {
    const int K = h->lat->n, dx = h->obs->dim, d = h->obs->d;
    double *w = work;
    double *prior = w + K;
    double *comp = prior + K;
    double *rest = comp + dx;
    hm_status st = hm_hm_prior(h, theta, prior, rest);
    if (st != HM_OK) {
        return st;
    }
    mix_weights(K, prior, w);
    for (int i = 0; i < n; i++) {
        double u = rng->unif(rng->ctx), c = 0.0;
        int k = 0;
        for (; k < K - 1; k++) {
            c += w[k];
            if (u < c) {
                break;
            }
        }
        z[i] = (double)k;
    }
    double *buf = rest;
    double *sw = buf + (size_t)n * (size_t)d;
    for (int k = 0; k < K; k++) {
        int nk = 0;
        for (int i = 0; i < n; i++) {
            nk += (z[i] == (double)k);
        }
        if (nk == 0) {
            continue;
        }
        mix_component(h, theta, k, comp);
        st = hm_fam_sample(h->obs, comp, nk, rng, buf, sw);
        if (st != HM_OK) {
            return st;
        }
        int r = 0;
        for (int i = 0; i < n; i++) {
            if (z[i] == (double)k) {
                memcpy(x + (size_t)i * (size_t)d, buf + (size_t)r * (size_t)d, (size_t)d * sizeof(double));
                r++;
            }
        }
    }
    return HM_OK;
}

// --- the E-step --------------------------------------------------------------

typedef struct mix_block_ctx {
    const hm_harmonium *h;
    const double *T;     /* mx x K: [Theta | theta_X] */
    const double *thz;   /* theta_Z */
    double psi;          /* psi(theta) = psi_Z(prior) + chi */
    const hm_data *data;
    const double *given; /* column-major n x K posterior, or NULL */
    double *logp;
    double *post;
} mix_block_ctx;

/*
 * Rows per E-step block. A block keeps its statistics transposed, St (mx x
 * B, one row per statistic), which should stay near the core's L2 cache
 * (about 1 MiB) while both products pass over it; at least 256 rows, so
 * that the products' per-block overhead (the dot products' lane sums, the
 * block's slot) is small against their arithmetic, and at most 1024. A
 * multiple of 16 that depends on the shapes only.
 */
static int mix_block_rows(const hm_harmonium *h) {
    const int mx = h->mx > 0 ? h->mx : 1;
    int b = 131072 / mx;
    b = b < 256 ? 256 : (b > 1024 ? 1024 : b);
    return b - b % 16;
}

/*
 * The transposed statistics of rows r0 .. r0 + nr - 1: St[p][i] = s_p(x_i)
 * (row stride lds) and the log base measures lb[i]. A Normal observable
 * fills St column by column of the data, which are contiguous: its linear
 * rows are the data columns, its second-order rows products of two of them
 * (the packed upper triangle in pidx order, the squares, or their mean,
 * with the operations of the family's stat in the same order, so the same
 * bits), and its base measure is a constant. Any other family goes row by
 * row through hm_fam_stat (srow: mx doubles, xi: d).
 */
static void mix_stats_t(const hm_family *obs,
                        const hm_data *data,
                        int r0,
                        int nr,
                        double *St,
                        size_t lds,
                        double *lb,
                        double *xi,
                        double *srow) {
    const size_t ldx = (size_t)data->ldx;
    const double *x0 = data->x + r0;
    const int mx = obs->dim, d = obs->d;
    if (obs->kind == HM_FAM_NORMAL && obs->n == d) {
        for (int j = 0; j < d; j++) {
            memcpy(St + (size_t)j * lds, x0 + (size_t)j * ldx, (size_t)nr * sizeof(double));
        }
        double *out = St + (size_t)d * lds;
        if (obs->rep == HM_COV_FULL) {
            for (int a = 0; a < d; a++) {
                const double *xa = x0 + (size_t)a * ldx;
                for (int b = a; b < d; b++, out += lds) {
                    hm_k_vmul(nr, xa, x0 + (size_t)b * ldx, out);
                }
            }
        } else if (obs->rep == HM_COV_DIAG) {
            for (int a = 0; a < d; a++, out += lds) {
                const double *xa = x0 + (size_t)a * ldx;
                hm_k_vmul(nr, xa, xa, out);
            }
        } else {
            for (int i = 0; i < nr; i++) {
                out[i] = 0.0;
            }
            for (int a = 0; a < d; a++) {
                const double *xa = x0 + (size_t)a * ldx;
                for (int i = 0; i < nr; i++) {
                    out[i] += xa[i] * xa[i];
                }
            }
            for (int i = 0; i < nr; i++) {
                out[i] /= (double)d;
            }
        }
        for (int j = 0; j < d; j++) {
            xi[j] = x0[(size_t)j * ldx];
        }
        const double c = hm_fam_log_base(obs, xi);
        for (int i = 0; i < nr; i++) {
            lb[i] = c;
        }
        return;
    }
    for (int i = 0; i < nr; i++) {
        for (int j = 0; j < d; j++) {
            xi[j] = x0[(size_t)j * ldx + (size_t)i];
        }
        hm_fam_stat(obs, xi, srow);
        for (int p = 0; p < mx; p++) {
            St[(size_t)p * lds + (size_t)i] = srow[p];
        }
        lb[i] = hm_fam_log_base(obs, xi);
    }
}

/*
 * One block of rows, with everything stored transposed (one row per
 * statistic or class, one column per datum, stride B): St the statistics,
 * Qt = T' St the class logits (theta_Z + Theta' s(x) for classes 1..K-1,
 * theta_X . s(x) last), Rt the responsibilities (class 0 last, as the
 * weight w), and G = St Rt' the block's expected statistics. The softmax
 * runs across the columns, datum-parallel; every per-datum sum (the row
 * maximum, the total over the classes) and every per-class sum (ez) keeps
 * the order of the row-by-row code.
 */
static hm_status mix_block(const void *ctx, int r0, int nr, double *slot, double *tw) {
    const mix_block_ctx *c = (const mix_block_ctx *)ctx;
    const hm_harmonium *h = c->h;
    const hm_family *obs = h->obs;
    const int mx = h->mx, mz = h->mz, K = mz + 1, d = obs->d, dim = hm_hm_dim(h);
    const int B = mix_block_rows(h);
    const size_t lds = (size_t)B;
    const hm_data *data = c->data;
    double *St = tw; /* mx rows, then a row of ones */
    double *Qt = St + (size_t)B * (size_t)(mx + 1);
    double *Rt = Qt + (size_t)B * (size_t)K;
    double *lb = Rt + (size_t)B * (size_t)K;
    double *mrow = lb + B;
    double *sc = mrow + B;
    double *xi = sc + B;
    double *srow = xi + d;
    double *G = srow + mx;
    double *ez = G + (size_t)mx * (size_t)K;
    const size_t n = (size_t)data->n;
    const double *wv = data->w ? data->w + r0 : NULL;

    mix_stats_t(obs, data, r0, nr, St, lds, lb, xi, srow);
    for (int k = 0; k < K; k++) {
        ez[k] = 0.0;
    }
    double ll = 0.0, wt = 0.0;
    // A tied Normal mixture (EII, EEI, EEE) has no second-order interaction:
    // the class logits need only the d linear statistics, and only the last
    // row (theta_X . s(x)) the whole of s(x).
    const int tied = mix_tied(h), lin = obs->n;
    double *r0t = Rt + (size_t)mz * lds; /* class 0, then the weights */
    if (c->given == NULL) {
        if (tied) {
            hm_k_gemm_tn_wide(lin, mz, nr, c->T, K, St, B, Qt, B);
            hm_k_gemm_tn_wide(mx, 1, nr, c->T + mz, K, St, B, Qt + (size_t)mz * lds, B);
        } else {
            hm_k_gemm_tn_wide(mx, K, nr, c->T, K, St, B, Qt, B);
        }
        // Responsibilities: softmax over [0, q] with the column maximum
        // shifted out (hm_k_softmax_cols). A shifted logit below EXP_FLOOR
        // gives exactly 0 rather than a subnormal: its responsibility is
        // below 1e-304 of the total either way, but subnormal operands cost
        // x86 processors a microcode assist per multiply in the products
        // that follow, which for well-separated clusters made the E-step
        // tens of times slower. mrow gets the maxima, sc the totals.
        hm_k_softmax_cols(mz, nr, c->thz, EXP_FLOOR, Qt, B, Rt, B, mrow, sc);
        const double *qx = Qt + (size_t)mz * lds;
        for (int i = 0; i < nr; i++) {
            // log sum_k exp(a_k) = m + log sum_k exp(a_k - m) (theory.md 8).
            const double tot = sc[i];
            const double lp = (lb[i] + (qx[i] + mrow[i])) + log(tot) - c->psi;
            const double wi = wv ? wv[i] : 1.0;
            const double inv = 1.0 / tot;
            if (c->logp) {
                c->logp[(size_t)r0 + (size_t)i] = lp;
            }
            mrow[i] = inv;
            sc[i] = inv * wi;
            ll += wi * lp;
            wt += wi;
        }
        if (c->post) {
            hm_k_vmul(nr, r0t, mrow, c->post + r0);
            for (int k = 0; k < mz; k++) {
                hm_k_vmul(nr, Rt + (size_t)k * lds, mrow, c->post + (size_t)(k + 1) * n + (size_t)r0);
            }
        }
        for (int k = 0; k < mz; k++) {
            double *r = Rt + (size_t)k * lds;
            hm_k_vmul(nr, r, sc, r);
        }
    } else {
        for (int k = 0; k < mz; k++) {
            const double *g = c->given + (size_t)(k + 1) * n + (size_t)r0;
            if (wv) {
                hm_k_vmul(nr, wv, g, Rt + (size_t)k * lds);
            } else {
                memcpy(Rt + (size_t)k * lds, g, (size_t)nr * sizeof(double));
            }
        }
        for (int i = 0; i < nr; i++) {
            wt += wv ? wv[i] : 1.0;
        }
    }
    // The weights in the last row of Rt, and the class sums ez as dot
    // products with a row of ones (eight partial sums, as every sum over
    // the rows of a block).
    double *ones = St + (size_t)mx * lds;
    for (int i = 0; i < nr; i++) {
        r0t[i] = wv ? wv[i] : 1.0;
        ones[i] = 1.0;
    }
    hm_k_gemm_nt(1, mz, nr, ones, B, Rt, B, ez, mz > 0 ? mz : 1);
    if (tied) {
        // The tied harmonium's statistics: x z' and the totals of s(x); the
        // second-order rows of the interaction block stay 0 (its M-step,
        // mix_to_natural_cs, reads the pooled scatter from the totals).
        memset(G, 0, (size_t)mx * (size_t)K * sizeof(double));
        hm_k_gemm_nt(lin, mz, nr, St, B, Rt, B, G, K);
        hm_k_gemm_nt(mx, 1, nr, St, B, r0t, B, G + mz, K);
    } else {
        hm_k_gemm_nt(mx, K, nr, St, B, Rt, B, G, K);
    }
    double *etax = slot, *etaw = slot + mx, *etaz = slot + mx + (size_t)mx * (size_t)mz;
    for (int j = 0; j < mx; j++) {
        const double *gj = G + (size_t)j * (size_t)K;
        etax[j] = gj[mz];
        memcpy(etaw + (size_t)j * (size_t)mz, gj, (size_t)mz * sizeof(double));
    }
    for (int k = 0; k < mz; k++) {
        etaz[k] = ez[k];
    }
    slot[dim] = ll;
    slot[dim + 1] = wt;
    return HM_OK;
}

// Per-thread scratch: St, Qt and Rt (B columns each), the log base
// measures and two per-datum vectors, one gathered datum and one row of
// statistics, the block's product G, the latent sums, and the family's
// scratch.
static size_t mix_thread_len(const hm_harmonium *h) {
    size_t B = (size_t)mix_block_rows(h);
    size_t mx = (size_t)h->mx, K = (size_t)h->mz + 1;
    return B * (mx + 1) + 2 * B * K + 3 * B + (size_t)h->obs->d + mx + mx * K + K + hm_fam_work_len(h->obs) + 8;
}

// Shared scratch in front of the single-point scratch and the slots: T =
// [Theta | theta_X] (mx x K) and K spare.
static size_t mix_head_len(const hm_harmonium *h) {
    size_t K = (size_t)h->mz + 1;
    return (size_t)h->mx * K + K;
}

static size_t mix_estep_work_len(const hm_harmonium *h, int threads) {
    return mix_head_len(h) + hm_hm_work_len(h) + hm_blocks_work_len(hm_stats_len(h), mix_thread_len(h), threads);
}

static hm_status mix_estep(const hm_harmonium *h,
                           const double *theta,
                           const hm_data *data,
                           const double *given,
                           double *stats,
                           double *logp,
                           double *post,
                           int threads,
                           double *work) {
    const int mx = h->mx, mz = h->mz, K = mz + 1, dx = h->obs->dim;
    const int slen = hm_stats_len(h), B = mix_block_rows(h);
    double *T = work;
    double *hw = T + mix_head_len(h);
    double *slots = hw + hm_hm_work_len(h);

    const double *W = theta + dx;
    for (int j = 0; j < mx; j++) {
        for (int k = 0; k < mz; k++) {
            T[(size_t)j * (size_t)K + (size_t)k] = W[(size_t)j * (size_t)mz + (size_t)k];
        }
        T[(size_t)j * (size_t)K + (size_t)mz] = theta[j];
    }
    mix_block_ctx c;
    c.h = h;
    c.T = T;
    c.thz = theta + dx + (size_t)mx * (size_t)mz;
    c.data = data;
    c.given = given;
    c.logp = given ? NULL : logp;
    c.post = given ? NULL : post;
    c.psi = 0.0;
    // With given posteriors theta is not used (the statistics come from the
    // data and the labels alone), so it need not be a valid parameter.
    if (given == NULL) {
        hm_status st = hm_hm_check_natural(h, theta, hw);
        if (st != HM_OK) {
            return st;
        }
        st = hm_hm_log_partition(h, theta, &c.psi, hw);
        if (st != HM_OK) {
            return st;
        }
    }
    return hm_run_blocks(data->n, B, threads, slen, mix_thread_len(h), mix_block, &c, stats, slots, data->tree);
}

// --- sequential conjugate updating ---------------------------------------------------

// The coupled statistic is s_X(x) itself (class log-odds gain Theta' s_X).
static void mix_fold_increment(const hm_harmonium *h,
                               const double *theta,
                               const double *x,
                               const double *rho,
                               double *s,
                               double *inc) {
    hm_fam_stat(h->obs, x, s);
    hm_hm_fold_add(h, theta, s, rho, 0, inc);
}

// --- the operation table ---------------------------------------------------------------

const hm_kind_ops hm_kind_mixture_ops = {
    .name = "mixture",
    .block_rows = mix_block_rows,
    .dim = mix_dim,
    .post_len = mix_post_len,
    .z_len = mix_z_len,
    .rho_len = mix_rho_len,
    .work_len = mix_work_len,
    .sample_work_len = mix_sample_work_len,
    .rho_chi = mix_rho_chi,
    .to_mean = mix_to_mean,
    .to_natural = mix_to_natural,
    .check_natural = mix_check_natural,
    .sample = mix_sample,
    .estep_work_len = mix_estep_work_len,
    .estep = mix_estep,
    .init = mix_init,
    .fold_increment = mix_fold_increment,
};

// --- per-class log densities (the emission of a hidden Markov chain) ---------------------

// log p(x | class k) = theta^(k) . s_X(x) + log mu_X(x) - psi_X(theta^(k)) (theory.md
// 1.1, 3.1) for every row and class: one product of the block's statistics S (B x mx)
// with C = [theta^(0) | ... | theta^(K-1)] (mx x K), written straight into the
// caller's row-major n x K output, plus the base measure and minus the class
// log-partitions. A row with a missing value (NaN) is a missing observation: its
// statistics are zeroed before the product so no NaN enters the kernel, and its K
// log densities are 0 (a likelihood of 1 for every class, so that a filter's update
// step leaves the predicted state unchanged).
typedef struct mix_ld_ctx {
    const hm_harmonium *h;
    const double *C;   /* mx x K row-major */
    const double *psi; /* K class log-partitions */
    const hm_data *data;
    double *logp;      /* n x K row-major */
} mix_ld_ctx;

static hm_status mix_ld_block(const void *ctx, int r0, int nr, double *slot, double *tw) {
    const mix_ld_ctx *c = (const mix_ld_ctx *)ctx;
    const hm_harmonium *h = c->h;
    const hm_family *obs = h->obs;
    const int mx = h->mx, K = h->mz + 1, d = obs->d;
    const int B = hm_estep_block_rows(h);
    const size_t ldx = (size_t)c->data->ldx;
    double *S = tw;
    double *lb = S + (size_t)B * (size_t)mx;
    double *miss = lb + B;
    double *xi = miss + B;
    for (int i = 0; i < nr; i++) {
        size_t row = (size_t)(r0 + i);
        int na = 0;
        for (int j = 0; j < d; j++) {
            xi[j] = c->data->x[(size_t)j * ldx + row];
            na |= isnan(xi[j]);
        }
        double *si = S + (size_t)i * (size_t)mx;
        miss[i] = na ? 1.0 : 0.0;
        if (na) {
            memset(si, 0, (size_t)mx * sizeof(double));
            lb[i] = 0.0;
        } else {
            hm_fam_stat(obs, xi, si);
            lb[i] = hm_fam_log_base(obs, xi);
        }
    }
    double *Q = c->logp + (size_t)r0 * (size_t)K;
    hm_k_gemm_nn(nr, mx, K, S, mx, c->C, K, Q, K);
    for (int i = 0; i < nr; i++) {
        double *q = Q + (size_t)i * (size_t)K;
        if (miss[i] != 0.0) {
            for (int k = 0; k < K; k++) {
                q[k] = 0.0;
            }
            continue;
        }
        for (int k = 0; k < K; k++) {
            q[k] += lb[i] - c->psi[k];
        }
    }
    slot[0] = 0.0;
    return HM_OK;
}

static size_t mix_ld_thread_len(const hm_harmonium *h) {
    size_t B = (size_t)hm_estep_block_rows(h);
    return B * (size_t)h->mx + 2 * B + (size_t)h->obs->d + 8;
}

size_t hm_mix_log_densities_work_len(const hm_harmonium *h, int threads) {
    if (h->kind == HM_HM_MIXTURE_OF) {
        return hm_mixof_log_densities_work_len(h, threads);
    }
    size_t K = (size_t)h->lat->n;
    return (size_t)h->mx * K + K + hm_hm_work_len(h) + hm_blocks_work_len(1, mix_ld_thread_len(h), threads);
}

hm_status hm_mix_log_densities(const hm_harmonium *h,
                               const double *theta,
                               const hm_data *data,
                               double *logp,
                               int threads,
                               double *work) {
    if (h->kind == HM_HM_MIXTURE_OF) {
        return hm_mixof_log_densities(h, theta, data, logp, threads, work);
    }
    if (h->kind != HM_HM_MIXTURE || !theta || !data || !logp || !work) {
        return HM_EINVAL;
    }
    const int K = h->lat->n, mx = h->mx;
    double *C = work;
    double *psi = C + (size_t)mx * (size_t)K;
    double *hw = psi + K;
    double *bw = hw + hm_hm_work_len(h);
    hm_status st = hm_hm_check_natural(h, theta, hw);
    if (st != HM_OK) {
        return st;
    }
    // Class k's natural parameter theta^(k) goes into column k of C; the family's
    // scratch sits behind the spare component vector at the front of hw.
    double *comp = hw;
    double *fw = hw + 2 * (size_t)h->obs->dim;
    for (int k = 0; k < K; k++) {
        mix_component(h, theta, k, comp);
        st = hm_fam_log_partition(h->obs, comp, &psi[k], fw);
        if (st != HM_OK) {
            return st;
        }
        for (int j = 0; j < mx; j++) {
            C[(size_t)j * (size_t)K + (size_t)k] = comp[j];
        }
    }
    mix_ld_ctx c = {h, C, psi, data, logp};
    return hm_run_blocks(data->n, hm_estep_block_rows(h), threads, 1, mix_ld_thread_len(h), mix_ld_block, &c, NULL,
                         bw, NULL);
}

// The number of classes of a mixture kind (the states of a hidden Markov chain
// whose emission it is); 0 for another kind.
int hm_mix_classes(const hm_harmonium *h) {
    if (h->kind == HM_HM_MIXTURE) {
        return h->lat->n;
    }
    return h->kind == HM_HM_MIXTURE_OF ? h->k : 0;
}
