/*
 * estep.c: the E-step over data, in blocks of rows (style.md section 2),
 * written once for every kind.
 *
 * hm_estep and hm_estep_work_len dispatch through the kind's operation
 * table (hm_kind_lookup, hm_engine.h); each kind's estep computes its
 * per-call constants (check, psi, the products' right-hand sides) and
 * hands its block function to the blocked driver here, hm_run_blocks. The
 * kinds' blocks are in their own files (mixture.c, lgm.c,
 * boltzmann_lgm.c, lgm_common.c, conjugate.c, hmog.c, mixture_of.c).
 *
 * Each block writes its sums into its own slot; slots are added to the total
 * in block order, so the result is bit-identical for any thread count. The
 * block size depends on the shapes only (and the kind's block_rows, for a
 * kind whose rows are expensive).
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "threads.h"

int hm_stats_len(const hm_harmonium *h) {
    return hm_hm_dim(h) + 2;
}

// About 256 KiB of statistics per block, between 64 and 1024 rows, a
// multiple of 16, unless the kind sets its own.
int hm_estep_block_rows(const hm_harmonium *h) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops && ops->block_rows) {
        return ops->block_rows(h);
    }
    int m = h->mx > 0 ? h->mx : 1;
    int b = 32768 / m;
    if (b < 64) {
        b = 64;
    }
    if (b > 1024) {
        b = 1024;
    }
    return b - b % 16;
}

// Rows times statistics below which an E-step stays serial (hm_run_blocks).
static double parallel_min_work = 262144.0;

double hm_parallel_min_work(void) {
    return parallel_min_work;
}

double hm_set_parallel_min_work(double work) {
    double old = parallel_min_work;
    parallel_min_work = work >= 0.0 ? work : 0.0;
    return old;
}

static hm_interrupt_fn interrupt_check = NULL;

void hm_set_interrupt_check(hm_interrupt_fn fn) {
    interrupt_check = fn;
}

// Blocks per parallel round: 16 per thread, fewer when the slots would pass
// 8 MiB (never fewer than 4 per thread). Each round opens one parallel
// region, and on a busy machine opening one can cost a scheduler time
// slice, so rounds are long; the interrupt check runs between them.
static int round_blocks(int nt, int slen) {
    int rs = 16 * nt;
    double cap = (double)(1 << 20) / (double)(slen > 0 ? slen : 1);
    if ((double)rs > cap) {
        rs = (int)cap;
    }
    return rs < 4 * nt ? 4 * nt : rs;
}

static int clamp_threads(int threads) {
    return threads < 1 ? 1 : (threads > 64 ? 64 : threads);
}

size_t hm_estep_work_len(const hm_harmonium *h, int threads) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    return ops ? ops->estep_work_len(h, threads) : 0;
}

// The tree's stack (hm_engine.h): at most 64 nodes for any range of fewer
// than 2^31 blocks, each slen doubles, with their lo and size
// (HM_TREE_STACK_LEN).
#define TREE_DEPTH 64

size_t hm_blocks_work_len(int slen, size_t tlen, int threads) {
    int nt = clamp_threads(threads);
    size_t rs = (size_t)round_blocks(nt, slen);
    return rs * (size_t)slen + rs + (size_t)nt * tlen + HM_TREE_STACK_LEN(slen);
}

void hm_tree_stack_init(hm_tree_stack *t, int slen, double *work) {
    t->depth = 0;
    t->slen = slen;
    t->lo = work;
    t->size = work + TREE_DEPTH;
    t->val = work + 2 * TREE_DEPTH;
}

// Pushes node (lo, size) with sums v, then merges the top two nodes while
// they are siblings (equal sizes, the left one aligned to twice that):
// parent = left + right. HM_ENOMEM if the stack would overflow (not for
// ranges of fewer than 2^31 blocks).
hm_status hm_tree_stack_push(hm_tree_stack *t, double lo, double size, const double *v) {
    const int slen = t->slen;
    if (t->depth >= TREE_DEPTH) {
        return HM_ENOMEM;
    }
    double *top = t->val + (size_t)t->depth * (size_t)slen;
    memcpy(top, v, (size_t)slen * sizeof(double));
    t->lo[t->depth] = lo;
    t->size[t->depth] = size;
    t->depth++;
    while (t->depth >= 2) {
        const int a = t->depth - 2, b = t->depth - 1;
        const double sz = t->size[a];
        if (t->size[b] != sz || t->lo[a] + sz != t->lo[b] || fmod(t->lo[a], 2.0 * sz) != 0.0) {
            break;
        }
        double *left = t->val + (size_t)a * (size_t)slen;
        const double *right = t->val + (size_t)b * (size_t)slen;
        for (int i = 0; i < slen; i++) {
            left[i] = left[i] + right[i];
        }
        t->size[a] = 2.0 * sz;
        t->depth--;
    }
    return HM_OK;
}

// The total of the stack's nodes, largest first: n_1 + (n_2 + (... + n_m)).
void hm_tree_stack_total(const hm_tree_stack *t, double *out) {
    const int slen = t->slen;
    if (t->depth == 0) {
        memset(out, 0, (size_t)slen * sizeof(double));
        return;
    }
    memcpy(out, t->val + (size_t)(t->depth - 1) * (size_t)slen, (size_t)slen * sizeof(double));
    for (int k = t->depth - 2; k >= 0; k--) {
        const double *v = t->val + (size_t)k * (size_t)slen;
        for (int i = 0; i < slen; i++) {
            out[i] = v[i] + out[i];
        }
    }
}

hm_status hm_tree_stack_export(const hm_tree_stack *t, hm_tree *tree) {
    if (tree->cap < t->depth || !tree->lo || !tree->size || !tree->val) {
        return HM_EINVAL;
    }
    tree->count = t->depth;
    for (int k = 0; k < t->depth; k++) {
        tree->lo[k] = t->lo[k];
        tree->size[k] = t->size[k];
    }
    memcpy(tree->val, t->val, (size_t)t->depth * (size_t)t->slen * sizeof(double));
    return HM_OK;
}

hm_status hm_tree_fold(int count, const double *lo, const double *size, const double *val, int slen, double nb,
                       double *total, double *work) {
    if (count < 0 || slen < 1 || total == NULL || work == NULL || (count > 0 && (!lo || !size || !val))) {
        return HM_EINVAL;
    }
    hm_tree_stack t;
    hm_tree_stack_init(&t, slen, work);
    double end = 0.0;
    for (int i = 0; i < count; i++) {
        const double sz = size[i];
        // A dyadic node that starts where the last one ended.
        if (!(sz >= 1.0) || lo[i] != end || fmod(lo[i], sz) != 0.0 || frexp(sz, &(int){0}) != 0.5) {
            return HM_EINVAL;
        }
        hm_status st = hm_tree_stack_push(&t, lo[i], sz, val + (size_t)i * (size_t)slen);
        if (st != HM_OK) {
            return st;
        }
        end = lo[i] + sz;
    }
    if (end != nb) {
        return HM_EINVAL;
    }
    hm_tree_stack_total(&t, total);
    return HM_OK;
}

hm_status hm_run_blocks(int n,
                        int B,
                        int threads,
                        int slen,
                        size_t tlen,
                        hm_block_fn fn,
                        const void *ctx,
                        double *stats,
                        double *work,
                        hm_tree *tree) {
    const int nb = (n + B - 1) / B;
    const int ntw = clamp_threads(threads);
    // A parallel region costs microseconds to open, and far more when the
    // machine is busy and a worker waits to be scheduled: small E-steps (an
    // LCA of a thousand rows costs ~20 us) run on this thread. The work is
    // measured by the statistics the blocks write, a proxy for their cost.
    const int nt = (double)n * (double)slen < parallel_min_work ? 1 : hm_threads(nb, ntw);
    const int rs = round_blocks(ntw, slen);
    double *slots = work;
    double *sst = slots + (size_t)rs * (size_t)slen;
    double *tws = sst + rs;
    double *tsw = tws + (size_t)ntw * tlen;
    hm_tree_stack ts;
    hm_tree_stack_init(&ts, slen, tsw);
    const double g0 = tree ? tree->b0 : 0.0;
    if (tree && (tree->cap < TREE_DEPTH || !tree->lo || !tree->size || !tree->val || !(g0 >= 0.0))) {
        return HM_EINVAL;
    }
    for (int b0 = 0; b0 < nb; b0 += rs) {
        const int nbr = (nb - b0 < rs) ? nb - b0 : rs;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) default(none) \
    shared(ctx, fn, slots, sst, tws) firstprivate(b0, nbr, B, n, slen, tlen)
        for (int b = 0; b < nbr; b++) {
            int tid = omp_get_thread_num();
            int r0 = (b0 + b) * B;
            int nr = (n - r0 < B) ? n - r0 : B;
            hm_status bst = fn(ctx, r0, nr, slots + (size_t)b * (size_t)slen, tws + (size_t)tid * tlen);
            sst[b] = (double)bst;
        }
        // Into the tree in block order: the sums are independent of the
        // thread count and of where the rows were split into passes.
        for (int b = 0; b < nbr; b++) {
            if (sst[b] != (double)HM_OK) {
                return (hm_status)(int)sst[b];
            }
            if (stats || tree) {
                hm_status st = hm_tree_stack_push(&ts, g0 + (double)(b0 + b), 1.0, slots + (size_t)b * (size_t)slen);
                if (st != HM_OK) {
                    return st;
                }
            }
        }
        // Between rounds, on this (the master) thread: the host may stop us.
        if (interrupt_check != NULL && b0 + rs < nb && interrupt_check()) {
            return HM_EINTR;
        }
    }
    if (tree) {
        hm_status st = hm_tree_stack_export(&ts, tree);
        if (st != HM_OK) {
            return st;
        }
    }
    if (stats) {
        hm_tree_stack_total(&ts, stats);
    }
    return HM_OK;
}

// --- the driver --------------------------------------------------------------

hm_status hm_estep(const hm_harmonium *h,
                   const double *theta,
                   const hm_data *data,
                   const double *given,
                   double *stats,
                   double *logp,
                   double *post,
                   int threads,
                   double *work) {
    const hm_kind_ops *ops = hm_kind_lookup(h->kind);
    if (ops == NULL) {
        return HM_EINVAL;
    }
    return ops->estep(h, theta, data, given, stats, logp, post, threads, work);
}
