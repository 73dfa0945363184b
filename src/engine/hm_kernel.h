/*
 * hm_kernel.h: the engine's own cache-blocked matrix kernels for the hot
 * E-step products (style.md section 2). All matrices are row-major with
 * explicit leading dimensions. The kernels are vectorised with GCC vector
 * extensions and run-time dispatch (target_clones) where available, with a
 * plain C fallback; the summation order is fixed by the shapes alone, so
 * results never depend on the thread count or the instruction set chosen
 * at run time beyond the use of fused multiply-adds (the same binary on the
 * same machine gives the same bits).
 */
#ifndef HM_KERNEL_H
#define HM_KERNEL_H

#include <stddef.h>

/*
 * C = A B: A is m x k (lda >= k), B is k x n (ldb >= n), C is m x n
 * (ldc >= n); C is overwritten. Cost 2 m k n flops.
 */
void hm_k_gemm_nn(int m,
                  int k,
                  int n,
                  const double *A,
                  int lda,
                  const double *B,
                  int ldb,
                  double *C,
                  int ldc);

/*
 * C += A' B: A is m x k (lda >= k), B is m x n (ldb >= n), C is k x n
 * (ldc >= n). m is the long dimension (rows of a data block). Cost 2 m k n
 * flops.
 */
void hm_k_gemm_tn_acc(int m,
                      int k,
                      int n,
                      const double *A,
                      int lda,
                      const double *B,
                      int ldb,
                      double *C,
                      int ldc);

/* x[i] <- exp(x[i]) for i < n, in place; vectorised (run-time dispatch on
 * x86-64), within 2 ulp of libm, 0 below about -745, +Inf above 709.78,
 * NaN for NaN. The E-step's responsibilities need one exp per row and
 * class, which through libm would cost as much as all the arithmetic. */
void hm_vexp(double *x, int n);

/* C unit test of this module (selftest.c table). */
int hm_kernel_selftest(char *msg, size_t len);

#endif
