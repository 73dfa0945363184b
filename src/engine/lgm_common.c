/*
 * lgm_common.c: what the four linear-Gaussian harmonium kinds share
 * (theory.md 3.2, 3.3): the hooks of their operation tables that are
 * written once over the latent family, and the observable half of their
 * E-step. The tables themselves, and what only one latent has, are in
 * lgm.c (Normal latent: whitening, the constant posterior covariance, the
 * E-step block) and boltzmann_lgm.c (binary latent: the E-step block,
 * contrastive divergence); the internal interface is lgm_common.h.
 *
 * Both symmetric kinds have a Normal(p) observable in any covariance rep and couple
 * only the locations, r_X(x) = x and r_Z(z) = z, through a p x q matrix W
 * (row-major, energy x' W z). Parameters are [theta_X | W | theta_Z]:
 *   HM_HM_LGM            latent Normal(q) with full covariance; theta_Z is
 *                        (location, packed second-order block) as in
 *                        fam_normal.c;
 *   HM_HM_BOLTZMANN_LGM  latent Boltzmann(q); theta_Z is the packed
 *                        coupling matrix whose diagonal holds the unit
 *                        biases, and r_Z(z) = z is that diagonal of s_Z(z)
 *                        (z_i^2 = z_i).
 * The likelihood at z is the Normal with natural parameters
 * (theta_x + W z, theta_xx), i.e. x | z ~ N(A z + b, Sigma_x) in loading
 * form with Sigma_x = P_x^-1, A = Sigma_x W, b = Sigma_x theta_x. Expanding
 * its log-partition in z gives the conjugation parameters of both kinds
 * (theory.md 3.2, verified there):
 *   psi_X(theta_x + W z) = psi_X(theta_X) + (W'b) . z + 1/2 z' W'Sigma_x W z,
 * so chi = psi_X(theta_X) and rho is (W'b, -W'Sigma_x W) joined as a
 * location and a precision in the latent family's coordinates: for the
 * Normal the packed block gets +1/2 M_ii on the diagonal and +M_ij off it
 * (M = W'Sigma_x W); for the Boltzmann machine, where z_i^2 = z_i folds
 * the location into the diagonal, rho_ii = (W'b)_i + 1/2 M_ii and
 * rho_ij = M_ij.
 *
 * Everything else follows from the joint being "x | z linear-Gaussian":
 * the mean coordinates need only the latent mean m and second moment S
 * (from the latent family's own to_mean, an enumeration for a Boltzmann
 * prior), and the M-step is a linear regression of x on z (theory.md 3.2,
 * to_natural_likelihood) followed by the latent family's to_natural.
 *
 * Restricted-posterior kinds (theory.md 1.3 "asymmetric posterior/prior
 * families"): theta_Z lives in a posterior family Pst that embeds into the
 * prior family Prr = h->prr of the symmetric kind above,
 *   HM_HM_LGM_DIAG          Pst Normal(q) diagonal, theta_Z = (location,
 *                           -P_ii/2); Prr the full Normal(q);
 *   HM_HM_BOLTZMANN_LGM_MF  Pst Bernoulli(q), theta_Z = the unit biases;
 *                           Prr the Boltzmann machine Boltzmann(q).
 * W'x touches only the location (the biases), so the posterior at x stays
 * exactly in Pst, while rho (the same as for the symmetric kind, in Prr's
 * coordinates) adds the couplings -W'Sigma_x W that Pst cannot hold: the
 * prior embed(theta_Z) + rho is in Prr. Hence psi = psi_Prr(prior) + chi,
 * and the mean coordinates are the symmetric kind's joint moments with
 * the latent block projected back onto Pst (the pull-back of the
 * embedding), which makes "E-step statistics minus total weight times
 * to_mean" the exact gradient. No closed-form M-step exists (the
 * projected latent moments do not determine the prior's couplings): these
 * kinds are fitted by gradient. The self-tests compare both kinds with
 * their explicit marginals and their gradients with finite differences.
 *
 * The samplers' Gaussian x | z (hm_lgm_draw_x) and exact Boltzmann draws
 * (hm_lgm_bm_cdf, hm_lgm_bm_draw) are shared with contrastive divergence
 * (boltzmann_lgm.c).
 *
 * Workspace: the routines carve their scratch from the caller's block in
 * order (take()), so each routine's need is a sum of the shapes it uses;
 * hm_lgm_work_len() bounds all of them. Full matrices passed to linalg.c
 * are column-major with both triangles (symmetric ones read the same
 * either way); matrices in parameter vectors are row-major. The self-tests
 * are in selftest_lgm.c.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "hm_kernel.h"
#include "hm_specfun.h"
#include "lgm_common.h"
#include "linalg.h"

// Smallest residual variance, relative to the second moment it is computed
// from, that the M-step accepts: 1000 ulps, the rounding level of the
// differences involved (the same rank test as fam_normal.c). Below it the
// regression explains x exactly and Sigma_x is singular.
#define MIN_REL_VAR (1000.0 * DBL_EPSILON)

// Largest parameter length a harmonium may have (as for families).
#define MAX_DIM (1LL << 30)

// --- layout helpers ------------------------------------------------------------

// 1 for the restricted-posterior kinds, whose theta_Z is not in the prior
// family's coordinates.
static int is_asym(const hm_harmonium *h) {
    return h->kind == HM_HM_LGM_DIAG || h->kind == HM_HM_BOLTZMANN_LGM_MF;
}

// --- the likelihood in loading form ------------------------------------------------

/*
 * Factors P_x from theta_xx in the observable rep (theory.md 2.7: full
 * diagonal -2 theta_ii, off-diagonal -theta_ij; diagonal -2 theta_i;
 * isotropic -(2/p) theta) and solves for b and A. The full rep solves
 * [W | theta_x] in one dpotrs call with a p x (q + 1) right-hand side that
 * is released afterwards. Scratch: p + p q + p^2 (kept) + p (q + 1)
 * (transient). HM_EDOM for non-finite entries, HM_ENOTPD unless P_x is
 * positive definite.
 */
