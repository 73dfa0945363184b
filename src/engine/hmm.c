/*
 * hmm.c: exact inference in a hidden Markov chain of S states (theory.md
 * section 5.8). Given log emission densities, the scaled forward-backward
 * recursions give the log-likelihood, filtered and smoothed marginals and the
 * expected transition counts; Viterbi gives the most probable path. Each step
 * is rescaled by its maximum log density so that exp() never underflows for
 * the whole row; the scale is added back to the log-likelihood.
 */
#include <math.h>
#include <string.h>
#include "hm_engine.h"

/* Column-major T x S and row-major S x S offsets, in size_t. */
#define CM(s, t) ((size_t)(s) * ts + (size_t)(t))
#define RM(i, j) ((size_t)(i) * (size_t)S + (size_t)(j))

size_t hm_hmm_work_len(int S, int T) {
    return (size_t)S * (size_t)T + 2u * (size_t)S;
}

/*
 * logp: T x S column-major log densities (NA rows must hold 0); init[S];
 * trans S x S row-major a_ij = P(j | i). Outputs (each may be NULL except
 * loglik): filt, smooth T x S column-major; pair S x S row-major expected
 * counts added to (not overwritten) so several sequences accumulate.
 * Workspace: hm_hmm_work_len(S, T) doubles.
 */
hm_status hm_hmm_forward_backward(int S, int T, const double *logp, const double *init, const double *trans,
                                  double *loglik, double *filt, double *smooth, double *pair, double *work) {
    if (S < 1 || T < 1 || !logp || !init || !trans || !loglik || !work) {
        return HM_EINVAL;
    }
    size_t ts = (size_t)T;
    double *alpha = work;            /* T x S filtered marginals, column-major */
    double *e = work + (size_t)S * ts; /* emission likelihoods of one step, rescaled */
    double *b = e + S;                 /* backward message of one step */
    double ll = 0.0;
    for (int t = 0; t < T; t++) {
        double mx = -INFINITY;
        for (int s = 0; s < S; s++) {
            double v = logp[CM(s, t)];
            if (isnan(v)) {
                return HM_EDOM;
            }
            mx = v > mx ? v : mx;
        }
        if (!isfinite(mx)) {
            return HM_EDOM;
        }
        double c = 0.0;
        for (int j = 0; j < S; j++) {
            double pred = 0.0;
            if (t == 0) {
                pred = init[j];
            } else {
                for (int i = 0; i < S; i++) {
                    pred += alpha[CM(i, t - 1)] * trans[RM(i, j)];
                }
            }
            double a = pred * exp(logp[CM(j, t)] - mx);
            alpha[CM(j, t)] = a;
            c += a;
        }
        if (!(c > 0.0) || !isfinite(c)) {
            return HM_EDOM; /* every path has probability zero */
        }
        for (int j = 0; j < S; j++) {
            alpha[CM(j, t)] /= c;
        }
        ll += log(c) + mx;
    }
    *loglik = ll;
    if (filt) {
        memcpy(filt, alpha, sizeof(double) * (size_t)S * ts);
    }
    if (!smooth && !pair) {
        return HM_OK;
    }
    /* Backward pass on the smoothed marginals directly (the alpha-gamma form):
     * gamma_t(i) = alpha_t(i) sum_j a_ij gamma_{t+1}(j) / pred_{t+1}(j). */
    for (int s = 0; s < S; s++) {
        b[s] = alpha[CM(s, T - 1)];
        if (smooth) {
            smooth[CM(s, T - 1)] = b[s];
        }
    }
    for (int t = T - 2; t >= 0; t--) {
        for (int j = 0; j < S; j++) {
            double pred = 0.0;
            for (int i = 0; i < S; i++) {
                pred += alpha[CM(i, t)] * trans[RM(i, j)];
            }
            e[j] = pred > 0.0 ? b[j] / pred : 0.0;
        }
        for (int i = 0; i < S; i++) {
            double ai = alpha[CM(i, t)];
            double g = 0.0;
            for (int j = 0; j < S; j++) {
                double x = ai * trans[RM(i, j)] * e[j];
                g += x;
                if (pair) {
                    pair[RM(i, j)] += x;
                }
            }
            alpha[CM(i, t)] = g; /* alpha row t is no longer needed forward */
        }
        for (int s = 0; s < S; s++) {
            b[s] = alpha[CM(s, t)];
            if (smooth) {
                smooth[CM(s, t)] = b[s];
            }
        }
    }
    return HM_OK;
}

/*
 * Viterbi: path[T] (0-based states) maximising the joint log probability,
 * returned in *logjoint. Workspace: hm_hmm_viterbi_work_len(S, T) doubles
 * plus an int back-pointer array bp[T * S].
 */
size_t hm_hmm_viterbi_work_len(int S, int T) {
    (void)T; /* the back-pointers live in the caller's int array */
    return 2u * (size_t)S;
}

hm_status hm_hmm_viterbi(int S, int T, const double *logp, const double *init, const double *trans,
                         int *path, double *logjoint, double *work, int *bp) {
    if (S < 1 || T < 1 || !logp || !init || !trans || !path || !work || !bp) {
        return HM_EINVAL;
    }
    size_t ts = (size_t)T;
    double *d = work, *dn = work + S;
    for (int s = 0; s < S; s++) {
        d[s] = log(init[s]) + logp[(size_t)s * ts];
    }
    for (int t = 1; t < T; t++) {
        for (int j = 0; j < S; j++) {
            double best = -INFINITY;
            int arg = 0;
            for (int i = 0; i < S; i++) {
                double v = d[i] + log(trans[RM(i, j)]);
                if (v > best) { /* strict: ties go to the lowest state, deterministically */
                    best = v;
                    arg = i;
                }
            }
            dn[j] = best + logp[CM(j, t)];
            bp[RM(t, j)] = arg;
        }
        memcpy(d, dn, sizeof(double) * (size_t)S);
    }
    int arg = 0;
    for (int s = 1; s < S; s++) {
        if (d[s] > d[arg]) {
            arg = s;
        }
    }
    if (!isfinite(d[arg])) {
        return HM_EDOM;
    }
    *logjoint = d[arg];
    path[T - 1] = arg;
    for (int t = T - 1; t > 0; t--) {
        path[t - 1] = bp[RM(t, path[t])];
    }
    return HM_OK;
}
