/*
 * hm_kernel.h: the engine's own matrix kernels for the hot E-step products
 * (style.md section 2) and a vectorised exp. All matrices are row-major
 * with explicit leading dimensions (in doubles). No BLAS: the shapes are
 * small and skinny (n = number of mixture components), where a BLAS call
 * costs more in overhead than the product, and the summation order must
 * be fixed.
 *
 * Each kernel has an AVX2 + FMA version, compiled with a `target`
 * attribute and chosen at run time on x86-64 (GCC or clang, not Windows),
 * an AVX-512 version of the transposed products, gemm_tn_acc, the exp,
 * vmul and the softmax (chosen when the CPU has AVX-512 F/DQ/BW/VL and the
 * OS saves the zmm state), and a portable C version used everywhere else.
 * The summation order of every output element is fixed by the shapes alone
 * (hm_kernel.c says which), and every version follows it, so results never
 * depend on the thread count, on pointer alignment or on how a caller
 * blocks its rows; the AVX2 and AVX-512 versions give the same bits, and
 * the portable one differs from them only by the rounding of a fused
 * multiply-add (the same binary on the same machine gives the same bits).
 *
 * All are re-entrant and allocate nothing; hm_k_gemm_nn uses 32 KiB of
 * stack.
 */
#ifndef HM_KERNEL_H
#define HM_KERNEL_H

#include <stddef.h>

/*
 * C = A B: A is m x k (lda >= k), B is k x n (ldb >= n), C is m x n
 * (ldc >= n); C is overwritten (set to 0 when k = 0) and nothing outside
 * its m x n entries is touched. Cost 2 m k n flops.
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
 * (ldc >= n). m is the long dimension (rows of a data block). Each C[p][j]
 * is one chain over the rows in order, starting from its old value, so
 * calling this on rows [0, r) and then [r, m) gives the bits of one call.
 * Cost 2 m k n flops.
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

/* y = x A: x has k entries, A is k x n row-major (lda >= n), y has n
 * (overwritten). For the short matrix-vector products of recursions, where a
 * packed gemm would spend more on packing than on arithmetic. */
void hm_k_vec_mat(int k, int n, const double *x, const double *A, int lda, double *y);

/*
 * C = A' B with the long dimension along the columns of B and C: A is
 * kk x nk (lda >= nk), B is kk x ni (ldb >= ni), C is nk x ni (ldc >= ni),
 * overwritten (0 when kk = 0); nothing outside its nk x ni entries is
 * touched. C[q][i] = sum_{p < kk} A[p][q] B[p][i] is one multiply-add chain
 * over p in order, so the result does not depend on how the columns are
 * blocked. For the E-step's class logits with the statistics stored
 * transposed (one row per statistic, one column per datum). Cost 2 kk nk ni
 * flops.
 */
void hm_k_gemm_tn_wide(int kk,
                       int nk,
                       int ni,
                       const double *A,
                       int lda,
                       const double *B,
                       int ldb,
                       double *C,
                       int ldc);

/*
 * C = A B' with dot products along the long dimension: A is mp x ni
 * (lda >= ni), B is nk x ni (ldb >= ni), C is mp x nk (ldc >= nk),
 * overwritten (0 when ni = 0). Each C[p][q] sums A[p][i] B[q][i] in eight
 * partial sums s_l over i = l, l + 8, l + 16, ... in order (the padding of
 * a partial last group adds +0), combined as ((s0 + s4) + (s2 + s6)) +
 * ((s1 + s5) + (s3 + s7)): an order fixed by ni alone. For the E-step's
 * expected statistics (transposed statistics times transposed
 * responsibilities). Cost 2 mp nk ni flops.
 */
void hm_k_gemm_nt(int mp,
                  int nk,
                  int ni,
                  const double *A,
                  int lda,
                  const double *B,
                  int ldb,
                  double *C,
                  int ldc);

/* out[i] = a[i] b[i] for i < n (one rounding, so the same bits on every
 * path); out may be a or b but must not overlap them otherwise. The
 * products of two data columns that make a Normal's second-order
 * statistics. */
void hm_k_vmul(int n, const double *a, const double *b, double *out);

/*
 * The column-wise softmax of a mixture E-step block. Q holds m + 1 rows of
 * ni columns (row stride ldq): the logits of classes 1..m relative to class
 * 0 (before the offsets t[0..m-1] are added) and one more row that is not
 * read. For each column i: q_k += t[k] (written back to Q), mx[i] = max(0,
 * q_0, ..., q_{m-1}) (in that order; a NaN logit is skipped as by
 * `q > mx ? q : mx`), R[k][i] = exp(q_k - mx[i]) and R[m][i] = exp(-mx[i])
 * (row stride ldr), with a shifted logit below `floor` giving exactly 0, and
 * tot[i] = sum of R[0..m][i] added in row order starting from 0. Every
 * operation is elementwise across columns, so all paths give the same bits
 * (the exp is hm_vexp's).
 */
void hm_k_softmax_cols(int m,
                       int ni,
                       const double *t,
                       double floor,
                       double *Q,
                       int ldq,
                       double *R,
                       int ldr,
                       double *mx,
                       double *tot);

/* The instruction set the kernels run on this machine: "avx512", "avx2" or
 * "portable" (for tests and benchmarks; results differ between them by the
 * rounding of fused multiply-adds only). */
const char *hm_kernel_isa(void);

/* x[i] <- exp(x[i]) for i < n, in place; vectorised (run-time dispatch on
 * x86-64), within 1 ulp of libm in tests, 0 below about -745 (gradual
 * underflow before that), +Inf above 709.78, NaN for NaN. The E-step's
 * responsibilities need one exp per row and class, which through libm
 * would cost as much as all the arithmetic. */
void hm_vexp(double *x, int n);

/* C unit test of this module (selftest.c table): both versions of every
 * kernel against naive loops and libm, edge cases, bit-for-bit agreement
 * of the summation orders, and independence of alignment. */
int hm_kernel_selftest(char *msg, size_t len);

#endif