hm_status
hm_lgm_like_factor(const hm_harmonium *h, const double *theta, lgm_like *L, double **cur) {
    const hm_family *obs = h->obs;
    const int p = obs->n, q = h->mz;
    const double *thx = theta, *th2 = theta + p, *W = theta + obs->dim;
    if (!all_finite(theta, lat_offset(h))) {
        return HM_EDOM;
    }
    L->b = take(cur, (size_t)p);
    L->A = take(cur, (size_t)p * (size_t)q);
    double logdet = 0.0;
    if (obs->rep == HM_COV_FULL) {
        double *a = take(cur, (size_t)p * (size_t)p);
        for (int i = 0; i < p; i++) {
            for (int j = i; j < p; j++) {
                double v = th2[lgm_pidx(p, i, j)];
                double pij = (i == j) ? -2.0 * v : -v;
                a[midx(p, i, j)] = pij;
                a[midx(p, j, i)] = pij;
            }
        }
        hm_status st = hm_la_chol(p, a);
        if (st != HM_OK) {
            return st;
        }
        double *rhs = take(cur, (size_t)p * (size_t)(q + 1));
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < q; j++) {
                rhs[midx(p, i, j)] = W[(size_t)i * (size_t)q + (size_t)j];
            }
            rhs[midx(p, i, q)] = thx[i];
        }
        st = hm_la_chol_solve(p, q + 1, a, rhs);
        if (st != HM_OK) {
            return st;
        }
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < q; j++) {
                L->A[(size_t)i * (size_t)q + (size_t)j] = rhs[midx(p, i, j)];
            }
            L->b[i] = rhs[midx(p, i, q)];
        }
        // The right-hand side was the last block carved: hand it back.
        *cur = rhs;
        logdet = hm_la_chol_logdet(p, a);
        L->fac = a;
    } else {
        double *pr = take(cur, (size_t)p);
        for (int i = 0; i < p; i++) {
            pr[i] = obs->rep == HM_COV_DIAG ? -2.0 * th2[i] : -2.0 * th2[0] / (double)p;
            if (!(pr[i] > 0.0)) {
                return HM_ENOTPD;
            }
            logdet += log(pr[i]);
            L->b[i] = thx[i] / pr[i];
            for (int j = 0; j < q; j++) {
                L->A[(size_t)i * (size_t)q + (size_t)j] =
                    W[(size_t)i * (size_t)q + (size_t)j] / pr[i];
            }
        }
        L->fac = pr;
    }
    double quad = 0.0;
    for (int i = 0; i < p; i++) {
        quad += thx[i] * L->b[i];
    }
    L->logdet = logdet;
    L->chi = 0.5 * quad - 0.5 * logdet;
    return HM_OK;
}

/*
 * rho[lat->dim] from the loading form: W'b and M = W'Sigma_x W = W'A,
 * joined as a location and a precision decrease in the latent coordinates
 * (see the file comment). Only i <= j of the symmetric M is formed.
 */
static void like_rho(const hm_harmonium *h, const double *theta, const lgm_like *L, double *rho) {
    const int p = h->obs->n, q = h->mz;
    const double *W = theta + h->obs->dim;
    for (int i = 0; i < q; i++) {
        double wb = 0.0;
        for (int k = 0; k < p; k++) {
            wb += W[(size_t)k * (size_t)q + (size_t)i] * L->b[k];
        }
        for (int j = i; j < q; j++) {
            double m = 0.0;
            for (int k = 0; k < p; k++) {
                m += W[(size_t)k * (size_t)q + (size_t)i] * L->A[(size_t)k * (size_t)q + (size_t)j];
            }
            if (is_boltzmann(h)) {
                rho[lgm_pidx(q, i, j)] = (i == j) ? wb + 0.5 * m : m;
            } else {
                rho[(size_t)q + lgm_pidx(q, i, j)] = (i == j) ? 0.5 * m : m;
            }
        }
        if (!is_boltzmann(h)) {
            rho[i] = wb;
        }
    }
}

// --- latent coordinates ----------------------------------------------------------------

/*
 * The latent mean m[q] and second moment S = E[z z'] (q x q, both
 * triangles) from latent mean coordinates: the Normal stores (m, packed
 * S); the Boltzmann machine stores packed S only, with E[z_i] = E[z_i^2]
 * on its diagonal.
 */
void hm_lgm_lat_moments(const hm_harmonium *h, const double *etaz, double *m, double *S) {
    const int q = h->mz;
    const double *s2 = is_boltzmann(h) ? etaz : etaz + q;
    for (int i = 0; i < q; i++) {
        m[i] = is_boltzmann(h) ? etaz[lgm_pidx(q, i, i)] : etaz[i];
        for (int j = i; j < q; j++) {
            double v = s2[lgm_pidx(q, i, j)];
            S[midx(q, i, j)] = v;
            S[midx(q, j, i)] = v;
        }
    }
}

// The precision of a full Normal(q) from its packed second-order natural
// parameters: diagonal -2 theta_ii, off-diagonal -theta_ij (theory.md 2.7).
void hm_lgm_lat_precision(int q, const double *th2, double *a) {
    for (int i = 0; i < q; i++) {
        for (int j = i; j < q; j++) {
            double v = th2[lgm_pidx(q, i, j)];
            double pij = (i == j) ? -2.0 * v : -v;
            a[midx(q, i, j)] = pij;
            a[midx(q, j, i)] = pij;
        }
    }
}

/*
 * embed(theta_Z) added into prior coordinates (theory.md 1.3). The
 * diagonal Normal's -P_ii/2 is exactly the full Normal's packed diagonal
 * entry for the same precision (theory.md 2.7), and a Bernoulli bias is a
 * Boltzmann machine's diagonal coupling (z_i^2 = z_i, theory.md 2.11), so
 * both embeddings are copies into the diagonal with zero couplings: the
 * embedded family has the same log-partition (a product of independent
 * units).
 */
