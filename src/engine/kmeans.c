/*
 * kmeans.c: the k-means start of the mixture drivers (R/fit.R's
 * kmeans_pp_labels): greedy k-means++ seeding followed by Lloyd
 * iterations, on a column-major n x d matrix of features.
 *
 * Seeding (Arthur and Vassilvitskii 2007, in its greedy form): the first
 * centre is a row drawn uniformly; each further centre is the best of
 * `trials` candidate rows drawn with probability proportional to D(x)^2,
 * the squared distance of a row to its nearest centre so far, "best"
 * meaning the candidate whose addition leaves the smallest total D^2.
 * Several candidates make a poor seeding (two centres in one cluster,
 * none in another) much rarer than a single draw does. Draws come only
 * from the host RNG (hm_rng), on the calling thread, so a seed in R makes
 * the result reproducible.
 *
 * Lloyd's iteration: every row joins its nearest centre (ties go to the
 * lowest index), every centre moves to the mean of its rows, until no row
 * changes its centre or `maxit` passes. A centre left without rows keeps
 * its position.
 *
 * Every pass over the rows runs through hm_run_blocks: rows in blocks of a
 * fixed size, each block's sums in its own slot, the slots added in block
 * order, so the labels and centres are bit-identical for any thread count.
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"

// Rows per block: from the shape only (never the thread count), large
// enough that a pass over the rows takes few parallel rounds, small enough
// that a block's k distance columns (block x k doubles) stay near 256 KiB.
static int km_block(int k) {
    int b = 32768 / (k > 1 ? k : 1);
    if (b > 4096) {
        b = 4096;
    }
    if (b < 256) {
        b = 256;
    }
    return b;
}

static int km_trials_max(int trials) {
    return trials < 1 ? 1 : trials;
}

// --- distances ---------------------------------------------------------------

// buf[i] = |x_(r0 + i) - c|^2 for the nr rows of a block; column by column,
// four columns per sweep, so the inner loop runs down contiguous memory and
// the running sums are loaded and stored a quarter as often.
static void block_dist(const double *x, int ldx, int d, int r0, int nr, const double *c, double *buf) {
    for (int i = 0; i < nr; i++) {
        buf[i] = 0.0;
    }
    int j = 0;
    for (; j + 4 <= d; j += 4) {
        const double *x0 = x + (size_t)j * (size_t)ldx + (size_t)r0;
        const double *x1 = x0 + ldx, *x2 = x1 + ldx, *x3 = x2 + ldx;
        const double c0 = c[j], c1 = c[j + 1], c2 = c[j + 2], c3 = c[j + 3];
        for (int i = 0; i < nr; i++) {
            const double e0 = x0[i] - c0, e1 = x1[i] - c1, e2 = x2[i] - c2, e3 = x3[i] - c3;
            buf[i] += (e0 * e0 + e1 * e1) + (e2 * e2 + e3 * e3);
        }
    }
    for (; j < d; j++) {
        const double *xj = x + (size_t)j * (size_t)ldx + (size_t)r0;
        const double cj = c[j];
        for (int i = 0; i < nr; i++) {
            const double e = xj[i] - cj;
            buf[i] += e * e;
        }
    }
}

// --- seeding -------------------------------------------------------------------

typedef struct seed_ctx {
    const double *x;
    int ldx;
    int d;
    double *d2;          // n: squared distance to the nearest centre so far
    const double *cand;  // nc x d row-major candidate centres
    int nc;
    int update;          // 1: overwrite d2 with the min against cand[0]
} seed_ctx;

// slot[t] = sum over the block's rows of min(d2, |x - cand_t|^2); with
// `update`, d2 itself becomes that minimum for the single candidate.
static hm_status seed_block(const void *vctx, int r0, int nr, double *slot, double *tw) {
    const seed_ctx *s = (const seed_ctx *)vctx;
    for (int t = 0; t < s->nc; t++) {
        block_dist(s->x, s->ldx, s->d, r0, nr, s->cand + (size_t)t * (size_t)s->d, tw);
        double *d2 = s->d2 + r0;
        double acc = 0.0;
        for (int i = 0; i < nr; i++) {
            const double v = tw[i] < d2[i] ? tw[i] : d2[i];
            acc += v;
            if (s->update) {
                d2[i] = v;
            }
        }
        slot[t] = acc;
    }
    return HM_OK;
}

// A row drawn with probability d2[i] / total (uniformly when total is 0).
// The serial scan never depends on the thread count; rounding that leaves
// the running sum short of the target picks the last row of positive d2.
static int draw_row(const double *d2, int n, double total, hm_rng *rng) {
    const double u = rng->unif(rng->ctx);
    if (!(total > 0.0)) {
        int i = (int)(u * (double)n);
        return i < n ? i : n - 1;
    }
    const double target = u * total;
    double acc = 0.0;
    int last = -1;
    for (int i = 0; i < n; i++) {
        if (d2[i] > 0.0) {
            acc += d2[i];
            last = i;
            if (acc >= target) {
                return i;
            }
        }
    }
    return last >= 0 ? last : n - 1;
}

static void copy_row(const double *x, int ldx, int d, int i, double *out) {
    for (int j = 0; j < d; j++) {
        out[j] = x[(size_t)j * (size_t)ldx + (size_t)i];
    }
}

// --- Lloyd ---------------------------------------------------------------------

typedef struct lloyd_ctx {
    const double *x;
    int ldx;
    int d;
    int k;
    const double *centers;  // k x d row-major
    int *labels;            // n, 0-based; -1 before the first pass
    int B;                  // rows per block (the stride of the distance columns)
} lloyd_ctx;

// Slot layout: [k x d row-major sums | k counts | rows that moved | sum of
// the squared distances to the nearest centre].
static hm_status lloyd_block(const void *vctx, int r0, int nr, double *slot, double *tw) {
    const lloyd_ctx *s = (const lloyd_ctx *)vctx;
    const int d = s->d, k = s->k;
    double *sums = slot, *counts = slot + (size_t)k * (size_t)d;
    double *moved = counts + k, *inertia = moved + 1;
    memset(slot, 0, ((size_t)k * (size_t)d + (size_t)k + 2) * sizeof(double));
    for (int c = 0; c < k; c++) {
        block_dist(s->x, s->ldx, d, r0, nr, s->centers + (size_t)c * (size_t)d, tw + (size_t)c * (size_t)s->B);
    }
    for (int i = 0; i < nr; i++) {
        int best = 0;
        double bd = tw[i];
        for (int c = 1; c < k; c++) {
            const double v = tw[(size_t)c * (size_t)s->B + (size_t)i];
            if (v < bd) {
                bd = v;
                best = c;
            }
        }
        const int row = r0 + i;
        if (s->labels[row] != best) {
            *moved += 1.0;
            s->labels[row] = best;
        }
        counts[best] += 1.0;
        *inertia += bd;
        double *sb = sums + (size_t)best * (size_t)d;
        for (int j = 0; j < d; j++) {
            sb[j] += s->x[(size_t)j * (size_t)s->ldx + (size_t)row];
        }
    }
    return HM_OK;
}

// --- the driver ------------------------------------------------------------------

static size_t slot_len(int d, int k, int trials) {
    size_t a = (size_t)k * (size_t)d + (size_t)k + 2;
    size_t b = (size_t)km_trials_max(trials);
    return a > b ? a : b;
}

static size_t thread_len(int k) {
    return (size_t)km_block(k) * (size_t)(k > 1 ? k : 1);
}

/*
 * Threads for one pass over the rows costing about `work` flops: 1 below
 * 8 times the E-step's threshold (hm_set_parallel_min_work: 2^21 flops by
 * default, a millisecond or less), where opening a parallel region, which
 * on a busy machine costs a scheduler time slice, would cost more than the
 * pass (seeding passes are n d flops each, and there are k (2 + log k)).
 */
