/*
 * hmm.c: exact inference in a hidden Markov chain of S states (theory.md
 * section 5.8). Given log emission densities, the scaled forward-backward
 * recursions give the log-likelihood, filtered and smoothed marginals and the
 * expected transition counts; Viterbi gives the most probable path. Each step
 * is rescaled by its maximum log density so that exp() never underflows for
 * the whole row; the scale is added back to the log-likelihood.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "hm_kernel.h"

// The smallest mantissa of the forward pass's product of normalisers
// (fb_one), and log 2.
#define SMALL_NORM 0x1p-500
#define LN2 0.693147180559945309417232121458176568

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

// --- many sequences: blocked forward-backward over stacked rows --------------------------
//
// The rows of all sequences are stacked (sequence s covers rows start[s] ..
// start[s] + len[s] - 1 of N). Emission log densities come row-major N x S (row t's
// S values contiguous, as hm_mix_log_densities writes them), and each sequence's
// recursions run in a time-major T x S scratch, so every inner loop walks
// contiguous memory whatever T is. Sequences are the unit of additivity
// (style.md 2): each is one block of hm_run_blocks, its expected counts go into
// its block's slot, and slots are added in sequence order, so the totals are
// bit-identical for any thread count.

#undef CM
#undef RM
#define RM(i, j) ((size_t)(i) * (size_t)S + (size_t)(j))

int hm_hmm_stats_len(int S) {
    return S * S + S + 2;
}

static int seqs_max_len(const hm_seqs *sq) {
    int m = 1;
    for (int s = 0; s < sq->nseq; s++) {
        m = sq->len[s] > m ? sq->len[s] : m;
    }
    return m;
}

// Thread scratch: alpha and the backward ratios (each T x S, time-major), the
// gamma of one step, pred, and an S x S product.
static size_t fb_one_len(int S, int tmax) {
    return 2u * (size_t)S * (size_t)tmax + 3u * (size_t)S + (size_t)S * (size_t)S + 8u;
}

// ... and after them the transposed transition matrix of the backward pass.
static size_t fb_thread_len(int S, int tmax) {
    return fb_one_len(S, tmax) + (size_t)S * (size_t)S;
}

// Sequences per block: about 4096 stacked rows, from the data's shape only (never the
// thread count), so that many short sequences do not cost a parallel round each.
static int fb_block_seqs(const hm_seqs *sq) {
    long long per = (long long)sq->n / (sq->nseq > 0 ? sq->nseq : 1);
    long long b = 4096 / (per > 0 ? per : 1);
    return b < 1 ? 1 : (b > 4096 ? 4096 : (int)b);
}

size_t hm_hmm_estep_work_len(int S, const hm_seqs *sq, int threads) {
    return hm_blocks_work_len(hm_hmm_stats_len(S), fb_thread_len(S, seqs_max_len(sq)), threads);
}

typedef struct fb_ctx {
    int S;
    size_t N;
    const hm_seqs *sq;
    const double *logp;
    const double *init;
    const double *trans;
    double *seq_ll;
    double *filt;
    double *smooth;
    int tmax; /* longest sequence: the thread scratch is laid out for it */
} fb_ctx;

// y = x A (x and y length S, A S x S row-major), by the kernel module's
// run-time dispatched matrix-vector product.
static void vec_mat(int S, const double *restrict x, const double *restrict A, double *restrict y) {
    hm_k_vec_mat(S, S, x, A, S, y);
}