void hm_lgm_embed_latent(const hm_harmonium *h, const double *theta_z, double *prior) {
    const int q = h->mz;
    if (h->kind == HM_HM_LGM_DIAG) {
        for (int i = 0; i < q; i++) {
            prior[i] += theta_z[i];
            prior[(size_t)q + lgm_pidx(q, i, i)] += theta_z[q + i];
        }
    } else if (h->kind == HM_HM_BOLTZMANN_LGM_MF) {
        for (int i = 0; i < q; i++) {
            prior[lgm_pidx(q, i, i)] += theta_z[i];
        }
    } else {
        for (int i = 0; i < h->lat->dim; i++) {
            prior[i] += theta_z[i];
        }
    }
}

/*
 * The pull-back of the embedding in mean coordinates: the prior's mean
 * coordinates pm[prr.dim] projected onto the posterior family's (the
 * gradient of psi_Prr(embed(theta)) in theta is embed' eta_Prr). Diagonal
 * Normal: (E[z], diagonal of E[z z']); Bernoulli: the diagonal E[z_i].
 * Symmetric kinds: a copy.
 */
static void project_latent(const hm_harmonium *h, const double *pm, double *etaz) {
    const int q = h->mz;
    if (h->kind == HM_HM_LGM_DIAG) {
        for (int i = 0; i < q; i++) {
            etaz[i] = pm[i];
            etaz[q + i] = pm[(size_t)q + lgm_pidx(q, i, i)];
        }
    } else if (h->kind == HM_HM_BOLTZMANN_LGM_MF) {
        for (int i = 0; i < q; i++) {
            etaz[i] = pm[lgm_pidx(q, i, i)];
        }
    } else {
        memcpy(etaz, pm, (size_t)h->lat->dim * sizeof(double));
    }
}

// --- descriptor and scratch ------------------------------------------------------------

hm_status hm_lgm_init(hm_harmonium *h) {
    const hm_family *obs = h->obs, *lat = h->lat;
    if (obs->kind != HM_FAM_NORMAL) {
        return HM_EINVAL;
    }
    if (h->kind == HM_HM_LGM) {
        if (lat->kind != HM_FAM_NORMAL || lat->rep != HM_COV_FULL) {
            return HM_EINVAL;
        }
    } else if (h->kind == HM_HM_BOLTZMANN_LGM) {
        if (lat->kind != HM_FAM_BOLTZMANN) {
            return HM_EINVAL;
        }
    } else if (h->kind == HM_HM_LGM_DIAG) {
        if (lat->kind != HM_FAM_NORMAL || lat->rep != HM_COV_DIAG) {
            return HM_EINVAL;
        }
    } else if (h->kind == HM_HM_BOLTZMANN_LGM_MF) {
        // The prior is enumerated: at most HM_BOLTZMANN_MAX_UNITS units.
        if (lat->kind != HM_FAM_BERNOULLI || lat->n > HM_BOLTZMANN_MAX_UNITS) {
            return HM_EINVAL;
        }
    } else {
        return HM_EINVAL;
    }
    // The interaction matrix must leave the parameter vector indexable, and
    // p x p factors of the observable must fit the Fortran integer range.
    long long p = obs->n, q = lat->n;
    if ((long long)obs->dim + p * q + (long long)lat->dim > MAX_DIM || p * p > MAX_DIM) {
        return HM_EOVERFLOW;
    }
    // The prior family: the richer family Pst embeds into, or the latent
    // family itself (hm_hm_init has copied it already).
    if (h->kind == HM_HM_LGM_DIAG) {
        hm_status st = hm_family_init(&h->prr, HM_FAM_NORMAL, lat->n, HM_COV_FULL, 0);
        if (st != HM_OK) {
            return st;
        }
    } else if (h->kind == HM_HM_BOLTZMANN_LGM_MF) {
        hm_status st = hm_family_init(&h->prr, HM_FAM_BOLTZMANN, lat->n, 0, 0);
        if (st != HM_OK) {
            return st;
        }
    } else {
        h->prr = *lat;
    }
    h->mx = obs->n;
    h->mz = lat->n;
    return HM_OK;
}

/*
 * A bound on every routine's carve-up below (the M-step is the largest:
 * two p x p matrices, three p x q and two p x (q + 1) blocks, the latent
 * covariance, the prior and the latent family's scratch), with the
 * families' own scratch for the maps delegated to them.
 */
size_t hm_lgm_work_len(const hm_harmonium *h) {
    const size_t p = (size_t)h->mx, q = (size_t)h->mz, dz = (size_t)h->lat->dim;
    // Vectors in the prior family's coordinates (the prior and, for the
    // restricted kinds, its mean coordinates before the projection).
    const size_t dp = (size_t)h->prr.dim;
    const size_t fl = hm_fam_work_len(h->lat), fp = hm_fam_work_len(&h->prr);
    return 3 * p * p + 4 * p * q + 3 * p * (q + 1) + 3 * p + 2 * q * q + 2 * q + 2 * dz + 2 * dp +
           hm_fam_work_len(h->obs) + (fl > fp ? fl : fp) + 16;
}

// The Gibbs sampler of a Boltzmann prior (and the full Normal's) needs the
// family's sampling scratch; the exact mean-field kind's sampler needs its
// 2^q cumulative state probabilities instead.
size_t hm_lgm_sample_work_len(const hm_harmonium *h, int n) {
    if (h->kind == HM_HM_BOLTZMANN_LGM_MF) {
        return hm_lgm_work_len(h) + ((size_t)1 << h->mz);
    }
    return hm_lgm_work_len(h) + hm_fam_sample_work_len(&h->prr, n);
}

// --- conjugation -----------------------------------------------------------------------

