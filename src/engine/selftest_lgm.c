/*
 * selftest_lgm.c: the C unit tests of the linear-Gaussian harmonium kinds
 * (lgm.c, boltzmann_lgm.c, lgm_common.c): HM_HM_LGM and
 * HM_HM_BOLTZMANN_LGM (hm_lgm_selftest) and their restricted-posterior
 * variants with contrastive divergence
 * (hm_lgm_asym_selftest), registered in selftest.c. They reach the kinds
 * only through the public API (hm_engine.h) and the packed-index helper of
 * lgm_common.h, so every reference formula below is the test's own.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hm_engine.h"
#include "lgm_common.h"
#include "selftest.h"
#include "selftest_util.h"

// --- self-test -------------------------------------------------------------------------
// Linear-Gaussian models with p = 4 observables in each rep and q = 2
// latents are built from loading form (A, b, Sigma_x, mu_z, Sigma_z) with
// the test's own Gauss-Jordan inverse, so that the engine's conjugation
// parameters, E-step, moments and M-step are all compared with formulas
// computed independently (the marginal N(A mu_z + b, A Sigma_z A' +
// Sigma_x) above all). A Boltzmann latent with q = 3 is compared with the
// explicit mixture of 2^3 Gaussians it defines. Every workspace is guarded
// by sentinels just past its reported length.

#define CHECK(cond, ...) HM_ST_CHECK_BUF(msg, len, cond, __VA_ARGS__)

enum {
    T_P = 4,         /* observables of the Gaussian-latent cases */
    T_Q = 2,         /* Gaussian latents */
    T_BP = 2,        /* observables of the Boltzmann cases */
    T_BQ = 3,        /* binary latents */
    T_ROWS = 7,      /* rows checked against the direct formulas */
    T_EM = 500,      /* rows of the EM check */
    T_THR = 2100,    /* rows of the thread check: three 1024-row blocks */
    T_DRAWS = 20000, /* draws of the sampling check */
    T_CHUNK = 500,   /* draws per sampler call */
    T_MAXDIM = 32,   /* parameter length bound of the test models */
    T_WORK = 40960,  /* doubles of test workspace */
    T_GUARD = 16     /* sentinels past a workspace */
};

#define T_SENTINEL (-7.0e300)
#define T_LOG_2PI 1.8378770664093454836

// Draws come from the shared test generator (hm_st_rng_init) and
// comparisons use hm_st_near (selftest_util.h).

// Inverse of the row-major n x n a (n <= 8) by Gauss-Jordan elimination
// with partial pivoting; returns the determinant. Deliberately not
// Cholesky (which the engine uses), so a factor or packing error in the
// engine cannot cancel against the same error in the reference. The
// augmented matrix [a | I] is reduced to [I | a^-1]; the determinant is
// the product of the pivots with one sign flip per row swap.
static double t_inv(int n, const double *a, double *out) {
    double g[8][16], det = 1.0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            g[i][j] = a[i * n + j];
            g[i][n + j] = (i == j) ? 1.0 : 0.0;
        }
    }
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int r = c + 1; r < n; r++) {
            if (fabs(g[r][c]) > fabs(g[piv][c])) {
                piv = r;
            }
        }
        if (piv != c) {
            for (int j = 0; j < 2 * n; j++) {
                double t = g[c][j];
                g[c][j] = g[piv][j];
                g[piv][j] = t;
            }
            det = -det;
        }
        double d = g[c][c];
        det *= d;
        for (int j = 0; j < 2 * n; j++) {
            g[c][j] /= d;
        }
        for (int r = 0; r < n; r++) {
            if (r != c) {
                double f = g[r][c];
                for (int j = 0; j < 2 * n; j++) {
                    g[r][j] -= f * g[c][j];
                }
            }
        }
    }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            out[i * n + j] = g[i][n + j];
        }
    }
    return det;
}

// Sentinels just past a workspace of wl doubles: a routine that needs
// more scratch than its *_work_len reports overwrites them (the sanitizer
// build cannot see this, since the test's buffer is larger).
static void t_guard_set(double *w, size_t wl) {
    for (size_t i = 0; i < T_GUARD; i++) {
        w[wl + i] = T_SENTINEL;
    }
}

static int t_guard_ok(const double *w, size_t wl) {
    for (size_t i = 0; i < T_GUARD; i++) {
        if (w[wl + i] != T_SENTINEL) {
            return 0;
        }
    }
    return 1;
}

// A test model: descriptors, parameters, and the loading form it was
// built from, with the marginal of x (Gaussian latent).
typedef struct t_case {
    hm_family obs, lat;
    hm_harmonium h;
    int p, q;
    double theta[T_MAXDIM];
    double A[T_P * T_BQ], b[T_P], sx[T_P * T_P], px[T_P * T_P];
    double mmean[T_P], mcov[T_P * T_P];
} t_case;

// theta_X = (P_x b, rep packing of -P_x / 2) and W = P_x A, from the
// loading form already in tc (theory.md 3.2 likelihood_from_loadings).
// The packing is written out here rather than taken from fam_normal.c:
// full off-diagonals carry -P_ij (both symmetric halves), the isotropic
// parameter -(p/2) p_x because its statistic is a mean over coordinates.
static void t_likelihood(t_case *tc) {
    const int p = tc->p, q = tc->q, rep = tc->obs.rep;
    t_inv(p, tc->sx, tc->px);
    double *th = tc->theta;
    for (int i = 0; i < p; i++) {
        th[i] = 0.0;
        for (int j = 0; j < p; j++) {
            th[i] += tc->px[i * p + j] * tc->b[j];
        }
        for (int k = 0; k < q; k++) {
            double w = 0.0;
            for (int j = 0; j < p; j++) {
                w += tc->px[i * p + j] * tc->A[j * q + k];
            }
            th[tc->obs.dim + i * q + k] = w;
        }
    }
    if (rep == HM_COV_FULL) {
        for (int i = 0, r = p; i < p; i++) {
            for (int j = i; j < p; j++) {
                th[r++] = (i == j) ? -0.5 * tc->px[i * p + i] : -tc->px[i * p + j];
            }
        }
    } else if (rep == HM_COV_DIAG) {
        for (int i = 0; i < p; i++) {
            th[p + i] = -0.5 * tc->px[i * p + i];
        }
    } else {
        th[p] = -0.5 * (double)p * tc->px[0];
    }
}

// The loading forms of the test models: (A, b, Sigma_x) of the Gaussian-
// latent cases (p = 4, q = 2) and of the Boltzmann/Bernoulli-latent cases
// (p = 2, q = 3), with their latent parameters. Sigma_x is replaced by its
// diagonal or by a multiple of I in the diag and iso reps (t_loading).
static const double T_LG_A[T_P * T_Q] = {0.83, -0.41, 0.27, 1.12, -0.66, 0.35, 1.4, 0.52};
static const double T_LG_B[T_P] = {0.31, -1.27, 2.385, 0.44};
static const double T_LG_SX[T_P * T_P] = {1.1,  0.3,  -0.2, 0.1, 0.3, 0.9,   0.15, -0.25,
                                          -0.2, 0.15, 1.35, 0.2, 0.1, -0.25, 0.2,  0.75};
static const double T_LG_MUZ[T_Q] = {0.6, -0.35}, T_LG_SZ[T_Q * T_Q] = {1.3, 0.4, 0.4, 0.7};
static const double T_BM_A[T_BP * T_BQ] = {1.2, -0.7, 0.45, 0.3, 0.9, -1.1};
static const double T_BM_B[T_BP] = {0.2, -0.5};
static const double T_BM_SX[T_BP * T_BP] = {0.8, 0.25, 0.25, 0.6};
static const double T_BM_THZ[6] = {-0.4, 0.6, -0.3, 0.25, 0.5, -0.45}; /* Boltzmann prior */
static const double T_MF_THZ[T_BQ] = {-0.4, 0.25, -0.45};              /* independent units */

// The loading form (A, b, Sigma_x) into tc, whose obs is already set up:
// Sigma_x as given (full rep), its diagonal (diag) or iso I (iso); then
// theta_X and W from it (t_likelihood).
static void t_loading(
    t_case *tc, int p, int q, const double *A, const double *b, const double *sx, double iso) {
    const int rep = tc->obs.rep;
    tc->p = p;
    tc->q = q;
    memcpy(tc->A, A, (size_t)(p * q) * sizeof(double));
    memcpy(tc->b, b, (size_t)p * sizeof(double));
    for (int i = 0; i < p; i++) {
        for (int j = 0; j < p; j++) {
            double v = sx[i * p + j];
            if (rep != HM_COV_FULL) {
                v = (i != j) ? 0.0 : (rep == HM_COV_DIAG ? v : iso);
            }
            tc->sx[i * p + j] = v;
        }
    }
    t_likelihood(tc);
}

// W'b = A'P_x b (wb[q]) and M = W'Sigma_x W = A'P_x A (m[q * q]) of a
// Gaussian-latent case, written out from the loading form.
static void t_wpw(const t_case *tc, double *wb, double *m) {
    const int p = tc->p, q = tc->q;
    double pa[T_P * T_Q] = {0};
    for (int i = 0; i < p; i++) {
        for (int k = 0; k < q; k++) {
            for (int j = 0; j < p; j++) {
                pa[i * q + k] += tc->px[i * p + j] * tc->A[j * q + k];
            }
        }
    }
    for (int k = 0; k < q; k++) {
        wb[k] = 0.0;
        for (int l = 0; l < q; l++) {
            m[k * q + l] = 0.0;
        }
    }
    for (int k = 0; k < q; k++) {
        for (int i = 0; i < p; i++) {
            wb[k] += pa[i * q + k] * tc->b[i];
            for (int l = 0; l < q; l++) {
                m[k * q + l] += tc->A[i * q + k] * pa[i * q + l];
            }
        }
    }
}

// The marginal of x under the prior N(mu_z, Sigma_z): N(A mu_z + b,
// A Sigma_z A' + Sigma_x), into tc->mmean and tc->mcov.
static void t_marginal(t_case *tc, const double *muz, const double *sz) {
    const int p = tc->p, q = tc->q;
    for (int i = 0; i < p; i++) {
        tc->mmean[i] = tc->b[i];
        for (int k = 0; k < q; k++) {
            tc->mmean[i] += tc->A[i * q + k] * muz[k];
        }
        for (int j = 0; j < p; j++) {
            double v = tc->sx[i * p + j];
            for (int k = 0; k < q; k++) {
                for (int l = 0; l < q; l++) {
                    v += tc->A[i * q + k] * sz[k * q + l] * tc->A[j * q + l];
                }
            }
            tc->mcov[i * p + j] = v;
        }
    }
}

