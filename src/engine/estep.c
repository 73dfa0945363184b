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

size_t hm_blocks_work_len(int slen, size_t tlen, int threads) {
    int nt = clamp_threads(threads);
    size_t rs = (size_t)round_blocks(nt, slen);
    return rs * (size_t)slen + rs + (size_t)nt * tlen;
}

hm_status hm_run_blocks(int n,
                        int B,
                        int threads,
                        int slen,
                        size_t tlen,
                        hm_block_fn fn,
                        const void *ctx,
                        double *stats,
                        double *work) {
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
    if (stats) {
        memset(stats, 0, (size_t)slen * sizeof(double));
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
        // Reduce in block order: the sum is independent of the thread count.
        for (int b = 0; b < nbr; b++) {
            if (sst[b] != (double)HM_OK) {
                return (hm_status)(int)sst[b];
            }
            if (stats) {
                const double *sl = slots + (size_t)b * (size_t)slen;
                for (int i = 0; i < slen; i++) {
                    stats[i] += sl[i];
                }
            }
        }
        // Between rounds, on this (the master) thread: the host may stop us.
        if (interrupt_check != NULL && b0 + rs < nb && interrupt_check()) {
            return HM_EINTR;
        }
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