hm_status
hm_lgm_rho_chi(const hm_harmonium *h, const double *theta, double *rho, double *chi, double *work) {
    double *cur = work;
    lgm_like L;
    hm_status st = hm_lgm_like_factor(h, theta, &L, &cur);
    if (st != HM_OK) {
        return st;
    }
    like_rho(h, theta, &L, rho);
    *chi = L.chi;
    return HM_OK;
}

// --- mean coordinates ------------------------------------------------------------------

/*
 * The joint moments (theory.md 3.2 "joint Gaussian view", 3.3 by
 * enumeration): the prior theta_Z + rho gives m = E[z] and S = E[z z']
 * through the latent family's to_mean (closed form for a Normal, 2^q
 * states for a Boltzmann machine), and x | z ~ N(A z + b, Sigma_x) gives
 *   E[x] = A m + b,   E[x z'] = A S + b m',
 *   E[x x'] = Sigma_x + A S A' + u b' + b u' + b b',  u = A m,
 * projected onto the observable rep (diagonal; mean of the diagonal).
 * Cost O(p^2 q + p^3) for the full rep, O(p q^2) otherwise, plus the
 * latent to_mean.
 */
hm_status hm_lgm_to_mean(const hm_harmonium *h, const double *theta, double *eta, double *work) {
    const hm_family *obs = h->obs;
    const int p = obs->n, q = h->mz, dp = h->prr.dim, rep = obs->rep;
    const size_t off = lat_offset(h);
    double *cur = work;
    lgm_like L;
    hm_status st = hm_lgm_like_factor(h, theta, &L, &cur);
    if (st != HM_OK) {
        return st;
    }
    double *prior = take(&cur, (size_t)dp);
    like_rho(h, theta, &L, prior);
    hm_lgm_embed_latent(h, theta + off, prior);
    // The latent block of eta is the prior's own mean coordinates (for the
    // restricted kinds staged in pm and projected onto Pst at the end); the
    // family's scratch after cur is transient.
    double *etaz = eta + off;
    double *pm = is_asym(h) ? take(&cur, (size_t)dp) : etaz;
    st = hm_fam_to_mean(&h->prr, prior, pm, cur);
    if (st != HM_OK) {
        return st;
    }
    double *m = take(&cur, (size_t)q);
    double *S = take(&cur, (size_t)q * (size_t)q);
    double *AS = take(&cur, (size_t)p * (size_t)q);
    double *u = take(&cur, (size_t)p);
    hm_lgm_lat_moments(h, pm, m, S);
    if (is_asym(h)) {
        project_latent(h, pm, etaz);
    }
    double *cross = eta + obs->dim;
    const double *A = L.A, *b = L.b;
    for (int i = 0; i < p; i++) {
        double ui = 0.0;
        for (int j = 0; j < q; j++) {
            double v = 0.0;
            for (int k = 0; k < q; k++) {
                v += A[(size_t)i * (size_t)q + (size_t)k] * S[midx(q, k, j)];
            }
            AS[(size_t)i * (size_t)q + (size_t)j] = v;
            cross[(size_t)i * (size_t)q + (size_t)j] = v + b[i] * m[j];
            ui += A[(size_t)i * (size_t)q + (size_t)j] * m[j];
        }
        u[i] = ui;
        eta[i] = ui + b[i];
    }
    // Sigma_x: the inverse of the full factor, or the reciprocal precisions.
    double *sx = L.fac;
    if (rep == HM_COV_FULL) {
        sx = take(&cur, (size_t)p * (size_t)p);
        memcpy(sx, L.fac, (size_t)p * (size_t)p * sizeof(double));
        st = hm_la_chol_inv(p, sx);
        if (st != HM_OK) {
            return st;
        }
    }
    double *e2 = eta + p, iso = 0.0;
    for (int i = 0; i < p; i++) {
        // Only the entries the rep stores: the upper triangle, or the diagonal.
        const int jend = rep == HM_COV_FULL ? p : i + 1;
        for (int j = i; j < jend; j++) {
            double v = (rep == HM_COV_FULL) ? sx[midx(p, i, j)] : 1.0 / L.fac[i];
            for (int k = 0; k < q; k++) {
                v += AS[(size_t)i * (size_t)q + (size_t)k] * A[(size_t)j * (size_t)q + (size_t)k];
            }
            v += u[i] * b[j] + b[i] * u[j] + b[i] * b[j];
            if (rep == HM_COV_FULL) {
                e2[lgm_pidx(p, i, j)] = v;
            } else if (rep == HM_COV_DIAG) {
                e2[i] = v;
            } else {
                iso += v;
            }
        }
    }
    if (rep == HM_COV_ISO) {
        e2[0] = iso / (double)p;
    }
    return HM_OK;
}

// --- the M-step ------------------------------------------------------------------------

/*
 * theta = theta(eta), the closed-form M-step of theory.md 3.2
 * (to_natural_likelihood, then the prior, then join_conjugated):
 *   Sigma_z = S - m m',  C = E[x z'] - mu_x m',  A = C Sigma_z^-1,
 *   Sigma_x = R-projection of (E[x x'] - mu_x mu_x' - C A') + reg I,
 *   P_x = Sigma_x^-1,  W = P_x A,  theta_x = P_x (mu_x - A m),
 * i.e. the least-squares regression of x on z with the residual
 * covariance projected onto the rep (C A' = C Sigma_z^-1 C' is the
 * explained part). The prior is the latent family's to_natural of eta_Z
 * (closed form for a Normal, Newton for a Boltzmann machine) without the
 * ridge, which is a regularisation of Sigma_x only, and theta_Z = prior -
 * rho(theta_X, W). A is solved from Sigma_z A' = C' with the row-major
 * p x q C read as the column-major q x p C'. HM_ENOTPD when Sigma_z or the
 * residual Sigma_x is not positive definite (or a residual variance is
 * at the rounding level), HM_EDOM for non-finite input or a negative
 * ridge, and the latent family's statuses (HM_EDOM, HM_EMAXITER for a
 * Boltzmann prior). Cost O(p^3 + p^2 q) full, O(p q^2) otherwise.
 */
