/*
 * linalg.h: typed wrappers over BLAS/LAPACK (engine/linalg.c is the only
 * file that calls Fortran and the only engine file with R headers). All
 * matrices here are column-major n x n with leading dimension n; symmetric
 * inputs are full (both triangles). Sizes above INT_MAX give HM_EOVERFLOW.
 */
#ifndef HM_LINALG_H
#define HM_LINALG_H

#include "hm_status.h"

/* In-place Cholesky a = L L' (LAPACK dpotrf, lower). On success the lower
 * triangle holds L and the strict upper triangle is set to 0. HM_ENOTPD if
 * a is not positive definite (info > 0), HM_EDOM for non-finite input. */
hm_status hm_la_chol(int n, double *a);

/* log |A| from its Cholesky factor L (2 sum log L_ii). */
double hm_la_chol_logdet(int n, const double *l);

/* Solves A X = B for X in place of b (n x nrhs, column-major), given the
 * Cholesky factor L of A (LAPACK dpotrs). */
hm_status hm_la_chol_solve(int n, int nrhs, const double *l, double *b);

/* Replaces the Cholesky factor L (lower, as left by hm_la_chol) with the
 * full symmetric inverse A^-1 (LAPACK dpotri, then mirrored). */
hm_status hm_la_chol_inv(int n, double *l);

/* From the Cholesky factor L (lower, as left by hm_la_chol): li = L^-1
 * (lower, column-major, so that read row-major it is L^-T) and lt its
 * transpose. Quadratic forms t' A^-1 t = |L^-1 t|^2 through li keep the
 * condition number of L, where forming A^-1 squares it. */
void hm_la_chol_inv_factor(int n, const double *l, double *li, double *lt);

/* Multiplies the n-vector v in place by the lower-triangular L (v <- L v). */
void hm_la_trmv_lower(int n, const double *l, double *v);

/* C = alpha op(A) op(B) + beta C (BLAS dgemm), column-major; ta/tb are
 * 'N' or 'T'. */
hm_status hm_la_gemm(char ta,
                     char tb,
                     int m,
                     int n,
                     int k,
                     double alpha,
                     const double *a,
                     int lda,
                     const double *b,
                     int ldb,
                     double beta,
                     double *c,
                     int ldc);

/* Symmetric eigen-decomposition of the full n x n a (LAPACK dsyev):
 * eigenvalues ascending into w[n], eigenvectors into a's columns. work has
 * at least 3 n doubles. */
hm_status hm_la_syev(int n, double *a, double *w, double *work, int lwork);

/* Singular value decomposition a = U diag(s) V' of the square n x n a
 * (LAPACK dgesvd): s descending, u and vt n x n; a is overwritten. work has
 * at least 5 n doubles. */
hm_status hm_la_gesvd(int n, double *a, double *s, double *u, double *vt, double *work, int lwork);

#endif
