/*
 * glue_bench.c: a measurement hook for bench/ (not used by any fit). It
 * times the engine's own matrix kernel, hm_k_gemm_nn, on blocks that stay
 * in cache, each thread multiplying its own independent blocks, and returns
 * the floating-point rate. bench/bench-mixture.R divides the flop count of
 * an EM iteration by this rate to get the iteration's flop limit, so the
 * limit follows whatever kernel the installed package has.
 */
#include <math.h>
#include <time.h>

#include "glue.h"
#include "../engine/hm_kernel.h"
#include "../engine/threads.h"

// Largest block side and longest measurement the hook accepts.
enum { BENCH_MAX_SIDE = 1024 };
static const double BENCH_MAX_SECONDS = 10.0;

static double wall_seconds(void) {
#ifdef _OPENMP
    return omp_get_wtime();
#else
    return (double)clock() / CLOCKS_PER_SEC; // serial build: CPU time is wall time
#endif
}

// Entries in [-0.5, 0.5) with no pattern a kernel could exploit, never
// subnormal.
static void bench_fill(double *v, size_t len, unsigned seed) {
    unsigned s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < len; i++) {
        s = s * 1664525u + 1013904223u;
        v[i] = (double)(s >> 8) / 16777216.0 - 0.5;
    }
}

/*
 * shape = c(m, k, n) (integers, 1..1024): C (m x n) = A (m x k) B (k x n);
 * seconds: the target length of the timed run, in (0, 10]; threads: how
 * many threads each multiply their own blocks (capped by the OpenMP thread
 * limit and the number of processors). Returns c(gflops, threads, seconds,
 * reps, rel_error): the rate over all threads (2 m k n flops per product)
 * in the fastest of 5 rounds, the threads used, that round's wall time, the
 * products per thread and round, and the relative error of two entries of C
 * against a plain dot product (a check that the kernel computed the product
 * it was timed on).
 */
SEXP ffi_bench_gemm_rate(SEXP shape, SEXP seconds, SEXP threads) {
    if (TYPEOF(shape) != INTSXP || XLENGTH(shape) != 3) {
        internal_error(__func__, "`shape` must be 3 integers c(m, k, n)");
    }
    const int *sh = INTEGER(shape);
    for (int i = 0; i < 3; i++) {
        if (sh[i] == NA_INTEGER || sh[i] < 1 || sh[i] > BENCH_MAX_SIDE) {
            internal_error(__func__, "`shape` has %d at position %d, expected 1 to %d", sh[i], i + 1,
                           (int)BENCH_MAX_SIDE);
        }
    }
    const double target = *glue_real_finite(seconds, 1, "seconds", __func__);
    if (!(target > 0.0 && target <= BENCH_MAX_SECONDS)) {
        internal_error(__func__, "`seconds` is %g, expected more than 0 and at most %g", target,
                       BENCH_MAX_SECONDS);
    }
    const int req = glue_threads(threads, __func__);
    const int m = sh[0], k = sh[1], n = sh[2];
    // No more threads than processors: more would only time-share them.
    const int nt = hm_threads(hm_threads_max(), req);
    const size_t la = (size_t)m * (size_t)k, lb = (size_t)k * (size_t)n, lc = (size_t)m * (size_t)n;
    // One region per thread, padded so that no two threads share a cache line.
    const size_t per = la + lb + lc + 8;
    glue_check_size((double)per * nt, "shape", __func__);
    double *buf = glue_scratch(per * (size_t)nt);
    for (int t = 0; t < nt; t++) {
        double *a = buf + per * (size_t)t;
        bench_fill(a, la, 2u * (unsigned)t + 1u);
        bench_fill(a + la, lb, 2u * (unsigned)t + 2u);
    }

    // Calibration on thread 0's blocks: products for about a tenth of the
    // target, then rounds of as many as fill a fifth of it each. The rate is
    // the best round's: other processes on the machine only ever slow a
    // round down, so the fastest is the closest to what the cores can do.
    double *a0 = buf, *b0 = buf + la, *c0 = buf + la + lb;
    hm_k_gemm_nn(m, k, n, a0, k, b0, n, c0, n);
    long calib = 1;
    double t1;
    for (;;) {
        const double s0 = wall_seconds();
        for (long r = 0; r < calib; r++) {
            hm_k_gemm_nn(m, k, n, a0, k, b0, n, c0, n);
        }
        t1 = (wall_seconds() - s0) / (double)calib;
        if (t1 * (double)calib >= 0.1 * target || calib >= (1L << 24)) {
            break;
        }
        calib *= 2;
    }
    const int rounds = 5;
    const double want = target / rounds / (t1 > 0.0 ? t1 : 1e-9);
    const long reps = want < 1.0 ? 1L : (want > 1e8 ? 100000000L : (long)want);
    double best = 0.0;
    for (int round = 0; round < rounds; round++) {
        const double s0 = wall_seconds();
#ifdef _OPENMP
#pragma omp parallel num_threads(nt) default(none) shared(buf) firstprivate(per, la, lb, m, k, n, reps)
#endif
        {
            double *a = buf + per * (size_t)omp_get_thread_num();
            for (long r = 0; r < reps; r++) {
                hm_k_gemm_nn(m, k, n, a, k, a + la, n, a + la + lb, n);
            }
        }
        const double wall = wall_seconds() - s0;
        if (round == 0 || wall < best) {
            best = wall;
        }
    }

    // C[0][0] and C[m-1][n-1] of thread 0 against plain dot products.
    double err = 0.0;
    const size_t sk = (size_t)k, sn = (size_t)n;
    for (int e = 0; e < 2; e++) {
        const size_t i = e == 0 ? 0 : (size_t)m - 1, j = e == 0 ? 0 : sn - 1;
        double ref = 0.0, mag = 0.0;
        for (size_t p = 0; p < sk; p++) {
            ref += a0[i * sk + p] * b0[p * sn + j];
            mag += fabs(a0[i * sk + p] * b0[p * sn + j]);
        }
        const double rel = fabs(c0[i * sn + j] - ref) / (mag > 0.0 ? mag : 1.0);
        err = rel > err ? rel : err;
    }

    SEXP out = PROTECT(Rf_allocVector(REALSXP, 5));
    double *o = REAL(out);
    o[0] = 2.0 * m * (double)k * n * (double)reps * nt / (best > 0.0 ? best : 1e-9) / 1e9;
    o[1] = nt;
    o[2] = best;
    o[3] = (double)reps;
    o[4] = err;
    SEXP nm = PROTECT(Rf_allocVector(STRSXP, 5));
    const char *names[] = {"gflops", "threads", "seconds", "reps", "rel_error"};
    for (int i = 0; i < 5; i++) {
        SET_STRING_ELT(nm, i, Rf_mkChar(names[i]));
    }
    Rf_setAttrib(out, R_NamesSymbol, nm);
    UNPROTECT(2);
    return out;
}