hm_status hm_lgm_to_natural(const hm_harmonium *h,
                            const double *eta,
                            double *theta,
                            double *work,
                            const hm_ctrl *ctl,
                            int *bad) {
    const hm_family *obs = h->obs, *lat = h->lat;
    const int p = obs->n, q = h->mz, dz = lat->dim, rep = obs->rep;
    const size_t off = lat_offset(h), pq = (size_t)p * (size_t)q;
    *bad = -1;
    // The restricted kinds have no closed-form M-step: their projected
    // latent moments do not determine the prior's couplings (theory.md 1.3).
    if (is_asym(h)) {
        return HM_EINVAL;
    }
    const double reg = ctl != NULL ? ctl->reg : 0.0;
    if (!(isfinite(reg) && reg >= 0.0)) {
        return HM_EDOM;
    }
    if (!all_finite(eta, off + (size_t)dz)) {
        return HM_EDOM;
    }
    const double *mux = eta, *e2 = eta + p, *cross = eta + obs->dim, *etaz = eta + off;
    double *cur = work;
    double *m = take(&cur, (size_t)q);
    double *sz = take(&cur, (size_t)q * (size_t)q);
    hm_lgm_lat_moments(h, etaz, m, sz);
    for (int i = 0; i < q; i++) {
        for (int j = 0; j < q; j++) {
            sz[midx(q, i, j)] -= m[i] * m[j];
        }
    }
    hm_status st = hm_la_chol(q, sz);
    if (st != HM_OK) {
        return st;
    }
    // C and A = C Sigma_z^-1, both p x q row-major.
    double *c = take(&cur, pq);
    double *a = take(&cur, pq);
    for (int i = 0; i < p; i++) {
        for (int j = 0; j < q; j++) {
            size_t r = (size_t)i * (size_t)q + (size_t)j;
            c[r] = cross[r] - mux[i] * m[j];
            a[r] = c[r];
        }
    }
    st = hm_la_chol_solve(q, p, sz, a);
    if (st != HM_OK) {
        return st;
    }
    // b = mu_x - A m, staged in the last column of the full rep's
    // right-hand side or kept per coordinate below.
    double *thx = theta, *th2 = theta + p, *W = theta + obs->dim;
    if (rep == HM_COV_FULL) {
        double *sx = take(&cur, (size_t)p * (size_t)p);
        for (int i = 0; i < p; i++) {
            for (int j = i; j < p; j++) {
                double v = e2[lgm_pidx(p, i, j)] - mux[i] * mux[j];
                for (int k = 0; k < q; k++) {
                    v -=
                        c[(size_t)i * (size_t)q + (size_t)k] * a[(size_t)j * (size_t)q + (size_t)k];
                }
                if (i == j) {
                    v += reg;
                }
                sx[midx(p, i, j)] = v;
                sx[midx(p, j, i)] = v;
            }
        }
        st = hm_la_chol(p, sx);
        if (st != HM_OK) {
            return st;
        }
        // Each squared pivot is a conditional residual variance; at the
        // rounding level of E[x_i^2] it is noise (fam_normal.c).
        for (int i = 0; i < p; i++) {
            double lii = sx[midx(p, i, i)];
            if (!(lii * lii > MIN_REL_VAR * (fabs(e2[lgm_pidx(p, i, i)]) + reg))) {
                return HM_ENOTPD;
            }
        }
        double *rhs = take(&cur, (size_t)p * (size_t)(q + 1));
        for (int i = 0; i < p; i++) {
            double bi = mux[i];
            for (int j = 0; j < q; j++) {
                double aij = a[(size_t)i * (size_t)q + (size_t)j];
                rhs[midx(p, i, j)] = aij;
                bi -= aij * m[j];
            }
            rhs[midx(p, i, q)] = bi;
        }
        st = hm_la_chol_solve(p, q + 1, sx, rhs);
        if (st == HM_OK) {
            st = hm_la_chol_inv(p, sx);
        }
        if (st != HM_OK) {
            return st;
        }
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < q; j++) {
                W[(size_t)i * (size_t)q + (size_t)j] = rhs[midx(p, i, j)];
            }
            thx[i] = rhs[midx(p, i, q)];
            for (int j = i; j < p; j++) {
                double pij = sx[midx(p, i, j)];
                th2[lgm_pidx(p, i, j)] = (i == j) ? -0.5 * pij : -pij;
            }
        }
    } else {
        // Residual variance per coordinate, E[x_i^2] - mu_i^2 - (C A')_ii,
        // or for the isotropic rep its mean over i (eta2 is a mean already).
        double *s2 = take(&cur, (size_t)p);
        double expl_mean = 0.0;
        for (int i = 0; i < p; i++) {
            double expl = mux[i] * mux[i];
            for (int k = 0; k < q; k++) {
                expl += c[(size_t)i * (size_t)q + (size_t)k] * a[(size_t)i * (size_t)q + (size_t)k];
            }
            s2[i] = (rep == HM_COV_DIAG ? e2[i] : 0.0) - expl + reg;
            expl_mean += expl / (double)p;
        }
        // ctl->lower bounds each residual (unique) variance from below, as
        // factanal's `lower` does: the fit drivers pass 0.005 for data
        // standardised to unit variance, so a Heywood case stays at the
        // bound instead of running to 0. Per coordinate, the expected
        // complete-data log-likelihood is unimodal in s2[i], so the bounded
        // update is still its constrained maximum and EM stays monotone.
        const double lower = (ctl != NULL && ctl->lower > 0.0) ? ctl->lower : 0.0;
        for (int i = 0; i < p; i++) {
            double m2 = rep == HM_COV_DIAG ? e2[i] : e2[0];
            if (rep == HM_COV_ISO) {
                s2[i] = e2[0] - expl_mean + reg;
            }
            if (s2[i] < lower) {
                s2[i] = lower;
            }
            if (!(s2[i] > MIN_REL_VAR * (fabs(m2) + reg))) {
                return HM_ENOTPD;
            }
        }
        for (int i = 0; i < p; i++) {
            double bi = mux[i];
            for (int j = 0; j < q; j++) {
                double aij = a[(size_t)i * (size_t)q + (size_t)j];
                W[(size_t)i * (size_t)q + (size_t)j] = aij / s2[i];
                bi -= aij * m[j];
            }
            thx[i] = bi / s2[i];
            if (rep == HM_COV_DIAG) {
                th2[i] = -0.5 / s2[i];
            }
        }
        if (rep == HM_COV_ISO) {
            th2[0] = -0.5 * (double)p / s2[0];
        }
    }
    // The prior without the ridge, then join_conjugated.
    double *prior = take(&cur, (size_t)dz);
    hm_ctrl c0;
    memset(&c0, 0, sizeof c0);
    if (ctl != NULL) {
        c0 = *ctl;
    }
    c0.reg = 0.0;
    st = hm_fam_to_natural(lat, etaz, prior, cur, &c0);
    if (st != HM_OK) {
        return st;
    }
    lgm_like L;
    st = hm_lgm_like_factor(h, theta, &L, &cur);
    if (st != HM_OK) {
        return st;
    }
    double *rho = take(&cur, (size_t)dz);
    like_rho(h, theta, &L, rho);
    for (int i = 0; i < dz; i++) {
        theta[off + (size_t)i] = prior[i] - rho[i];
    }
    return HM_OK;
}