// log N(r; 0, C) for the residual r[p], from C^-1 and det C.
static double t_log_normal(int p, const double *r, const double *cinv, double det) {
    double quad = 0.0;
    for (int j = 0; j < p; j++) {
        for (int l = 0; l < p; l++) {
            quad += r[j] * cinv[j * p + l] * r[l];
        }
    }
    return -0.5 * (double)p * T_LOG_2PI - 0.5 * log(det) - 0.5 * quad;
}

/*
 * The Gaussian-latent case in rep: Sigma_x a diagonally dominant full
 * matrix, its diagonal, or 0.97 I; prior N(mu_z, Sigma_z). theta_Z =
 * prior natural - (W'b, -W'Sigma_x W) written out with the test's own
 * inverse (theory.md 3.2), and the marginal of x.
 */
static int t_case_lgm(int rep, t_case *tc) {
    const int p = T_P, q = T_Q;
    memset(tc, 0, sizeof *tc);
    if (hm_family_init(&tc->obs, HM_FAM_NORMAL, p, rep, 0) != HM_OK ||
        hm_family_init(&tc->lat, HM_FAM_NORMAL, q, HM_COV_FULL, 0) != HM_OK ||
        hm_hm_init(&tc->h, HM_HM_LGM, &tc->obs, &tc->lat) != HM_OK ||
        hm_hm_dim(&tc->h) > T_MAXDIM) {
        return 1;
    }
    t_loading(tc, p, q, T_LG_A, T_LG_B, T_LG_SX, 0.97);
    // rho written out: W'b = A'P_x b and M = W'Sigma_x W = A'P_x A.
    double pp[T_Q * T_Q], m[T_Q * T_Q], wb[T_Q];
    t_inv(q, T_LG_SZ, pp);
    t_wpw(tc, wb, m);
    // theta_Z = prior - rho: location Sigma_z^-1 mu_z - W'b, precision
    // Sigma_z^-1 + M (rho lowers the precision, so theta_Z raises it).
    double *thz = tc->theta + tc->obs.dim + p * q;
    for (int k = 0; k < q; k++) {
        double v = 0.0;
        for (int l = 0; l < q; l++) {
            v += pp[k * q + l] * T_LG_MUZ[l];
        }
        thz[k] = v - wb[k];
    }
    for (int i = 0, r = q; i < q; i++) {
        for (int j = i; j < q; j++) {
            double pz = pp[i * q + j] + m[i * q + j];
            thz[r++] = (i == j) ? -0.5 * pz : -pz;
        }
    }
    t_marginal(tc, T_LG_MUZ, T_LG_SZ);
    return 0;
}

// Deterministic data: n rows of x = b + A g + noise with a loading matrix
// other than the model's, stored column-major n x p (the glue's layout).
// The data need not come from the model: EM is monotone for any data, and
// a misfit makes the first steps move the parameters a lot.
static void t_data(int n, int p, uint64_t seed, double *x) {
    hm_st_rng g;
    hm_rng r;
    hm_st_rng_init(&g, seed, &r);
    for (int i = 0; i < n; i++) {
        double g1 = r.norm(r.ctx), g2 = r.norm(r.ctx);
        for (int j = 0; j < p; j++) {
            double a1 = 0.7 * cos(1.3 * (double)(j + 1)), a2 = 0.5 * sin(2.385 * (double)(j + 1));
            x[(size_t)j * (size_t)n + (size_t)i] =
                0.4 * (double)j - 0.3 + a1 * g1 + a2 * g2 + 0.8 * r.norm(r.ctx);
        }
    }
}

// The fixed rows of the direct comparisons (column-major T_ROWS x p),
// spread over a few marginal standard deviations so that the quadratic
// terms of log p(x) matter.
static void t_rows(int p, double *x) {
    for (int i = 0; i < T_ROWS; i++) {
        for (int j = 0; j < p; j++) {
            x[j * T_ROWS + i] =
                2.385 * sin(0.7 * (double)(i + 1) + 1.9 * (double)j) - 0.2 * (double)i;
        }
    }
}

// The conjugation identity psi_X(theta_X + E_X W z) = rho . s_Prr(z) + chi
// at z (theory.md 1.3), with the prior family's statistic (the latent
// family's, but for the restricted-posterior kinds).
static int t_conjugation(const t_case *tc, const double *z, double *w, char *msg, size_t len) {
    const hm_harmonium *h = &tc->h;
    const int p = tc->p, q = tc->q, dx = tc->obs.dim, dz = h->prr.dim;
    double rho[T_MAXDIM], chi, tl[T_MAXDIM], s[T_MAXDIM], lhs, rhs;
    CHECK(hm_hm_rho_chi(h, tc->theta, rho, &chi, w) == HM_OK, "rho_chi failed");
    memcpy(tl, tc->theta, (size_t)dx * sizeof(double));
    for (int i = 0; i < p; i++) {
        for (int k = 0; k < q; k++) {
            tl[i] += tc->theta[dx + i * q + k] * z[k];
        }
    }
    CHECK(hm_fam_log_partition(&tc->obs, tl, &lhs, w) == HM_OK, "psi_X failed");
    hm_fam_stat(&h->prr, z, s);
    rhs = chi;
    for (int r = 0; r < dz; r++) {
        rhs += rho[r] * s[r];
    }
    CHECK(hm_st_near(lhs, rhs, 1e-10),
          "kind %d rep %d: conjugation at z = (%g, %g): %.15g vs %.15g", h->kind, tc->obs.rep, z[0],
          z[1], lhs, rhs);
    return 0;
}

// E[x], packed E[x x'] (rep), E[x z'], E[z], packed E[z z'] of the
// Gaussian-latent case from the loading form: E[x x'] = Cov(x) + E[x] E[x]'
// with the marginal covariance, and E[x z'] = A E[z z'] + b E[z]' since
// E[x | z] = A z + b.
static void t_moments_lgm(const t_case *tc, const double *muz, const double *sz, double *eta) {
    const int p = tc->p, q = tc->q, rep = tc->obs.rep, dx = tc->obs.dim;
    double iso = 0.0;
    for (int i = 0, r = p; i < p; i++) {
        eta[i] = tc->mmean[i];
        for (int j = i; j < p; j++) {
            double v = tc->mcov[i * p + j] + tc->mmean[i] * tc->mmean[j];
            if (rep == HM_COV_FULL) {
                eta[r++] = v;
            } else if (i == j) {
                if (rep == HM_COV_DIAG) {
                    eta[p + i] = v;
                }
                iso += v / (double)p;
            }
        }
        for (int k = 0; k < q; k++) {
            double v = tc->b[i] * muz[k];
            for (int l = 0; l < q; l++) {
                v += tc->A[i * q + l] * (sz[l * q + k] + muz[l] * muz[k]);
            }
            eta[dx + i * q + k] = v;
        }
    }
    if (rep == HM_COV_ISO) {
        eta[p] = iso;
    }
    double *ez = eta + dx + p * q;
    for (int k = 0, r = q; k < q; k++) {
        ez[k] = muz[k];
        for (int l = k; l < q; l++) {
            ez[r++] = sz[k * q + l] + muz[k] * muz[l];
        }
    }
}

// E-step statistics bit-identical for 1 and 2 threads on 2100 rows of
// t_data(seed) (three blocks of at most 1024 rows, so two threads really
// split them).
static int t_threads(
    const hm_harmonium *h, const double *theta, uint64_t seed, double *w, char *msg, size_t len) {
    double xt[T_THR * T_P], s1[T_MAXDIM + 2], s2[T_MAXDIM + 2];
    t_data(T_THR, h->mx, seed, xt);
    hm_data dt = {xt, T_THR, T_THR, NULL};
    const size_t el = hm_estep_work_len(h, 2);
    CHECK(el + T_GUARD <= T_WORK, "kind %d: 2-thread E-step work too large for the test", h->kind);
    t_guard_set(w, el);
    CHECK(hm_estep(h, theta, &dt, NULL, s1, NULL, NULL, 1, w) == HM_OK &&
              hm_estep(h, theta, &dt, NULL, s2, NULL, NULL, 2, w) == HM_OK && t_guard_ok(w, el),
          "kind %d: E-step failed or wrote past hm_estep_work_len", h->kind);
    CHECK(memcmp(s1, s2, (size_t)hm_stats_len(h) * sizeof(double)) == 0,
          "kind %d rep %d: E-step differs between 1 and 2 threads", h->kind, h->obs->rep);
    return 0;
}

/*
 * Ancestral sampling: the average joint statistic (s_X(x), x z', s_Pst(z))
 * of T_DRAWS draws within 5 standard errors of eta, which the caller has
 * checked against its explicit reference; this checks the sampler's prior,
 * loadings and noise factor at once. The kinds it is used for draw i.i.d.
 * (an exact Normal prior; inversion of the 2^q Boltzmann prior states of
 * the mean-field kind).
 */
static int t_sample(const hm_harmonium *h,
                    const double *theta,
                    const double *eta,
                    uint64_t seed,
                    double *w,
                    char *msg,
                    size_t len) {
    const int p = h->mx, q = h->mz, dx = h->obs->dim, dim = hm_hm_dim(h);
    double xs[T_CHUNK * T_P], zs[T_CHUNK * T_BQ], js[T_MAXDIM];
    double sum[T_MAXDIM] = {0}, sq[T_MAXDIM] = {0};
    hm_st_rng g;
    hm_rng rng;
    hm_st_rng_init(&g, seed, &rng);
    const size_t sl = hm_hm_sample_work_len(h, T_CHUNK);
    CHECK(sl + T_GUARD <= T_WORK, "kind %d: sample work too large for the test", h->kind);
    t_guard_set(w, sl);
    for (int c = 0; c < T_DRAWS / T_CHUNK; c++) {
        CHECK(hm_hm_sample(h, theta, T_CHUNK, &rng, xs, zs, w) == HM_OK, "kind %d: sampling failed",
              h->kind);
        for (int i = 0; i < T_CHUNK; i++) {
            const double *xi = xs + i * p, *zi = zs + i * q;
            hm_fam_stat(h->obs, xi, js);
            for (int j = 0; j < p; j++) {
                for (int k = 0; k < q; k++) {
                    js[dx + j * q + k] = xi[j] * zi[k];
                }
            }
            hm_fam_stat(h->lat, zi, js + dx + p * q);
            for (int r = 0; r < dim; r++) {
                sum[r] += js[r];
                sq[r] += js[r] * js[r];
            }
        }
    }
    CHECK(t_guard_ok(w, sl), "kind %d: sampling wrote past hm_hm_sample_work_len", h->kind);
    for (int r = 0; r < dim; r++) {
        double mean = sum[r] / T_DRAWS, sd = sqrt(fmax(sq[r] / T_DRAWS - mean * mean, 0.0));
        CHECK(fabs(mean - eta[r]) < 5.0 * sd / sqrt((double)T_DRAWS),
              "kind %d rep %d: sample mean of statistic %d %.6g vs eta %.6g", h->kind, h->obs->rep,
              r, mean, eta[r]);
    }
    return 0;
}