// One sequence: scaled forward pass, then the backward pass on the smoothed
// marginals (the alpha-gamma form of hm_hmm_forward_backward above). Adds
// [w * pair counts | w * first-state marginal | w * loglik | w] into slot.
static hm_status fb_one(const fb_ctx *c, int sidx, const double *At, double *slot, double *tw) {
    const int S = c->S;
    const int T = c->sq->len[sidx];
    const size_t t0 = (size_t)c->sq->start[sidx];
    const size_t SS = (size_t)S;
    const double w = c->sq->w ? c->sq->w[sidx] : 1.0;
    const double *lp = c->logp + t0 * SS;
    const double *A = c->trans;
    double *restrict al = tw;                       /* T x S alpha, time-major */
    double *restrict eb = al + SS * (size_t)T;      /* T x S backward ratios */
    double *g = eb + SS * (size_t)T;                /* S: gamma of the current step */
    double *restrict pred = g + S;                  /* S */
    double *gn = pred + S;                          /* S: gamma of the next step */
    double *restrict P = gn + S;                    /* S x S */
    double *pair = slot, *ini = slot + SS * SS;

    // Emission likelihoods shifted by each row's maximum, exponentiated in one
    // vectorised pass (theory.md 8): the largest is exactly 1, so a row never
    // underflows as a whole, and the shifts return in the log-likelihood.
    if (SS * (size_t)T > (size_t)INT_MAX) {
        return HM_EOVERFLOW;
    }
    double shift = 0.0;
    for (int t = 0; t < T; t++) {
        const double *l = lp + (size_t)t * SS;
        double mx = -INFINITY;
        for (int j = 0; j < S; j++) {
            if (isnan(l[j])) {
                return HM_EDOM;
            }
            mx = l[j] > mx ? l[j] : mx;
        }
        if (!isfinite(mx)) {
            return HM_EDOM; /* no state can emit this observation */
        }
        double *a = al + (size_t)t * SS;
        for (int j = 0; j < S; j++) {
            a[j] = l[j] - mx;
        }
        shift += mx;
    }
    hm_vexp(al, S * T);

    // Forward: alpha_t = normalise(pred_t * e_t), pred_1 = init, pred_t = alpha_{t-1} A.
    // The log-likelihood is the log of the product of the normalisers (each at
    // most 1 but for rounding): kept as a mantissa in [2^-500, 2] and a binary
    // exponent (frexp when it gets small, and for a normaliser that small), so
    // one log per sequence instead of one per time point, which cost as much as
    // the rest of the step.
    double prod = 1.0;
    int pexp = 0;
    for (int t = 0; t < T; t++) {
        double *a = al + (size_t)t * SS;
        // pred_t is kept in row t - 1 of eb for the backward pass, which needs it again.
        const double *pt = c->init;
        if (t > 0) {
            double *pr = eb + (size_t)(t - 1) * SS;
            vec_mat(S, a - S, A, pr);
            pt = pr;
        }
        double tot = 0.0;
        for (int j = 0; j < S; j++) {
            a[j] *= pt[j];
            tot += a[j];
        }
        if (!(tot > 0.0) || !isfinite(tot)) {
            return HM_EDOM; /* every path has probability zero */
        }
        const double inv = 1.0 / tot;
        for (int j = 0; j < S; j++) {
            a[j] *= inv;
        }
        double f = tot;
        if (f < SMALL_NORM) {
            int e;
            f = frexp(f, &e);
            pexp += e;
        }
        prod *= f;
        if (prod < SMALL_NORM) {
            int e;
            prod = frexp(prod, &e);
            pexp += e;
        }
    }
    const double ll = log(prod) + (double)pexp * LN2 + shift;
    if (c->seq_ll) {
        c->seq_ll[sidx] = ll;
    }
    if (c->filt) {
        for (int j = 0; j < S; j++) {
            double *fj = c->filt + (size_t)j * c->N + t0;
            for (int t = 0; t < T; t++) {
                fj[t] = al[(size_t)t * SS + (size_t)j];
            }
        }
    }
    // Backward (theory.md 5.4, categorical case): with r_t(j) = gamma_{t+1}(j) /
    // pred_{t+1}(j), gamma_t(i) = alpha_t(i) (A r_t)_i, and the expected transition
    // count i -> j at t is alpha_t(i) a_ij r_t(j). Summed over t the counts are A
    // times (elementwise) Alpha' R, one product over the whole sequence.
    // gamma of the next and of the current step live in gn and g and trade
    // places each step (no copy per time point).
    memcpy(gn, al + (size_t)(T - 1) * SS, SS * sizeof(double));
    if (c->smooth) {
        for (int j = 0; j < S; j++) {
            c->smooth[(size_t)j * c->N + t0 + (size_t)(T - 1)] = gn[j];
        }
    }
    for (int t = T - 2; t >= 0; t--) {
        const double *a = al + (size_t)t * SS;
        double *r = eb + (size_t)t * SS; /* holds pred_{t+1}; becomes r_t */
        for (int j = 0; j < S; j++) {
            r[j] = r[j] > 0.0 ? gn[j] / r[j] : 0.0;
        }
        // (A r)' = r' A': the same matrix-vector kernel on the transpose.
        vec_mat(S, r, At, g);
        for (int i = 0; i < S; i++) {
            g[i] *= a[i];
        }
        if (c->smooth) {
            for (int j = 0; j < S; j++) {
                c->smooth[(size_t)j * c->N + t0 + (size_t)t] = g[j];
            }
        }
        double *tmp = gn;
        gn = g;
        g = tmp;
    }
    if (T > 1) {
        memset(P, 0, SS * SS * sizeof(double));
        hm_k_gemm_tn_acc(T - 1, S, S, al, S, eb, S, P, S);
        for (size_t ij = 0; ij < SS * SS; ij++) {
            pair[ij] += w * A[ij] * P[ij];
        }
    }
    for (int j = 0; j < S; j++) {
        ini[j] += w * gn[j];
    }
    slot[S * S + S] += w * ll;
    slot[S * S + S + 1] += w;
    return HM_OK;
}

