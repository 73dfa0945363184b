/*
 * glue_data.c: .Call entry points for the data path (column standardisation
 * in one pass, columns.c).
 */
#include "glue.h"

static int data_matrix(SEXP x, int *n, const char *fn) {
    if (TYPEOF(x) != REALSXP || !Rf_isMatrix(x)) {
        internal_error(fn, "`x` must be a double matrix");
    }
    SEXP dm = Rf_getAttrib(x, R_DimSymbol);
    *n = INTEGER(dm)[0];
    return INTEGER(dm)[1];
}

SEXP ffi_col_moments(SEXP x) {
    int n;
    const int d = data_matrix(x, &n, __func__);
    if (n < 1) {
        internal_error(__func__, "`x` has no rows to summarise");
    }
    SEXP mean = PROTECT(Rf_allocVector(REALSXP, d));
    SEXP rms = PROTECT(Rf_allocVector(REALSXP, d));
    if (hm_col_moments(n, d, REAL(x), REAL(mean), REAL(rms)) != HM_OK) {
        internal_error(__func__, "`x` could not be summarised");
    }
    const char *nm[] = {"mean", "rms"};
    SEXP v[2] = {mean, rms};
    SEXP out = glue_list(2, nm, v);
    UNPROTECT(2);
    return out;
}

SEXP ffi_col_scale(SEXP x, SEXP center, SEXP scale) {
    int n;
    const int d = data_matrix(x, &n, __func__);
    const double *c = glue_real_finite(center, d, "center", __func__);
    const double *s = glue_real_finite(scale, d, "scale", __func__);
    for (int j = 0; j < d; j++) {
        if (!(s[j] > 0.0)) {
            internal_error(__func__, "`scale` has a non-positive value at position %d", j + 1);
        }
    }
    SEXP out = PROTECT(Rf_allocMatrix(REALSXP, n, d));
    if (hm_col_scale(n, d, REAL(x), c, s, REAL(out)) != HM_OK) {
        internal_error(__func__, "`x` could not be scaled");
    }
    Rf_setAttrib(out, R_DimNamesSymbol, Rf_getAttrib(x, R_DimNamesSymbol));
    UNPROTECT(1);
    return out;
}