/*
 * All checks of the Gaussian-latent kind in one rep. Tolerances: 1e-10
 * relative for quantities computed by both sides in closed form (a few
 * hundred ulps of cancellation in the inverses), 1e-9 for the round trip
 * through the M-step, which differences second moments.
 */
static int t_lgm_case(int rep, double *w, char *msg, size_t len) {
    const double *muz = T_LG_MUZ, *sz = T_LG_SZ;
    t_case tc;
    CHECK(t_case_lgm(rep, &tc) == 0, "rep %d: descriptor init failed", rep);
    const hm_harmonium *h = &tc.h;
    const int p = T_P, q = T_Q, dim = hm_hm_dim(h);
    const size_t wl = hm_hm_work_len(h);
    const hm_ctrl ctl = {.reg = 0.0, .tol = 1e-12, .maxit = 100, .floor = 0.0, .lower = 0.0};
    CHECK(wl + T_GUARD <= T_WORK, "rep %d: work_len %zu too large for the test", rep, wl);
    t_guard_set(w, wl);
    CHECK(hm_hm_check_natural(h, tc.theta, w) == HM_OK, "rep %d: valid theta rejected", rep);

    // Conjugation at several z, the origin included (chi).
    const double zs[4][T_Q] = {{0.0, 0.0}, {1.3, -0.7}, {-2.1, 0.45}, {0.8, 2.385}};
    for (int t = 0; t < 4; t++) {
        if (t_conjugation(&tc, zs[t], w, msg, len)) {
            return 1;
        }
    }

    // log p(x) and E[z | x] from the E-step against the marginal Gaussian
    // and the Gaussian conditioning formula mu_z + Sigma_z A' C^-1 (x - m).
    double x[T_ROWS * T_P], logp[T_ROWS], post[T_ROWS * T_Q], st[T_MAXDIM + 2];
    double cinv[T_P * T_P], gain[T_Q * T_P];
    t_rows(p, x);
    const double det = t_inv(p, tc.mcov, cinv);
    for (int k = 0; k < q; k++) {
        for (int j = 0; j < p; j++) {
            double v = 0.0;
            for (int i = 0; i < p; i++) {
                for (int l = 0; l < q; l++) {
                    v += sz[k * q + l] * tc.A[i * q + l] * cinv[i * p + j];
                }
            }
            gain[k * p + j] = v;
        }
    }
    // Unequal case weights, so the statistics check sees them.
    double wts[T_ROWS], sref[T_MAXDIM] = {0}, sv[T_MAXDIM], wsum = 0.0;
    for (int i = 0; i < T_ROWS; i++) {
        wts[i] = 0.5 + 0.3 * (double)i;
    }
    hm_data rows = {x, T_ROWS, T_ROWS, wts};
    // The posterior covariance by conditioning: Sigma_z - gain A Sigma_z.
    double spost[T_Q * T_Q];
    for (int k = 0; k < q; k++) {
        for (int l = 0; l < q; l++) {
            double v = sz[k * q + l];
            for (int j = 0; j < p; j++) {
                v -= gain[k * p + j] * (tc.A[j * q] * sz[l] + tc.A[j * q + 1] * sz[q + l]);
            }
            spost[k * q + l] = v;
        }
    }
    const int dx = tc.obs.dim, off = dx + p * q;
    size_t el = hm_estep_work_len(h, 1);
    CHECK(el + T_GUARD <= T_WORK, "rep %d: E-step work too large for the test", rep);
    t_guard_set(w, el);
    CHECK(hm_estep(h, tc.theta, &rows, NULL, st, logp, post, 1, w) == HM_OK, "rep %d: E-step", rep);
    CHECK(t_guard_ok(w, el), "rep %d: E-step wrote past hm_estep_work_len", rep);
    // The same statistics from the data's moments (lgm.c): one pass gathers
    // them (the same bits for 1 and 2 threads), then hm_lgm_moments_estep,
    // here at parameters off any EM path and with unequal weights.
    {
        double mom[1 + T_P + T_P * T_P], mom2[1 + T_P + T_P * T_P], sm[T_MAXDIM + 2];
        const size_t ml = hm_lgm_moments_work_len(h, 2), sl = hm_lgm_moments_estep_work_len(h);
        CHECK(hm_lgm_moments_len(h) == 1 + p + p * p && ml + T_GUARD <= T_WORK &&
                  sl + T_GUARD <= T_WORK,
              "rep %d: moments layout or work too large for the test", rep);
        t_guard_set(w, ml);
        CHECK(hm_lgm_moments(h, &rows, 1, mom, w) == HM_OK &&
                  hm_lgm_moments(h, &rows, 2, mom2, w) == HM_OK && t_guard_ok(w, ml),
              "rep %d: the data's moments", rep);
        CHECK(memcmp(mom, mom2, sizeof mom) == 0, "rep %d: moments differ with 2 threads", rep);
        t_guard_set(w, sl);
        CHECK(hm_lgm_moments_estep(h, tc.theta, mom, sm, w) == HM_OK && t_guard_ok(w, sl),
              "rep %d: E-step from the moments", rep);
        for (int r = 0; r < dim + 2; r++) {
            CHECK(fabs(sm[r] - st[r]) <= 1e-10 * (1.0 + fabs(st[r])),
                  "rep %d: statistic %d from the moments %.15g, from the rows %.15g", rep, r, sm[r],
                  st[r]);
        }
    }
    double llsum = 0.0;
    for (int i = 0; i < T_ROWS; i++) {
        double r[T_P];
        for (int j = 0; j < p; j++) {
            r[j] = x[j * T_ROWS + i] - tc.mmean[j];
        }
        double ref = t_log_normal(p, r, cinv, det);
        CHECK(hm_st_near(logp[i], ref, 1e-10), "rep %d: log p(x_%d) %.15g vs marginal %.15g", rep,
              i, logp[i], ref);
        llsum += wts[i] * logp[i];
        wsum += wts[i];
        double m[T_Q], xi[T_P];
        for (int k = 0; k < q; k++) {
            m[k] = muz[k];
            for (int j = 0; j < p; j++) {
                m[k] += gain[k * p + j] * r[j];
            }
            CHECK(hm_st_near(post[k * T_ROWS + i], m[k], 1e-10),
                  "rep %d: E[z_%d | x_%d] %.15g vs %.15g", rep, k, i, post[k * T_ROWS + i], m[k]);
        }
        // The weighted posterior statistics (s_X(x), x mu', mu, packed
        // Sigma_post + mu mu') of theory.md 1.5.
        for (int j = 0; j < p; j++) {
            xi[j] = x[j * T_ROWS + i];
        }
        hm_fam_stat(&tc.obs, xi, sv);
        for (int r2 = 0; r2 < dx; r2++) {
            sref[r2] += wts[i] * sv[r2];
        }
        for (int j = 0; j < p; j++) {
            for (int k = 0; k < q; k++) {
                sref[dx + j * q + k] += wts[i] * xi[j] * m[k];
            }
        }
        for (int k = 0, r2 = off + q; k < q; k++) {
            sref[off + k] += wts[i] * m[k];
            for (int l = k; l < q; l++) {
                sref[r2++] += wts[i] * (spost[k * q + l] + m[k] * m[l]);
            }
        }
    }
    for (int r2 = 0; r2 < dim; r2++) {
        CHECK(hm_st_near(st[r2], sref[r2], 1e-10), "rep %d: statistic %d %.15g vs %.15g", rep, r2,
              st[r2], sref[r2]);
    }
    CHECK(hm_st_near(st[dim], llsum, 1e-10) && st[dim + 1] == wsum,
          "rep %d: log-likelihood or weight slot", rep);

    // Moments against the loading form, and the round trip.
    double eta[T_MAXDIM], ref[T_MAXDIM], back[T_MAXDIM];
    int bad = 0;
    t_guard_set(w, wl);
    CHECK(hm_hm_to_mean(h, tc.theta, eta, w) == HM_OK, "rep %d: to_mean failed", rep);
    t_moments_lgm(&tc, muz, sz, ref);
    for (int r = 0; r < dim; r++) {
        CHECK(hm_st_near(eta[r], ref[r], 1e-10), "rep %d: eta_%d %.15g vs %.15g", rep, r, eta[r],
              ref[r]);
    }
    CHECK(hm_hm_to_natural(h, eta, back, w, &ctl, &bad) == HM_OK && bad == -1,
          "rep %d: to_natural failed", rep);
    for (int r = 0; r < dim; r++) {
        CHECK(hm_st_near(back[r], tc.theta[r], 1e-9), "rep %d: round trip at %d: %.15g vs %.15g",
              rep, r, back[r], tc.theta[r]);
    }

    // Whitening: the same log p(x), the prior N(0, I), in place as out of
    // place.
    double ew[T_MAXDIM], ei[T_MAXDIM], tw[T_MAXDIM], prior[T_MAXDIM], logw[T_ROWS];
    memcpy(ei, eta, sizeof eta);
    CHECK(hm_hm_whiten(h, eta, ew, w) == HM_OK && hm_hm_whiten(h, ei, ei, w) == HM_OK &&
              memcmp(ew, ei, (size_t)dim * sizeof(double)) == 0,
          "rep %d: whitening failed or differs in place", rep);
    CHECK(hm_hm_to_natural(h, ew, tw, w, &ctl, &bad) == HM_OK, "rep %d: M-step after whitening",
          rep);
    CHECK(hm_hm_prior(h, tw, prior, w) == HM_OK, "rep %d: prior", rep);
    const double nat01[5] = {0.0, 0.0, -0.5, 0.0, -0.5};
    for (int r = 0; r < tc.lat.dim; r++) {
        CHECK(fabs(prior[r] - nat01[r]) < 1e-10, "rep %d: whitened prior_%d = %.15g", rep, r,
              prior[r]);
    }
    CHECK(t_guard_ok(w, wl), "rep %d: a single-point map wrote past hm_hm_work_len", rep);
    t_guard_set(w, el);
    CHECK(hm_estep(h, tw, &rows, NULL, NULL, logw, NULL, 1, w) == HM_OK, "rep %d: E-step", rep);
    for (int i = 0; i < T_ROWS; i++) {
        CHECK(hm_st_near(logw[i], logp[i], 1e-10),
              "rep %d: whitening changed log p(x_%d): %.15g vs %.15g", rep, i, logw[i], logp[i]);
    }

    // EM from theta on 500 rows: the log-likelihood never decreases and
    // every M-step returns the whitened prior N(0, I).
    double xe[T_EM * T_P];
    t_data(T_EM, p, 271828u + (uint64_t)rep, xe);
    hm_data de = {xe, T_EM, T_EM, NULL};
    double cur[T_MAXDIM], nxt[T_MAXDIM], ll_old = -INFINITY, ll;
    memcpy(cur, tc.theta, sizeof cur);
    const size_t ml = hm_em_work_len(h, 1);
    CHECK(ml + T_GUARD <= T_WORK, "rep %d: EM work too large for the test", rep);
    for (int it = 0; it < 4; it++) {
        t_guard_set(w, ml);
        CHECK(hm_em_iterate(h, cur, &de, &ctl, 1, st, nxt, &ll, &bad, w) == HM_OK,
              "rep %d: EM iteration %d failed", rep, it);
        CHECK(t_guard_ok(w, ml), "rep %d: EM wrote past hm_em_work_len", rep);
        CHECK(ll >= ll_old - 1e-10 * fabs(ll),
              "rep %d: EM decreased the log-likelihood: %.15g -> %.15g", rep, ll_old, ll);
        CHECK(hm_hm_prior(h, nxt, prior, w) == HM_OK, "rep %d: prior after EM", rep);
        for (int r = 0; r < tc.lat.dim; r++) {
            CHECK(fabs(prior[r] - nat01[r]) < 1e-9, "rep %d: EM did not whiten (prior_%d %.15g)",
                  rep, r, prior[r]);
        }
        ll_old = ll;
        memcpy(cur, nxt, sizeof cur);
    }
    CHECK(hm_estep(h, cur, &de, NULL, st, NULL, NULL, 1, w) == HM_OK &&
              st[dim] >= ll_old - 1e-10 * fabs(ll_old),
          "rep %d: last EM step decreased the log-likelihood", rep);

    // E-step statistics bit-identical for 1 and 2 threads, and ancestral
    // sampling against to_mean: since to_mean was checked against the
    // loading form above, this checks the sampler's prior, loadings and
    // noise factor all at once.
    if (t_threads(h, tc.theta, 314159u, w, msg, len) ||
        t_sample(h, tc.theta, eta, 1618033u + (uint64_t)rep, w, msg, len)) {
        return 1;
    }

    // Statuses: a prior precision P_z - W'Sigma_x W that is not positive
    // definite (W scaled up), a singular latent covariance in the M-step,
    // a negative ridge, and posterior means given to a Gaussian latent.
    {
        double tb[T_MAXDIM], eb[T_MAXDIM];
        memcpy(tb, tc.theta, sizeof tb);
        for (int r = 0; r < p * q; r++) {
            tb[tc.obs.dim + r] *= 10.0;
        }
        CHECK(hm_hm_check_natural(h, tb, w) == HM_ENOTPD, "rep %d: non-PD prior accepted", rep);
        memcpy(eb, eta, sizeof eb);
        eb[tc.obs.dim + p * q + q] = eta[tc.obs.dim + p * q] * eta[tc.obs.dim + p * q] - 0.1;
        CHECK(hm_hm_to_natural(h, eb, tb, w, &ctl, &bad) == HM_ENOTPD,
              "rep %d: non-PD latent covariance accepted", rep);
        const hm_ctrl neg = {.reg = -1.0, .tol = 1e-12, .maxit = 100, .floor = 0.0, .lower = 0.0};
        CHECK(hm_hm_to_natural(h, eta, tb, w, &neg, &bad) == HM_EDOM, "rep %d: negative ridge",
              rep);
        CHECK(hm_estep(h, tc.theta, &rows, post, st, NULL, NULL, 1, w) == HM_EINVAL,
              "rep %d: given posteriors accepted", rep);
    }
    return 0;
}

