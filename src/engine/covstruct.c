/*
 * covstruct.c: the covariance structures of a Gaussian mixture's M-step,
 * the parsimonious models of Celeux and Govaert (1995) under mclust's
 * names. Each component covariance is decomposed as
 *
 *     Sigma_k = lambda_k D_k A_k D_k',
 *
 * lambda_k = |Sigma_k|^(1/d) the volume, A_k diagonal with |A_k| = 1 the
 * shape, D_k orthogonal the orientation. The three letters of a name say,
 * in that order, whether volume, shape and orientation are Equal across
 * components or Vary; I for the shape is A = identity, I for the
 * orientation is D = identity (axis-aligned). So EII is lambda I, VVI a
 * free diagonal per component, EEE one common full matrix, VVV a free
 * full matrix per component.
 *
 * The M-step of a structure maximises, over the constrained Sigma_k, the
 * expected complete-data log-likelihood given the closed-form per-component
 * moments: with w_k = n_k / n and the scatter W_k = sum_i r_ik (x_i -
 * mu_k)(x_i - mu_k)' / n, it minimises
 *
 *     F = sum_k [ w_k log |Sigma_k| + tr(W_k Sigma_k^-1) ].
 *
 * Closed forms (Celeux & Govaert 1995): EII, VII, EEI, EVI, VVI, EEE, EEV,
 * EVV, VVV. VEI, VEV and VEE alternate the volumes and the common shape
 * (or the common matrix C = D A D') to convergence; the problem is convex
 * in the logarithms of volumes and shape, so the alternation reaches the
 * one minimum. EVE and VVE (common orientation, varying shapes) alternate
 * closed-form volumes and shapes with the majorisation-minimisation update
 * of the common D of Browne and McNicholas (2014, "Estimating common
 * principal components in high dimensions"), which mclust >= 5 uses too:
 * with Psi_k = (lambda_k A_k)^-1, sum_k tr(W_k D Psi_k D') is majorised at
 * D0 by a linear function of D, first through W_k - alpha_k I (alpha_k the
 * largest eigenvalue of W_k), then through Psi_k - beta_k I (beta_k the
 * largest element of Psi_k), each minimised over orthogonal D by the polar
 * factor of its gradient (an SVD). Like mclust's M-step, D starts at the
 * identity (and the shapes at 1) in every call, so the M-step is a pure
 * function of the moments. One difference from mclust (6.1): for VVE its
 * orientation step weights W_k by the shape A_k^-1 alone, leaving out
 * 1 / lambda_k, so its inner iteration settles where the orientation is
 * optimal for that objective rather than for F; here Psi_k = (lambda_k
 * A_k)^-1 and the step is the exact M-step (F at least as small; for EVE,
 * whose lambda is common, the two coincide).
 *
 * The iterative structures stop when no entry of any Sigma_k moves by more
 * than tol times the largest variance (EVE and VVE also when F, which the
 * sweeps decrease, stops decreasing in floating point: along an almost flat
 * orientation the majorisation steps crawl); after maxit sweeps they
 * return the last iterate with HM_EMAXITER.
 *
 * Matrices are column-major d x d (symmetric, both triangles).
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "linalg.h"

// mclust's names, indexed by enum hm_cov_struct (0: none).
static const char *const cs_names[HM_CS_N] = {"",    "EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE",
                                              "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV"};

const char *hm_cs_name(int cs) {
    return (cs >= 0 && cs < HM_CS_N) ? cs_names[cs] : "";
}

int hm_cs_rep(int cs) {
    if (cs <= HM_CS_FREE || cs >= HM_CS_N) {
        return -1;
    }
    const char *s = cs_names[cs];
    if (s[2] != 'I') {
        return HM_COV_FULL;
    }
    return s[1] == 'I' ? HM_COV_ISO : HM_COV_DIAG;
}

int hm_cs_tied(int cs) {
    return cs == HM_CS_EII || cs == HM_CS_EEI || cs == HM_CS_EEE;
}

int hm_cs_constrains(int cs) {
    return cs > HM_CS_FREE && cs < HM_CS_N && cs != HM_CS_VII && cs != HM_CS_VVI && cs != HM_CS_VVV;
}

size_t hm_cs_work_len(int d, int K) {
    size_t dd = (size_t)d * (size_t)d, kk = (size_t)K;
    return 2 * kk * dd + 2 * kk * (size_t)d + 8 * dd + 8 * (size_t)d + 2 * kk + 16;
}

// --- small helpers -----------------------------------------------------------

static size_t ix(size_t d, size_t i, size_t j) {
    return j * d + i;
}

static double trace(size_t d, const double *a) {
    double t = 0.0;
    for (size_t i = 0; i < d; i++) {
        t += a[ix(d, i, i)];
    }
    return t;
}

// Geometric mean of v[0..d-1]; 0 if an entry is not positive.
static double geomean(size_t d, const double *v) {
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        if (!(v[j] > 0.0)) {
            return 0.0;
        }
        s += log(v[j]);
    }
    return exp(s / (double)d);
}

// out = D diag(v) D' (D column-major d x d).
static void rotate_diag(size_t d, const double *D, const double *v, double *out) {
    for (size_t i = 0; i < d; i++) {
        for (size_t j = i; j < d; j++) {
            double s = 0.0;
            for (size_t l = 0; l < d; l++) {
                s += D[ix(d, i, l)] * v[l] * D[ix(d, j, l)];
            }
            out[ix(d, i, j)] = s;
            out[ix(d, j, i)] = s;
        }
    }
}

static void set_diag(size_t d, const double *v, double scale, double *out) {
    memset(out, 0, (size_t)d * (size_t)d * sizeof(double));
    for (size_t i = 0; i < d; i++) {
        out[ix(d, i, i)] = v[i] * scale;
    }
}

// Largest |a - b| over the K matrices, relative to the largest diagonal of b.
static double rel_change(size_t d, size_t K, const double *a, const double *b) {
    double num = 0.0, den = 0.0;
    size_t dd = (size_t)d * (size_t)d;
    for (size_t k = 0; k < K; k++) {
        for (size_t e = 0; e < dd; e++) {
            double t = fabs(a[k * dd + e] - b[k * dd + e]);
            num = t > num ? t : num;
        }
        for (size_t i = 0; i < d; i++) {
            double t = fabs(b[k * dd + ix(d, i, i)]);
            den = t > den ? t : den;
        }
    }
    return den > 0.0 ? num / den : num;
}

// log |a| of the symmetric positive definite a through its Cholesky factor
// (a is copied into f). HM_ENOTPD if a is not positive definite.
static hm_status logdet_pd(size_t d, const double *a, double *f, double *logdet) {
    memcpy(f, a, (size_t)d * (size_t)d * sizeof(double));
    hm_status st = hm_la_chol((int)d, f);
    if (st != HM_OK) {
        return st;
    }
    *logdet = hm_la_chol_logdet((int)d, f);
    return isfinite(*logdet) ? HM_OK : HM_ENOTPD;
}

// Eigenvalues (ascending, into val) and eigenvectors (columns of vec) of a.
static hm_status eigen(size_t d, const double *a, double *vec, double *val, double *work) {
    memcpy(vec, a, (size_t)d * (size_t)d * sizeof(double));
    return hm_la_syev((int)d, vec, val, work, (int)(3 * d));
}

// --- the alternation shared by VEI and VEV -------------------------------------

/*
 * Minimises sum_k [w_k d log lambda_k + sum_j b_kj / (lambda_k a_j)] over
 * lambda_k > 0 and a_j > 0 with prod a_j = 1: b (K x d, row k the
 * variances of component k along the common axes) are the diagonal of W_k
 * (VEI) or its eigenvalues in ascending order (VEV). Alternates a given
 * lambda and lambda given a.
 */