// --- validity --------------------------------------------------------------------------

/*
 * Finite parameters, P_x positive definite, and for the Normal latent the
 * posterior precision P_z (from theta_zz, the same for every x) and the
 * prior precision P_z - W'Sigma_x W positive definite (theory.md 8). A
 * Boltzmann latent (or a Bernoulli posterior with a Boltzmann prior)
 * accepts any finite theta_Z. The diagonal posterior of lgm_diag needs
 * each -2 theta_zz,i > 0, and its full prior embed(P_z) - W'Sigma_x W
 * positive definite, which is the stronger condition: W'Sigma_x W is
 * positive semi-definite, so a positive definite prior implies a positive
 * definite posterior, but both are checked so that the status names the
 * first failure in the order the maps use them.
 */
hm_status hm_lgm_check_natural(const hm_harmonium *h, const double *theta, double *work) {
    const int q = h->mz, dz = h->lat->dim, dp = h->prr.dim;
    const size_t off = lat_offset(h);
    if (!all_finite(theta, off + (size_t)dz)) {
        return HM_EDOM;
    }
    double *cur = work;
    lgm_like L;
    hm_status st = hm_lgm_like_factor(h, theta, &L, &cur);
    if (st != HM_OK || is_boltzmann(h)) {
        return st;
    }
    // One q x q buffer serves both factorisations in turn.
    const double *thz = theta + off;
    double *a = take(&cur, (size_t)q * (size_t)q);
    if (h->kind == HM_HM_LGM_DIAG) {
        for (int i = 0; i < q; i++) {
            if (!(-2.0 * thz[q + i] > 0.0)) {
                return HM_ENOTPD;
            }
        }
    } else {
        hm_lgm_lat_precision(q, thz + q, a);
        st = hm_la_chol(q, a);
        if (st != HM_OK) {
            return st;
        }
    }
    double *prior = take(&cur, (size_t)dp);
    like_rho(h, theta, &L, prior);
    hm_lgm_embed_latent(h, thz, prior);
    hm_lgm_lat_precision(q, prior + q, a);
    return hm_la_chol(q, a);
}

// --- sampling --------------------------------------------------------------------------

/*
 * The noise factor of x | z: chol(Sigma_x), p x p column-major (from the
 * factor of P_x via its inverse, as fam_normal.c samples), or the p
 * standard deviations of the elementwise reps. Carved from *cur.
 */
hm_status hm_lgm_noise_factor(const hm_harmonium *h, const lgm_like *L, double **cur, double **sf) {
    const int p = h->obs->n;
    if (h->obs->rep == HM_COV_FULL) {
        *sf = take(cur, (size_t)p * (size_t)p);
        memcpy(*sf, L->fac, (size_t)p * (size_t)p * sizeof(double));
        hm_status st = hm_la_chol_inv(p, *sf);
        if (st == HM_OK) {
            st = hm_la_chol(p, *sf);
        }
        return st;
    }
    *sf = take(cur, (size_t)p);
    for (int i = 0; i < p; i++) {
        (*sf)[i] = 1.0 / sqrt(L->fac[i]);
    }
    return HM_OK;
}

// One draw x = A z + b + sf eps from the likelihood at z (eps: p scratch).
// The p normals are drawn first, in coordinate order, for every rep.
void hm_lgm_draw_x(const hm_harmonium *h,
                   const lgm_like *L,
                   const double *sf,
                   const double *z,
                   hm_rng *rng,
                   double *eps,
                   double *x) {
    const int p = h->obs->n, q = h->mz;
    for (int i = 0; i < p; i++) {
        eps[i] = rng->norm(rng->ctx);
    }
    if (h->obs->rep == HM_COV_FULL) {
        hm_la_trmv_lower(p, sf, eps);
    } else {
        for (int i = 0; i < p; i++) {
            eps[i] *= sf[i];
        }
    }
    for (int i = 0; i < p; i++) {
        double v = L->b[i] + eps[i];
        for (int k = 0; k < q; k++) {
            v += L->A[(size_t)i * (size_t)q + (size_t)k] * z[k];
        }
        x[i] = v;
    }
}

/*
 * The cumulative distribution of the Boltzmann machine th (packed, q
 * units) over its 2^q states, LSB-first codes as in fam_boltzmann.c, for
 * exact draws by inversion. Energies by the recurrence on the top unit t
 * of state s (r = s without t):
 *   E(s) = E(r) + theta_tt + sum_{j < t, j in r} theta_jt,
 * O(q 2^q) and exact up to q roundings per state; then the weights
 * exp(E - E_max) <= 1 (theory.md 8) are accumulated and normalised, with
 * the last entry set to exactly 1 so that every u < 1 finds a state.
 */