// The Boltzmann- or Bernoulli-latent case of kind in rep: p = 2
// observables, q = 3 binary latents, the T_BM loading form (0.7 I in the
// iso rep) and the latent parameters T_BM_THZ (a Boltzmann latent) or
// T_MF_THZ (Bernoulli units). Returns 1 if a descriptor fails.
static int t_case_bm(int kind, int rep, t_case *tc) {
    const int bm = kind == HM_HM_BOLTZMANN_LGM;
    memset(tc, 0, sizeof *tc);
    if (hm_family_init(&tc->obs, HM_FAM_NORMAL, T_BP, rep, 0) != HM_OK ||
        hm_family_init(&tc->lat, bm ? HM_FAM_BOLTZMANN : HM_FAM_BERNOULLI, T_BQ, 0, 0) != HM_OK ||
        hm_hm_init(&tc->h, kind, &tc->obs, &tc->lat) != HM_OK || hm_hm_dim(&tc->h) > T_MAXDIM) {
        return 1;
    }
    t_loading(tc, T_BP, T_BQ, T_BM_A, T_BM_B, T_BM_SX, 0.7);
    memcpy(tc->theta + tc->obs.dim + T_BP * T_BQ, bm ? T_BM_THZ : T_MF_THZ,
           (size_t)tc->lat.dim * sizeof(double));
    return 0;
}

// Per state s of the 2^3 binary latents, coded LSB first (z_k = bit k of
// s, as in the Boltzmann family): the component mean A z + b into
// mean[s] and psi_X(theta_X + W z) into psix[s], written out directly as
// 1/2 t' Sigma_x t - 1/2 log |P_x| = ... + 1/2 log |Sigma_x|. The
// conjugation identity is checked at every z on the way.
static int
t_states(const t_case *tc, double mean[][T_BP], double *psix, double *w, char *msg, size_t len) {
    const int p = T_BP, q = T_BQ, dx = tc->obs.dim;
    const double detx = tc->sx[0] * tc->sx[3] - tc->sx[1] * tc->sx[2];
    for (int s = 0; s < (1 << T_BQ); s++) {
        double z[T_BQ], t[T_BP], quad = 0.0;
        for (int k = 0; k < q; k++) {
            z[k] = (double)((s >> k) & 1);
        }
        for (int i = 0; i < p; i++) {
            t[i] = tc->theta[i];
            mean[s][i] = tc->b[i];
            for (int k = 0; k < q; k++) {
                t[i] += tc->theta[dx + i * q + k] * z[k];
                mean[s][i] += tc->A[i * q + k] * z[k];
            }
        }
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < p; j++) {
                quad += t[i] * tc->sx[i * p + j] * t[j];
            }
        }
        psix[s] = 0.5 * quad + 0.5 * log(detx);
        if (t_conjugation(tc, z, w, msg, len)) {
            return 1;
        }
    }
    return 0;
}

// Normalises the ns log-probabilities lp with a max shift (theory.md 8).
static void t_log_normalise(double *lp, int ns) {
    double mx = lp[0], tot = 0.0;
    for (int s = 1; s < ns; s++) {
        mx = fmax(mx, lp[s]);
    }
    for (int s = 0; s < ns; s++) {
        tot += exp(lp[s] - mx);
    }
    for (int s = 0; s < ns; s++) {
        lp[s] -= mx + log(tot);
    }
}

// Row i of x (column-major T_ROWS x 2) under the explicit mixture
// p(x) = sum_z p(z) N(x; mean[z], Sigma_x), with the normalised prior
// log-probabilities lpz: returns log p(x_i), and leaves log p(x_i, z) in
// lj[2^3] and P(z_k = 1 | x_i) in pm[3].
static double t_mixture_row(const t_case *tc,
                            const double *x,
                            int i,
                            const double mean[][T_BP],
                            const double *lpz,
                            double *lj,
                            double *pm) {
    const double detx = tc->sx[0] * tc->sx[3] - tc->sx[1] * tc->sx[2];
    double jm = -INFINITY, jt = 0.0;
    for (int s = 0; s < (1 << T_BQ); s++) {
        double r0 = x[i] - mean[s][0], r1 = x[T_ROWS + i] - mean[s][1];
        double quad = r0 * tc->px[0] * r0 + 2.0 * r0 * tc->px[1] * r1 + r1 * tc->px[3] * r1;
        lj[s] = lpz[s] - T_LOG_2PI - 0.5 * log(detx) - 0.5 * quad;
        jm = fmax(jm, lj[s]);
    }
    for (int k = 0; k < T_BQ; k++) {
        pm[k] = 0.0;
    }
    for (int s = 0; s < (1 << T_BQ); s++) {
        double pj = exp(lj[s] - jm);
        jt += pj;
        for (int k = 0; k < T_BQ; k++) {
            pm[k] += ((s >> k) & 1) ? pj : 0.0;
        }
    }
    for (int k = 0; k < T_BQ; k++) {
        pm[k] /= jt;
    }
    return jm + log(jt);
}

// The observable and cross blocks of the mean coordinates, (E[s_X(x)],
// E[x z']), of the explicit mixture, added into ref: E[x x' | z] =
// Sigma_x + mu(z) mu(z)', and the rep's projection of the mixture of
// these is the reference.
static void
t_mixture_moments(const t_case *tc, const double mean[][T_BP], const double *lpz, double *ref) {
    const int p = T_BP, q = T_BQ, rep = tc->obs.rep, dx = tc->obs.dim;
    for (int s = 0; s < (1 << T_BQ); s++) {
        double ps = exp(lpz[s]), iso = 0.0;
        for (int i = 0, r = p; i < p; i++) {
            ref[i] += ps * mean[s][i];
            for (int j = i; j < p; j++) {
                double v = ps * (tc->sx[i * p + j] + mean[s][i] * mean[s][j]);
                if (rep == HM_COV_FULL) {
                    ref[r++] += v;
                } else if (i == j) {
                    if (rep == HM_COV_DIAG) {
                        ref[p + i] += v;
                    }
                    iso += v / (double)p;
                }
            }
            for (int k = 0; k < q; k++) {
                ref[dx + i * q + k] += ((s >> k) & 1) ? ps * mean[s][i] : 0.0;
            }
        }
        if (rep == HM_COV_ISO) {
            ref[p] += iso;
        }
    }
}