static hm_status alt_volume_shape(size_t d,
                                  size_t K,
                                  const double *w,
                                  const double *b,
                                  double *lam,
                                  double *a,
                                  double tol,
                                  int maxit,
                                  int *iters) {
    for (size_t k = 0; k < K; k++) {
        double s = 0.0;
        for (size_t j = 0; j < d; j++) {
            s += b[(size_t)k * d + j];
        }
        lam[k] = s / ((double)d * w[k]);
        if (!(lam[k] > 0.0) || !isfinite(lam[k])) {
            return HM_ENOTPD;
        }
    }
    for (int it = 1; it <= maxit; it++) {
        double ch = 0.0;
        for (size_t j = 0; j < d; j++) {
            double s = 0.0;
            for (size_t k = 0; k < K; k++) {
                s += b[(size_t)k * d + j] / lam[k];
            }
            a[d + j] = s;
        }
        double g = geomean(d, a + d);
        if (!(g > 0.0) || !isfinite(g)) {
            return HM_ENOTPD;
        }
        for (size_t j = 0; j < d; j++) {
            double v = a[d + j] / g;
            if (it > 1) {
                double t = fabs(v - a[j]) / v;
                ch = t > ch ? t : ch;
            }
            a[j] = v;
        }
        for (size_t k = 0; k < K; k++) {
            double s = 0.0;
            for (size_t j = 0; j < d; j++) {
                s += b[(size_t)k * d + j] / a[j];
            }
            double v = s / ((double)d * w[k]);
            double t = fabs(v - lam[k]) / v;
            ch = t > ch ? t : ch;
            lam[k] = v;
        }
        *iters = it;
        if (it > 1 && ch <= tol) {
            return HM_OK;
        }
    }
    return HM_EMAXITER;
}

