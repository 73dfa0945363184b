/*
 * bench_kernel.c: timings of the engine's E-step kernels (hm_kernel.c) on
 * the shapes the E-step meets. Build with `make bench`, which compiles with
 * plain -O2 and no -march flag, as R builds the package, so the numbers
 * include the run-time dispatch to the AVX2 + FMA code.
 *
 * For each shape the kernel is repeated until at least 0.1 s has passed,
 * five times over; the best of the five is reported, in GFLOP/s counting
 * 2 m k n flops per product (the usual convention), and for hm_vexp in
 * nanoseconds per element against libm's exp.
 */
#define _POSIX_C_SOURCE 199309L
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

/* Best time per call of one gemm kernel (which = 0: nn, 1: tn_acc). */
static double time_gemm(int which, int m, int k, int n, const double *A, const double *B,
                        double *C) {
    double best = HUGE_VAL;
    for (int rep = 0; rep < 5; rep++) {
        long calls = 0;
        double t0 = now(), t1;
        do {
            for (int r = 0; r < 10; r++) {
                if (which == 0) {
                    hm_k_gemm_nn(m, k, n, A, k, B, n, C, n);
                } else {
                    hm_k_gemm_tn_acc(m, k, n, A, k, B, n, C, n);
                }
            }
            calls += 10;
            t1 = now();
        } while (t1 - t0 < 0.1);
        double per = (t1 - t0) / (double)calls;
        best = per < best ? per : best;
    }
    return best;
}

/* Best time per element of hm_vexp (libm = 0) or a loop over exp(). */
static double time_exp(int libm, double *x, const double *x0, int n) {
    double best = HUGE_VAL, sink = 0.0;
    for (int rep = 0; rep < 5; rep++) {
        long calls = 0;
        double t0 = now(), t1;
        do {
            for (int i = 0; i < n; i++) {
                x[i] = x0[i];
            }
            if (libm) {
                for (int i = 0; i < n; i++) {
                    x[i] = exp(x[i]);
                }
            } else {
                hm_vexp(x, n);
            }
            sink += x[n / 2];
            calls++;
            t1 = now();
        } while (t1 - t0 < 0.1);
        double per = (t1 - t0) / (double)calls / (double)n;
        best = per < best ? per : best;
    }
    if (sink == 42.0) {
        printf(" ");
    }
    return best;
}

int main(void) {
    // The brief's shapes first, then the E-step's own blocks for the same
    // statistics (block rows = 32768 / mx, clamped to 64..1024, multiple
    // of 16), then a few others.
    static const int shapes[][3] = {
        {1024, 560, 17}, {1024, 44, 5}, {64, 560, 17}, {736, 44, 5}, {1024, 5, 2},
        {1024, 9, 4},    {512, 65, 9},  {1024, 600, 65}, {128, 230, 33},
    };
    const int ns = (int)(sizeof shapes / sizeof shapes[0]);
    printf("%6s %5s %4s  %12s  %12s\n", "m", "k", "n", "nn GFLOP/s", "tn GFLOP/s");
    for (int s = 0; s < ns; s++) {
        const int m = shapes[s][0], k = shapes[s][1], n = shapes[s][2];
        const size_t la = (size_t)m * (size_t)k, lb = (size_t)(m > k ? m : k) * (size_t)n;
        double *A = malloc(la * sizeof(double)), *B = malloc(lb * sizeof(double));
        double *C = malloc(lb * sizeof(double));
        if (A == NULL || B == NULL || C == NULL) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        fill(A, la, 1u + (unsigned long long)s);
        fill(B, lb, 77u + (unsigned long long)s);
        fill(C, lb, 5u);
        const double flops = 2.0 * (double)m * (double)k * (double)n;
        double tnn = time_gemm(0, m, k, n, A, B, C);
        fill(C, lb, 5u);
        double ttn = time_gemm(1, m, k, n, A, B, C);
        printf("%6d %5d %4d  %12.1f  %12.1f\n", m, k, n, flops / tnn * 1e-9, flops / ttn * 1e-9);
        free(A);
        free(B);
        free(C);
    }
    enum { NE = 1024 * 17 };
    double *x = malloc(2 * NE * sizeof(double));
    if (x == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    fill(x + NE, NE, 99u);
    for (int i = 0; i < NE; i++) {
        x[NE + i] *= 30.0; // softmax-like arguments in [-30, 30)
    }
    double tv = time_exp(0, x, x + NE, NE), tl = time_exp(1, x, x + NE, NE);
    printf("exp over %d elements: hm_vexp %.2f ns/element, libm exp %.2f ns/element (%.1fx)\n",
           NE, tv * 1e9, tl * 1e9, tl / tv);
    free(x);
    return 0;
}