// A block: sequences r0 .. r0 + nr - 1 in order into one slot.
static hm_status fb_block(const void *ctx, int r0, int nr, double *slot, double *tw) {
    const fb_ctx *c = (const fb_ctx *)ctx;
    memset(slot, 0, (size_t)hm_hmm_stats_len(c->S) * sizeof(double));
    const int S = c->S;
    double *At = tw + fb_one_len(S, c->tmax);
    for (int i = 0; i < S; i++) {
        for (int j = 0; j < S; j++) {
            At[RM(j, i)] = c->trans[RM(i, j)];
        }
    }
    for (int s = r0; s < r0 + nr; s++) {
        hm_status st = fb_one(c, s, At, slot, tw);
        if (st != HM_OK) {
            return st;
        }
    }
    return HM_OK;
}

hm_status hm_hmm_estep(int S,
                       const hm_seqs *sq,
                       const double *logp,
                       const double *init,
                       const double *trans,
                       int threads,
                       double *stats,
                       double *seq_ll,
                       double *filt,
                       double *smooth,
                       double *work) {
    if (S < 1 || !sq || sq->nseq < 1 || !sq->start || !sq->len || !logp || !init || !trans || !stats || !work) {
        return HM_EINVAL;
    }
    for (int s = 0; s < sq->nseq; s++) {
        if (sq->len[s] < 1 || sq->start[s] < 0 || (long long)sq->start[s] + sq->len[s] > (long long)sq->n) {
            return HM_EINVAL;
        }
    }
    fb_ctx c = {S, (size_t)sq->n, sq, logp, init, trans, seq_ll, filt, smooth, seqs_max_len(sq)};
    // Blocks of whole sequences whose boundaries depend on the shape only.
    return hm_run_blocks(sq->nseq, fb_block_seqs(sq), threads, hm_hmm_stats_len(S), fb_thread_len(S, seqs_max_len(sq)), fb_block, &c,
                         stats, work, NULL);
}

// --- the stationary distribution and Baum-Welch ------------------------------------------

// pi A = pi, sum pi = 1: the linear system (I - A') pi = 0 with its last equation
// replaced by sum pi = 1, by Gaussian elimination with partial pivoting. HM_EDOM
// when the chain has no unique stationary distribution (a singular system).
hm_status hm_hmm_stationary(int S, const double *trans, double *pi, double *work) {
    if (S < 1 || !trans || !pi || !work) {
        return HM_EINVAL;
    }
    double *M = work; /* S x S row-major, augmented in place by pi as the rhs */
    for (int r = 0; r < S; r++) {
        for (int col = 0; col < S; col++) {
            M[RM(r, col)] = (r == col ? 1.0 : 0.0) - trans[RM(col, r)];
        }
        pi[r] = 0.0;
    }
    for (int col = 0; col < S; col++) {
        M[RM(S - 1, col)] = 1.0;
    }
    pi[S - 1] = 1.0;
    for (int k = 0; k < S; k++) {
        int p = k;
        for (int r = k + 1; r < S; r++) {
            if (fabs(M[RM(r, k)]) > fabs(M[RM(p, k)])) {
                p = r;
            }
        }
        if (!(fabs(M[RM(p, k)]) > 1e-13)) {
            return HM_EDOM;
        }
        if (p != k) {
            for (int col = 0; col < S; col++) {
                double tmp = M[RM(k, col)];
                M[RM(k, col)] = M[RM(p, col)];
                M[RM(p, col)] = tmp;
            }
            double tmp = pi[k];
            pi[k] = pi[p];
            pi[p] = tmp;
        }
        for (int r = k + 1; r < S; r++) {
            double f = M[RM(r, k)] / M[RM(k, k)];
            if (f != 0.0) {
                for (int col = k; col < S; col++) {
                    M[RM(r, col)] -= f * M[RM(k, col)];
                }
                pi[r] -= f * pi[k];
            }
        }
    }
    for (int k = S - 1; k >= 0; k--) {
        double v = pi[k];
        for (int col = k + 1; col < S; col++) {
            v -= M[RM(k, col)] * pi[col];
        }
        pi[k] = v / M[RM(k, k)];
    }
    // Round-off can leave tiny negative entries for nearly absorbing chains.
    double tot = 0.0;
    for (int k = 0; k < S; k++) {
        pi[k] = pi[k] > 0.0 ? pi[k] : 0.0;
        tot += pi[k];
    }
    if (!(tot > 0.0)) {
        return HM_EDOM;
    }
    for (int k = 0; k < S; k++) {
        pi[k] /= tot;
    }
    return HM_OK;
}

