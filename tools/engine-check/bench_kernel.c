/*
 * bench_kernel.c: timings of the engine's E-step kernels (hm_kernel.c) on
 * the shapes the E-step meets. `make bench` compiles it with plain -O2 and
 * no -march flag, as R builds the package, so the numbers include the
 * run-time dispatch to the AVX2 + FMA code.
 *
 * Each figure is the best of many short timed runs (about 2 ms each): on a
 * shared or busy machine the minimum is the run nobody interrupted, which
 * is what the kernel itself costs. GFLOP/s count 2 m k n flops per
 * product. The operands are 64-byte aligned and then shifted by `shift`
 * doubles, because the speed (never the result) depends a little on how
 * rows of A fall on cache lines; the second column repeats with a shift
 * of one double. hm_vexp is timed in nanoseconds per element against a
 * loop over libm's exp.
 *
 * Usage: bench_kernel [seconds per figure, default 0.3]
 */
#define _POSIX_C_SOURCE 200112L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hm_kernel.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Fills x[n] with deterministic values in [-1, 1). */
static void fill(double *x, size_t n, unsigned long long seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = 2.0 * ((double)(seed >> 11) / 9007199254740992.0) - 1.0;
    }
}

/* A 64-byte aligned array of n doubles plus room for a shift of 7. */
static double *alloc_aligned(size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, 64, (n + 8) * sizeof(double)) != 0) {
        return NULL;
    }
    return p;
}

/* One timed call batch of a kernel: which = 0 gemm_nn, 1 gemm_tn_acc,
 * 2 hm_vexp (x = A, n = m), 3 libm exp over A[0..m-1]. */
static void run(int which,
                long reps,
                int m,
                int k,
                int n,
                const double *A,
                const double *B,
                double *C) {
    for (long r = 0; r < reps; r++) {
        if (which == 0) {
            hm_k_gemm_nn(m, k, n, A, k, B, n, C, n);
        } else if (which == 1) {
            hm_k_gemm_tn_acc(m, k, n, A, k, B, n, C, n);
        } else {
            // exp of the same arguments again and again: C is scratch.
            for (int i = 0; i < m; i++) {
                C[i] = A[i];
            }
            if (which == 2) {
                hm_vexp(C, m);
            } else {
                for (int i = 0; i < m; i++) {
                    C[i] = exp(C[i]);
                }
            }
        }
    }
}

/* Best seconds per call over timed batches of about 2 ms for `budget` s. */
static double best_time(int which,
                        double budget,
                        int m,
                        int k,
                        int n,
                        const double *A,
                        const double *B,
                        double *C) {
    long reps = 1;
    double t0 = now();
    run(which, reps, m, k, n, A, B, C);
    double one = now() - t0;
    if (one < 2e-3) {
        reps = (long)(2e-3 / (one > 1e-9 ? one : 1e-9)) + 1;
    }
    double best = HUGE_VAL, start = now();
    while (now() - start < budget) {
        double t1 = now();
        run(which, reps, m, k, n, A, B, C);
        double per = (now() - t1) / (double)reps;
        best = per < best ? per : best;
    }
    return best;
}

int main(int argc, char **argv) {
    const double budget = argc > 1 ? atof(argv[1]) : 0.3;
    // The brief's two shapes first, then the E-step's own blocks for the
    // same numbers of statistics (block rows = 32768 / k, clamped to
    // 64..1024, a multiple of 16), then other mixtures.
    static const int shapes[][3] = {
        {1024, 560, 17}, {1024, 44, 5}, {64, 560, 17}, {736, 44, 5},  {1024, 5, 2},
        {1024, 9, 3},    {1024, 20, 4}, {512, 65, 9},  {1024, 600, 65}, {128, 230, 33},
    };
    const int ns = (int)(sizeof shapes / sizeof shapes[0]);
    printf("GFLOP/s, best of ~2 ms runs; operands 64-byte aligned / shifted by 8 bytes\n");
    printf("%6s %5s %4s  %17s  %17s\n", "m", "k", "n", "gemm_nn", "gemm_tn_acc");
    for (int s = 0; s < ns; s++) {
        const int m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
        const size_t la = (size_t)m * (size_t)k, lb = (size_t)(m > k ? m : k) * (size_t)n;
        double *A0 = alloc_aligned(la), *B0 = alloc_aligned(lb), *C0 = alloc_aligned(lb);
        if (A0 == NULL || B0 == NULL || C0 == NULL) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        const double flops = 2.0 * (double)m * (double)k * (double)n;
        double g[2][2];
        for (int shift = 0; shift < 2; shift++) {
            double *A = A0 + shift, *B = B0 + shift, *C = C0 + shift;
            fill(A, la, 1u + (unsigned long long)s);
            fill(B, lb, 77u + (unsigned long long)s);
            fill(C, lb, 5u);
            for (int which = 0; which < 2; which++) {
                g[which][shift] = flops / best_time(which, budget, m, k, n, A, B, C) * 1e-9;
            }
        }
        printf("%6d %5d %4d  %8.1f %8.1f  %8.1f %8.1f\n", m, k, n, g[0][0], g[0][1], g[1][0],
               g[1][1]);
        free(A0);
        free(B0);
        free(C0);
    }
    enum { NE = 1024 * 17 };
    double *x = alloc_aligned(NE), *y = alloc_aligned(NE);
    if (x == NULL || y == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    fill(x, NE, 99u);
    for (int i = 0; i < NE; i++) {
        x[i] *= 30.0; // softmax-like arguments in [-30, 30)
    }
    double tv = best_time(2, budget, NE, 0, 0, x, NULL, y) / NE;
    double tl = best_time(3, budget, NE, 0, 0, x, NULL, y) / NE;
    printf("exp of %d values (with a copy): hm_vexp %.2f ns each, libm exp %.2f ns (%.1fx)\n", NE,
           tv * 1e9, tl * 1e9, tl / tv);
    free(x);
    free(y);
    return 0;
}
