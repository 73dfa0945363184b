/*
 * glue_chunk.c: .Call entry points of the chunked driver (R/chunked-fit.R).
 * A worker passes the block-aligned rows of its chunk (the rows from its
 * first block boundary on) and the global index of their first block; the
 * engine returns the nodes of its tree of sums (hm_tree), which the driver
 * folds with the driver's own nodes (the blocks that straddle chunks) by
 * hm_tree_fold: the same bits as one pass over all the rows. The M-step
 * from the folded statistics is hm_em_mstep, the one hm_em_iterate runs.
 */
#include "glue.h"

SEXP glue_tree_nodes(const hm_tree *t, int slen) {
    SEXP lo = PROTECT(Rf_allocVector(REALSXP, t->count));
    SEXP sz = PROTECT(Rf_allocVector(REALSXP, t->count));
    SEXP val = PROTECT(Rf_allocMatrix(REALSXP, slen, t->count));
    for (int k = 0; k < t->count; k++) {
        REAL(lo)[k] = t->lo[k];
        REAL(sz)[k] = t->size[k];
    }
    if (t->count > 0) {
        memcpy(REAL(val), t->val, (size_t)slen * (size_t)t->count * sizeof(double));
    }
    const char *nm[] = {"lo", "size", "val"};
    SEXP v[3] = {lo, sz, val};
    SEXP out = glue_list(3, nm, v);
    UNPROTECT(3);
    return out;
}

// The kinds whose rows reduce to moments (hm_lgm_moments).
static void require_lgm(const hm_harmonium *h, const char *fn) {
    if (h->kind != HM_HM_LGM && h->kind != HM_HM_LGM_DIAG && h->kind != HM_HM_BOLTZMANN_LGM &&
        h->kind != HM_HM_BOLTZMANN_LGM_MF) {
        internal_error(fn, "`kind` must be a linear-Gaussian kind");
    }
}

static double glue_block0(SEXP b0, const char *fn) {
    const double *v = glue_real(b0, 1, "b0", fn);
    if (!(v[0] >= 0.0 && v[0] < 4503599627370496.0 && v[0] == floor(v[0]))) {
        internal_error(fn, "`b0` must be a block index (a whole number >= 0)");
    }
    return v[0];
}

static SEXP nodes_status(SEXP nodes, hm_status st) {
    const char *nm[] = {"nodes", "status"};
    SEXP v[2] = {nodes, PROTECT(glue_status(st))};
    SEXP out = glue_list(2, nm, v);
    UNPROTECT(1);
    return out;
}

// The E-step's tree nodes over x (rows from global block b0) at each column
// of theta (dim x S: S starts evaluated in the same pass); a list of S
// results list(nodes, status), nodes NULL when the E-step failed.
SEXP ffi_model_estep_part(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP x, SEXP w, SEXP b0, SEXP threads) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    const int dim = hm_hm_dim(h), slen = hm_stats_len(h);
    if (TYPEOF(theta) != REALSXP || XLENGTH(theta) == 0 || XLENGTH(theta) % dim != 0) {
        internal_error(__func__, "`theta` must hold whole parameter vectors of length %d", dim);
    }
    const int S = (int)(XLENGTH(theta) / dim);
    const double *th = glue_real_finite(theta, (R_xlen_t)S * dim, "theta", __func__);
    int n = glue_obs_data(x, &m.obs.f, 0, glue_missing_ok(h), "x", __func__);
    const double *wt = glue_weights(w, n, __func__);
    const double g0 = glue_block0(b0, __func__);
    int nt = glue_threads(threads, __func__);
    double *work = glue_scratch(hm_estep_work_len(h, nt));
    double *lo = glue_scratch(HM_TREE_CAP), *sz = glue_scratch(HM_TREE_CAP);
    double *val = glue_scratch((size_t)HM_TREE_CAP * (size_t)slen);
    SEXP out = PROTECT(Rf_allocVector(VECSXP, S));
    for (int s = 0; s < S; s++) {
        hm_tree tree = {g0, HM_TREE_CAP, 0, lo, sz, val};
        hm_data data = {REAL(x), n, n, wt, &tree};
        hm_status st = hm_estep(h, th + (size_t)s * (size_t)dim, &data, NULL, NULL, NULL, NULL, nt, work);
        SEXP nodes = st == HM_OK ? PROTECT(glue_tree_nodes(&tree, slen)) : PROTECT(R_NilValue);
        SET_VECTOR_ELT(out, s, nodes_status(nodes, st));
        UNPROTECT(1);
    }
    UNPROTECT(1);
    return out;
}

