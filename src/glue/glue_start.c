/*
 * glue_start.c: the starts of the fit drivers (R/fit.R): k-means++ and
 * Lloyd on a feature matrix (engine/kmeans.c, drawing from R's RNG), and a
 * mixture's M-step from hard labels, whose one-hot (optionally smoothed)
 * posterior lives only in R-allocated scratch and goes through the
 * E-step's given-posterior path.
 */
#include "glue.h"

// f: n x p double matrix of finite features; k: centres; ctl = c(trials,
// maxit); returns 1-based labels, the k x p centres, the passes, status.
SEXP ffi_kmeans_run(SEXP f, SEXP k_, SEXP ctl, SEXP threads) {
    if (TYPEOF(f) != REALSXP || !Rf_isMatrix(f)) {
        internal_error(__func__, "`f` must be a double matrix");
    }
    const int p = Rf_ncols(f);
    const int n = glue_data(f, p, 1, 0, "f", __func__);
    if (p < 1) {
        internal_error(__func__, "`f` must have at least one column");
    }
    const int k = glue_int_in(k_, 1, n, "k", __func__);
    const double *c = glue_real_finite(ctl, 2, "ctl", __func__);
    if (c[0] < 1.0 || c[0] > 64.0 || c[1] < 0.0 || c[1] > 1e6) {
        internal_error(__func__, "`ctl` must be c(trials in 1 to 64, maxit in 0 to 1e6)");
    }
    const int nt = glue_threads(threads, __func__);
    glue_check_size((double)k * p, "k", __func__);
    int nprot = 0;
    SEXP lab = PROTECT(Rf_allocVector(INTSXP, n));
    nprot++;
    SEXP cen = PROTECT(Rf_allocMatrix(REALSXP, k, p));
    nprot++;
    double *crow = glue_scratch((size_t)k * (size_t)p);
    double *work = glue_scratch(hm_kmeans_work_len(n, p, k, (int)c[0], nt));
    int iter = 0;
    hm_rng rng = glue_rng();
    GetRNGstate();
    hm_status st = hm_kmeans(REAL(f), n, n, p, k, (int)c[0], (int)c[1], &rng, nt, INTEGER(lab), crow, &iter, work);
    PutRNGstate();
    int *lb = INTEGER(lab);
    for (int i = 0; i < n; i++) {
        lb[i] = st == HM_OK ? lb[i] + 1 : NA_INTEGER;
    }
    double *cm = REAL(cen);
    for (int a = 0; a < k; a++) {
        for (int j = 0; j < p; j++) {
            cm[(size_t)j * (size_t)k + (size_t)a] = crow[(size_t)a * (size_t)p + (size_t)j];
        }
    }
    const char *nm[] = {"labels", "centers", "iterations", "status"};
    SEXP v[4];
    v[0] = lab;
    v[1] = cen;
    v[2] = PROTECT(Rf_ScalarInteger(iter));
    nprot++;
    v[3] = PROTECT(glue_status(st));
    nprot++;
    SEXP out = glue_list(4, nm, v);
    UNPROTECT(nprot);
    return out;
}

// z: n x p double matrix of finite values; returns 1-based labels of Ward's
// clustering cut at k, and the status.
SEXP ffi_ward_labels(SEXP z, SEXP k_, SEXP threads) {
    if (TYPEOF(z) != REALSXP || !Rf_isMatrix(z)) {
        internal_error(__func__, "`z` must be a double matrix");
    }
    const int p = Rf_ncols(z);
    const int n = glue_data(z, p, 1, 0, "z", __func__);
    if (p < 1) {
        internal_error(__func__, "`z` must have at least one column");
    }
    const int k = glue_int_in(k_, 1, n, "k", __func__);
    const int nt = glue_threads(threads, __func__);
    glue_check_size((double)n * n + 6.0 * n, "z", __func__);
    SEXP lab = PROTECT(Rf_allocVector(INTSXP, n));
    double *work = glue_scratch(hm_ward_work_len(n));
    hm_status st = hm_ward_labels(REAL(z), n, n, p, k, nt, INTEGER(lab), work);
    int *lb = INTEGER(lab);
    for (int i = 0; i < n; i++) {
        lb[i] = st == HM_OK ? lb[i] + 1 : NA_INTEGER;
    }
    const char *nm[] = {"labels", "status"};
    SEXP v[2];
    v[0] = lab;
    v[1] = PROTECT(glue_status(st));
    SEXP out = glue_list(2, nm, v);
    UNPROTECT(2);
    return out;
}