/*
 * The Boltzmann-latent case in rep: p = 2, q = 3, with the explicit
 * mixture of 2^3 Gaussians p(x) = sum_z p(z) N(x; A z + b, Sigma_x), where
 * p(z) is proportional to exp(theta_Z . s_Z(z) + psi_X(theta_x + W z))
 * (theory.md 1.2, independent of rho), psi_X written out directly.
 */
static int t_boltzmann_case(int rep, double *w, char *msg, size_t len) {
    const double *thz = T_BM_THZ;
    const int p = T_BP, q = T_BQ, ns = 1 << T_BQ;
    t_case tc;
    CHECK(t_case_bm(HM_HM_BOLTZMANN_LGM, rep, &tc) == 0, "boltzmann rep %d: descriptor init failed",
          rep);
    const hm_harmonium *h = &tc.h;
    const int dx = tc.obs.dim, dz = tc.lat.dim, dim = hm_hm_dim(h);
    const size_t wl = hm_hm_work_len(h);
    CHECK(wl + T_GUARD <= T_WORK, "boltzmann: work_len too large for the test");
    t_guard_set(w, wl);
    CHECK(hm_hm_check_natural(h, tc.theta, w) == HM_OK, "boltzmann rep %d: valid theta", rep);

    // Per state: s_Z(z) = (z_i z_j, i <= j), the component mean A z + b,
    // psi_X at the likelihood, and the prior log-probability.
    double sz[8][6], mean[8][T_BP], psix[8], lpz[8];
    if (t_states(&tc, mean, psix, w, msg, len)) {
        return 1;
    }
    for (int s = 0; s < ns; s++) {
        for (int i = 0, r = 0; i < q; i++) {
            for (int j = i; j < q; j++) {
                sz[s][r++] = (double)((s >> i) & (s >> j) & 1);
            }
        }
        lpz[s] = psix[s];
        for (int r = 0; r < dz; r++) {
            lpz[s] += thz[r] * sz[s][r];
        }
    }
    t_log_normalise(lpz, ns);

    // log p(x) and P(z_k = 1 | x) against the explicit mixture.
    double x[T_ROWS * T_BP], logp[T_ROWS], post[T_ROWS * T_BQ], st[T_MAXDIM + 2];
    t_rows(p, x);
    double wts[T_ROWS], sref[T_MAXDIM] = {0}, sv[T_MAXDIM], llsum = 0.0, wsum = 0.0;
    for (int i = 0; i < T_ROWS; i++) {
        wts[i] = 1.7 - 0.2 * (double)i;
    }
    hm_data rows = {x, T_ROWS, T_ROWS, wts};
    const size_t el = hm_estep_work_len(h, 1);
    CHECK(el + T_GUARD <= T_WORK, "boltzmann: E-step work too large for the test");
    t_guard_set(w, el);
    CHECK(hm_estep(h, tc.theta, &rows, NULL, st, logp, post, 1, w) == HM_OK,
          "boltzmann rep %d: E-step failed", rep);
    CHECK(t_guard_ok(w, el), "boltzmann rep %d: E-step wrote past hm_estep_work_len", rep);
    for (int i = 0; i < T_ROWS; i++) {
        double lj[8], pm[T_BQ];
        const double ref = t_mixture_row(&tc, x, i, mean, lpz, lj, pm);
        CHECK(hm_st_near(logp[i], ref, 1e-10),
              "boltzmann rep %d: log p(x_%d) %.15g vs mixture %.15g", rep, i, logp[i], ref);
        for (int k = 0; k < q; k++) {
            CHECK(hm_st_near(post[k * T_ROWS + i], pm[k], 1e-10),
                  "boltzmann rep %d: P(z_%d | x_%d) %.15g vs %.15g", rep, k, i,
                  post[k * T_ROWS + i], pm[k]);
        }
        // The weighted statistics (s_X(x), x E[z | x]', E[s_Z(z) | x]).
        double xi[T_BP] = {x[i], x[T_ROWS + i]};
        hm_fam_stat(&tc.obs, xi, sv);
        for (int r = 0; r < dx; r++) {
            sref[r] += wts[i] * sv[r];
        }
        for (int j = 0; j < p; j++) {
            for (int k = 0; k < q; k++) {
                sref[dx + j * q + k] += wts[i] * xi[j] * pm[k];
            }
        }
        for (int s = 0; s < ns; s++) {
            for (int r = 0; r < dz; r++) {
                sref[dx + p * q + r] += wts[i] * exp(lj[s] - ref) * sz[s][r];
            }
        }
        llsum += wts[i] * logp[i];
        wsum += wts[i];
    }
    for (int r = 0; r < dim; r++) {
        CHECK(hm_st_near(st[r], sref[r], 1e-10), "boltzmann rep %d: statistic %d %.15g vs %.15g",
              rep, r, st[r], sref[r]);
    }
    CHECK(hm_st_near(st[dim], llsum, 1e-10) && hm_st_near(st[dim + 1], wsum, 1e-15),
          "boltzmann rep %d: log-likelihood or weight slot", rep);

    // Moments against the enumeration (t_mixture_moments, and E[s_Z(z)]),
    // and the round trip (Newton inverse of the Boltzmann prior).
    double eta[T_MAXDIM], ref[T_MAXDIM] = {0}, back[T_MAXDIM];
    int bad = 0;
    t_mixture_moments(&tc, mean, lpz, ref);
    for (int s = 0; s < ns; s++) {
        for (int r = 0; r < dz; r++) {
            ref[dx + p * q + r] += exp(lpz[s]) * sz[s][r];
        }
    }
    const hm_ctrl ctl = {.reg = 0.0, .tol = 1e-12, .maxit = 100, .floor = 0.0, .lower = 0.0};
    t_guard_set(w, wl);
    CHECK(hm_hm_to_mean(h, tc.theta, eta, w) == HM_OK, "boltzmann rep %d: to_mean failed", rep);
    for (int r = 0; r < dim; r++) {
        CHECK(hm_st_near(eta[r], ref[r], 1e-10),
              "boltzmann rep %d: eta_%d %.15g vs enumeration %.15g", rep, r, eta[r], ref[r]);
    }
    CHECK(hm_hm_to_natural(h, eta, back, w, &ctl, &bad) == HM_OK,
          "boltzmann rep %d: to_natural failed", rep);
    for (int r = 0; r < dim; r++) {
        CHECK(hm_st_near(back[r], tc.theta[r], 1e-7),
              "boltzmann rep %d: round trip at %d: %.15g vs %.15g", rep, r, back[r], tc.theta[r]);
    }
    // Whitening is the identity for an identified (binary) latent.
    double ew[T_MAXDIM];
    CHECK(hm_hm_whiten(h, eta, ew, w) == HM_OK &&
              memcmp(ew, eta, (size_t)dim * sizeof(double)) == 0,
          "boltzmann rep %d: whitening changed the mean coordinates", rep);
    CHECK(t_guard_ok(w, wl), "boltzmann rep %d: a map wrote past hm_hm_work_len", rep);

    // EM (no whitening) does not decrease the log-likelihood; E-step
    // statistics are bit-identical for 1 and 2 threads.
    double xe[T_EM * T_BP];
    t_data(T_EM, p, 577215u + (uint64_t)rep, xe);
    hm_data de = {xe, T_EM, T_EM, NULL};
    double cur[T_MAXDIM], nxt[T_MAXDIM], ll, ll_old = -INFINITY;
    memcpy(cur, tc.theta, sizeof cur);
    const size_t ml = hm_em_work_len(h, 1);
    CHECK(ml + T_GUARD <= T_WORK, "boltzmann: EM work too large for the test");
    for (int it = 0; it < 3; it++) {
        t_guard_set(w, ml);
        CHECK(hm_em_iterate(h, cur, &de, &ctl, 1, st, nxt, &ll, &bad, w) == HM_OK,
              "boltzmann rep %d: EM iteration %d failed", rep, it);
        CHECK(t_guard_ok(w, ml), "boltzmann rep %d: EM wrote past hm_em_work_len", rep);
        CHECK(ll >= ll_old - 1e-9 * fabs(ll), "boltzmann rep %d: EM decreased the log-likelihood",
              rep);
        ll_old = ll;
        memcpy(cur, nxt, sizeof cur);
    }
    if (t_threads(h, tc.theta, 141421u, w, msg, len)) {
        return 1;
    }

    // Sampling: Gibbs draws of the prior, then x | z; E[x] and the unit
    // means within 6 standard errors (thinned chains are nearly
    // independent for three units).
    {
        double xs[T_CHUNK * T_BP], zsm[T_CHUNK * T_BQ];
        double sum[T_BP + T_BQ] = {0}, sq[T_BP + T_BQ] = {0};
        hm_st_rng g;
        hm_rng rng;
        hm_st_rng_init(&g, 2718281u + (uint64_t)rep, &rng);
        const size_t sl = hm_hm_sample_work_len(h, T_CHUNK);
        CHECK(sl + T_GUARD <= T_WORK, "boltzmann: sample work too large for the test");
        t_guard_set(w, sl);
        for (int c = 0; c < T_DRAWS / T_CHUNK; c++) {
            CHECK(hm_hm_sample(h, tc.theta, T_CHUNK, &rng, xs, zsm, w) == HM_OK,
                  "boltzmann rep %d: sampling failed", rep);
            for (int i = 0; i < T_CHUNK; i++) {
                for (int j = 0; j < p + q; j++) {
                    double v = j < p ? xs[i * p + j] : zsm[i * q + j - p];
                    sum[j] += v;
                    sq[j] += v * v;
                }
            }
        }
        CHECK(t_guard_ok(w, sl), "boltzmann rep %d: sampling wrote past its work", rep);
        for (int j = 0; j < p + q; j++) {
            double want = j < p ? eta[j] : eta[dx + p * q + (int)lgm_pidx(q, j - p, j - p)];
            double m = sum[j] / T_DRAWS, sd = sqrt(fmax(sq[j] / T_DRAWS - m * m, 0.0));
            CHECK(fabs(m - want) < 6.0 * sd / sqrt((double)T_DRAWS),
                  "boltzmann rep %d: sample mean %d %.6g vs %.6g", rep, j, m, want);
        }
    }
    return 0;
}

/*
 * The table entry: descriptor checks, then each rep for both kinds. The
 * workspace lives on this frame (no static state) and is shared by the
 * cases, each of which guards the part it is told it may use.
 */