size_t hm_hmm_em_work_len(const hm_harmonium *h, const hm_seqs *sq, int n_obs, int threads) {
    const size_t S = (size_t)hm_mix_classes(h), N = (size_t)sq->n;
    size_t a = hm_mix_log_densities_work_len(h, threads);
    size_t b = hm_hmm_estep_work_len((int)S, sq, threads);
    size_t c = hm_estep_work_len(h, threads);
    size_t d = hm_hm_work_len(h);
    size_t m = a > b ? a : b;
    m = m > c ? m : c;
    m = m > d ? m : d;
    return 2 * N * S + (size_t)n_obs * S + (size_t)hm_hmm_stats_len((int)S) + (size_t)hm_stats_len(h) +
           (size_t)hm_hm_dim(h) + S * S + m;
}

// The E-step half of hm_hmm_em_iterate: the chain's statistics hst
// (hm_hmm_stats_len(S): expected transition counts, first-state marginals,
// log-likelihood, weight) and the emission mixture's statistics mst
// (hm_stats_len(h)) with the smoothed marginals as given responsibilities.
// Both are sums over sequences (a chunked driver adds them over chunks of
// whole sequences). work: hm_hmm_em_work_len.
hm_status hm_hmm_em_stats(const hm_harmonium *h,
                          const double *theta,
                          const double *init,
                          const double *trans,
                          const hm_data *data,
                          const hm_seqs *sq,
                          const hm_data *obs,
                          const int *obs_row,
                          int threads,
                          double *hst,
                          double *mst,
                          double *work) {
    if (hm_mix_classes(h) < 1 || data->n != sq->n) {
        return HM_EINVAL;
    }
    const int S = hm_mix_classes(h), dim = hm_hm_dim(h);
    const size_t N = (size_t)sq->n;
    double *logp = work;                               /* N x S row-major */
    double *smooth = logp + N * (size_t)S;             /* N x S column-major */
    double *given = smooth + N * (size_t)S;            /* n_obs x S column-major */
    double *rest = given + (obs_row ? (size_t)obs->n * (size_t)S : 0u) + (size_t)hm_hmm_stats_len(S) +
                   (size_t)hm_stats_len(h) + (size_t)dim + (size_t)S * (size_t)S;
    // E-step: emission log densities through the mixture (of families or of
    // conjugated models), then the chain.
    hm_status st = hm_mix_log_densities(h, theta, data, logp, threads, rest);
    if (st != HM_OK) {
        return st;
    }
    st = hm_hmm_estep(S, sq, logp, init, trans, threads, hst, NULL, NULL, smooth, rest);
    if (st != HM_OK) {
        return st;
    }

    // Emission M-step: the mixture's E-step with the smoothed marginals as the given
    // responsibilities (observed rows only; the case weights are the sequences'),
    // then the mixture's own mean -> natural map (theory.md 5.6).
    const double *gv = smooth;
    if (obs_row) {
        for (int k = 0; k < S; k++) {
            const double *sk = smooth + (size_t)k * N;
            double *gk = given + (size_t)k * (size_t)obs->n;
            for (int r = 0; r < obs->n; r++) {
                gk[r] = sk[obs_row[r]];
            }
        }
        gv = given;
    }
    return hm_estep(h, theta, obs, gv, mst, NULL, NULL, threads, rest);
}

// The M-step half: new emission parameters, transition and initial
// distribution from summed hst and mst. work: hm_hm_dim(h) + S * S +
// hm_hm_work_len(h) doubles (hm_hmm_em_update_work_len).
size_t hm_hmm_em_update_work_len(const hm_harmonium *h) {
    const size_t S = (size_t)hm_mix_classes(h);
    return (size_t)hm_hm_dim(h) + S * S + hm_hm_work_len(h);
}

