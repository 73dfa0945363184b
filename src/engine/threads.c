/*
 * threads.c: the one thread-count getter (style.md 3.9).
 *
 * R resolves the user's request (lvm_control(threads), the option
 * harmonium.threads, OMP_THREAD_LIMIT and CRAN's two-core rule) and passes
 * it in; the engine caps it by the OpenMP thread limit and by the number of
 * independent work items, so that small inputs stay serial. Results never
 * depend on the count: work is split into fixed blocks whose partial sums
 * are reduced in block order.
 */
#include "hm_engine.h"
#include "threads.h"

int hm_threads(int n_work, int req) {
    int t = req < 1 ? 1 : req;
    int lim = omp_get_thread_limit();
    if (lim >= 1 && t > lim) {
        t = lim;
    }
    if (t > n_work) {
        t = n_work;
    }
    return t < 1 ? 1 : t;
}

int hm_threads_max(void) {
    int p = omp_get_num_procs();
    return p < 1 ? 1 : p;
}