int hm_lgm_selftest(char *msg, size_t len) {
    double w[T_WORK + T_GUARD];
    // Descriptors that do not fit the kinds.
    hm_family fn, fd, fb, fc;
    hm_harmonium h;
    CHECK(hm_family_init(&fn, HM_FAM_NORMAL, 3, HM_COV_FULL, 0) == HM_OK &&
              hm_family_init(&fd, HM_FAM_NORMAL, 2, HM_COV_DIAG, 0) == HM_OK &&
              hm_family_init(&fb, HM_FAM_BOLTZMANN, 2, 0, 0) == HM_OK &&
              hm_family_init(&fc, HM_FAM_CATEGORICAL, 3, 0, 0) == HM_OK,
          "family init failed");
    CHECK(hm_hm_init(&h, HM_HM_LGM, &fn, &fd) == HM_EINVAL &&
              hm_hm_init(&h, HM_HM_LGM, &fc, &fn) == HM_EINVAL &&
              hm_hm_init(&h, HM_HM_BOLTZMANN_LGM, &fn, &fn) == HM_EINVAL &&
              hm_hm_init(&h, HM_HM_LGM, &fn, &fn) == HM_OK && h.mx == 3 && h.mz == 3 &&
              hm_hm_post_len(&h) == 3 && hm_hm_init(&h, HM_HM_BOLTZMANN_LGM, &fd, &fb) == HM_OK &&
              hm_hm_dim(&h) == 4 + 4 + 3,
          "descriptor checks of the linear-Gaussian kinds");
    const int reps[3] = {HM_COV_DIAG, HM_COV_ISO, HM_COV_FULL};
    for (int r = 0; r < 3; r++) {
        if (t_lgm_case(reps[r], w, msg, len) || t_boltzmann_case(reps[r], w, msg, len)) {
            return 1;
        }
    }
    return 0;
}

// --- self-test: restricted-posterior kinds and contrastive divergence ------------------
// The diagonal-posterior LGM is built from a loading form and a diagonal
// posterior precision D, so that its full prior N(mu_z, Sigma_z), Sigma_z
// = (D - A'P_x A)^-1, and the marginal N(A mu_z + b, A Sigma_z A' +
// Sigma_x) come from the test's own Gauss-Jordan inverse; the mean-field
// Boltzmann LGM is compared with the explicit mixture of 2^3 Gaussians
// under its Boltzmann prior. Both gradients are checked against finite
// differences of the log-likelihood, and CD-k against the exact gradient.

enum {
    T_CD_REPS = 10000, /* CD estimates averaged */
    T_CD_K = 50        /* Gibbs sweeps per CD chain */
};

/*
 * The exact gradient stats - (sum w) eta at theta (glue_grad.c) against
 * central differences of the E-step's weighted log-likelihood slot, one
 * coordinate at a time. Steps of 1e-5 max(1, |theta_r|) balance the O(h^2)
 * truncation error against the O(eps |l| / h) rounding error: both are
 * about 1e-9 here (|l| ~ 50), far inside the 1e-6 relative tolerance,
 * while a missing term or a wrong projection of eta is an O(1) error.
 * The step actually taken, (theta + h) - (theta - h) in floating point, is
 * the divisor. grad receives the exact gradient.
 */
static int t_gradient_fd(const hm_harmonium *h,
                         const double *theta,
                         const hm_data *rows,
                         double *w,
                         double *grad,
                         char *msg,
                         size_t len) {
    const int dim = hm_hm_dim(h);
    double st[T_MAXDIM + 2], eta[T_MAXDIM], tp[T_MAXDIM];
    CHECK(hm_estep(h, theta, rows, NULL, st, NULL, NULL, 1, w) == HM_OK &&
              hm_hm_to_mean(h, theta, eta, w) == HM_OK,
          "kind %d: E-step or to_mean failed", h->kind);
    for (int r = 0; r < dim; r++) {
        grad[r] = st[r] - st[dim + 1] * eta[r];
    }
    for (int r = 0; r < dim; r++) {
        const double hr = 1e-5 * fmax(1.0, fabs(theta[r]));
        double lp, lm, up, dn;
        memcpy(tp, theta, (size_t)dim * sizeof(double));
        tp[r] = theta[r] + hr;
        up = tp[r];
        CHECK(hm_estep(h, tp, rows, NULL, st, NULL, NULL, 1, w) == HM_OK, "kind %d: E-step at +h",
              h->kind);
        lp = st[dim];
        tp[r] = theta[r] - hr;
        dn = tp[r];
        CHECK(hm_estep(h, tp, rows, NULL, st, NULL, NULL, 1, w) == HM_OK, "kind %d: E-step at -h",
              h->kind);
        lm = st[dim];
        const double fd = (lp - lm) / (up - dn);
        CHECK(hm_st_near(grad[r], fd, 1e-6),
              "kind %d rep %d: gradient %d %.12g vs differences %.12g", h->kind, h->obs->rep, r,
              grad[r], fd);
    }
    return 0;
}

/*
 * HM_HM_LGM_DIAG in rep: p = 4, q = 2, the loading form of the Gaussian
 * case, the posterior location theta_z and D = diag(M_kk + 0.8 + 0.35 k +
 * sum_l |M_kl|) with M = A'P_x A = W'Sigma_x W, diagonally dominant over
 * M so that the prior precision D - M is positive definite but far from
 * diagonal (the prior is a genuinely full Normal).
 */
static int t_diag_case(int rep, double *w, char *msg, size_t len) {
    static const double thzl[T_Q] = {0.3, -0.45};
    const double *A = T_LG_A;
    const int p = T_P, q = T_Q;
    t_case tc;
    memset(&tc, 0, sizeof tc);
    CHECK(hm_family_init(&tc.obs, HM_FAM_NORMAL, p, rep, 0) == HM_OK &&
              hm_family_init(&tc.lat, HM_FAM_NORMAL, q, HM_COV_DIAG, 0) == HM_OK &&
              hm_hm_init(&tc.h, HM_HM_LGM_DIAG, &tc.obs, &tc.lat) == HM_OK &&
              hm_hm_dim(&tc.h) <= T_MAXDIM,
          "diag rep %d: descriptor init failed", rep);
    const hm_harmonium *h = &tc.h;
    const int dx = tc.obs.dim, off = dx + p * q, dim = hm_hm_dim(h);
    t_loading(&tc, p, q, T_LG_A, T_LG_B, T_LG_SX, 0.97);
    // W'b = A'P_x b and M = A'P_x A, written out.
    double m[T_Q * T_Q], wb[T_Q];
    t_wpw(&tc, wb, m);
    double dd[T_Q], lam[T_Q * T_Q], sz[T_Q * T_Q], muz[T_Q];
    double *thz = tc.theta + off;
    for (int k = 0; k < q; k++) {
        dd[k] = m[k * q + k] + 0.8 + 0.35 * (double)k;
        for (int l = 0; l < q; l++) {
            dd[k] += (l != k) ? fabs(m[k * q + l]) : 0.0;
        }
        thz[k] = thzl[k];
        thz[q + k] = -0.5 * dd[k];
    }
    // The full prior: precision D - M, location theta_z + W'b.
    for (int k = 0; k < q; k++) {
        for (int l = 0; l < q; l++) {
            lam[k * q + l] = (k == l ? dd[k] : 0.0) - m[k * q + l];
        }
    }
    t_inv(q, lam, sz);
    for (int k = 0; k < q; k++) {
        muz[k] = 0.0;
        for (int l = 0; l < q; l++) {
            muz[k] += sz[k * q + l] * (thzl[l] + wb[l]);
        }
    }
    t_marginal(&tc, muz, sz);
    const size_t wl = hm_hm_work_len(h);
    CHECK(wl + T_GUARD <= T_WORK, "diag rep %d: work_len too large for the test", rep);
    t_guard_set(w, wl);
    CHECK(hm_hm_check_natural(h, tc.theta, w) == HM_OK, "diag rep %d: valid theta rejected", rep);

    // Conjugation in the full prior's coordinates, and the prior itself:
    // (theta_z + W'b, packed -(D - M)/2).
    const double zs[4][T_Q] = {{0.0, 0.0}, {1.3, -0.7}, {-2.1, 0.45}, {0.8, 2.385}};
    for (int t = 0; t < 4; t++) {
        if (t_conjugation(&tc, zs[t], w, msg, len)) {
            return 1;
        }
    }
    double prior[T_MAXDIM];
    CHECK(h->prr.kind == HM_FAM_NORMAL && h->prr.rep == HM_COV_FULL &&
              h->prr.dim == q + q * (q + 1) / 2 && hm_hm_prior(h, tc.theta, prior, w) == HM_OK,
          "diag rep %d: prior family or prior", rep);
    for (int k = 0, r = q; k < q; k++) {
        CHECK(hm_st_near(prior[k], thzl[k] + wb[k], 1e-12), "diag rep %d: prior location %d", rep,
              k);
        for (int l = k; l < q; l++, r++) {
            const double want = (k == l) ? -0.5 * lam[k * q + k] : -lam[k * q + l];
            CHECK(hm_st_near(prior[r], want, 1e-12), "diag rep %d: prior entry %d %.15g vs %.15g",
                  rep, r, prior[r], want);
        }
    }

    // log p(x) against the marginal; E[z | x] = D^-1 (theta_z + W'x), which
    // must equal the Gaussian conditioning mu_z + Sigma_z A' C^-1 (x - m)
    // of the FULL prior (the posterior is exactly diagonal); the weighted
    // statistics (s_X(x), x mu', mu, 1/D_k + mu_k^2).
    double x[T_ROWS * T_P], logp[T_ROWS], post[T_ROWS * T_Q], st[T_MAXDIM + 2];
    double cinv[T_P * T_P], wts[T_ROWS], sref[T_MAXDIM] = {0}, sv[T_MAXDIM];
    t_rows(p, x);
    const double det = t_inv(p, tc.mcov, cinv);
    for (int i = 0; i < T_ROWS; i++) {
        wts[i] = 0.4 + 0.25 * (double)i;
    }
    hm_data rows = {x, T_ROWS, T_ROWS, wts};
    const size_t el = hm_estep_work_len(h, 1);
    CHECK(el + T_GUARD <= T_WORK, "diag rep %d: E-step work too large for the test", rep);
    t_guard_set(w, el);
    CHECK(hm_estep(h, tc.theta, &rows, NULL, st, logp, post, 1, w) == HM_OK && t_guard_ok(w, el),
          "diag rep %d: E-step failed or wrote past hm_estep_work_len", rep);
    double llsum = 0.0, wsum = 0.0;
    for (int i = 0; i < T_ROWS; i++) {
        double r[T_P], xi[T_P];
        for (int j = 0; j < p; j++) {
            xi[j] = x[j * T_ROWS + i];
            r[j] = xi[j] - tc.mmean[j];
        }
        const double ref = t_log_normal(p, r, cinv, det);
        CHECK(hm_st_near(logp[i], ref, 1e-10), "diag rep %d: log p(x_%d) %.15g vs marginal %.15g",
              rep, i, logp[i], ref);
        double mu[T_Q];
        for (int k = 0; k < q; k++) {
            double hk = thzl[k], ck = muz[k];
            for (int j = 0; j < p; j++) {
                hk += tc.theta[dx + j * q + k] * xi[j];
                for (int l = 0; l < q; l++) {
                    for (int t = 0; t < p; t++) {
                        ck += sz[k * q + l] * A[t * q + l] * cinv[t * p + j] * r[j];
                    }
                }
            }
            mu[k] = hk / dd[k];
            CHECK(hm_st_near(post[k * T_ROWS + i], mu[k], 1e-10) && hm_st_near(mu[k], ck, 1e-10),
                  "diag rep %d: E[z_%d | x_%d] %.15g, D^-1 h %.15g, conditioning %.15g", rep, k, i,
                  post[k * T_ROWS + i], mu[k], ck);
        }
        hm_fam_stat(&tc.obs, xi, sv);
        for (int j = 0; j < dx; j++) {
            sref[j] += wts[i] * sv[j];
        }
        for (int j = 0; j < p; j++) {
            for (int k = 0; k < q; k++) {
                sref[dx + j * q + k] += wts[i] * xi[j] * mu[k];
            }
        }
        for (int k = 0; k < q; k++) {
            sref[off + k] += wts[i] * mu[k];
            sref[off + q + k] += wts[i] * (1.0 / dd[k] + mu[k] * mu[k]);
        }
        llsum += wts[i] * logp[i];
        wsum += wts[i];
    }
    for (int r = 0; r < dim; r++) {
        CHECK(hm_st_near(st[r], sref[r], 1e-10), "diag rep %d: statistic %d %.15g vs %.15g", rep, r,
              st[r], sref[r]);
    }
    CHECK(hm_st_near(st[dim], llsum, 1e-10) && hm_st_near(st[dim + 1], wsum, 1e-15),
          "diag rep %d: log-likelihood or weight slot", rep);

    // Mean coordinates: the full joint moments projected onto (E[z],
    // E[z_k^2]).
    double eta[T_MAXDIM], full[T_MAXDIM + 8], ref[T_MAXDIM];
    t_moments_lgm(&tc, muz, sz, full);
    memcpy(ref, full, (size_t)(off + q) * sizeof(double));
    for (int k = 0; k < q; k++) {
        ref[off + q + k] = full[off + q + (int)lgm_pidx(q, k, k)];
    }
    t_guard_set(w, wl);
    CHECK(hm_hm_to_mean(h, tc.theta, eta, w) == HM_OK, "diag rep %d: to_mean failed", rep);
    for (int r = 0; r < dim; r++) {
        CHECK(hm_st_near(eta[r], ref[r], 1e-10), "diag rep %d: eta_%d %.15g vs %.15g", rep, r,
              eta[r], ref[r]);
    }
    // No closed-form M-step; whitening is the identity; statuses.
    double back[T_MAXDIM], ew[T_MAXDIM], tb[T_MAXDIM];
    const hm_ctrl ctl = {.reg = 0.0, .tol = 1e-12, .maxit = 100, .floor = 0.0, .lower = 0.0};
    int bad = 0;
    CHECK(hm_hm_to_natural(h, eta, back, w, &ctl, &bad) == HM_EINVAL,
          "diag rep %d: an M-step was accepted", rep);
    CHECK(hm_hm_whiten(h, eta, ew, w) == HM_OK && memcmp(ew, eta, (size_t)dim * sizeof(double)) == 0,
          "diag rep %d: whitening changed the mean coordinates", rep);
    memcpy(tb, tc.theta, sizeof tb);
    for (int r = 0; r < p * q; r++) {
        tb[dx + r] *= 10.0;
    }
    CHECK(hm_hm_check_natural(h, tb, w) == HM_ENOTPD, "diag rep %d: non-PD prior accepted", rep);
    memcpy(tb, tc.theta, sizeof tb);
    tb[off + q + 1] = 0.3;
    CHECK(hm_hm_check_natural(h, tb, w) == HM_ENOTPD,
          "diag rep %d: non-PD posterior precision accepted", rep);
    CHECK(t_guard_ok(w, wl), "diag rep %d: a map wrote past hm_hm_work_len", rep);

    double grad[T_MAXDIM];
    const size_t ml = el > wl ? el : wl;
    t_guard_set(w, ml);
    if (t_gradient_fd(h, tc.theta, &rows, w, grad, msg, len) ||
        t_threads(h, tc.theta, 161803u, w, msg, len)) {
        return 1;
    }
    return t_sample(h, tc.theta, eta, 314159u + (uint64_t)rep, w, msg, len);
}