// --- VEE: volumes and one common matrix C = D A D' with |C| = 1 -------------------

static hm_status solve_vee(size_t d,
                           size_t K,
                           const double *w,
                           const double *W,
                           double *sigma,
                           double tol,
                           int maxit,
                           double *work,
                           int *iters) {
    const size_t dd = (size_t)d * (size_t)d;
    double *lam = work;
    double *C = lam + K;
    double *F = C + dd;
    double *old = F + dd; /* K dd */
    for (size_t k = 0; k < K; k++) {
        lam[k] = trace(d, W + k * dd) / ((double)d * w[k]);
        if (!(lam[k] > 0.0) || !isfinite(lam[k])) {
            return HM_ENOTPD;
        }
    }
    for (int it = 1; it <= maxit; it++) {
        memset(C, 0, dd * sizeof(double));
        for (size_t k = 0; k < K; k++) {
            for (size_t e = 0; e < dd; e++) {
                C[e] += W[k * dd + e] / lam[k];
            }
        }
        double ld;
        hm_status st = logdet_pd(d, C, F, &ld);
        if (st != HM_OK) {
            return st;
        }
        double c = exp(ld / (double)d);
        for (size_t e = 0; e < dd; e++) {
            C[e] /= c;
        }
        // F holds chol of the unscaled C; its inverse times c is C^-1.
        st = hm_la_chol_inv((int)d, F);
        if (st != HM_OK) {
            return st;
        }
        for (size_t k = 0; k < K; k++) {
            double s = 0.0;
            for (size_t e = 0; e < dd; e++) {
                s += W[k * dd + e] * F[e];
            }
            lam[k] = c * s / ((double)d * w[k]);
            if (!(lam[k] > 0.0) || !isfinite(lam[k])) {
                return HM_ENOTPD;
            }
        }
        memcpy(old, sigma, (size_t)K * dd * sizeof(double));
        for (size_t k = 0; k < K; k++) {
            for (size_t e = 0; e < dd; e++) {
                sigma[k * dd + e] = lam[k] * C[e];
            }
        }
        *iters = it;
        if (it > 1 && rel_change(d, K, sigma, old) <= tol) {
            return HM_OK;
        }
    }
    return HM_EMAXITER;
}

// --- EVE and VVE: one common orientation ----------------------------------------

// D <- the orthogonal minimiser of tr(G' D), -U V' for G = U S V'. G is
// destroyed; u, vt, s, sw are scratch (d x d, d x d, d, 5 d).
static hm_status polar_min(size_t d, double *G, double *D, double *u, double *vt, double *s, double *sw) {
    hm_status st = hm_la_gesvd((int)d, G, s, u, vt, sw, (int)(5 * d));
    if (st != HM_OK) {
        return st;
    }
    for (size_t i = 0; i < d; i++) {
        for (size_t j = 0; j < d; j++) {
            double t = 0.0;
            for (size_t l = 0; l < d; l++) {
                t += u[ix(d, i, l)] * vt[ix(d, l, j)];
            }
            D[ix(d, i, j)] = -t;
        }
    }
    return HM_OK;
}