// The M-step of a mixture (K classes) from 1-based hard labels, each row's
// posterior the one-hot vector of its label moved toward uniform by
// `smooth` in [0, 1]: (1 - smooth) e_label + smooth / K. Returns the
// natural parameters (internal coordinates) and the status of the E-step
// or of the mean -> natural map.
SEXP ffi_mixture_labels_theta(SEXP kind, SEXP obs, SEXP lat, SEXP x, SEXP w, SEXP labels, SEXP smooth,
                              SEXP ctrl, SEXP threads) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    const int K = hm_mix_classes(h), pl = hm_hm_post_len(h), dim = hm_hm_dim(h);
    if (h->kind != HM_HM_MIXTURE || K < 1 || pl != K) {
        internal_error(__func__, "`kind` must be a mixture of a family");
    }
    const int n = glue_obs_data(x, &m.obs.f, 0, glue_missing_ok(h), "x", __func__);
    const double *wt = glue_weights(w, n, __func__);
    if (TYPEOF(labels) != INTSXP || XLENGTH(labels) != n) {
        internal_error(__func__, "`labels` must be %d integers", n);
    }
    const int *lb = INTEGER(labels);
    for (int i = 0; i < n; i++) {
        if (lb[i] == NA_INTEGER || lb[i] < 1 || lb[i] > K) {
            internal_error(__func__, "`labels` must be in 1..%d", K);
        }
    }
    const double s = *glue_real_finite(smooth, 1, "smooth", __func__);
    if (s < 0.0 || s > 1.0) {
        internal_error(__func__, "`smooth` must be in [0, 1]");
    }
    hm_ctrl ctl = glue_ctrl_from(ctrl, __func__);
    const int nt = glue_threads(threads, __func__);
    glue_check_size((double)n * K, "x", __func__);
    double *given = glue_scratch((size_t)n * (size_t)K);
    const double lo = s / K, hi = 1.0 - s + s / K;
    for (int c = 0; c < K; c++) {
        double *gc = given + (size_t)c * (size_t)n;
        for (int i = 0; i < n; i++) {
            gc[i] = lb[i] == c + 1 ? hi : lo;
        }
    }
    double *stats = glue_scratch((size_t)hm_stats_len(h));
    double *theta0 = glue_scratch((size_t)dim);
    for (int i = 0; i < dim; i++) {
        theta0[i] = 0.0;
    }
    size_t wl = hm_estep_work_len(h, nt), ml = hm_hm_work_len(h);
    double *work = glue_scratch(wl > ml ? wl : ml);
    hm_data data = {REAL(x), n, n, wt};
    int nprot = 0;
    SEXP val = PROTECT(Rf_allocVector(REALSXP, dim));
    nprot++;
    hm_status st = hm_estep(h, theta0, &data, given, stats, NULL, NULL, nt, work);
    int bad = -1;
    if (st == HM_OK) {
        const double tw = stats[dim + 1];
        if (!(tw > 0.0)) {
            st = HM_ENOPROG;
        } else {
            for (int i = 0; i < dim; i++) {
                stats[i] /= tw;
            }
            st = hm_hm_to_natural(h, stats, REAL(val), work, &ctl, &bad);
        }
    }
    const char *nm[] = {"value", "bad", "status"};
    SEXP v[3];
    v[0] = val;
    v[1] = PROTECT(Rf_ScalarInteger(bad));
    nprot++;
    v[2] = PROTECT(glue_status(st));
    nprot++;
    SEXP out = glue_list(3, nm, v);
    UNPROTECT(nprot);
    return out;
}