static int pass_threads(int threads, double work) {
    return work < 8.0 * hm_parallel_min_work() ? 1 : threads;
}

size_t hm_kmeans_work_len(int n, int d, int k, int trials, int threads) {
    const size_t sl = slot_len(d, k, trials);
    return (size_t)n + (size_t)km_trials_max(trials) * (size_t)d + sl +
           hm_blocks_work_len((int)sl, thread_len(k), threads);
}

hm_status hm_kmeans(const double *x,
                    int n,
                    int ldx,
                    int d,
                    int k,
                    int trials,
                    int maxit,
                    hm_rng *rng,
                    int threads,
                    int *labels,
                    double *centers,
                    int *iter,
                    double *work) {
    *iter = 0;
    if (n < 1 || d < 1 || k < 1 || ldx < n || maxit < 0 || rng == NULL) {
        return HM_EINVAL;
    }
    const double dn = (double)n * (double)d, dk = (double)k * (double)d;
    if (dn > 2147483647.0 || dk > 2147483647.0 || (double)km_block(k) * (double)k > 2147483647.0) {
        return HM_EOVERFLOW;
    }
    const int nt = km_trials_max(trials);
    const int sl = (int)slot_len(d, k, trials);
    double *d2 = work;
    double *cand = d2 + n;
    double *tot = cand + (size_t)nt * (size_t)d;
    double *bw = tot + sl;
    const size_t tl = thread_len(k);
    const int B = km_block(k);
    hm_status st;

    // Seeding. The first centre: a uniform draw; d2 starts at +Inf so that
    // the update pass sets it to the distance to that centre.
    for (int i = 0; i < n; i++) {
        d2[i] = HUGE_VAL;
    }
    copy_row(x, ldx, d, draw_row(d2, n, 0.0, rng), centers);
    seed_ctx sc = {x, ldx, d, d2, centers, 1, 1};
    st = hm_run_blocks(n, B, pass_threads(threads, (double)n * d), 1, tl, seed_block, &sc, tot, bw, NULL);
    if (st != HM_OK) {
        return st;
    }
    double total = tot[0];
    for (int c = 1; c < k; c++) {
        // `trials` candidates by D^2; keep the one of least total D^2.
        for (int t = 0; t < nt; t++) {
            copy_row(x, ldx, d, draw_row(d2, n, total, rng), cand + (size_t)t * (size_t)d);
        }
        int best = 0;
        if (nt > 1) {
            seed_ctx ev = {x, ldx, d, d2, cand, nt, 0};
            st = hm_run_blocks(n, B, pass_threads(threads, (double)n * d * nt), nt, tl, seed_block, &ev, tot, bw, NULL);
            if (st != HM_OK) {
                return st;
            }
            for (int t = 1; t < nt; t++) {
                if (tot[t] < tot[best]) {
                    best = t;
                }
            }
        }
        double *ck = centers + (size_t)c * (size_t)d;
        memcpy(ck, cand + (size_t)best * (size_t)d, (size_t)d * sizeof(double));
        seed_ctx up = {x, ldx, d, d2, ck, 1, 1};
        st = hm_run_blocks(n, B, pass_threads(threads, (double)n * d), 1, tl, seed_block, &up, tot, bw, NULL);
        if (st != HM_OK) {
            return st;
        }
        total = tot[0];
    }

    // Lloyd. One assignment pass per iteration; stop when no row moved.
    for (int i = 0; i < n; i++) {
        labels[i] = -1;
    }
    lloyd_ctx lc = {x, ldx, d, k, centers, labels, B};
    for (int it = 0; it < (maxit > 0 ? maxit : 1); it++) {
        st = hm_run_blocks(n, B, pass_threads(threads, (double)n * d * k), sl, tl, lloyd_block, &lc, tot, bw, NULL);
        if (st != HM_OK) {
            return st;
        }
        *iter = it + 1;
        const double *counts = tot + (size_t)k * (size_t)d;
        if (counts[k] == 0.0 || it + 1 >= maxit) {
            break;
        }
        for (int c = 0; c < k; c++) {
            if (counts[c] > 0.0) {
                for (int j = 0; j < d; j++) {
                    centers[(size_t)c * (size_t)d + (size_t)j] = tot[(size_t)c * (size_t)d + (size_t)j] / counts[c];
                }
            }
        }
    }
    return HM_OK;
}
