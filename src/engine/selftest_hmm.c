/*
 * selftest_hmm.c: C unit test of the multi-sequence HMM routines (hmm.c,
 * mixture.c): hm_hmm_estep against the single-sequence recursions of
 * hm_hmm_forward_backward (a separate implementation, column-major), thread
 * invariance, hm_mix_log_densities against the family log density, missing
 * rows, and the stationary distribution.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hm_engine.h"
#include "selftest.h"

#define NS 3
#define S 3
#define N 17

int hm_hmm_selftest(char *msg, size_t len) {
    const int lens[NS] = {6, 4, 7}, starts[NS] = {0, 6, 10};
    const double w[NS] = {1.0, 2.385, 0.61};
    const double init[S] = {0.2, 0.5, 0.3};
    const double A[S * S] = {0.7, 0.2, 0.1, 0.15, 0.75, 0.1, 0.25, 0.3, 0.45};
    hm_family obs, lat;
    hm_harmonium h;
    if (hm_family_init(&obs, HM_FAM_POISSON, 1, 0, 0) != HM_OK ||
        hm_family_init(&lat, HM_FAM_CATEGORICAL, S, 0, 0) != HM_OK ||
        hm_hm_init(&h, HM_HM_MIXTURE, &obs, &lat) != HM_OK) {
        snprintf(msg, len, "descriptor init failed");
        return 1;
    }
    // Poisson rates 1.3, 4.7, 11.2 as class natural parameters; row 8 missing.
    const double rates[S] = {1.3, 4.7, 11.2};
    double comp[S], prior[S - 1] = {0.0, 0.0}, theta[1 + 2 + 2], work[8192];
    for (int k = 0; k < S; k++) {
        comp[k] = log(rates[k]);
    }
    if (hm_hm_work_len(&h) > 1024 || hm_mix_join(&h, comp, prior, theta, work) != HM_OK) {
        snprintf(msg, len, "join failed");
        return 1;
    }
    double x[N];
    for (int i = 0; i < N; i++) {
        x[i] = (double)((i * 7 + 3) % 13);
    }
    x[8] = NAN;
    hm_data data = {x, N, N, NULL};
    double lp[N * S];
    if (hm_mix_log_densities_work_len(&h, 2) > 8192 || hm_mix_log_densities(&h, theta, &data, lp, 2, work) != HM_OK) {
        snprintf(msg, len, "log densities failed");
        return 1;
    }
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < S; k++) {
            double want = isnan(x[i]) ? 0.0 : x[i] * log(rates[k]) - rates[k] - lgamma(x[i] + 1.0);
            if (fabs(lp[i * S + k] - want) > 1e-12 * (1.0 + fabs(want))) {
                snprintf(msg, len, "log density row %d state %d: %.17g, want %.17g", i, k, lp[i * S + k], want);
                return 1;
            }
        }
    }
    hm_seqs sq = {NS, N, starts, lens, w};
    double st1[S * S + S + 2], st2[S * S + S + 2], sll[NS], sm[N * S], fl[N * S], sm2[N * S];
    if (hm_hmm_estep_work_len(S, &sq, 2) > 8192 ||
        hm_hmm_estep(S, &sq, lp, init, A, 1, st1, sll, fl, sm, work) != HM_OK ||
        hm_hmm_estep(S, &sq, lp, init, A, 2, st2, NULL, NULL, sm2, work) != HM_OK) {
        snprintf(msg, len, "hm_hmm_estep failed");
        return 1;
    }
    if (memcmp(st1, st2, sizeof st1) != 0 || memcmp(sm, sm2, sizeof sm) != 0) {
        snprintf(msg, len, "threads 1 and 2 differ");
        return 1;
    }
    // The reference: each sequence alone through hm_hmm_forward_backward.
    double pair[S * S] = {0}, ini[S] = {0}, llw = 0.0, wt = 0.0;
    for (int s = 0; s < NS; s++) {
        const int T = lens[s];
        double lc[8 * S], f[8 * S], g[8 * S], pr[S * S] = {0}, fw[8 * S + 2 * S], ll;
        for (int t = 0; t < T; t++) {
            for (int k = 0; k < S; k++) {
                lc[k * T + t] = lp[(starts[s] + t) * S + k];
            }
        }
        if (hm_hmm_forward_backward(S, T, lc, init, A, &ll, f, g, pr, fw) != HM_OK) {
            snprintf(msg, len, "reference failed");
            return 1;
        }
        if (fabs(ll - sll[s]) > 1e-12 * fabs(ll)) {
            snprintf(msg, len, "sequence %d loglik %.17g, want %.17g", s, sll[s], ll);
            return 1;
        }
        for (int t = 0; t < T; t++) {
            for (int k = 0; k < S; k++) {
                double gs = sm[k * N + starts[s] + t], fs = fl[k * N + starts[s] + t];
                if (fabs(gs - g[k * T + t]) > 1e-12 || fabs(fs - f[k * T + t]) > 1e-12) {
                    snprintf(msg, len, "sequence %d t %d state %d marginals differ", s, t, k);
                    return 1;
                }
            }
        }
        for (int k = 0; k < S * S; k++) {
            pair[k] += w[s] * pr[k];
        }
        for (int k = 0; k < S; k++) {
            ini[k] += w[s] * g[k * T];
        }
        llw += w[s] * ll;
        wt += w[s];
    }
    for (int k = 0; k < S * S; k++) {
        if (fabs(pair[k] - st1[k]) > 1e-12 * (1.0 + pair[k])) {
            snprintf(msg, len, "pair count %d: %.17g, want %.17g", k, st1[k], pair[k]);
            return 1;
        }
    }
    for (int k = 0; k < S; k++) {
        if (fabs(ini[k] - st1[S * S + k]) > 1e-12) {
            snprintf(msg, len, "first-state marginal %d differs", k);
            return 1;
        }
    }
    if (fabs(llw - st1[S * S + S]) > 1e-12 * fabs(llw) || fabs(wt - st1[S * S + S + 1]) > 1e-15) {
        snprintf(msg, len, "weighted loglik or weight differs");
        return 1;
    }
    // The stationary distribution: pi A = pi, sum 1.
    double pi[S];
    if (hm_hmm_stationary(S, A, pi, work) != HM_OK) {
        snprintf(msg, len, "stationary failed");
        return 1;
    }
    double tot = 0.0;
    for (int j = 0; j < S; j++) {
        double v = 0.0;
        for (int i = 0; i < S; i++) {
            v += pi[i] * A[i * S + j];
        }
        tot += pi[j];
        if (fabs(v - pi[j]) > 1e-14) {
            snprintf(msg, len, "pi A != pi at %d", j);
            return 1;
        }
    }
    if (fabs(tot - 1.0) > 1e-14) {
        snprintf(msg, len, "pi does not sum to 1");
        return 1;
    }
    // A sequence no state can emit is a domain error, not a crash.
    double bad[N * S];
    memcpy(bad, lp, sizeof bad);
    for (int k = 0; k < S; k++) {
        bad[2 * S + k] = -INFINITY;
    }
    if (hm_hmm_estep(S, &sq, bad, init, A, 1, st1, NULL, NULL, NULL, work) != HM_EDOM) {
        snprintf(msg, len, "an impossible observation did not give HM_EDOM");
        return 1;
    }
    return 0;
}
