/*
 * harmonium.c: the harmonium interface (theory.md 1.2 - 1.6), one
 * dispatcher per operation. Every hm_hm_* function reaches the kind
 * through its operation table (hm_kind_lookup, hm_engine.h); the kinds
 * implement the tables in their own files: mixture.c, lgm.c,
 * boltzmann_lgm.c, conjugate.c, hmog.c, mixture_of.c. No kind is named
 * here.
 *
 * Parameters are [theta_X | Theta | theta_Z] (hm_engine.h). What stays in
 * this file is the algebra every conjugated kind shares, for the kinds
 * that leave the corresponding operation NULL:
 *   prior:             embed(theta_Z) + rho (embed the identity unless
 *                      the kind has embed_latent, theory.md 1.3)
 *   log-partition:     psi_Prr(prior) + chi, with Prr = h->prr
 *   whitening:         the identity (identified latents)
 * and sequential conjugate updating (hm_hm_posterior_fold, at the end of
 * this file), which needs only rho, the posterior at x and the kind's
 * fold_increment.
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"

// prior += embed(theta_Z): the kind's embedding for the restricted-
// posterior kinds (Pst != Prr, theory.md 1.3), else elementwise.
static void add_embedded(const hm_kind_ops *ops, const hm_harmonium *h, const double *thz, double *prior) {
    if (ops->embed_latent) {
        ops->embed_latent(h, thz, prior);
        return;
    }
    for (int i = 0; i < h->lat->dim; i++) {
        prior[i] += thz[i];
    }
}

int hm_hm_dim(const hm_harmonium *h) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    return ops ? ops->dim(h) : 0;
}

int hm_hm_post_len(const hm_harmonium *h) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    return ops ? ops->post_len(h) : 0;
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
    const hm_kind_ops *ops = hm_kind_lookup(kind);
    if (ops == NULL || ops->init == NULL) {
        return HM_EINVAL; // unknown, or a composite with its own initialiser
    }
    // The prior family is the latent family unless the kind's init says
    // otherwise (the restricted-posterior kinds).
    h->prr = *lat;
    return ops->init(h);
}

size_t hm_hm_work_len(const hm_harmonium *h) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    return ops ? ops->work_len(h) : 0;
}

int hm_hm_z_len(const hm_harmonium *h) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    return ops ? ops->z_len(h) : 0;
}

int hm_hm_rho_len(const hm_harmonium *h) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    return ops ? ops->rho_len(h) : 0;
}

size_t hm_hm_sample_work_len(const hm_harmonium *h, int n) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    return ops ? ops->sample_work_len(h, n) : 0;
}

hm_status hm_hm_rho_chi(const hm_harmonium *h,
                        const double *theta,
                        double *rho,
                        double *chi,
                        double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops == NULL) {
        return HM_EINVAL;
    }
    return ops->rho_chi(h, theta, rho, chi, work);
}

hm_status hm_hm_prior(const hm_harmonium *h, const double *theta, double *prior, double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops == NULL) {
        return HM_EINVAL;
    }
    if (ops->prior) {
        return ops->prior(h, theta, prior, work);
    }
    const double *thz = theta + h->obs->dim + (size_t)h->mx * (size_t)h->mz;
    double chi;
    hm_status st = ops->rho_chi(h, theta, prior, &chi, work);
    if (st != HM_OK) {
        return st;
    }
    add_embedded(ops, h, thz, prior);
    return HM_OK;
}

hm_status hm_hm_log_partition(const hm_harmonium *h,
                              const double *theta,
                              double *psi,
                              double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops == NULL) {
        return HM_EINVAL;
    }
    if (ops->log_partition) {
        return ops->log_partition(h, theta, psi, work);
    }
    const int dz = h->prr.dim;
    double *prior = work;
    double *rest = work + dz;
    const double *thz = theta + h->obs->dim + (size_t)h->mx * (size_t)h->mz;
    double chi, psiz;
    hm_status st = ops->rho_chi(h, theta, prior, &chi, rest);
    if (st != HM_OK) {
        return st;
    }
    add_embedded(ops, h, thz, prior);
    st = hm_fam_log_partition(&h->prr, prior, &psiz, rest);
    if (st != HM_OK) {
        return st;
    }
    *psi = psiz + chi;
    return HM_OK;
}

hm_status hm_hm_to_mean(const hm_harmonium *h, const double *theta, double *eta, double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops == NULL) {
        return HM_EINVAL;
    }
    return ops->to_mean(h, theta, eta, work);
}

hm_status hm_hm_to_natural(const hm_harmonium *h,
                           const double *eta,
                           double *theta,
                           double *work,
                           const hm_ctrl *ctl,
                           int *bad) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops == NULL) {
        *bad = -1;
        return HM_EINVAL;
    }
    return ops->to_natural(h, eta, theta, work, ctl, bad);
}

hm_status hm_hm_check_natural(const hm_harmonium *h, const double *theta, double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops == NULL) {
        return HM_EINVAL;
    }
    return ops->check_natural(h, theta, work);
}

// --- whitening ---------------------------------------------------------------

// Only a Gaussian latent is unidentified up to an affine map (theory.md
// 1.6, 3.2); a kind without a whiten operation has an identified latent
// (categorical, binary), and for it whitening is the identity.
hm_status hm_hm_whiten(const hm_harmonium *h, const double *eta_in, double *eta_out, double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops && ops->whiten) {
        return ops->whiten(h, eta_in, eta_out, work);
    }
    if (eta_out != eta_in) {
        memcpy(eta_out, eta_in, (size_t)hm_hm_dim(h) * sizeof(double));
    }
    return HM_OK;
}

// --- sampling --------------------------------------------------------------

hm_status hm_hm_sample(const hm_harmonium *h,
                       const double *theta,
                       int n,
                       hm_rng *rng,
                       double *x,
                       double *z,
                       double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops == NULL) {
        return HM_EINVAL;
    }
    return ops->sample(h, theta, n, rng, x, z, work);
}

// --- contrastive divergence --------------------------------------------------

// CD-k needs exact draws from both conditionals; the kinds that have them
// and use CD (theory.md 1.6, 3.3) supply cd_gradient.
size_t hm_hm_cd_gradient_work_len(const hm_harmonium *h) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    return ops && ops->cd_gradient_work_len ? ops->cd_gradient_work_len(h) : 0;
}

hm_status hm_hm_cd_gradient(const hm_harmonium *h,
                            const double *theta,
                            const hm_data *data,
                            int k,
                            hm_rng *rng,
                            double *grad,
                            double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops == NULL || ops->cd_gradient == NULL) {
        return HM_EINVAL;
    }
    return ops->cd_gradient(h, theta, data, k, rng, grad, work);
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
 * inc = -rho + E_Z Theta' r: what one observation with coupled statistic r
 * (mx entries) adds to the prior's natural parameters (hm_engine.h). E_Z
 * is the identity, or with packed_diag the diagonal of a packed triangle
 * (a Boltzmann latent, whose coupled statistic z_i = z_i^2 sits on the
 * diagonal of the packed couplings). Only the nonzero entries of r are
 * visited, a row of the row-major Theta each, so a one-hot statistic costs
 * O(mz). Adding the increment (rather than subtracting rho and adding the
 * field in turn) adds no rounding to the categorical-Dirichlet counts:
 * there inc is exactly e_x.
 */
void hm_hm_fold_add(const hm_harmonium *h,
                    const double *theta,
                    const double *r,
                    const double *rho,
                    int packed_diag,
                    double *inc) {
    const int mx = h->mx, mz = h->mz, dz = h->lat->dim;
    const double *W = theta + h->obs->dim;
    for (int k = 0; k < dz; k++) {
        inc[k] = -rho[k];
    }
    for (int j = 0; j < mx; j++) {
        if (r[j] == 0.0) {
            continue;
        }
        const double *wj = W + (size_t)j * (size_t)mz;
        for (int k = 0; k < mz; k++) {
            const size_t at = packed_diag ? pdiag(mz, k) : (size_t)k;
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
    // Kinds with a fold_increment only: q_t must stay in the family of
    // theta_Z, which rules out the restricted-posterior kinds.
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops == NULL || ops->fold_increment == NULL) {
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
        ops->fold_increment(h, theta, xt, rho, s, inc);
        double *ot = out + (size_t)t * (size_t)dz;
        for (int k = 0; k < dz; k++) {
            q[k] += inc[k];
            ot[k] = q[k];
        }
    }
    return HM_OK;
}