static hm_status solve_common_orientation(int cs,
                                          size_t d,
                                          size_t K,
                                          const double *w,
                                          const double *W,
                                          double *sigma,
                                          double tol,
                                          int maxit,
                                          double *work,
                                          int *iters) {
    const size_t dd = (size_t)d * (size_t)d;
    double *D = work;
    double *M = D + dd;
    double *G = M + dd;
    double *u = G + dd;
    double *vt = u + dd;
    double *ev = vt + dd;     /* dd */
    double *alpha = ev + dd;  /* K */
    double *psi = alpha + K;  /* K x d */
    double *s = psi + (size_t)K * d; /* d */
    double *sw = s + d;       /* 5 d */
    double *old = sw + 5 * (size_t)d; /* K dd */
    for (size_t k = 0; k < K; k++) {
        hm_status st = eigen(d, W + k * dd, ev, s, sw);
        if (st != HM_OK) {
            return st;
        }
        alpha[k] = s[d - 1];
    }
    // Start as mclust does: D = I and unit shapes, the majorisation steps
    // first.
    memset(D, 0, dd * sizeof(double));
    for (size_t i = 0; i < d; i++) {
        D[ix(d, i, i)] = 1.0;
    }
    for (size_t e = 0; e < K * d; e++) {
        psi[e] = 1.0;
    }
    double fprev = HUGE_VAL;
    for (int it = 1; it <= maxit; it++) {
        // First majorisation: G = sum_k (W_k - alpha_k I) D Psi_k.
        memset(G, 0, dd * sizeof(double));
        for (size_t k = 0; k < K; k++) {
            const double *p = psi + (size_t)k * d;
            for (size_t i = 0; i < d; i++) {
                for (size_t l = 0; l < d; l++) {
                    M[ix(d, i, l)] = W[k * dd + ix(d, i, l)] - (i == l ? alpha[k] : 0.0);
                }
            }
            for (size_t j = 0; j < d; j++) {
                for (size_t i = 0; i < d; i++) {
                    double t = 0.0;
                    for (size_t l = 0; l < d; l++) {
                        t += M[ix(d, i, l)] * D[ix(d, l, j)];
                    }
                    G[ix(d, i, j)] += t * p[j];
                }
            }
        }
        hm_status st = polar_min(d, G, D, u, vt, s, sw);
        if (st != HM_OK) {
            return st;
        }
        // Second majorisation: G = sum_k W_k D (Psi_k - beta_k I).
        memset(G, 0, dd * sizeof(double));
        for (size_t k = 0; k < K; k++) {
            const double *p = psi + (size_t)k * d;
            double beta = p[0];
            for (size_t j = 1; j < d; j++) {
                beta = p[j] > beta ? p[j] : beta;
            }
            for (size_t j = 0; j < d; j++) {
                for (size_t i = 0; i < d; i++) {
                    double t = 0.0;
                    for (size_t l = 0; l < d; l++) {
                        t += W[k * dd + ix(d, i, l)] * D[ix(d, l, j)];
                    }
                    G[ix(d, i, j)] += t * (p[j] - beta);
                }
            }
        }
        st = polar_min(d, G, D, u, vt, s, sw);
        if (st != HM_OK) {
            return st;
        }
        // Volumes and shapes given D: the variances b_kj of W_k along the
        // axes of D; EVE: lambda = sum_k geomean(b_k), A_k = b_k /
        // geomean(b_k); VVE: lambda_k A_k = b_k / w_k.
        double lam = 0.0;
        for (size_t k = 0; k < K; k++) {
            double *b = psi + (size_t)k * d;
            for (size_t j = 0; j < d; j++) {
                double t = 0.0;
                for (size_t i = 0; i < d; i++) {
                    double r = 0.0;
                    for (size_t l = 0; l < d; l++) {
                        r += W[k * dd + ix(d, i, l)] * D[ix(d, l, j)];
                    }
                    t += D[ix(d, i, j)] * r;
                }
                b[j] = t;
            }
            double g = geomean(d, b);
            if (!(g > 0.0) || !isfinite(g)) {
                return HM_ENOTPD;
            }
            if (cs == HM_CS_EVE) {
                lam += g;
                for (size_t j = 0; j < d; j++) {
                    b[j] /= g;
                }
            } else {
                for (size_t j = 0; j < d; j++) {
                    b[j] /= w[k];
                }
            }
        }
        // F at these volumes and shapes, up to the constant d: d log lambda
        // (EVE), sum_k w_k log |lambda_k A_k| (VVE).
        double f = 0.0;
        if (cs == HM_CS_EVE) {
            f = (double)d * log(lam);
        } else {
            for (size_t k = 0; k < K; k++) {
                for (size_t j = 0; j < d; j++) {
                    f += w[k] * log(psi[k * d + j]);
                }
            }
        }
        // psi now holds the diagonal of lambda_k A_k (EVE: A_k; lambda apart).
        memcpy(old, sigma, (size_t)K * dd * sizeof(double));
        for (size_t k = 0; k < K; k++) {
            double *b = psi + (size_t)k * d;
            if (cs == HM_CS_EVE) {
                for (size_t j = 0; j < d; j++) {
                    b[j] *= lam;
                }
            }
            rotate_diag(d, D, b, sigma + k * dd);
            for (size_t j = 0; j < d; j++) {
                b[j] = 1.0 / b[j];
            }
        }
        *iters = it;
        // Converged when Sigma stops moving, or when F no longer decreases
        // in floating point (a flat orientation, e.g. near-spherical shapes,
        // along which the majorisation steps crawl).
        if (it > 1 && (rel_change(d, K, sigma, old) <= tol || !(f < fprev))) {
            return HM_OK;
        }
        fprev = f;
    }
    return HM_EMAXITER;
}

