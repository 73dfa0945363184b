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
// part: NULL for a pass over all the data, or c(b0, block_rows, shift (d))
// for a block-aligned part of larger data (hm_col_scan_opts); the result then
// also holds the moment sums' tree nodes (lo, size, val: 2 d x count).
static SEXP data_scan(SEXP x, SEXP spec, SEXP sup, SEXP want_raw, SEXP threads, SEXP part, const char *fn);

SEXP ffi_data_scan(SEXP x, SEXP spec, SEXP sup, SEXP want_raw, SEXP threads) {
    return data_scan(x, spec, sup, want_raw, threads, R_NilValue, __func__);
}

SEXP ffi_data_scan_part(SEXP x, SEXP spec, SEXP sup, SEXP threads, SEXP part) {
    if (TYPEOF(part) != REALSXP || XLENGTH(part) < 2) {
        internal_error(__func__, "`part` must be c(b0, block_rows, shift)");
    }
    SEXP no = PROTECT(Rf_ScalarLogical(0));
    SEXP out = data_scan(x, spec, sup, no, threads, part, __func__);
    UNPROTECT(1);
    return out;
}

static SEXP data_scan(SEXP x, SEXP spec, SEXP sup, SEXP want_raw, SEXP threads, SEXP part, const char *fn) {
    const int nt = glue_threads(threads, fn);
    if (TYPEOF(want_raw) != LGLSXP || XLENGTH(want_raw) != 1 || LOGICAL(want_raw)[0] == NA_LOGICAL) {
        internal_error(fn, "`want_raw` must be TRUE or FALSE");
    }
    int n = 0, ncol = 0;
    if (TYPEOF(x) == VECSXP) {
        ncol = (int)XLENGTH(x);
        n = ncol > 0 ? (int)Rf_xlength(VECTOR_ELT(x, 0)) : 0;
        if (ncol > 0 && Rf_xlength(VECTOR_ELT(x, 0)) > INT_MAX) {
            internal_error(fn, "`x` has more than %d rows", INT_MAX);
        }
    } else if ((TYPEOF(x) == REALSXP || TYPEOF(x) == INTSXP || TYPEOF(x) == LGLSXP) && Rf_isMatrix(x)) {
        SEXP dm = Rf_getAttrib(x, R_DimSymbol);
        n = INTEGER(dm)[0];
        ncol = INTEGER(dm)[1];
    } else {
        internal_error(fn, "`x` must be a double, integer or logical matrix or a list of columns");
    }
    if (TYPEOF(spec) != REALSXP || !Rf_isMatrix(spec) || Rf_ncols(spec) != 4) {
        internal_error(fn, "`spec` must be a double matrix with 4 columns");
    }
    if (TYPEOF(sup) != REALSXP || !Rf_isMatrix(sup) || Rf_ncols(sup) != 6) {
        internal_error(fn, "`sup` must be a double matrix with 6 columns");
    }
    const int d = Rf_nrows(spec);
    const int ng = Rf_nrows(sup);
    const double *sp = REAL_RO(spec);
    const double *su = REAL_RO(sup);
    hm_col_src *src = (hm_col_src *)R_alloc((size_t)(d > 0 ? d : 1), sizeof(hm_col_src));
    for (int j = 0; j < d; j++) {
        const double col = sp[j], off = sp[d + j], grp = sp[2 * (size_t)d + j], mom = sp[3 * (size_t)d + j];
        if (!(col >= 1 && col <= ncol && col == (int)col)) {
            internal_error(fn, "`spec` names column %g of %d", col, ncol);
        }
        if (!R_FINITE(off) || !(grp >= 0 && grp <= ng && grp == (int)grp) || !(mom == 0 || mom == 1)) {
            internal_error(fn, "`spec` row %d is malformed", j + 1);
        }
        column_source(x, (int)col - 1, n, &src[j], fn);
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
            internal_error(fn, "`sup` row %d has a missing bound", g + 1);
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
    SEXP shv = PROTECT(Rf_allocVector(REALSXP, d));
    nprot++;
    res.shift = REAL(shv);
    hm_col_scan_opts opt;
    hm_tree tree = {0.0, HM_TREE_CAP, 0, NULL, NULL, NULL};
    SEXP tlo = R_NilValue, tsz = R_NilValue, tval = R_NilValue;
    if (!Rf_isNull(part)) {
        const double *pp = REAL_RO(part);
        if (XLENGTH(part) != 2 + (R_xlen_t)d || !(pp[0] >= 0.0 && pp[0] < 4503599627370496.0 && pp[0] == floor(pp[0])) ||
            !(pp[1] >= hm_col_block_rows(n, d) && pp[1] <= INT_MAX && pp[1] == floor(pp[1]))) {
            internal_error(fn, "`part` must be c(b0 >= 0, block_rows >= %d, %d shifts)", hm_col_block_rows(n, d),
                           d);
        }
        for (int j = 0; j < d; j++) {
            if (!R_FINITE(pp[2 + j])) {
                internal_error(fn, "`part` has a non-finite shift");
            }
        }
        tlo = PROTECT(Rf_allocVector(REALSXP, HM_TREE_CAP));
        tsz = PROTECT(Rf_allocVector(REALSXP, HM_TREE_CAP));
        tval = PROTECT(Rf_allocMatrix(REALSXP, 2 * (d > 0 ? d : 1), HM_TREE_CAP));
        nprot += 3;
        tree.lo = REAL(tlo);
        tree.size = REAL(tsz);
        tree.val = REAL(tval);
        opt.b0 = pp[0];
        opt.block_rows = (int)pp[1];
        opt.shift = pp + 2;
        opt.tree = &tree;
    }
    hm_status st = hm_col_scan(n, d, src, ng, sp_g, raw_on ? REAL(raw) : NULL, &res, work, nt,
                               Rf_isNull(part) ? NULL : &opt);
    if (st != HM_OK) {
        internal_error(fn, "the data pass failed (%s)", hm_status_string(st));
    }
    const int nfirst = res.n_bad < HM_COL_FIRST ? (int)res.n_bad : HM_COL_FIRST;
    SEXP bad = PROTECT(Rf_allocVector(INTSXP, nfirst));
    nprot++;
    for (int i = 0; i < nfirst; i++) {
        INTEGER(bad)[i] = (int)res.bad_rows[i];
    }
    SEXP nbad = PROTECT(Rf_ScalarReal(res.n_bad));
    nprot++;
    if (!Rf_isNull(part)) {
        SEXP nodes = PROTECT(glue_tree_nodes(&tree, 2 * d));
        nprot++;
        const char *nm[] = {"n_bad", "bad_rows", "group", "nodes"};
        SEXP v[4] = {nbad, bad, grp, nodes};
        SEXP out = glue_list(4, nm, v);
        UNPROTECT(nprot);
        return out;
    }
    const char *nm[] = {"n_bad", "bad_rows", "group", "mean", "rms", "sumsq", "raw", "shift"};
    SEXP v[8] = {nbad, bad, grp, mean, rms, sq, raw, shv};
    SEXP out = glue_list(8, nm, v);
    UNPROTECT(nprot);
    return out;
}

// The whole data's means, rms and sums of squares from folded moment sums
// (hm_col_scan_finish): sums 2 d, shift d, moments d (0/1), n.
SEXP ffi_data_scan_finish(SEXP sums, SEXP shift, SEXP moments, SEXP n) {
    if (TYPEOF(shift) != REALSXP) {
        internal_error(__func__, "`shift` must be a double vector");
    }
    const R_xlen_t d = XLENGTH(shift);
    const double *sh = glue_real(shift, d, "shift", __func__);
    const double *su = glue_real(sums, 2 * d, "sums", __func__);
    const double *mo = glue_real(moments, d, "moments", __func__);
    const double *nn = glue_real(n, 1, "n", __func__);
    if (!(nn[0] >= 0.0)) {
        internal_error(__func__, "`n` must be a count");
    }
    int *mf = (int *)R_alloc((size_t)(d > 0 ? d : 1), sizeof(int));
    for (R_xlen_t j = 0; j < d; j++) {
        mf[j] = mo[j] != 0.0;
    }
    SEXP mean = PROTECT(Rf_allocVector(REALSXP, d));
    SEXP rms = PROTECT(Rf_allocVector(REALSXP, d));
    SEXP sq = PROTECT(Rf_allocVector(REALSXP, d));
    hm_col_scan_finish((int)d, mf, su, sh, nn[0], REAL(mean), REAL(rms), REAL(sq));
    const char *nm[] = {"mean", "rms", "sumsq"};
    SEXP v[3] = {mean, rms, sq};
    SEXP out = glue_list(3, nm, v);
    UNPROTECT(3);
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

// Rows per block of the data pass over n rows of d columns
// (hm_col_block_rows): the chunked driver's grid for the moments.
SEXP ffi_col_block_rows(SEXP n, SEXP d) {
    const double *nn = glue_real(n, 1, "n", __func__);
    const int dd = glue_int_in(d, 0, INT_MAX, "d", __func__);
    if (!(nn[0] >= 0.0 && nn[0] <= INT_MAX)) {
        internal_error(__func__, "`n` must be a row count below 2^31");
    }
    return Rf_ScalarReal((double)hm_col_block_rows((int)nn[0], dd));
}
