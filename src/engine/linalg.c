/*
 * linalg.c: the engine's only BLAS/LAPACK call sites (style.md 3.7).
 *
 * Every wrapper validates its sizes before calling Fortran. This matters
 * beyond tidiness: R's BLAS and LAPACK report an illegal argument through
 * xerbla, which raises an R error and longjmps out of the engine, so no
 * call may ever reach Fortran with an argument LAPACK would reject
 * (negative sizes, leading dimensions below max(1, rows), a short
 * workspace). Shape mistakes are engine bugs and give HM_EINVAL; sizes
 * whose element count does not fit an int give HM_EOVERFLOW, because the
 * reference BLAS indexes with 32-bit integers.
 *
 * Matrices are column-major n x n with leading dimension n (linalg.h).
 * Statuses of the numerical failures: dpotrf info > 0 (a leading minor is
 * not positive) and dpotri info > 0 (a zero diagonal of the factor) give
 * HM_ENOTPD; dsyev info > 0 (QR iteration did not converge) gives
 * HM_EMAXITER.
 */
#define USE_FC_LEN_T
#include <R_ext/BLAS.h>
#include <R_ext/Lapack.h>
#ifndef FCONE
#define FCONE
#endif

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "linalg.h"

// --- size checks -------------------------------------------------------------

// 1 if a * b elements (a, b >= 0) can be indexed by a Fortran int; the
// division form avoids computing an overflowing product.
static int fits_int(int a, int b) {
    if (a < 0 || b < 0) {
        return 0;
    }
    return a == 0 || b <= INT_MAX / a;
}

// Status of an n x n operand: HM_EINVAL for n < 0, HM_EOVERFLOW when n * n
// does not fit an int, HM_OK otherwise.
static hm_status square_ok(int n) {
    if (n < 0) {
        return HM_EINVAL;
    }
    return fits_int(n, n) ? HM_OK : HM_EOVERFLOW;
}

// The leading-dimension floor LAPACK demands: max(1, rows).
static int ld_floor(int rows) {
    return rows > 1 ? rows : 1;
}

// --- Cholesky ----------------------------------------------------------------

/*
 * Factors a = L L' in place. The whole matrix is scanned for non-finite
 * entries first: LAPACK would otherwise either propagate NaN silently into
 * L or report a misleading info > 0, and the caller needs to tell "not a
 * number" (HM_EDOM) from "not positive definite" (HM_ENOTPD). After a
 * successful factorisation the strict upper triangle is zeroed so that a
 * is exactly L for later use by dtrmv or by plain loops. After a failure
 * the contents of a are unspecified.
 */
hm_status hm_la_chol(int n, double *a) {
    hm_status st = square_ok(n);
    if (st != HM_OK) {
        return st;
    }
    if (n == 0) {
        return HM_OK;
    }
    const size_t nn = (size_t)n * (size_t)n;
    for (size_t i = 0; i < nn; i++) {
        if (!isfinite(a[i])) {
            return HM_EDOM;
        }
    }
    int info = 0;
    F77_CALL(dpotrf)("L", &n, a, &n, &info FCONE); // LAPACK
    if (info > 0) {
        return HM_ENOTPD;
    }
    if (info < 0) {
        return HM_EINVAL;
    }
    for (int j = 1; j < n; j++) {
        for (int i = 0; i < j; i++) {
            a[(size_t)j * (size_t)n + (size_t)i] = 0.0;
        }
    }
    return HM_OK;
}

/*
 * log |A| = 2 sum_i log L_ii. Summing logarithms instead of taking the log
 * of a product of diagonals keeps the result finite for determinants that
 * would under- or overflow (theory.md 2.7, 8).
 */
double hm_la_chol_logdet(int n, const double *l) {
    double acc = 0.0;
    for (int i = 0; i < n; i++) {
        acc += log(l[(size_t)i * (size_t)n + (size_t)i]);
    }
    return 2.0 * acc;
}

/*
 * Solves A X = B with the factor from hm_la_chol: two triangular solves
 * (L Y = B, then L' X = Y) in dpotrs, never an explicit inverse (theory.md
 * 8, "never use explicit generic inverse for PD matrices").
 */
hm_status hm_la_chol_solve(int n, int nrhs, const double *l, double *b) {
    hm_status st = square_ok(n);
    if (st != HM_OK) {
        return st;
    }
    if (nrhs < 0) {
        return HM_EINVAL;
    }
    if (!fits_int(n, nrhs)) {
        return HM_EOVERFLOW;
    }
    if (n == 0 || nrhs == 0) {
        return HM_OK;
    }
    int info = 0;
    F77_CALL(dpotrs)("L", &n, &nrhs, l, &n, b, &n, &info FCONE); // LAPACK
    return info == 0 ? HM_OK : HM_EINVAL;
}

/*
 * Overwrites the factor L with A^-1 (dpotri works from the factor, so the
 * inverse costs n^3 / 3 flops beyond the factorisation and stays
 * symmetric to rounding). dpotri fills only the lower triangle; it is
 * mirrored into the upper one because callers read full matrices.
 */
void hm_la_chol_inv_factor(int n, const double *l, double *li, double *lt) {
    const size_t nn = (size_t)n;
    memset(li, 0, nn * nn * sizeof(double));
    for (int col = 0; col < n; col++) {
        for (int a = col; a < n; a++) {
            double v = a == col ? 1.0 : 0.0;
            for (int b = col; b < a; b++) {
                v -= l[(size_t)a + (size_t)b * nn] * li[(size_t)b + (size_t)col * nn];
            }
            li[(size_t)a + (size_t)col * nn] = v / l[(size_t)a + (size_t)a * nn];
        }
    }
    for (int a = 0; a < n; a++) {
        for (int b = 0; b < n; b++) {
            lt[(size_t)a + (size_t)b * nn] = li[(size_t)b + (size_t)a * nn];
        }
    }
}