/*
 * HM_HM_BOLTZMANN_LGM_MF in rep: p = 2, q = 3, the Boltzmann case's
 * loading form with independent-unit biases theta_Z. The explicit model is
 * the mixture p(x) = sum_z p(z) N(x; A z + b, Sigma_x) over the 2^3 states
 * with p(z) proportional to exp(theta_Z . z + psi_X(theta_x + W z))
 * (theory.md 1.2; independent of rho), a Boltzmann machine with couplings
 * from W'Sigma_x W. Its posterior P(z | x) is enumerated too, so the
 * factorised posterior sigmoid(theta_k + (W'x)_k) is checked, not assumed.
 */
static int t_mf_case(int rep, double *w, char *msg, size_t len) {
    const double *thz = T_MF_THZ;
    const int p = T_BP, q = T_BQ, ns = 1 << T_BQ;
    t_case tc;
    CHECK(t_case_bm(HM_HM_BOLTZMANN_LGM_MF, rep, &tc) == 0, "mf rep %d: descriptor init failed",
          rep);
    const hm_harmonium *h = &tc.h;
    const int dx = tc.obs.dim, off = dx + p * q, dim = hm_hm_dim(h);
    const size_t wl = hm_hm_work_len(h);
    CHECK(wl + T_GUARD <= T_WORK, "mf: work_len too large for the test");
    t_guard_set(w, wl);
    CHECK(h->prr.kind == HM_FAM_BOLTZMANN && h->prr.dim == q * (q + 1) / 2 &&
              hm_hm_check_natural(h, tc.theta, w) == HM_OK,
          "mf rep %d: prior family or valid theta", rep);

    // Per state (LSB first): the component mean, psi_X at the likelihood
    // and the prior log-probability; the conjugation identity in the
    // Boltzmann prior's coordinates.
    double mean[8][T_BP], lpz[8];
    if (t_states(&tc, mean, lpz, w, msg, len)) {
        return 1;
    }
    for (int s = 0; s < ns; s++) {
        for (int k = 0; k < q; k++) {
            lpz[s] += thz[k] * (double)((s >> k) & 1);
        }
    }
    t_log_normalise(lpz, ns);

    // log p(x), P(z_k = 1 | x) and the statistics (s_X(x), x E[z | x]',
    // E[z | x]) against the enumeration of the mixture.
    double x[T_ROWS * T_BP], logp[T_ROWS], post[T_ROWS * T_BQ], st[T_MAXDIM + 2];
    double wts[T_ROWS], sref[T_MAXDIM] = {0}, sv[T_MAXDIM], llsum = 0.0, wsum = 0.0;
    t_rows(p, x);
    for (int i = 0; i < T_ROWS; i++) {
        wts[i] = 1.7 - 0.2 * (double)i;
    }
    hm_data rows = {x, T_ROWS, T_ROWS, wts};
    const size_t el = hm_estep_work_len(h, 1);
    CHECK(el + T_GUARD <= T_WORK, "mf: E-step work too large for the test");
    t_guard_set(w, el);
    CHECK(hm_estep(h, tc.theta, &rows, NULL, st, logp, post, 1, w) == HM_OK && t_guard_ok(w, el),
          "mf rep %d: E-step failed or wrote past hm_estep_work_len", rep);
    for (int i = 0; i < T_ROWS; i++) {
        double lj[8], pm[T_BQ];
        const double ref = t_mixture_row(&tc, x, i, mean, lpz, lj, pm);
        CHECK(hm_st_near(logp[i], ref, 1e-10), "mf rep %d: log p(x_%d) %.15g vs mixture %.15g", rep,
              i, logp[i], ref);
        double xi[T_BP] = {x[i], x[T_ROWS + i]};
        hm_fam_stat(&tc.obs, xi, sv);
        for (int r = 0; r < dx; r++) {
            sref[r] += wts[i] * sv[r];
        }
        for (int k = 0; k < q; k++) {
            CHECK(hm_st_near(post[k * T_ROWS + i], pm[k], 1e-10),
                  "mf rep %d: P(z_%d | x_%d) %.15g vs enumeration %.15g", rep, k, i,
                  post[k * T_ROWS + i], pm[k]);
            for (int j = 0; j < p; j++) {
                sref[dx + j * q + k] += wts[i] * xi[j] * pm[k];
            }
            sref[off + k] += wts[i] * pm[k];
        }
        llsum += wts[i] * logp[i];
        wsum += wts[i];
    }
    for (int r = 0; r < dim; r++) {
        CHECK(hm_st_near(st[r], sref[r], 1e-10), "mf rep %d: statistic %d %.15g vs %.15g", rep, r,
              st[r], sref[r]);
    }
    CHECK(hm_st_near(st[dim], llsum, 1e-10) && hm_st_near(st[dim + 1], wsum, 1e-15),
          "mf rep %d: log-likelihood or weight slot", rep);

    // Mean coordinates against the enumeration, the latent block being
    // the unit means E[z_k] (the projection of the prior's E[z z']).
    double eta[T_MAXDIM], ref[T_MAXDIM] = {0};
    t_mixture_moments(&tc, mean, lpz, ref);
    for (int s = 0; s < ns; s++) {
        for (int k = 0; k < q; k++) {
            ref[off + k] += ((s >> k) & 1) ? exp(lpz[s]) : 0.0;
        }
    }
    t_guard_set(w, wl);
    CHECK(hm_hm_to_mean(h, tc.theta, eta, w) == HM_OK, "mf rep %d: to_mean failed", rep);
    for (int r = 0; r < dim; r++) {
        CHECK(hm_st_near(eta[r], ref[r], 1e-10), "mf rep %d: eta_%d %.15g vs enumeration %.15g",
              rep, r, eta[r], ref[r]);
    }
    double back[T_MAXDIM], ew[T_MAXDIM];
    const hm_ctrl ctl = {.reg = 0.0, .tol = 1e-12, .maxit = 100, .floor = 0.0, .lower = 0.0};
    int bad = 0;
    CHECK(hm_hm_to_natural(h, eta, back, w, &ctl, &bad) == HM_EINVAL,
          "mf rep %d: an M-step was accepted", rep);
    CHECK(hm_hm_whiten(h, eta, ew, w) == HM_OK && memcmp(ew, eta, (size_t)dim * sizeof(double)) == 0,
          "mf rep %d: whitening changed the mean coordinates", rep);
    CHECK(t_guard_ok(w, wl), "mf rep %d: a map wrote past hm_hm_work_len", rep);

    double grad[T_MAXDIM];
    const size_t ml = el > wl ? el : wl;
    t_guard_set(w, ml);
    if (t_gradient_fd(h, tc.theta, &rows, w, grad, msg, len) ||
        t_threads(h, tc.theta, 161803u, w, msg, len)) {
        return 1;
    }
    return t_sample(h, tc.theta, eta, 271828u + (uint64_t)rep, w, msg, len);
}