void hm_lgm_bm_cdf(int q, const double *th, double *cdf) {
    const size_t ns = (size_t)1 << q;
    double emax = 0.0;
    int t = 0;
    cdf[0] = 0.0;
    for (size_t s = 1; s < ns; s++) {
        if (s >> (t + 1)) {
            t++;
        }
        const size_t r = s ^ ((size_t)1 << t);
        double e = cdf[r] + th[lgm_pidx(q, t, t)];
        for (int j = 0; j < t; j++) {
            if ((r >> j) & 1u) {
                e += th[lgm_pidx(q, j, t)];
            }
        }
        cdf[s] = e;
        if (e > emax) {
            emax = e;
        }
    }
    double acc = 0.0;
    for (size_t s = 0; s < ns; s++) {
        acc += exp(cdf[s] - emax);
        cdf[s] = acc;
    }
    const double inv = 1.0 / acc;
    for (size_t s = 0; s < ns; s++) {
        cdf[s] *= inv;
    }
    cdf[ns - 1] = 1.0;
}

// The state whose cumulative interval contains u (the first s with
// cdf[s] > u, by bisection; states of probability 0 are never chosen),
// written as q binary units.
void hm_lgm_bm_draw(int q, const double *cdf, double u, double *z) {
    size_t lo = 0, hi = ((size_t)1 << q) - 1;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] > u) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    for (int k = 0; k < q; k++) {
        z[k] = (double)((lo >> k) & 1u);
    }
}

/*
 * Ancestral sampling (theory.md 1.3): all n latent draws from the prior
 * embed(theta_Z) + rho, then x = A z + b + chol(Sigma_x) eps row by row
 * (sigma_i eps_i for the elementwise reps), with Sigma_x factored once.
 * The prior draws come from the prior family's sampler (exact for a
 * Normal, Gibbs for a Boltzmann machine) except for the mean-field kind,
 * whose prior is drawn exactly and independently by inversion of its 2^q
 * state probabilities (one table for all n draws). z is n x q row-major,
 * x is n x p row-major.
 */
hm_status hm_lgm_sample(const hm_harmonium *h,
                        const double *theta,
                        int n,
                        hm_rng *rng,
                        double *x,
                        double *z,
                        double *work) {
    const int p = h->obs->n, q = h->mz, dp = h->prr.dim;
    const size_t off = lat_offset(h);
    if (n < 0) {
        return HM_EINVAL;
    }
    double *cur = work;
    lgm_like L;
    hm_status st = hm_lgm_like_factor(h, theta, &L, &cur);
    if (st != HM_OK) {
        return st;
    }
    double *prior = take(&cur, (size_t)dp);
    like_rho(h, theta, &L, prior);
    hm_lgm_embed_latent(h, theta + off, prior);
    double *sf;
    st = hm_lgm_noise_factor(h, &L, &cur, &sf);
    if (st != HM_OK) {
        return st;
    }
    double *eps = take(&cur, (size_t)p);
    if (h->kind == HM_HM_BOLTZMANN_LGM_MF) {
        double *cdf = take(&cur, (size_t)1 << q);
        hm_lgm_bm_cdf(q, prior, cdf);
        for (int r = 0; r < n; r++) {
            hm_lgm_bm_draw(q, cdf, rng->unif(rng->ctx), z + (size_t)r * (size_t)q);
        }
    } else {
        st = hm_fam_sample(&h->prr, prior, n, rng, z, cur);
        if (st != HM_OK) {
            return st;
        }
    }
    for (int r = 0; r < n; r++) {
        hm_lgm_draw_x(h, &L, sf, z + (size_t)r * (size_t)q, rng, eps, x + (size_t)r * (size_t)p);
    }
    return HM_OK;
}

// --- the hooks shared by the four kinds --------------------------------------------------

int hm_lgm_dim(const hm_harmonium *h) {
    return h->obs->dim + h->mx * h->mz + h->lat->dim;
}

// The q posterior means E[z | x] (unit means for a binary latent).
int hm_lgm_post_len(const hm_harmonium *h) {
    return h->mz;
}

int hm_lgm_z_len(const hm_harmonium *h) {
    return h->lat->d;
}

// rho lives in the prior family's coordinates (the richer family for the
// restricted-posterior kinds).
int hm_lgm_rho_len(const hm_harmonium *h) {
    return h->prr.dim;
}

// --- the blocked E-step (theory.md 3.2, 3.3) ----------------------------------------------
// The kinds couple the locations only, so the block's data X (B x p,
// row-major) itself is the coupled statistic: H = X W gives each row's
// posterior field W'x in one product (hm_kernel.c). What differs between a
// Normal latent (lgm.c) and a binary one (boltzmann_lgm.c) is the per-row
// posterior; the gathering of the observable half is shared.

/*
 * Full observable rep: theta_xx . S(x) = x'Q x and sum_i w_i x_i x_i' =
 * X'(w X), so the energies and the packed second moments come from two
 * products instead of p(p+1)/2 products per row. XQ (nr x p) holds X Q,
 * then w X; G is p x p.
 */
static void gather_full(const lgm_block_ctx *c,
                        int nr,
                        const double *X,
                        const double *wv,
                        double *e,
                        double *XQ,
                        double *G,
                        double *acc) {
    const int p = c->h->obs->n;
    hm_k_gemm_nn(nr, p, p, X, p, c->Q, p, XQ, p);
    for (int i = 0; i < nr; i++) {
        const double *xi = X + (size_t)i * (size_t)p;
        double *yi = XQ + (size_t)i * (size_t)p;
        double en = 0.0;
        for (int j = 0; j < p; j++) {
            en += (c->theta[j] + yi[j]) * xi[j];
            acc[j] += wv[i] * xi[j];
            yi[j] = wv[i] * xi[j];
        }
        e[i] += en;
    }
    memset(G, 0, (size_t)p * (size_t)p * sizeof(double));
    hm_k_gemm_tn_acc(nr, p, p, X, p, XQ, p, G, p);
    for (int i = 0; i < p; i++) {
        for (int j = i; j < p; j++) {
            acc[(size_t)p + lgm_pidx(p, i, j)] = G[(size_t)i * (size_t)p + (size_t)j];
        }
    }
}