hm_status hm_la_chol_inv(int n, double *l) {
    hm_status st = square_ok(n);
    if (st != HM_OK) {
        return st;
    }
    if (n == 0) {
        return HM_OK;
    }
    int info = 0;
    F77_CALL(dpotri)("L", &n, l, &n, &info FCONE); // LAPACK
    if (info > 0) {
        return HM_ENOTPD;
    }
    if (info < 0) {
        return HM_EINVAL;
    }
    for (int j = 1; j < n; j++) {
        for (int i = 0; i < j; i++) {
            l[(size_t)j * (size_t)n + (size_t)i] = l[(size_t)i * (size_t)n + (size_t)j];
        }
    }
    return HM_OK;
}

// --- products ----------------------------------------------------------------

/*
 * v <- L v with the lower triangle of l (dtrmv ignores the upper one).
 * Used to colour standard normal draws, x = mu + L eps (theory.md 2.7).
 * Sizes that LAPACK would reject are a caller bug; the call is skipped.
 */
void hm_la_trmv_lower(int n, const double *l, double *v) {
    if (n <= 0 || !fits_int(n, n)) {
        return;
    }
    const int inc = 1;
    F77_CALL(dtrmv)("L", "N", "N", &n, l, &n, v, &inc FCONE FCONE FCONE); // BLAS
}

// 1 for the transpose codes dgemm accepts and this wrapper supports.
static int trans_code(char t, int *is_t) {
    if (t == 'N' || t == 'n') {
        *is_t = 0;
        return 1;
    }
    if (t == 'T' || t == 't') {
        *is_t = 1;
        return 1;
    }
    return 0;
}

/*
 * C = alpha op(A) op(B) + beta C. op(A) is m x k, so A is stored m x k
 * (ta = 'N') or k x m (ta = 'T'); likewise B is k x n or n x k. Every
 * leading dimension must reach max(1, stored rows), and each stored
 * operand's element count must fit an int.
 */
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
                     int ldc) {
    int at, bt;
    if (!trans_code(ta, &at) || !trans_code(tb, &bt) || m < 0 || n < 0 || k < 0) {
        return HM_EINVAL;
    }
    const int arows = at ? k : m, acols = at ? m : k;
    const int brows = bt ? n : k, bcols = bt ? k : n;
    if (lda < ld_floor(arows) || ldb < ld_floor(brows) || ldc < ld_floor(m)) {
        return HM_EINVAL;
    }
    if (!fits_int(lda, acols) || !fits_int(ldb, bcols) || !fits_int(ldc, n)) {
        return HM_EOVERFLOW;
    }
    if (m == 0 || n == 0) {
        return HM_OK;
    }
    const char sa = at ? 'T' : 'N', sb = bt ? 'T' : 'N';
    F77_CALL(dgemm)(&sa, &sb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc
                    FCONE FCONE); // BLAS
    return HM_OK;
}

// --- eigen-decomposition -----------------------------------------------------

/*
 * Eigenvalues (ascending) and orthonormal eigenvectors of the symmetric a
 * via dsyev, reading the lower triangle. dsyev needs lwork >= max(1,
 * 3n - 1); a shorter workspace is refused with HM_ENOMEM rather than
 * passed on, since LAPACK would answer through xerbla. Non-finite input is
 * refused with HM_EDOM (the QR iteration would spin on NaN).
 */
hm_status hm_la_syev(int n, double *a, double *w, double *work, int lwork) {
    hm_status st = square_ok(n);
    if (st != HM_OK) {
        return st;
    }
    if (n == 0) {
        return HM_OK;
    }
    if (n > (INT_MAX - 1) / 3) {
        return HM_EOVERFLOW;
    }
    if (lwork < ld_floor(3 * n - 1)) {
        return HM_ENOMEM;
    }
    const size_t nn = (size_t)n * (size_t)n;
    for (size_t i = 0; i < nn; i++) {
        if (!isfinite(a[i])) {
            return HM_EDOM;
        }
    }
    int info = 0;
    F77_CALL(dsyev)("V", "L", &n, a, &n, w, work, &lwork, &info FCONE FCONE); // LAPACK
    if (info > 0) {
        return HM_EMAXITER;
    }
    return info == 0 ? HM_OK : HM_EINVAL;
}

// --- singular value decomposition --------------------------------------------

/*
 * a = U diag(s) V' for the square n x n a (LAPACK dgesvd, all vectors): s
 * descending, u and vt n x n column-major; a is destroyed. dgesvd needs
 * lwork >= max(1, 5n); shorter is refused with HM_ENOMEM, non-finite
 * input with HM_EDOM, and a failed bidiagonal QR gives HM_EMAXITER.
 */
hm_status hm_la_gesvd(int n, double *a, double *s, double *u, double *vt, double *work, int lwork) {
    hm_status st = square_ok(n);
    if (st != HM_OK) {
        return st;
    }
    if (n == 0) {
        return HM_OK;
    }
    if (n > (INT_MAX - 1) / 5) {
        return HM_EOVERFLOW;
    }
    if (lwork < ld_floor(5 * n)) {
        return HM_ENOMEM;
    }
    const size_t nn = (size_t)n * (size_t)n;
    for (size_t i = 0; i < nn; i++) {
        if (!isfinite(a[i])) {
            return HM_EDOM;
        }
    }
    int info = 0;
    F77_CALL(dgesvd)("A", "A", &n, &n, a, &n, s, u, &n, vt, &n, work, &lwork, &info FCONE FCONE); // LAPACK
    if (info > 0) {
        return HM_EMAXITER;
    }
    return info == 0 ? HM_OK : HM_EINVAL;
}