// The linear-Gaussian kinds' packed moments (hm_lgm_moments_packed_len) as
// tree nodes over x from global block b0.
SEXP ffi_lgm_moments_part(SEXP kind, SEXP obs, SEXP lat, SEXP x, SEXP w, SEXP b0, SEXP threads) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    require_lgm(h, __func__);
    int n = glue_matrix(x, m.obs.f.d, "x", __func__);
    const double *wt = glue_weights(w, n, __func__);
    const double g0 = glue_block0(b0, __func__);
    int nt = glue_threads(threads, __func__);
    const int slen = hm_lgm_moments_packed_len(h);
    double *lo = glue_scratch(HM_TREE_CAP), *sz = glue_scratch(HM_TREE_CAP);
    double *val = glue_scratch((size_t)HM_TREE_CAP * (size_t)slen);
    double *mom = glue_scratch((size_t)hm_lgm_moments_len(h));
    double *work = glue_scratch(hm_lgm_moments_work_len(h, nt));
    hm_tree tree = {g0, HM_TREE_CAP, 0, lo, sz, val};
    hm_data data = {REAL(x), n, n, wt, &tree};
    hm_status st = hm_lgm_moments(h, &data, nt, mom, work);
    SEXP nodes = st == HM_OK ? PROTECT(glue_tree_nodes(&tree, slen)) : PROTECT(R_NilValue);
    SEXP out = nodes_status(nodes, st);
    UNPROTECT(1);
    return out;
}

// hm_lgm_moments' layout from the folded packed moments.
SEXP ffi_lgm_moments_unpack(SEXP kind, SEXP obs, SEXP lat, SEXP tot) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    require_lgm(h, __func__);
    const double *t = glue_real(tot, hm_lgm_moments_packed_len(h), "tot", __func__);
    SEXP mom = PROTECT(Rf_allocVector(REALSXP, hm_lgm_moments_len(h)));
    hm_lgm_moments_unpack(h, t, REAL(mom));
    UNPROTECT(1);
    return mom;
}

// Folds tree nodes (lo, size, val: slen x count, sorted by lo) that tile
// blocks [0, nb) into the total; NULL when they do not tile it.
SEXP ffi_tree_fold(SEXP lo, SEXP size, SEXP val, SEXP nb) {
    if (TYPEOF(val) != REALSXP || !Rf_isMatrix(val)) {
        internal_error(__func__, "`val` must be a double matrix");
    }
    const int slen = Rf_nrows(val), count = Rf_ncols(val);
    if (slen < 1 || count > INT_MAX / 2) {
        internal_error(__func__, "`val` must have at least one row");
    }
    const double *l = glue_real(lo, count, "lo", __func__);
    const double *s = glue_real(size, count, "size", __func__);
    const double *nbl = glue_real(nb, 1, "nb", __func__);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, slen));
    double *work = glue_scratch(HM_TREE_STACK_LEN(slen));
    hm_status st = hm_tree_fold(count, l, s, REAL_RO(val), slen, nbl[0], REAL(out), work);
    UNPROTECT(1);
    return st == HM_OK ? out : R_NilValue;
}

// The M-step from summed statistics (hm_em_mstep): theta, status, bad.
SEXP ffi_em_mstep(SEXP kind, SEXP obs, SEXP lat, SEXP stats, SEXP ctrl) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    const int dim = hm_hm_dim(h);
    const double *st_in = glue_real(stats, hm_stats_len(h), "stats", __func__);
    hm_ctrl ctl = glue_ctrl_from(ctrl, __func__);
    SEXP th = PROTECT(Rf_allocVector(REALSXP, dim));
    double *work = glue_scratch(hm_em_mstep_work_len(h));
    int bad = -1;
    hm_status st = hm_em_mstep(h, st_in, &ctl, REAL(th), &bad, work);
    const char *nm[] = {"theta", "status", "bad"};
    SEXP v[3] = {th, PROTECT(glue_status(st)), PROTECT(Rf_ScalarInteger(bad))};
    SEXP out = glue_list(3, nm, v);
    UNPROTECT(3);
    return out;
}

// Rows per block of the model's E-step (hm_estep_block_rows): the grid the
// chunked driver aligns chunks to.
SEXP ffi_model_block_rows(SEXP kind, SEXP obs, SEXP lat) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    return Rf_ScalarInteger(hm_estep_block_rows(&m.h));
}
