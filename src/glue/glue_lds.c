/*
 * glue_lds.c: .Call entry point for the linear dynamical system (engine
 * lds.c): filter, smoother, log-likelihood per sequence and the EM
 * statistics over stacked sequences. User-reachable failures (a covariance
 * that is not positive definite) come back as a status for R to raise as a
 * classed condition; only malformed arguments (bugs in our R code) error here.
 */
#include "glue.h"

// par = list(mu1, p1, a, b, qcov, c, d, r); want = integer flags for
// (stats, predicted, filtered, smoothed, cross covariances).
SEXP ffi_lds_estep(SEXP y, SEXP len, SEXP w, SEXP par, SEXP threads, SEXP want) {
    if (TYPEOF(y) != REALSXP || !Rf_isMatrix(y)) {
        internal_error(__func__, "`y` must be a double matrix");
    }
    if (TYPEOF(len) != INTSXP || XLENGTH(len) < 1 || XLENGTH(len) > INT_MAX) {
        internal_error(__func__, "`len` must be a non-empty integer vector");
    }
    if (TYPEOF(par) != VECSXP || XLENGTH(par) != 8) {
        internal_error(__func__, "`par` must be a list of 8 parameters");
    }
    glue_check_finite(REAL(y), XLENGTH(y), 1, "y", __func__);
    const int p = Rf_nrows(y);
    const R_xlen_t nobs = Rf_ncols(y);
    const int n_seq = (int)XLENGTH(len);
    const int *lv = INTEGER(len);
    R_xlen_t tot = 0;
    int t_max = 0;
    for (int i = 0; i < n_seq; i++) {
        if (lv[i] < 1) {
            internal_error(__func__, "`len` must hold positive sequence lengths");
        }
        tot += lv[i];
        t_max = lv[i] > t_max ? lv[i] : t_max;
    }
    if (tot != nobs) {
        internal_error(__func__, "`len` does not add up to the %lld columns of `y`", (long long)nobs);
    }
    if (TYPEOF(VECTOR_ELT(par, 0)) != REALSXP) {
        internal_error(__func__, "`par` must hold double vectors (mu1 first)");
    }
    const R_xlen_t q_len = XLENGTH(VECTOR_ELT(par, 0));
    if (p < 1 || q_len < 1 || q_len > 46340) {
        internal_error(__func__, "`y` must have rows and `par` a state of 1 to 46340 dimensions");
    }
    const int q = (int)q_len;
    const R_xlen_t qq = (R_xlen_t)q * q;
    const hm_lds_params m = {
        .p = p,
        .q = q,
        .mu1 = glue_real_finite(VECTOR_ELT(par, 0), q, "par$mu1", __func__),
        .p1 = glue_real_finite(VECTOR_ELT(par, 1), qq, "par$p1", __func__),
        .a = glue_real_finite(VECTOR_ELT(par, 2), qq, "par$a", __func__),
        .b = glue_real_finite(VECTOR_ELT(par, 3), q, "par$b", __func__),
        .qcov = glue_real_finite(VECTOR_ELT(par, 4), qq, "par$qcov", __func__),
        .c = glue_real_finite(VECTOR_ELT(par, 5), (R_xlen_t)p * q, "par$c", __func__),
        .d = glue_real_finite(VECTOR_ELT(par, 6), p, "par$d", __func__),
        .r = glue_real_finite(VECTOR_ELT(par, 7), (R_xlen_t)p * p, "par$r", __func__),
    };
    const double *wt = glue_weights(w, n_seq, __func__);
    const int nt = glue_threads(threads, __func__);
    const int *wf = glue_flags(want, INTSXP, 5, "want", __func__);
    glue_check_size((double)qq * (double)nobs, "y", __func__);

    int nprot = 0;
    SEXP ll = PROTECT(Rf_allocVector(REALSXP, n_seq));
    nprot++;
    SEXP st = PROTECT(wf[0] ? Rf_allocVector(REALSXP, (R_xlen_t)hm_lds_stats_len(p, q)) : R_NilValue);
    nprot++;
    SEXP mom[7];
    hm_lds_moments out;
    double **slot[7] = {&out.xp, &out.pp, &out.xf, &out.pf, &out.xs, &out.ps, &out.pc};
    for (int k = 0; k < 7; k++) {
        const int flag = k < 6 ? wf[1 + k / 2] : wf[4];
        const int is_mean = k < 6 && k % 2 == 0;
        if (flag) {
            mom[k] = PROTECT(is_mean ? Rf_allocMatrix(REALSXP, q, (int)nobs) : Rf_allocVector(REALSXP, qq * nobs));
        } else {
            mom[k] = PROTECT(R_NilValue);
        }
        nprot++;
        *slot[k] = flag ? REAL(mom[k]) : NULL;
    }
    double *work = glue_scratch(hm_lds_estep_work_size(p, q, (size_t)t_max, nt < 1 ? 1 : nt));
    int bad = -1;
    hm_status s = hm_lds_estep(&m, n_seq, lv, REAL(y), wt, nt, REAL(ll), wf[0] ? REAL(st) : NULL, &out, &bad, work);
    const char *nm[] = {"status", "bad", "loglik", "stats", "pred_mean", "pred_cov", "filt_mean", "filt_cov",
                        "smooth_mean", "smooth_cov", "cross_cov"};
    SEXP v[11];
    v[0] = PROTECT(glue_status(s));
    nprot++;
    v[1] = PROTECT(Rf_ScalarInteger(bad));
    nprot++;
    v[2] = ll;
    v[3] = st;
    for (int k = 0; k < 7; k++) {
        v[4 + k] = mom[k];
    }
    SEXP res = glue_list(11, nm, v);
    UNPROTECT(nprot);
    return res;
}