// --- the dispatcher ------------------------------------------------------------------

hm_status hm_cs_covariances(int cs,
                            int d_in,
                            int K_in,
                            const double *w,
                            const double *W,
                            double *sigma,
                            double tol,
                            int maxit,
                            double *work,
                            int *iters) {
    *iters = 0;
    if (cs < HM_CS_FREE || cs >= HM_CS_N || d_in < 1 || K_in < 1 || !w || !W || !sigma || !work) {
        return HM_EINVAL;
    }
    const size_t d = (size_t)d_in, K = (size_t)K_in;
    if (!(tol >= 0.0) || maxit < 1) {
        return HM_EINVAL;
    }
    const size_t dd = (size_t)d * (size_t)d;
    for (size_t k = 0; k < K; k++) {
        if (!(w[k] > 0.0) || !isfinite(w[k])) {
            return HM_ENOPROG;
        }
    }
    if (!hm_all_finite(W, (int)(K * dd))) {
        return HM_EDOM;
    }
    // Scratch: T (dd), vectors (K d), eigenvectors (K dd), then the
    // iterative solvers' own scratch.
    double *T = work;
    double *vals = T + dd;
    double *vecs = vals + (size_t)K * d;
    double *rest = vecs + (size_t)K * dd;
    double *sw = rest; /* 3 d for syev */
    hm_status st = HM_OK;
    switch (cs) {
    case HM_CS_FREE:
    case HM_CS_VVV:
        for (size_t k = 0; k < K; k++) {
            for (size_t e = 0; e < dd; e++) {
                sigma[k * dd + e] = W[k * dd + e] / w[k];
            }
        }
        break;
    case HM_CS_VVI:
    case HM_CS_VII:
        for (size_t k = 0; k < K; k++) {
            for (size_t i = 0; i < d; i++) {
                vals[i] = cs == HM_CS_VVI ? W[k * dd + ix(d, i, i)] : trace(d, W + k * dd) / (double)d;
            }
            set_diag(d, vals, 1.0 / w[k], sigma + k * dd);
        }
        break;
    case HM_CS_EII:
    case HM_CS_EEI:
    case HM_CS_EEE:
        memset(T, 0, dd * sizeof(double));
        for (size_t k = 0; k < K; k++) {
            for (size_t e = 0; e < dd; e++) {
                T[e] += W[k * dd + e];
            }
        }
        for (size_t i = 0; i < d; i++) {
            vals[i] = cs == HM_CS_EII ? trace(d, T) / (double)d : T[ix(d, i, i)];
        }
        for (size_t k = 0; k < K; k++) {
            if (cs == HM_CS_EEE) {
                memcpy(sigma + k * dd, T, dd * sizeof(double));
            } else {
                set_diag(d, vals, 1.0, sigma + k * dd);
            }
        }
        break;
    case HM_CS_EVI: {
        // Sigma_k = lambda A_k: A_k = diag(W_k) / geomean, lambda = sum of
        // the geometric means.
        double lam = 0.0;
        for (size_t k = 0; k < K; k++) {
            for (size_t i = 0; i < d; i++) {
                vals[(size_t)k * d + i] = W[k * dd + ix(d, i, i)];
            }
            double g = geomean(d, vals + (size_t)k * d);
            if (!(g > 0.0)) {
                return HM_ENOTPD;
            }
            lam += g;
            for (size_t i = 0; i < d; i++) {
                vals[(size_t)k * d + i] /= g;
            }
        }
        for (size_t k = 0; k < K; k++) {
            set_diag(d, vals + (size_t)k * d, lam, sigma + k * dd);
        }
        break;
    }
    case HM_CS_EVV: {
        // Sigma_k = lambda C_k: C_k = W_k / |W_k|^(1/d), lambda = sum_k
        // |W_k|^(1/d).
        double lam = 0.0;
        for (size_t k = 0; k < K; k++) {
            double ld;
            st = logdet_pd(d, W + k * dd, T, &ld);
            if (st != HM_OK) {
                return st;
            }
            vals[k] = exp(ld / (double)d);
            lam += vals[k];
        }
        for (size_t k = 0; k < K; k++) {
            for (size_t e = 0; e < dd; e++) {
                sigma[k * dd + e] = lam * W[k * dd + e] / vals[k];
            }
        }
        break;
    }
    case HM_CS_EEV:
    case HM_CS_VEV: {
        // W_k = L_k Omega_k L_k' with eigenvalues ascending; D_k = L_k and a
        // common shape over the sorted eigenvalues. EEV: Sigma_k = L_k
        // (sum_j Omega_j) L_k' (lambda A = sum_j Omega_j).
        for (size_t k = 0; k < K; k++) {
            st = eigen(d, W + k * dd, vecs + k * dd, vals + (size_t)k * d, sw);
            if (st != HM_OK) {
                return st;
            }
            if (!(vals[(size_t)k * d] > 0.0)) {
                return HM_ENOTPD;
            }
        }
        double *shape = rest;            /* 2 d */
        double *lam = shape + 2 * (size_t)d; /* K */
        if (cs == HM_CS_EEV) {
            for (size_t j = 0; j < d; j++) {
                double s = 0.0;
                for (size_t k = 0; k < K; k++) {
                    s += vals[(size_t)k * d + j];
                }
                shape[j] = s;
            }
            for (size_t k = 0; k < K; k++) {
                rotate_diag(d, vecs + k * dd, shape, sigma + k * dd);
            }
        } else {
            st = alt_volume_shape(d, K, w, vals, lam, shape, tol, maxit, iters);
            if (st != HM_OK && st != HM_EMAXITER) {
                return st;
            }
            for (size_t k = 0; k < K; k++) {
                for (size_t j = 0; j < d; j++) {
                    shape[d + j] = lam[k] * shape[j];
                }
                rotate_diag(d, vecs + k * dd, shape + d, sigma + k * dd);
            }
        }
        break;
    }
    case HM_CS_VEI: {
        double *shape = rest;
        double *lam = shape + 2 * (size_t)d;
        for (size_t k = 0; k < K; k++) {
            for (size_t i = 0; i < d; i++) {
                vals[(size_t)k * d + i] = W[k * dd + ix(d, i, i)];
            }
        }
        st = alt_volume_shape(d, K, w, vals, lam, shape, tol, maxit, iters);
        if (st != HM_OK && st != HM_EMAXITER) {
            return st;
        }
        for (size_t k = 0; k < K; k++) {
            set_diag(d, shape, lam[k], sigma + k * dd);
        }
        break;
    }
    case HM_CS_VEE:
        memset(sigma, 0, (size_t)K * dd * sizeof(double));
        st = solve_vee(d, K, w, W, sigma, tol, maxit, rest, iters);
        break;
    case HM_CS_EVE:
    case HM_CS_VVE:
        memset(sigma, 0, (size_t)K * dd * sizeof(double));
        st = solve_common_orientation(cs, d, K, w, W, sigma, tol, maxit, rest, iters);
        break;
    default:
        return HM_EINVAL;
    }
    if (st == HM_OK && !hm_all_finite(sigma, (int)(K * dd))) {
        return HM_ENOTPD;
    }
    return st;
}
