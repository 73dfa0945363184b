/*
 * selftest_hmog_diag.c: C unit test of the diagonal-posterior HMoG
 * (engine/hmog_diag.c; selftest.c table). The references are independent
 * of the kind's own code paths: the symmetric HMoG (engine/hmog.c) at the
 * embedded parameters, whose E-step factors full precisions, for log p(x)
 * and the posteriors; central differences of the summed log-likelihood for
 * the gradient "E-step statistics minus total weight times to_mean".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hm_engine.h"
#include "selftest.h"

enum { P = 3, Q = 2, K = 3, N = 3000, NF = 40 };

// The parts of both hierarchies (the glue builds the same).
typedef struct st_parts {
    hm_family obs, ndiag, nfull, cat;
    hm_harmonium mfull, lgm, sym, mdiag, h;
} st_parts;

static hm_status st_build(st_parts *s) {
    hm_status st = hm_family_init(&s->obs, HM_FAM_NORMAL, P, HM_COV_DIAG, 0);
    if (st == HM_OK) {
        st = hm_family_init(&s->ndiag, HM_FAM_NORMAL, Q, HM_COV_DIAG, 0);
    }
    if (st == HM_OK) {
        st = hm_family_init(&s->nfull, HM_FAM_NORMAL, Q, HM_COV_FULL, 0);
    }
    if (st == HM_OK) {
        st = hm_family_init(&s->cat, HM_FAM_CATEGORICAL, K, 0, 0);
    }
    if (st == HM_OK) {
        st = hm_hm_init(&s->mfull, HM_HM_MIXTURE, &s->nfull, &s->cat);
    }
    if (st == HM_OK) {
        st = hm_hm_init(&s->lgm, HM_HM_LGM, &s->obs, &s->nfull);
    }
    if (st == HM_OK) {
        st = hm_hm_init_hmog(&s->sym, &s->obs, &s->mfull, &s->lgm);
    }
    if (st == HM_OK) {
        st = hm_hm_init(&s->mdiag, HM_HM_MIXTURE, &s->ndiag, &s->cat);
    }
    if (st == HM_OK) {
        st = hm_hm_init_hmog_diag(&s->h, &s->obs, &s->mdiag, &s->sym);
    }
    return st;
}

// A deterministic uniform(-1, 1) stream (LCG, high bits).
static double st_u(unsigned long long *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return 2.0 * ((double)(*s >> 11) / 9007199254740992.0) - 1.0;
}

// The embedding written out for the test: diagonal coordinate j of every
// block to full coordinate (j < Q ? j : Q + packed (j-Q, j-Q)).
static void st_embed(const double *th, double *ts, int off) {
    const int dn = 2 * Q, df = Q + Q * (Q + 1) / 2;
    const int fi[2 * Q] = {0, 1, Q + 0, Q + 2};
    memcpy(ts, th, (size_t)off * sizeof(double));
    memset(ts + off, 0, (size_t)(df * K + K - 1) * sizeof(double));
    for (int j = 0; j < dn; j++) {
        ts[off + fi[j]] = th[off + j];
        for (int k = 0; k < K - 1; k++) {
            ts[off + df + fi[j] * (K - 1) + k] = th[off + dn + j * (K - 1) + k];
        }
    }
    for (int k = 0; k < K - 1; k++) {
        ts[off + df * K + k] = th[off + dn * K + k];
    }
}

int hm_hmog_diag_selftest(char *msg, size_t len) {
    st_parts s;
    if (st_build(&s) != HM_OK) {
        snprintf(msg, len, "descriptor init failed");
        return 1;
    }
    const int dim = hm_hm_dim(&s.h), dsym = hm_hm_dim(&s.sym), off = 2 * P + P * Q;
    if (dim != off + 4 * K + K - 1 || dsym != off + 5 * K + K - 1 || hm_hm_post_len(&s.h) != K + Q) {
        snprintf(msg, len, "layout: dim %d, symmetric dim %d", dim, dsym);
        return 1;
    }
    // A posterior mixture that is not diagonal, or a symmetric part built
    // over another observable, is refused.
    hm_harmonium bad;
    if (hm_hm_init_hmog_diag(&bad, &s.obs, &s.mfull, &s.sym) != HM_EINVAL ||
        hm_hm_init_hmog_diag(&bad, &s.ndiag, &s.mdiag, &s.sym) != HM_EINVAL) {
        snprintf(msg, len, "mismatched parts accepted");
        return 1;
    }
    // Parameters: noise precisions 1.3 .. 2.9, loadings of order 0.5, and
    // posterior precisions D_k large enough that D_k - W'Sigma_x W is
    // positive definite; locations and class parameters spread out.
    unsigned long long seed = 2385u;
    double th[64], ts[64];
    for (int i = 0; i < P; i++) {
        const double prec = 1.3 + 0.8 * i;
        th[i] = 0.4 * st_u(&seed) * prec;
        th[P + i] = -0.5 * prec;
    }
    for (int i = 0; i < P * Q; i++) {
        th[2 * P + i] = 0.6 * st_u(&seed);
    }
    const double loc[K][Q] = {{0.7, -1.1}, {-1.9, 0.4}, {1.2, 2.3}};
    const double dp[K][Q] = {{2.385, 3.1}, {4.2, 2.7}, {3.3, 5.05}};
    for (int j = 0; j < 2 * Q; j++) {
        const double v0 = j < Q ? loc[0][j] : -0.5 * dp[0][j - Q];
        th[off + j] = v0;
        for (int k = 1; k < K; k++) {
            const double vk = j < Q ? loc[k][j] : -0.5 * dp[k][j - Q];
            th[off + 2 * Q + j * (K - 1) + (k - 1)] = vk - v0;
        }
    }
    th[off + 2 * Q * K] = 0.35;
    th[off + 2 * Q * K + 1] = -0.6;
    st_embed(th, ts, off);

    // Data: N deterministic rows, column-major.
    double x[P * N], w[N];
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < P; j++) {
            x[j * N + i] = 2.5 * st_u(&seed);
        }
        w[i] = 1.0 + 0.5 * st_u(&seed);
    }
    double big[65536];
    size_t wl = hm_estep_work_len(&s.h, 2), ws = hm_estep_work_len(&s.sym, 2);
    if (wl > 65536 || ws > 65536 || hm_hm_work_len(&s.h) > 4096) {
        snprintf(msg, len, "workspace too large for the test");
        return 1;
    }
    // log p(x) and posteriors against the symmetric kind (on NF rows).
    hm_data dsmall = {x, NF, N, w};
    double lp[NF], lps[NF], post[NF * (K + Q)], posts[NF * (K + Q)], st1[64], sts[64];
    if (hm_estep(&s.h, th, &dsmall, NULL, st1, lp, post, 1, big) != HM_OK ||
        hm_estep(&s.sym, ts, &dsmall, NULL, sts, lps, posts, 1, big) != HM_OK) {
        snprintf(msg, len, "E-step failed");
        return 1;
    }
    for (int i = 0; i < NF; i++) {
        if (fabs(lp[i] - lps[i]) > 1e-10 * (1.0 + fabs(lps[i]))) {
            snprintf(msg, len, "log p(x) at row %d: %.15g vs symmetric %.15g", i, lp[i], lps[i]);
            return 1;
        }
    }
    for (int i = 0; i < NF * (K + Q); i++) {
        if (fabs(post[i] - posts[i]) > 1e-10) {
            snprintf(msg, len, "posterior entry %d: %.15g vs symmetric %.15g", i, post[i], posts[i]);
            return 1;
        }
    }
    // The gradient against central differences of sum_n w_n log p(x_n).
    double eta[64], hw[4096], grad[64];
    if (hm_hm_to_mean(&s.h, th, eta, hw) != HM_OK) {
        snprintf(msg, len, "to_mean failed");
        return 1;
    }
    double gmax = 0.0;
    for (int i = 0; i < dim; i++) {
        grad[i] = st1[i] - st1[dim + 1] * eta[i];
        gmax = fabs(grad[i]) > gmax ? fabs(grad[i]) : gmax;
    }
    for (int i = 0; i < dim; i++) {
        double tp[64], lpp, lpm;
        const double hstep = 1e-5 * (1.0 + fabs(th[i]));
        memcpy(tp, th, (size_t)dim * sizeof(double));
        tp[i] = th[i] + hstep;
        double sp[64], sm[64];
        hm_status a = hm_estep(&s.h, tp, &dsmall, NULL, sp, NULL, NULL, 1, big);
        tp[i] = th[i] - hstep;
        hm_status b = hm_estep(&s.h, tp, &dsmall, NULL, sm, NULL, NULL, 1, big);
        if (a != HM_OK || b != HM_OK) {
            snprintf(msg, len, "E-step failed at coordinate %d", i);
            return 1;
        }
        lpp = sp[dim];
        lpm = sm[dim];
        const double fd = (lpp - lpm) / (2.0 * hstep);
        if (fabs(fd - grad[i]) > 1e-6 * gmax) {
            snprintf(msg, len, "gradient coordinate %d: %.10g vs finite difference %.10g", i, grad[i], fd);
            return 1;
        }
    }
    // Thread invariance, bit for bit, on all N rows (several blocks).
    hm_data dall = {x, N, N, w};
    double t1[64], t2[64];
    if (hm_estep(&s.h, th, &dall, NULL, t1, NULL, NULL, 1, big) != HM_OK ||
        hm_estep(&s.h, th, &dall, NULL, t2, NULL, NULL, 2, big) != HM_OK ||
        memcmp(t1, t2, (size_t)(dim + 2) * sizeof(double)) != 0) {
        snprintf(msg, len, "E-step differs between 1 and 2 threads");
        return 1;
    }
    // No closed-form M-step; an invalid prior is refused.
    int bd = 0;
    hm_ctrl ctl = {0.0, 1e-12, 100, 0.0, 0.0};
    if (hm_hm_to_natural(&s.h, eta, grad, hw, &ctl, &bd) != HM_EINVAL || bd != -1) {
        snprintf(msg, len, "to_natural should be unsupported");
        return 1;
    }
    double tb[64];
    memcpy(tb, th, (size_t)dim * sizeof(double));
    tb[off + Q] = -1e-4; // D_0 tiny: the prior precision D_0 - W'Sigma_x W is not positive definite
    hm_status cs = hm_hm_check_natural(&s.h, tb, hw);
    tb[off + Q] = 0.5; // not a Normal at all
    if (cs != HM_ENOTPD || hm_hm_check_natural(&s.h, tb, hw) == HM_OK ||
        hm_hm_check_natural(&s.h, th, hw) != HM_OK) {
        snprintf(msg, len, "check_natural: status %d for a non positive definite prior", (int)cs);
        return 1;
    }
    return 0;
}
