/*
 * selftest_covstruct.c: C unit tests of the covariance structures'
 * M-step (covstruct.c): the closed forms against their formulas, the
 * fixed-point equations of the iterative VEI and VEE, the ordering of the
 * objective over nested structures (a structure never does worse than one
 * it contains, nor better than one containing it), and the statuses.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hm_engine.h"
#include "linalg.h"
#include "selftest.h"

#define D 3
#define K 3
#define DD (D * D)

static int at(int i, int j) {
    return j * D + i;
}

// F = sum_k w_k log |S_k| + tr(W_k S_k^-1); NAN if an S_k is not positive
// definite.
static double objective(const double *w, const double *W, const double *S) {
    double f = 0.0, a[DD], b[DD];
    for (int k = 0; k < K; k++) {
        memcpy(a, S + k * DD, sizeof a);
        if (hm_la_chol(D, a) != HM_OK) {
            return NAN;
        }
        double ld = hm_la_chol_logdet(D, a);
        memcpy(b, W + k * DD, sizeof b);
        if (hm_la_chol_solve(D, D, a, b) != HM_OK) {
            return NAN;
        }
        f += w[k] * ld + b[at(0, 0)] + b[at(1, 1)] + b[at(2, 2)];
    }
    return f;
}

static double det3(const double *a) {
    return a[at(0, 0)] * (a[at(1, 1)] * a[at(2, 2)] - a[at(1, 2)] * a[at(2, 1)]) -
           a[at(0, 1)] * (a[at(1, 0)] * a[at(2, 2)] - a[at(1, 2)] * a[at(2, 0)]) +
           a[at(0, 2)] * (a[at(1, 0)] * a[at(2, 1)] - a[at(1, 1)] * a[at(2, 0)]);
}

static double maxdiff(const double *a, const double *b, int n) {
    double m = 0.0;
    for (int i = 0; i < n; i++) {
        double t = fabs(a[i] - b[i]);
        m = t > m ? t : m;
    }
    return m;
}

static int run(int cs, const double *w, const double *W, double *S, char *msg, size_t msglen) {
    double work[512];
    int it = 0;
    if (hm_cs_work_len(D, K) > sizeof work / sizeof work[0]) {
        snprintf(msg, msglen, "work_len %zu too large for the test", hm_cs_work_len(D, K));
        return 1;
    }
    hm_status st = hm_cs_covariances(cs, D, K, w, W, S, HM_CS_TOL, HM_CS_MAXIT, work, &it);
    if (st != HM_OK) {
        snprintf(msg, msglen, "%s: status %s", hm_cs_name(cs), hm_status_string(st));
        return 1;
    }
    return 0;
}

int hm_covstruct_selftest(char *msg, size_t msglen) {
    // Three scatter matrices W_k = w_k S_k of different volumes, shapes and
    // orientations (fixed, positive definite).
    const double w[K] = {0.2, 0.3, 0.5};
    double W[K * DD];
    const double base[K][6] = {
        {2.0, 0.5, 0.3, 1.0, -0.2, 0.5},
        {0.6, -0.1, 0.05, 1.5, 0.4, 0.9},
        {1.2, 0.3, -0.4, 0.8, 0.1, 2.5},
    };
    for (int k = 0; k < K; k++) {
        const double *b = base[k];
        double m[DD] = {b[0], b[1], b[2], b[1], b[3], b[4], b[2], b[4], b[5]};
        for (int e = 0; e < DD; e++) {
            W[k * DD + e] = w[k] * m[e];
        }
    }
    double S[HM_CS_N][K * DD];
    double F[HM_CS_N];
    for (int cs = 1; cs < HM_CS_N; cs++) {
        if (run(cs, w, W, S[cs], msg, msglen)) {
            return 1;
        }
        F[cs] = objective(w, W, S[cs]);
        if (!isfinite(F[cs])) {
            snprintf(msg, msglen, "%s: covariance not positive definite", hm_cs_name(cs));
            return 1;
        }
    }
    double ref[K * DD], tot[DD] = {0};
    for (int k = 0; k < K; k++) {
        for (int e = 0; e < DD; e++) {
            tot[e] += W[k * DD + e];
        }
    }
    // Closed forms.
    memset(ref, 0, sizeof ref);
    for (int k = 0; k < K; k++) {
        double t = (tot[at(0, 0)] + tot[at(1, 1)] + tot[at(2, 2)]) / D;
        double tk = (W[k * DD + at(0, 0)] + W[k * DD + at(1, 1)] + W[k * DD + at(2, 2)]) / (D * w[k]);
        for (int i = 0; i < D; i++) {
            ref[k * DD + at(i, i)] = t;
        }
        if (maxdiff(S[HM_CS_EII] + k * DD, ref + k * DD, DD) > 1e-14) {
            snprintf(msg, msglen, "EII is not mean(tr W) I");
            return 1;
        }
        for (int i = 0; i < D; i++) {
            if (fabs(S[HM_CS_VII][k * DD + at(i, i)] - tk) > 1e-14 ||
                fabs(S[HM_CS_EEI][k * DD + at(i, i)] - tot[at(i, i)]) > 1e-14 ||
                fabs(S[HM_CS_VVI][k * DD + at(i, i)] - W[k * DD + at(i, i)] / w[k]) > 1e-14) {
                snprintf(msg, msglen, "VII, EEI or VVI differs from its formula");
                return 1;
            }
        }
        if (maxdiff(S[HM_CS_EEE] + k * DD, tot, DD) > 1e-14) {
            snprintf(msg, msglen, "EEE is not sum_k W_k");
            return 1;
        }
        for (int e = 0; e < DD; e++) {
            if (fabs(S[HM_CS_VVV][k * DD + e] - W[k * DD + e] / w[k]) > 1e-14) {
                snprintf(msg, msglen, "VVV is not W_k / w_k");
                return 1;
            }
        }
    }
    // EVI: lambda A_k with A_k = diag(W_k) / geomean, lambda = sum of the
    // geometric means; EVV the same with determinants.
    double gd[K], gf[K], lgd = 0.0, lgf = 0.0;
    for (int k = 0; k < K; k++) {
        const double *Wk = W + k * DD;
        gd[k] = cbrt(Wk[at(0, 0)] * Wk[at(1, 1)] * Wk[at(2, 2)]);
        gf[k] = cbrt(det3(Wk));
        lgd += gd[k];
        lgf += gf[k];
    }
    for (int k = 0; k < K; k++) {
        for (int i = 0; i < D; i++) {
            for (int j = 0; j < D; j++) {
                double evi = i == j ? lgd * W[k * DD + at(i, i)] / gd[k] : 0.0;
                double evv = lgf * W[k * DD + at(i, j)] / gf[k];
                if (fabs(S[HM_CS_EVI][k * DD + at(i, j)] - evi) > 1e-13 ||
                    fabs(S[HM_CS_EVV][k * DD + at(i, j)] - evv) > 1e-13) {
                    snprintf(msg, msglen, "EVI or EVV differs from its formula at %d %d %d", k, i, j);
                    return 1;
                }
            }
        }
    }
    // EEV: each Sigma_k commutes with W_k (same eigenvectors), all have the
    // same determinant and the trace sum_k tr W_k (eigenvalues sum_l Omega_l).
    for (int k = 0; k < K; k++) {
        double ab[DD] = {0}, ba[DD] = {0};
        const double *A = S[HM_CS_EEV] + k * DD, *B = W + k * DD;
        for (int i = 0; i < D; i++) {
            for (int j = 0; j < D; j++) {
                for (int l = 0; l < D; l++) {
                    ab[at(i, j)] += A[at(i, l)] * B[at(l, j)];
                    ba[at(i, j)] += B[at(i, l)] * A[at(l, j)];
                }
            }
        }
        double tr = A[at(0, 0)] + A[at(1, 1)] + A[at(2, 2)];
        if (maxdiff(ab, ba, DD) > 1e-13 || fabs(tr - (tot[at(0, 0)] + tot[at(1, 1)] + tot[at(2, 2)])) > 1e-13 ||
            fabs(det3(A) - det3(S[HM_CS_EEV])) > 1e-13) {
            snprintf(msg, msglen, "EEV: not the eigenvectors of W_k with the pooled eigenvalues");
            return 1;
        }
    }
    // VEI at its fixed point: Sigma_k = lambda_k A, A = diag(sum_k W_k /
    // lambda_k) / geomean, lambda_k = tr(W_k A^-1) / (d w_k).
    {
        double lam[K], a[D], g = 1.0;
        for (int k = 0; k < K; k++) {
            lam[k] = cbrt(S[HM_CS_VEI][k * DD + at(0, 0)] * S[HM_CS_VEI][k * DD + at(1, 1)] *
                          S[HM_CS_VEI][k * DD + at(2, 2)]);
        }
        for (int i = 0; i < D; i++) {
            a[i] = 0.0;
            for (int k = 0; k < K; k++) {
                a[i] += W[k * DD + at(i, i)] / lam[k];
            }
            g *= a[i];
        }
        g = cbrt(g);
        for (int k = 0; k < K; k++) {
            double t = 0.0;
            for (int i = 0; i < D; i++) {
                t += W[k * DD + at(i, i)] / (a[i] / g);
                if (fabs(S[HM_CS_VEI][k * DD + at(i, i)] - lam[k] * a[i] / g) > 1e-11) {
                    snprintf(msg, msglen, "VEI: the shape is not at its fixed point");
                    return 1;
                }
            }
            if (fabs(t / (D * w[k]) - lam[k]) > 1e-11 * lam[k]) {
                snprintf(msg, msglen, "VEI: the volumes are not at their fixed point");
                return 1;
            }
        }
    }
    // VEE: Sigma_k = lambda_k C with one C for all k.
    {
        double c0[DD], ck[DD];
        for (int e = 0; e < DD; e++) {
            c0[e] = S[HM_CS_VEE][e] / cbrt(det3(S[HM_CS_VEE]));
        }
        for (int k = 1; k < K; k++) {
            double v = cbrt(det3(S[HM_CS_VEE] + k * DD));
            for (int e = 0; e < DD; e++) {
                ck[e] = S[HM_CS_VEE][k * DD + e] / v;
            }
            if (maxdiff(c0, ck, DD) > 1e-12) {
                snprintf(msg, msglen, "VEE: the components are not proportional");
                return 1;
            }
        }
    }
    // Nesting: F(structure) <= F(any structure it contains), >= F(VVV).
    static const int nest[][2] = {
        {HM_CS_VII, HM_CS_EII}, {HM_CS_EEI, HM_CS_EII}, {HM_CS_VEI, HM_CS_EEI}, {HM_CS_VEI, HM_CS_VII},
        {HM_CS_EVI, HM_CS_EEI}, {HM_CS_VVI, HM_CS_VEI}, {HM_CS_VVI, HM_CS_EVI}, {HM_CS_EEE, HM_CS_EEI},
        {HM_CS_VEE, HM_CS_EEE}, {HM_CS_VEE, HM_CS_VEI}, {HM_CS_EVE, HM_CS_EEE}, {HM_CS_EVE, HM_CS_EVI},
        {HM_CS_VVE, HM_CS_VEE}, {HM_CS_VVE, HM_CS_EVE}, {HM_CS_VVE, HM_CS_VVI}, {HM_CS_EEV, HM_CS_EEE},
        {HM_CS_VEV, HM_CS_EEV}, {HM_CS_VEV, HM_CS_VEE}, {HM_CS_EVV, HM_CS_EEV}, {HM_CS_EVV, HM_CS_EVE},
        {HM_CS_VVV, HM_CS_VEV}, {HM_CS_VVV, HM_CS_EVV}, {HM_CS_VVV, HM_CS_VVE},
    };
    for (size_t i = 0; i < sizeof nest / sizeof nest[0]; i++) {
        int big = nest[i][0], small = nest[i][1];
        if (!(F[big] <= F[small] + 1e-12) || !(F[HM_CS_VVV] <= F[big] + 1e-12)) {
            snprintf(msg, msglen, "%s (F = %.15g) is worse than %s (F = %.15g) which it contains",
                     hm_cs_name(big), F[big], hm_cs_name(small), F[small]);
            return 1;
        }
    }
    // Statuses.
    double work[512], out[K * DD];
    int it;
    if (hm_cs_covariances(HM_CS_N, D, K, w, W, out, HM_CS_TOL, HM_CS_MAXIT, work, &it) != HM_EINVAL ||
        hm_cs_covariances(HM_CS_EEE, D, K, w, W, out, -1.0, HM_CS_MAXIT, work, &it) != HM_EINVAL) {
        snprintf(msg, msglen, "a bad code or tolerance is not HM_EINVAL");
        return 1;
    }
    const double w0[K] = {0.5, 0.0, 0.5};
    if (hm_cs_covariances(HM_CS_VVV, D, K, w0, W, out, HM_CS_TOL, HM_CS_MAXIT, work, &it) != HM_ENOPROG) {
        snprintf(msg, msglen, "an empty component is not HM_ENOPROG");
        return 1;
    }
    double Wbad[K * DD];
    memcpy(Wbad, W, sizeof Wbad);
    Wbad[4] = NAN;
    if (hm_cs_covariances(HM_CS_EEE, D, K, w, Wbad, out, HM_CS_TOL, HM_CS_MAXIT, work, &it) != HM_EDOM) {
        snprintf(msg, msglen, "a NaN scatter is not HM_EDOM");
        return 1;
    }
    memset(Wbad, 0, sizeof Wbad);
    static const int singular[] = {HM_CS_EVI, HM_CS_EVV, HM_CS_EEV, HM_CS_VEI, HM_CS_EVE};
    for (size_t i = 0; i < sizeof singular / sizeof singular[0]; i++) {
        int cs = singular[i];
        if (hm_cs_covariances(cs, D, K, w, Wbad, out, HM_CS_TOL, HM_CS_MAXIT, work, &it) != HM_ENOTPD) {
            snprintf(msg, msglen, "%s: a zero scatter is not HM_ENOTPD", hm_cs_name(cs));
            return 1;
        }
    }
    static const int iterative[] = {HM_CS_VEI, HM_CS_VEE, HM_CS_EVE, HM_CS_VVE, HM_CS_VEV};
    for (size_t i = 0; i < sizeof iterative / sizeof iterative[0]; i++) {
        int cs = iterative[i];
        if (hm_cs_covariances(cs, D, K, w, W, out, 0.0, 2, work, &it) != HM_EMAXITER || it != 2) {
            snprintf(msg, msglen, "%s: two sweeps at tolerance 0 are not HM_EMAXITER", hm_cs_name(cs));
            return 1;
        }
        if (!(objective(w, W, out) >= F[cs] - 1e-12)) {
            snprintf(msg, msglen, "%s: two sweeps beat the converged M-step", hm_cs_name(cs));
            return 1;
        }
    }
    return 0;
}