void hm_lgm_gather(const lgm_block_ctx *c,
                   int r0,
                   int nr,
                   double *X,
                   double *s,
                   double *e,
                   double *wv,
                   double *acc,
                   double *XQ,
                   double *G) {
    const hm_family *obs = c->h->obs;
    const int p = obs->d, dx = obs->dim;
    const hm_data *data = c->data;
    const size_t ldx = (size_t)data->ldx;
    memset(acc, 0, (size_t)dx * sizeof(double));
    if (c->Q != NULL) {
        for (int i = 0; i < nr; i++) {
            const size_t row = (size_t)(r0 + i);
            double *xi = X + (size_t)i * (size_t)p;
            for (int j = 0; j < p; j++) {
                xi[j] = data->x[(size_t)j * ldx + row];
            }
            wv[i] = data->w ? data->w[row] : 1.0;
            e[i] = hm_fam_log_base(obs, xi);
        }
        gather_full(c, nr, X, wv, e, XQ, G, acc);
        return;
    }
    for (int i = 0; i < nr; i++) {
        const size_t row = (size_t)(r0 + i);
        double *xi = X + (size_t)i * (size_t)p;
        for (int j = 0; j < p; j++) {
            xi[j] = data->x[(size_t)j * ldx + row];
        }
        hm_fam_stat(obs, xi, s);
        const double wi = data->w ? data->w[row] : 1.0;
        double en = hm_fam_log_base(obs, xi);
        for (int j = 0; j < dx; j++) {
            en += c->theta[j] * s[j];
            acc[j] += wi * s[j];
        }
        e[i] = en;
        wv[i] = wi;
    }
}

size_t hm_lgm_thread_len(const hm_harmonium *h) {
    size_t B = (size_t)hm_estep_block_rows(h);
    size_t p = (size_t)h->mx, q = (size_t)h->mz;
    size_t len = B * p + 3 * B * q + 2 * B + (size_t)h->obs->dim + q * q + 8;
    if (h->obs->rep == HM_COV_FULL) {
        len += B * p + p * p; // X Q, then w X; and X' (w X)
    }
    return len;
}

// Shared scratch in front of the single-point scratch and the slots: the
// Normal latent's Sigma_post (q x q) and, for a full observable rep, the
// symmetric matrix Q of theta_xx (p x p).
static size_t head_len(const hm_harmonium *h) {
    size_t p = (size_t)h->mx, q = (size_t)h->mz;
    // Sigma_post, then room for the inverse Cholesky factor of the
    // posterior precision and its transpose (a kind's post_cov may fill
    // them), then Q.
    return 3 * q * q + 8 + (h->obs->rep == HM_COV_FULL ? p * p : 0);
}

size_t hm_lgm_estep_work_len(const hm_harmonium *h, size_t tlen, int threads) {
    return head_len(h) + hm_hm_work_len(h) + hm_blocks_work_len(hm_stats_len(h), tlen, threads);
}

hm_status hm_lgm_estep(const hm_harmonium *h,
                       const double *theta,
                       const hm_data *data,
                       const double *given,
                       double *stats,
                       double *logp,
                       double *post,
                       int threads,
                       double *work,
                       hm_lgm_post_cov_fn post_cov,
                       hm_block_fn fn,
                       size_t tlen) {
    // Statistics from given posterior means are a mixture device; a
    // Gaussian latent would need posterior covariances too.
    if (given != NULL) {
        return HM_EINVAL;
    }
    const int mx = h->mx, mz = h->mz, dx = h->obs->dim;
    const int slen = hm_stats_len(h), B = hm_estep_block_rows(h);
    double *T = work;
    double *hw = T + head_len(h);
    double *slots = hw + hm_hm_work_len(h);

    lgm_block_ctx c;
    c.h = h;
    c.thz = theta + dx + (size_t)mx * (size_t)mz;
    c.data = data;
    c.logp = logp;
    c.post = post;
    c.psi = 0.0;
    c.theta = theta;
    c.W = theta + dx;
    c.sig = T;
    c.half_logdet = 0.0;
    c.Q = NULL;
    // Full observable rep: Q with Q_ii = theta_ii and Q_ij = Q_ji =
    // theta_ij / 2 (each off-diagonal pair appears once in S(x)).
    if (h->obs->rep == HM_COV_FULL) {
        double *Q = T + 3 * (size_t)mz * (size_t)mz + 8;
        const double *th2 = theta + mx;
        for (int i = 0; i < mx; i++) {
            for (int j = i; j < mx; j++) {
                double v = th2[lgm_pidx(mx, i, j)];
                v = (i == j) ? v : 0.5 * v;
                Q[(size_t)i * (size_t)mx + (size_t)j] = v;
                Q[(size_t)j * (size_t)mx + (size_t)i] = v;
            }
        }
        c.Q = Q;
    }
    hm_status st = hm_hm_check_natural(h, theta, hw);
    if (st != HM_OK) {
        return st;
    }
    st = hm_hm_log_partition(h, theta, &c.psi, hw);
    if (st != HM_OK) {
        return st;
    }
    // The Normal latent's posterior covariance, once for all rows.
    if (post_cov != NULL) {
        st = post_cov(h, theta, T, &c.half_logdet);
        if (st != HM_OK) {
            return st;
        }
    }
    return hm_run_blocks(data->n, B, threads, slen, tlen, fn, &c, stats, slots, data->tree);
}
