/*
 * glue_hmm.c: .Call entry point for hidden Markov chain inference (hmm.c).
 * R (R/model-hmm.R) validates the inputs; this returns list(loglik, filtered,
 * smoothed, pair, path, logjoint, status, message).
 */
#include <string.h>
#include "glue.h"

SEXP ffi_hmm_infer(SEXP logp, SEXP init, SEXP trans) {
    if (!Rf_isMatrix(logp)) {
        internal_error(__func__, "logp must be a matrix");
    }
    int S = Rf_ncols(logp);
    int T = glue_matrix(logp, S, "logp", __func__);
    const double *pi = glue_real(init, S, "init", __func__);
    const double *a = glue_real(trans, (R_xlen_t)S * S, "trans", __func__); /* row-major: R passes t(A) */
    SEXP filt = PROTECT(Rf_allocMatrix(REALSXP, T, S));
    SEXP smooth = PROTECT(Rf_allocMatrix(REALSXP, T, S));
    SEXP pair = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)S * S));
    SEXP path = PROTECT(Rf_allocVector(INTSXP, T));
    memset(REAL(pair), 0, sizeof(double) * (size_t)S * (size_t)S);
    double *work = glue_scratch(hm_hmm_work_len(S, T));
    int *bp = (int *)R_alloc((size_t)S * (size_t)T, sizeof(int));
    double ll = NA_REAL, lj = NA_REAL;
    hm_status st = hm_hmm_forward_backward(S, T, REAL(logp), pi, a, &ll, REAL(filt), REAL(smooth), REAL(pair), work);
    if (st == HM_OK) {
        double *vw = glue_scratch(hm_hmm_viterbi_work_len(S, T));
        st = hm_hmm_viterbi(S, T, REAL(logp), pi, a, INTEGER(path), &lj, vw, bp);
    }
    SEXP v[6];
    v[0] = PROTECT(Rf_ScalarReal(ll));
    v[1] = filt;
    v[2] = smooth;
    v[3] = pair;
    v[4] = path;
    v[5] = PROTECT(Rf_ScalarReal(lj));
    SEXP stat = PROTECT(glue_status(st));
    const char *nm[] = {"loglik", "filtered", "smoothed", "pair", "path", "logjoint", "status"};
    SEXP vv[7] = {v[0], v[1], v[2], v[3], v[4], v[5], stat};
    SEXP out = glue_list(7, nm, vv);
    UNPROTECT(7);
    return out;
}
