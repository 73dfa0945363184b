/*
 * glue_lds.c: .Call entry point for the linear dynamical system (engine lds.c):
 * Kalman filter, log-likelihood and RTS smoother for one sequence.
 */
#include "glue.h"

SEXP ffi_lds_smooth(SEXP y, SEXP mu1, SEXP p1, SEXP a, SEXP b, SEXP qcov, SEXP c, SEXP d, SEXP r) {
    if (TYPEOF(y) != REALSXP || !Rf_isMatrix(y)) {
        internal_error(__func__, "`y` must be a double matrix"); // # nocov
    }
    SEXP dm = Rf_getAttrib(y, R_DimSymbol);
    const int p = INTEGER(dm)[0], n = INTEGER(dm)[1];
    const int q = Rf_length(mu1);
    if (n < 1 || q < 1) {
        internal_error(__func__, "empty series or state"); // # nocov
    }
    const hm_lds_params m = {
        .p = p,
        .q = q,
        .mu1 = glue_real(mu1, q, "mu1", __func__),
        .p1 = glue_real(p1, (R_xlen_t)q * q, "p1", __func__),
        .a = glue_real(a, (R_xlen_t)q * q, "a", __func__),
        .b = glue_real(b, q, "b", __func__),
        .qcov = glue_real(qcov, (R_xlen_t)q * q, "qcov", __func__),
        .c = glue_real(c, (R_xlen_t)p * q, "c", __func__),
        .d = glue_real(d, p, "d", __func__),
        .r = glue_real(r, (R_xlen_t)p * p, "r", __func__),
    };
    const R_xlen_t qq = (R_xlen_t)q * q;
    SEXP xp = PROTECT(Rf_allocMatrix(REALSXP, q, n));
    SEXP pp = PROTECT(Rf_allocVector(REALSXP, qq * n));
    SEXP xf = PROTECT(Rf_allocMatrix(REALSXP, q, n));
    SEXP pf = PROTECT(Rf_allocVector(REALSXP, qq * n));
    SEXP xs = PROTECT(Rf_allocMatrix(REALSXP, q, n));
    SEXP ps = PROTECT(Rf_allocVector(REALSXP, qq * n));
    SEXP pc = PROTECT(Rf_allocVector(REALSXP, qq * (n > 1 ? n - 1 : 0)));
    SEXP ll = PROTECT(Rf_allocVector(REALSXP, 1));
    double *work = (double *)R_alloc(hm_lds_work_size(p, q), sizeof(double));
    hm_status st = hm_lds_filter(&m, (size_t)n, REAL(y), REAL(xp), REAL(pp), REAL(xf), REAL(pf), REAL(ll), work);
    if (st == HM_OK) {
        st = hm_lds_smooth(&m, (size_t)n, REAL(xp), REAL(pp), REAL(xf), REAL(pf), REAL(xs), REAL(ps),
                           n > 1 ? REAL(pc) : NULL, work);
    }
    if (st != HM_OK) {
        Rf_error("lds: %s", hm_status_string(st));
    }
    const char *nm[] = {"loglik", "pred_mean", "pred_cov", "filt_mean", "filt_cov", "smooth_mean", "smooth_cov",
                        "cross_cov"};
    SEXP v[8] = {ll, xp, pp, xf, pf, xs, ps, pc};
    SEXP out = glue_list(8, nm, v);
    UNPROTECT(8);
    return out;
}
