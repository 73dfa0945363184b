/*
 * glue_data.c: .Call entry points for the data path (columns.c): the scan
 * of the user's columns (missing values, support, conversion, moments) and
 * the standardisation pass.
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

// --- the data pass -----------------------------------------------------------

// Column `col` (0-based) of x, a double/integer/logical matrix with n rows
// or a list of such vectors of length n, as an engine column source.
static void column_source(SEXP x, int col, int n, hm_col_src *c, const char *fn) {
    c->dbl = NULL;
    c->itg = NULL;
    SEXP v = x;
    size_t off = (size_t)col * (size_t)n;
    if (TYPEOF(x) == VECSXP) {
        v = VECTOR_ELT(x, col);
        off = 0;
        if (Rf_xlength(v) != n) {
            internal_error(fn, "column %d of `x` has length %lld, expected %d", col + 1, (long long)Rf_xlength(v), n);
        }
    }
    switch (TYPEOF(v)) {
    case REALSXP:
        c->dbl = REAL_RO(v) + off;
        break;
    case INTSXP:
        c->itg = INTEGER_RO(v) + off;
        break;
    case LGLSXP:
        c->itg = LOGICAL_RO(v) + off;
        break;
    default:
        internal_error(fn, "column %d of `x` is %s, not double, integer or logical", col + 1,
                       Rf_type2char(TYPEOF(v)));
    }
}

// spec: d x 4 double matrix [source column (1-based), offset, group (0 = none,
// 1..G), moments (0/1)]; sup: G x 6 double matrix [whole, lo, hi, lo_open,
// hi_open, radians].
SEXP ffi_data_scan(SEXP x, SEXP spec, SEXP sup, SEXP want_raw, SEXP threads) {
    const int nt = glue_threads(threads, __func__);
    if (TYPEOF(want_raw) != LGLSXP || XLENGTH(want_raw) != 1 || LOGICAL(want_raw)[0] == NA_LOGICAL) {
        internal_error(__func__, "`want_raw` must be TRUE or FALSE");
    }
    int n = 0, ncol = 0;
    if (TYPEOF(x) == VECSXP) {
        ncol = (int)XLENGTH(x);
        n = ncol > 0 ? (int)Rf_xlength(VECTOR_ELT(x, 0)) : 0;
        if (ncol > 0 && Rf_xlength(VECTOR_ELT(x, 0)) > INT_MAX) {
            internal_error(__func__, "`x` has more than %d rows", INT_MAX);
        }
    } else if ((TYPEOF(x) == REALSXP || TYPEOF(x) == INTSXP || TYPEOF(x) == LGLSXP) && Rf_isMatrix(x)) {
        SEXP dm = Rf_getAttrib(x, R_DimSymbol);
        n = INTEGER(dm)[0];
        ncol = INTEGER(dm)[1];
    } else {
        internal_error(__func__, "`x` must be a double, integer or logical matrix or a list of columns");
    }
    if (TYPEOF(spec) != REALSXP || !Rf_isMatrix(spec) || Rf_ncols(spec) != 4) {
        internal_error(__func__, "`spec` must be a double matrix with 4 columns");
    }
    if (TYPEOF(sup) != REALSXP || !Rf_isMatrix(sup) || Rf_ncols(sup) != 6) {
        internal_error(__func__, "`sup` must be a double matrix with 6 columns");
    }
    const int d = Rf_nrows(spec);
    const int ng = Rf_nrows(sup);
    const double *sp = REAL_RO(spec);
    const double *su = REAL_RO(sup);
    hm_col_src *src = (hm_col_src *)R_alloc((size_t)(d > 0 ? d : 1), sizeof(hm_col_src));
    for (int j = 0; j < d; j++) {
        const double col = sp[j], off = sp[d + j], grp = sp[2 * (size_t)d + j], mom = sp[3 * (size_t)d + j];
        if (!(col >= 1 && col <= ncol && col == (int)col)) {
            internal_error(__func__, "`spec` names column %g of %d", col, ncol);
        }
        if (!R_FINITE(off) || !(grp >= 0 && grp <= ng && grp == (int)grp) || !(mom == 0 || mom == 1)) {
            internal_error(__func__, "`spec` row %d is malformed", j + 1);
        }
        column_source(x, (int)col - 1, n, &src[j], __func__);
        src[j].offset = off;
        src[j].group = (int)grp - 1;
        src[j].moments = (int)mom;
    }
    hm_col_support *sp_g = (hm_col_support *)R_alloc((size_t)(ng > 0 ? ng : 1), sizeof(hm_col_support));
    for (int g = 0; g < ng; g++) {
        hm_col_support *s = &sp_g[g];
        s->whole = su[g] != 0;
        s->lo = su[ng + g];
        s->hi = su[2 * (size_t)ng + g];
        s->lo_open = su[3 * (size_t)ng + g] != 0;
        s->hi_open = su[4 * (size_t)ng + g] != 0;
        s->radians = su[5 * (size_t)ng + g] != 0;
        if (ISNAN(s->lo) || ISNAN(s->hi)) {
            internal_error(__func__, "`sup` row %d has a missing bound", g + 1);
        }
    }
    const int raw_on = LOGICAL(want_raw)[0];
    int nprot = 0;
    SEXP raw = raw_on ? PROTECT(Rf_allocMatrix(REALSXP, n, d)) : R_NilValue;
    nprot += raw_on;
    SEXP grp = PROTECT(Rf_allocMatrix(REALSXP, 3 + HM_COL_FIRST, ng));
    nprot++;
    SEXP mean = PROTECT(Rf_allocVector(REALSXP, d));
    nprot++;
    SEXP rms = PROTECT(Rf_allocVector(REALSXP, d));
    nprot++;
    SEXP sq = PROTECT(Rf_allocVector(REALSXP, d));
    nprot++;
    const size_t wl = hm_col_scan_work_len(n, d, ng);
    double *work = (double *)R_alloc(wl, sizeof(double));
    hm_col_scan_result res;
    res.group = REAL(grp);
    res.mean = REAL(mean);
    res.rms = REAL(rms);
    res.sumsq = REAL(sq);
    hm_status st = hm_col_scan(n, d, src, ng, sp_g, raw_on ? REAL(raw) : NULL, &res, work, nt);
    if (st != HM_OK) {
        internal_error(__func__, "the data pass failed (%s)", hm_status_string(st));
    }
    const int nfirst = res.n_bad < HM_COL_FIRST ? (int)res.n_bad : HM_COL_FIRST;
    SEXP bad = PROTECT(Rf_allocVector(INTSXP, nfirst));
    nprot++;
    for (int i = 0; i < nfirst; i++) {
        INTEGER(bad)[i] = (int)res.bad_rows[i];
    }
    SEXP nbad = PROTECT(Rf_ScalarReal(res.n_bad));
    nprot++;
    const char *nm[] = {"n_bad", "bad_rows", "group", "mean", "rms", "sumsq", "raw"};
    SEXP v[7] = {nbad, bad, grp, mean, rms, sq, raw};
    SEXP out = glue_list(7, nm, v);
    UNPROTECT(nprot);
    return out;
}

SEXP ffi_data_scale(SEXP x, SEXP center, SEXP scale, SEXP threads) {
    const int nt = glue_threads(threads, __func__);
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
    SEXP sq = PROTECT(Rf_allocVector(REALSXP, d));
    double *work = (double *)R_alloc(hm_col_scale_work_len(n, d), sizeof(double));
    if (hm_col_scale_pass(n, d, REAL_RO(x), c, s, REAL(out), REAL(sq), work, nt) != HM_OK) {
        internal_error(__func__, "`x` could not be scaled");
    }
    Rf_setAttrib(out, R_DimNamesSymbol, Rf_getAttrib(x, R_DimNamesSymbol));
    const char *nm[] = {"x", "sumsq"};
    SEXP v[2] = {out, sq};
    SEXP res = glue_list(2, nm, v);
    UNPROTECT(2);
    return res;
}