hm_status hm_hmm_em_update(const hm_harmonium *h,
                           const double *hst,
                           const double *mst,
                           const double *init,
                           const double *trans,
                           int init_mode,
                           const hm_ctrl *ctl,
                           double *theta_new,
                           double *init_new,
                           double *trans_new,
                           int *bad,
                           double *work) {
    *bad = -1;
    if (hm_mix_classes(h) < 1 || init_mode < HM_HMM_INIT_FREE || init_mode > HM_HMM_INIT_FIXED) {
        return HM_EINVAL;
    }
    const int S = hm_mix_classes(h), dim = hm_hm_dim(h);
    const double wt = hst[S * S + S + 1];
    if (!(wt > 0.0)) {
        return HM_ENOPROG;
    }
    double *eta = work;
    double *spare = eta + dim;
    double *rest = spare + (size_t)S * (size_t)S;
    hm_status st = HM_OK;
    const double mwt = mst[dim + 1];
    if (!(mwt > 0.0)) {
        return HM_ENOPROG;
    }
    for (int i = 0; i < dim; i++) {
        eta[i] = mst[i] / mwt;
    }
    // A mixture of conjugated models with Gaussian latents (e.g. of factor
    // analysers) whitens each state's latent as hm_em_iterate does; p(x | state),
    // and so the likelihood, is unchanged. The identity for a plain mixture.
    st = hm_hm_whiten(h, eta, eta, rest);
    if (st != HM_OK) {
        return st;
    }
    st = hm_hm_to_natural(h, eta, theta_new, rest, ctl, bad);
    if (st != HM_OK) {
        return st;
    }

    // Transition: expected counts normalised by row; a state never left (no
    // expected departures, possible only at the last time steps) keeps its row.
    const double *pair = hst;
    for (int i = 0; i < S; i++) {
        double tot = 0.0;
        for (int j = 0; j < S; j++) {
            tot += pair[RM(i, j)];
        }
        for (int j = 0; j < S; j++) {
            trans_new[RM(i, j)] = tot > 0.0 ? pair[RM(i, j)] / tot : trans[RM(i, j)];
        }
    }
    // Initial distribution: the weighted mean smoothed first-state marginal; or the
    // new transition's stationary distribution; or unchanged.
    if (init_mode == HM_HMM_INIT_FREE) {
        for (int j = 0; j < S; j++) {
            init_new[j] = hst[S * S + j] / wt;
        }
    } else if (init_mode == HM_HMM_INIT_STATIONARY) {
        st = hm_hmm_stationary(S, trans_new, init_new, spare);
        if (st != HM_OK) {
            return st;
        }
    } else {
        memcpy(init_new, init, (size_t)S * sizeof(double));
    }
    return HM_OK;
}

hm_status hm_hmm_em_iterate(const hm_harmonium *h,
                            const double *theta,
                            const double *init,
                            const double *trans,
                            int init_mode,
                            const hm_data *data,
                            const hm_seqs *sq,
                            const hm_data *obs,
                            const int *obs_row,
                            const hm_ctrl *ctl,
                            int threads,
                            double *theta_new,
                            double *init_new,
                            double *trans_new,
                            double *loglik,
                            int *bad,
                            double *work) {
    *bad = -1;
    if (hm_mix_classes(h) < 1 || data->n != sq->n || init_mode < HM_HMM_INIT_FREE ||
        init_mode > HM_HMM_INIT_FIXED) {
        return HM_EINVAL;
    }
    const int S = hm_mix_classes(h), dim = hm_hm_dim(h);
    const size_t N = (size_t)sq->n;
    double *hst = work + 2 * N * (size_t)S + (obs_row ? (size_t)obs->n * (size_t)S : 0u);
    double *mst = hst + hm_hmm_stats_len(S);
    double *up = mst + hm_stats_len(h);
    hm_status st = hm_hmm_em_stats(h, theta, init, trans, data, sq, obs, obs_row, threads, hst, mst, work);
    if (st != HM_OK) {
        return st;
    }
    *loglik = hst[S * S + S];
    (void)dim;
    return hm_hmm_em_update(h, hst, mst, init, trans, init_mode, ctl, theta_new, init_new, trans_new, bad, up);
}