/*
 * CD-k against the exact gradient for a Boltzmann-latent kind (p = 2,
 * q = 3, the Boltzmann case's model; kind 3 with its couplings, kind 5
 * with independent-unit biases), on the 7 weighted rows: the mean of
 * T_CD_REPS estimates with k = T_CD_K sweeps, coordinate by coordinate,
 * within 5 standard errors of stats - (sum w) eta.
 *
 * Why this tolerance: the positive phase is exact, so E[CD-k] - exact =
 * sum_n w_n (eta - E[s(x_k, z_k) | chain from x_n]), the bias of a Gibbs
 * chain after k sweeps. It decays geometrically in k at the rate of the
 * z-chain z -> x -> z', whose 8 x 8 transition matrix T(z' | z) =
 * int p(x | z) p(z' | x) dx has second eigenvalue modulus about 0.67
 * (kind 3) and 0.60 (kind 5) for this model (the components A z + b are
 * one or two noise standard deviations apart, so one x leaves several z
 * plausible; computed once in R from 2e5 draws of x per state). After 50
 * sweeps the bias is of order 0.67^50 ~ 2e-9 times the spread of the
 * statistics, far below the Monte-Carlo error, which is all that remains: the
 * estimates are independent (fresh chains, one generator stream), the
 * mean's standard error is sd / sqrt(T_CD_REPS), and 5 standard errors
 * give a false alarm probability below 1e-6 per coordinate. A sign error,
 * a missing factor or a mis-indexed bias is many standard errors off. The
 * same average with k = 1 must miss the exact gradient by more than 10
 * standard errors somewhere: CD-1 is biased (its fixed point is not the
 * maximum-likelihood one, theory.md 1.6), and the test must be able to
 * see a bias of that size.
 */
static int t_cd_case(int kind, int rep, double *w, char *msg, size_t len) {
    const int p = T_BP;
    t_case tc;
    CHECK(t_case_bm(kind, rep, &tc) == 0, "cd kind %d: descriptor init failed", kind);
    const hm_harmonium *h = &tc.h;
    const int dim = hm_hm_dim(h);

    // The exact gradient on the weighted rows.
    double x[T_ROWS * T_BP], wts[T_ROWS], st[T_MAXDIM + 2], eta[T_MAXDIM], exact[T_MAXDIM];
    t_rows(p, x);
    for (int i = 0; i < T_ROWS; i++) {
        wts[i] = 0.6 + 0.15 * (double)i;
    }
    hm_data rows = {x, T_ROWS, T_ROWS, wts};
    CHECK(hm_estep_work_len(h, 1) + T_GUARD <= T_WORK, "cd: E-step work too large for the test");
    CHECK(hm_estep(h, tc.theta, &rows, NULL, st, NULL, NULL, 1, w) == HM_OK &&
              hm_hm_to_mean(h, tc.theta, eta, w) == HM_OK,
          "cd kind %d: exact gradient failed", kind);
    for (int r = 0; r < dim; r++) {
        exact[r] = st[r] - st[dim + 1] * eta[r];
    }

    // The CD estimates, from one generator stream.
    const size_t cl = hm_hm_cd_gradient_work_len(h);
    CHECK(cl > 0 && cl + T_GUARD <= T_WORK, "cd kind %d: work_len %zu", kind, cl);
    double g[T_MAXDIM], sum[T_MAXDIM] = {0}, sq[T_MAXDIM] = {0};
    hm_st_rng gen;
    hm_rng rng;
    hm_st_rng_init(&gen, 1414213u + (uint64_t)kind, &rng);
    t_guard_set(w, cl);
    CHECK(hm_hm_cd_gradient(h, tc.theta, &rows, 0, &rng, g, w) == HM_EINVAL,
          "cd kind %d: k = 0 accepted", kind);
    for (int t = 0; t < T_CD_REPS; t++) {
        CHECK(hm_hm_cd_gradient(h, tc.theta, &rows, T_CD_K, &rng, g, w) == HM_OK,
              "cd kind %d: CD failed", kind);
        for (int r = 0; r < dim; r++) {
            sum[r] += g[r];
            sq[r] += g[r] * g[r];
        }
    }
    CHECK(t_guard_ok(w, cl), "cd kind %d: CD wrote past hm_hm_cd_gradient_work_len", kind);
    for (int r = 0; r < dim; r++) {
        const double mean = sum[r] / T_CD_REPS;
        const double se = sqrt(fmax(sq[r] / T_CD_REPS - mean * mean, 0.0) / T_CD_REPS);
        CHECK(fabs(mean - exact[r]) <= 5.0 * se,
              "cd kind %d rep %d: coordinate %d: CD mean %.6g vs exact %.6g (se %.3g)", kind, rep, r,
              mean, exact[r], se);
    }
    // CD-1: visibly biased.
    memset(sum, 0, sizeof sum);
    memset(sq, 0, sizeof sq);
    for (int t = 0; t < T_CD_REPS; t++) {
        CHECK(hm_hm_cd_gradient(h, tc.theta, &rows, 1, &rng, g, w) == HM_OK,
              "cd kind %d: CD-1 failed", kind);
        for (int r = 0; r < dim; r++) {
            sum[r] += g[r];
            sq[r] += g[r] * g[r];
        }
    }
    double worst = 0.0;
    for (int r = 0; r < dim; r++) {
        const double mean = sum[r] / T_CD_REPS;
        const double se = sqrt(fmax(sq[r] / T_CD_REPS - mean * mean, 0.0) / T_CD_REPS);
        worst = fmax(worst, fabs(mean - exact[r]) / fmax(se, 1e-300));
    }
    CHECK(worst > 10.0, "cd kind %d: CD-1 within %.3g standard errors of the exact gradient", kind,
          worst);
    return 0;
}

/*
 * The table entry: descriptors of the restricted kinds, each rep of both,
 * then CD-k for the two Boltzmann-latent kinds (kind 3 with a full
 * observable covariance, which also exercises the triangular noise
 * factor; kind 5 with a diagonal one).
 */
int hm_lgm_asym_selftest(char *msg, size_t len) {
    double w[T_WORK + T_GUARD];
    hm_family fn, fd, fb, fber, fber21, fdq;
    hm_harmonium h;
    CHECK(hm_family_init(&fn, HM_FAM_NORMAL, 3, HM_COV_FULL, 0) == HM_OK &&
              hm_family_init(&fd, HM_FAM_NORMAL, 2, HM_COV_DIAG, 0) == HM_OK &&
              hm_family_init(&fdq, HM_FAM_NORMAL, 2, HM_COV_DIAG, 0) == HM_OK &&
              hm_family_init(&fb, HM_FAM_BOLTZMANN, 2, 0, 0) == HM_OK &&
              hm_family_init(&fber, HM_FAM_BERNOULLI, 3, 0, 0) == HM_OK &&
              hm_family_init(&fber21, HM_FAM_BERNOULLI, HM_BOLTZMANN_MAX_UNITS + 1, 0, 0) == HM_OK,
          "family init failed");
    CHECK(hm_hm_init(&h, HM_HM_LGM_DIAG, &fn, &fn) == HM_EINVAL &&
              hm_hm_init(&h, HM_HM_LGM_DIAG, &fber, &fdq) == HM_EINVAL &&
              hm_hm_init(&h, HM_HM_BOLTZMANN_LGM_MF, &fd, &fb) == HM_EINVAL &&
              hm_hm_init(&h, HM_HM_BOLTZMANN_LGM_MF, &fd, &fber21) == HM_EINVAL &&
              hm_hm_init(&h, HM_HM_BOLTZMANN_LGM_MF, &fber, &fber) == HM_EINVAL,
          "restricted kinds accepted unfit families");
    CHECK(hm_hm_init(&h, HM_HM_LGM_DIAG, &fn, &fdq) == HM_OK && h.mx == 3 && h.mz == 2 &&
              hm_hm_post_len(&h) == 2 && hm_hm_dim(&h) == 9 + 6 + 4 && h.prr.dim == 5 &&
              hm_hm_cd_gradient_work_len(&h) == 0,
          "lgm_diag descriptor");
    double g[32];
    hm_data none = {NULL, 0, 0, NULL};
    CHECK(hm_hm_cd_gradient(&h, g, &none, 1, NULL, g, w) == HM_EINVAL,
          "CD accepted a Gaussian latent");
    CHECK(hm_hm_init(&h, HM_HM_BOLTZMANN_LGM_MF, &fd, &fber) == HM_OK && h.mz == 3 &&
              hm_hm_post_len(&h) == 3 && hm_hm_dim(&h) == 4 + 6 + 3 && h.prr.dim == 6 &&
              h.prr.kind == HM_FAM_BOLTZMANN,
          "boltzmann_lgm_mf descriptor");
    const int reps[3] = {HM_COV_DIAG, HM_COV_ISO, HM_COV_FULL};
    for (int r = 0; r < 3; r++) {
        if (t_diag_case(reps[r], w, msg, len) || t_mf_case(reps[r], w, msg, len)) {
            return 1;
        }
    }
    if (t_cd_case(HM_HM_BOLTZMANN_LGM, HM_COV_FULL, w, msg, len) ||
        t_cd_case(HM_HM_BOLTZMANN_LGM_MF, HM_COV_DIAG, w, msg, len)) {
        return 1;
    }
    return 0;
}
