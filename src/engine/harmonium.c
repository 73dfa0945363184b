/*
 * harmonium.c: the conjugated-harmonium algebra (theory.md 1.2 - 1.6),
 * written once over the family vtable, with the conjugation hooks of each
 * harmonium kind.
 *
 * Parameters are [theta_X | Theta | theta_Z] (hm_engine.h). The generic
 * identities used throughout:
 *   likelihood at z:   theta_X + E_X Theta r_Z(z)
 *   posterior at x:    theta_Z + E_Z Theta' r_X(x)
 *   prior:             theta_Z + rho
 *   log-partition:     psi_Z(theta_Z + rho) + chi
 *   M-step:            likelihood to_natural from eta, prior to_natural
 *                      from eta_Z, theta_Z = prior - rho (join_conjugated)
 *
 * Mixture kind (theory.md 3.1): Z is Categorical(K), s_Z(z) the one-hot
 * vector without class 0, and the likelihood at class k is the component
 * natural parameter theta^(k) = theta_X + Theta[, k-1] (theta^(0) =
 * theta_X). The conjugation parameters are rho_k = psi_X(theta^(k)) -
 * psi_X(theta_X) and chi = psi_X(theta_X), exact for any observable family
 * with a computable log-partition.
 *
 * Linear-Gaussian kinds (theory.md 3.2, 3.3): HM_HM_LGM (Normal latent)
 * and HM_HM_BOLTZMANN_LGM (Boltzmann latent), and their restricted-
 * posterior variants HM_HM_LGM_DIAG and HM_HM_BOLTZMANN_LGM_MF (theory.md
 * 1.3), have their conjugation hooks, moments, M-step, whitening, sampler
 * and contrastive divergence in lgm.c; the functions below dispatch to
 * them on h->kind, and the prior and the log-partition stay generic (they
 * need only rho, chi, the embedding of theta_Z and the prior family
 * h->prr).
 *
 * Categorical-Dirichlet kind (theory.md 3.5): HM_HM_CATEGORICAL_DIRICHLET
 * has its hooks in conjugate.c, dispatched the same way. Sequential
 * conjugate updating (hm_hm_posterior_fold, at the end of this file) is
 * generic: it needs only rho and the posterior at x.
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "hm_specfun.h"

// 1 for the kinds implemented in lgm.c.
static int is_lgm(const hm_harmonium *h) {
    return h->kind == HM_HM_LGM || h->kind == HM_HM_BOLTZMANN_LGM || h->kind == HM_HM_LGM_DIAG ||
           h->kind == HM_HM_BOLTZMANN_LGM_MF;
}

// prior += embed(theta_Z): elementwise for the symmetric kinds (Pst =
// Prr), the diagonal embedding of lgm.c for the restricted-posterior ones
// (theory.md 1.3).
static void add_embedded(const hm_harmonium *h, const double *thz, double *prior) {
    if (is_lgm(h)) {
        hm_lgm_embed_latent(h, thz, prior);
        return;
    }
    for (int i = 0; i < h->lat->dim; i++) {
        prior[i] += thz[i];
    }
}

int hm_hm_dim(const hm_harmonium *h) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->dim(h);
    }
    return h->obs->dim + h->mx * h->mz + h->lat->dim;
}

// Mixture: the K class probabilities; linear-Gaussian kinds: the q
// posterior means E[z | x] (unit means for a Boltzmann latent). Both are
// lat->n, spelled out per kind for the reader.
int hm_hm_post_len(const hm_harmonium *h) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->post_len(h);
    }
    return h->kind == HM_HM_MIXTURE ? h->lat->n : h->mz;
}

hm_status hm_hm_init(hm_harmonium *h, int kind, const hm_family *obs, const hm_family *lat) {
    h->kind = kind;
    h->obs = obs;
    h->lat = lat;
    h->mx = 0;
    h->mz = 0;
    h->k = 0;
    h->sub = NULL;
    h->aux = NULL;
    if (hm_kind_lookup(kind) != NULL) {
        return HM_EINVAL; // composites have their own initialisers
    }
    // The prior family is the latent family unless the kind's init says
    // otherwise (the restricted-posterior kinds of lgm.c).
    h->prr = *lat;
    if (is_lgm(h)) {
        return hm_lgm_init(h);
    }
    if (kind == HM_HM_CATEGORICAL_DIRICHLET) {
        return hm_catdir_init(h);
    }
    if (kind != HM_HM_MIXTURE || lat->kind != HM_FAM_CATEGORICAL) {
        return HM_EINVAL;
    }
    h->mx = obs->dim;
    h->mz = lat->dim;
    return HM_OK;
}

// Scratch of the single-point routines: K component vectors, two spare
// observable vectors, K latent entries, and the observable family's own
// scratch at the end.
size_t hm_hm_work_len(const hm_harmonium *h) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->work_len(h);
    }
    if (is_lgm(h)) {
        return hm_lgm_work_len(h);
    }
    if (h->kind == HM_HM_CATEGORICAL_DIRICHLET) {
        return hm_catdir_work_len(h);
    }
    size_t k = (size_t)h->lat->n;
    size_t dx = (size_t)h->obs->dim;
    return k * dx + 2 * dx + 2 * k + hm_fam_work_len(h->obs) + hm_fam_work_len(h->lat) + 8;
}

int hm_hm_z_len(const hm_harmonium *h) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->z_len(h);
    }
    return h->kind == HM_HM_MIXTURE ? 1 : h->lat->d;
}

int hm_hm_rho_len(const hm_harmonium *h) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->rho_len(h);
    }
    return h->prr.dim;
}

size_t hm_hm_sample_work_len(const hm_harmonium *h, int n) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->sample_work_len(h, n);
    }
    if (is_lgm(h)) {
        return hm_lgm_sample_work_len(h, n);
    }
    if (h->kind == HM_HM_CATEGORICAL_DIRICHLET) {
        return hm_catdir_sample_work_len(h, n);
    }
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

hm_status hm_hm_rho_chi(const hm_harmonium *h,
                        const double *theta,
                        double *rho,
                        double *chi,
                        double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->rho_chi(h, theta, rho, chi, work);
    }
    if (is_lgm(h)) {
        return hm_lgm_rho_chi(h, theta, rho, chi, work);
    }
    if (h->kind == HM_HM_CATEGORICAL_DIRICHLET) {
        return hm_catdir_rho_chi(h, theta, rho, chi, work);
    }
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

hm_status hm_hm_prior(const hm_harmonium *h, const double *theta, double *prior, double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->prior(h, theta, prior, work);
    }
    const double *thz = theta + h->obs->dim + (size_t)h->mx * (size_t)h->mz;
    double chi;
    hm_status st = hm_hm_rho_chi(h, theta, prior, &chi, work);
    if (st != HM_OK) {
        return st;
    }
    add_embedded(h, thz, prior);
    return HM_OK;
}

hm_status hm_hm_log_partition(const hm_harmonium *h,
                              const double *theta,
                              double *psi,
                              double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->log_partition(h, theta, psi, work);
    }
    const int dz = h->prr.dim;
    double *prior = work;
    double *rest = work + dz;
    const double *thz = theta + h->obs->dim + (size_t)h->mx * (size_t)h->mz;
    double chi, psiz;
    hm_status st = hm_hm_rho_chi(h, theta, prior, &chi, rest);
    if (st != HM_OK) {
        return st;
    }
    add_embedded(h, thz, prior);
    st = hm_fam_log_partition(&h->prr, prior, &psiz, rest);
    if (st != HM_OK) {
        return st;
    }
    *psi = psiz + chi;
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
hm_status hm_hm_to_mean(const hm_harmonium *h, const double *theta, double *eta, double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->to_mean(h, theta, eta, work);
    }
    if (is_lgm(h)) {
        return hm_lgm_to_mean(h, theta, eta, work);
    }
    if (h->kind == HM_HM_CATEGORICAL_DIRICHLET) {
        return hm_catdir_to_mean(h, theta, eta, work);
    }
    const int K = h->lat->n, dx = h->obs->dim, mz = h->mz;
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
    double *etax = eta, *etaw = eta + dx, *etaz = eta + dx + (size_t)dx * (size_t)mz;
    memset(etax, 0, (size_t)dx * sizeof(double));
    for (int k = 0; k < K; k++) {
        mix_component(h, theta, k, comp);
        st = hm_fam_to_mean(h->obs, comp, ek, rest);
        if (st != HM_OK) {
            return st;
        }
        for (int j = 0; j < dx; j++) {
            etax[j] += w[k] * ek[j];
            if (k > 0) {
                etaw[(size_t)j * (size_t)mz + (size_t)(k - 1)] = w[k] * ek[j];
            }
        }
        if (k > 0) {
            etaz[k - 1] = w[k];
        }
    }
    return HM_OK;
}

// The exact M-step (theory.md 1.6, 3.1.4): split_mean_mixture gives each
// component's average statistics, the observable family's mean -> natural
// map gives theta^(k), the categorical map gives the prior, and
// join_conjugated subtracts rho. Component 0's statistics are recovered as
// (eta_X - sum_k eta_int[, k]) / w_0; in standardised data coordinates the
// cancellation costs at most a few digits when w_0 is small.
hm_status hm_hm_to_natural(const hm_harmonium *h,
                           const double *eta,
                           double *theta,
                           double *work,
                           const hm_ctrl *ctl,
                           int *bad) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->to_natural(h, eta, theta, work, ctl, bad);
    }
    if (is_lgm(h)) {
        return hm_lgm_to_natural(h, eta, theta, work, ctl, bad);
    }
    if (h->kind == HM_HM_CATEGORICAL_DIRICHLET) {
        return hm_catdir_to_natural(h, eta, theta, work, ctl, bad);
    }
    const int K = h->lat->n, dx = h->obs->dim, mz = h->mz;
    const double *etax = eta, *etaw = eta + dx, *etaz = eta + dx + (size_t)dx * (size_t)mz;
    double *comps = work;                             /* K x dx */
    double *ek = comps + (size_t)K * (size_t)dx;      /* dx */
    double *w = ek + dx;                              /* K */
    double *psik = w + K;                             /* K */
    double *fw = psik + K + dx;
    *bad = -1;
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
    for (int k = 0; k < K; k++) {
        for (int j = 0; j < dx; j++) {
            if (k > 0) {
                ek[j] = etaw[(size_t)j * (size_t)mz + (size_t)(k - 1)] / w[k];
            } else {
                double s = etax[j];
                for (int l = 1; l < K; l++) {
                    s -= etaw[(size_t)j * (size_t)mz + (size_t)(l - 1)];
                }
                ek[j] = s / w0;
            }
        }
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

hm_status hm_hm_check_natural(const hm_harmonium *h, const double *theta, double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->check_natural(h, theta, work);
    }
    if (is_lgm(h)) {
        return hm_lgm_check_natural(h, theta, work);
    }
    if (h->kind == HM_HM_CATEGORICAL_DIRICHLET) {
        return hm_catdir_check_natural(h, theta, work);
    }
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

// --- whitening ---------------------------------------------------------------

// Only a Gaussian latent is unidentified up to an affine map (theory.md
// 1.6, 3.2); categorical and binary latents are identified, so for them
// whitening is the identity.
hm_status hm_hm_whiten(const hm_harmonium *h, const double *eta_in, double *eta_out, double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops && ops->whiten) {
        return ops->whiten(h, eta_in, eta_out, work);
    }
    if (h->kind == HM_HM_LGM) {
        return hm_lgm_whiten(h, eta_in, eta_out, work);
    }
    if (eta_out != eta_in) {
        memcpy(eta_out, eta_in, (size_t)hm_hm_dim(h) * sizeof(double));
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
hm_status hm_hm_sample(const hm_harmonium *h,
                       const double *theta,
                       int n,
                       hm_rng *rng,
                       double *x,
                       double *z,
                       double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops) {
        return ops->sample(h, theta, n, rng, x, z, work);
    }
    if (is_lgm(h)) {
        return hm_lgm_sample(h, theta, n, rng, x, z, work);
    }
    if (h->kind == HM_HM_CATEGORICAL_DIRICHLET) {
        return hm_catdir_sample(h, theta, n, rng, x, z, work);
    }
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

// --- contrastive divergence --------------------------------------------------

// CD-k needs exact draws from both conditionals; the Boltzmann-latent
// kinds of lgm.c are the ones that have them and use CD (theory.md 1.6,
// 3.3).
size_t hm_hm_cd_gradient_work_len(const hm_harmonium *h) {
    return hm_lgm_cd_gradient_work_len(h);
}

hm_status hm_hm_cd_gradient(const hm_harmonium *h,
                            const double *theta,
                            const hm_data *data,
                            int k,
                            hm_rng *rng,
                            double *grad,
                            double *work) {
    if (h->kind != HM_HM_BOLTZMANN_LGM && h->kind != HM_HM_BOLTZMANN_LGM_MF) {
        return HM_EINVAL;
    }
    return hm_lgm_cd_gradient(h, theta, data, k, rng, grad, work);
}

// --- sequential conjugate updating -------------------------------------------

// Flat index of (i, i) in a packed upper triangle of order d.
static size_t pdiag(int d, int i) {
    return (size_t)i * (size_t)d - (size_t)i * (size_t)(i + 1) / 2 + (size_t)i;
}

size_t hm_hm_fold_work_len(const hm_harmonium *h) {
    return hm_hm_work_len(h) + 3 * (size_t)h->lat->dim + (size_t)h->obs->dim + 8;
}

/*
 * inc = -rho + E_Z Theta' r_X(x): what one observation adds to the prior's
 * natural parameters (hm_engine.h). r_X(x) is s_X(x) for the kinds that
 * couple the whole observable statistic (mixture, categorical_dirichlet;
 * mx = obs->dim), the datum itself for the linear-Gaussian kinds (mx = p).
 * E_Z is the identity except for a Boltzmann latent, whose coupled
 * statistic z_i = z_i^2 sits on the diagonal of the packed couplings. Only
 * the nonzero entries of r_X are visited, a row of the row-major Theta
 * each, so a one-hot statistic costs O(mz). Adding the increment (rather
 * than subtracting rho and adding the field in turn) adds no rounding to
 * the categorical-Dirichlet counts: there inc is exactly e_x.
 */
static void fold_increment(const hm_harmonium *h,
                           const double *theta,
                           const double *x,
                           const double *rho,
                           double *s,
                           double *inc) {
    const int mx = h->mx, mz = h->mz, dz = h->lat->dim;
    const double *W = theta + h->obs->dim;
    const double *r = x;
    if (h->kind == HM_HM_MIXTURE || h->kind == HM_HM_CATEGORICAL_DIRICHLET) {
        hm_fam_stat(h->obs, x, s);
        r = s;
    }
    for (int k = 0; k < dz; k++) {
        inc[k] = -rho[k];
    }
    for (int j = 0; j < mx; j++) {
        if (r[j] == 0.0) {
            continue;
        }
        const double *wj = W + (size_t)j * (size_t)mz;
        for (int k = 0; k < mz; k++) {
            const size_t at = h->kind == HM_HM_BOLTZMANN_LGM ? pdiag(mz, k) : (size_t)k;
            inc[at] += wj[k] * r[j];
        }
    }
}

hm_status hm_hm_posterior_fold(const hm_harmonium *h,
                               const double *theta,
                               const double *x,
                               int n,
                               double *out,
                               double *work) {
    // Symmetric kinds only: q_t must stay in the family of theta_Z.
    if (h->kind != HM_HM_MIXTURE && h->kind != HM_HM_LGM && h->kind != HM_HM_BOLTZMANN_LGM &&
        h->kind != HM_HM_CATEGORICAL_DIRICHLET) {
        return HM_EINVAL;
    }
    if (n < 0) {
        return HM_EINVAL;
    }
    const int dz = h->lat->dim, d = h->obs->d;
    double *rho = work;
    double *q = rho + dz;
    double *inc = q + dz;
    double *s = inc + dz;
    double *rest = s + h->obs->dim;
    hm_status st = hm_hm_check_natural(h, theta, rest);
    if (st != HM_OK) {
        return st;
    }
    double chi;
    st = hm_hm_rho_chi(h, theta, rho, &chi, rest);
    if (st != HM_OK) {
        return st;
    }
    const double *thz = theta + h->obs->dim + (size_t)h->mx * (size_t)h->mz;
    for (int k = 0; k < dz; k++) {
        q[k] = thz[k] + rho[k];
    }
    for (int t = 0; t < n; t++) {
        const double *xt = x + (size_t)t * (size_t)d;
        if (hm_fam_check_data(h->obs, xt) != HM_OK) {
            return HM_EDOM;
        }
        fold_increment(h, theta, xt, rho, s, inc);
        double *ot = out + (size_t)t * (size_t)dz;
        for (int k = 0; k < dz; k++) {
            q[k] += inc[k];
            ot[k] = q[k];
        }
    }
    return HM_OK;
}
