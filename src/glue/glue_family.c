/*
 * glue_family.c: .Call entry points for single exponential families.
 * Each fallible entry point returns list(value = , status = ); R maps a
 * non-zero status to a classed condition (R/conditions.R).
 */
#include "glue.h"

static SEXP value_status(SEXP value, hm_status st) {
    const char *nm[] = {"value", "status"};
    SEXP v[2];
    v[0] = value;
    v[1] = PROTECT(glue_status(st));
    SEXP out = glue_list(2, nm, v);
    UNPROTECT(1);
    return out;
}

SEXP ffi_family_info(SEXP spec) {
    glue_family g;
    glue_family_from(spec, &g, "spec", __func__);
    SEXP out = PROTECT(Rf_allocVector(INTSXP, 3));
    INTEGER(out)[0] = g.f.d;
    INTEGER(out)[1] = g.f.dim;
    INTEGER(out)[2] = hm_fam_closed_natural(&g.f);
    UNPROTECT(1);
    return out;
}

// Copies row i of a column-major n x d matrix into x[d].
static void get_row(const double *m, int n, int d, int i, double *x) {
    for (int j = 0; j < d; j++) {
        x[j] = m[(size_t)j * (size_t)n + (size_t)i];
    }
}

SEXP ffi_family_stat(SEXP spec, SEXP x) {
    glue_family g;
    glue_family_from(spec, &g, "spec", __func__);
    const hm_family *f = &g.f;
    int n = glue_obs_data(x, f, 0, 0, "x", __func__);
    glue_check_size((double)n * f->dim, "x", __func__);
    SEXP out = PROTECT(Rf_allocMatrix(REALSXP, n, f->dim));
    double *xi = glue_scratch((size_t)f->d), *s = glue_scratch((size_t)f->dim);
    for (int i = 0; i < n; i++) {
        get_row(REAL(x), n, f->d, i, xi);
        hm_fam_stat(f, xi, s);
        for (int j = 0; j < f->dim; j++) {
            REAL(out)[(size_t)j * (size_t)n + (size_t)i] = s[j];
        }
    }
    UNPROTECT(1);
    return out;
}

SEXP ffi_family_log_base(SEXP spec, SEXP x) {
    glue_family g;
    glue_family_from(spec, &g, "spec", __func__);
    const hm_family *f = &g.f;
    int n = glue_obs_data(x, f, 0, 0, "x", __func__);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, n));
    double *xi = glue_scratch((size_t)f->d);
    for (int i = 0; i < n; i++) {
        get_row(REAL(x), n, f->d, i, xi);
        REAL(out)[i] = hm_fam_log_base(f, xi);
    }
    UNPROTECT(1);
    return out;
}

// log p(x) = theta . s(x) + log mu(x) - psi(theta), per row.
SEXP ffi_family_log_density(SEXP spec, SEXP theta, SEXP x) {
    glue_family g;
    glue_family_from(spec, &g, "spec", __func__);
    const hm_family *f = &g.f;
    const double *th = glue_real_finite(theta, f->dim, "theta", __func__);
    int n = glue_obs_data(x, f, 0, 0, "x", __func__);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, n));
    double *xi = glue_scratch((size_t)f->d), *s = glue_scratch((size_t)f->dim);
    double *w = glue_scratch(hm_fam_work_len(f));
    double psi = 0.0;
    hm_status st = hm_fam_check_natural(f, th);
    if (st == HM_OK) {
        st = hm_fam_log_partition(f, th, &psi, w);
    }
    for (int i = 0; i < n && st == HM_OK; i++) {
        get_row(REAL(x), n, f->d, i, xi);
        hm_fam_stat(f, xi, s);
        double a = hm_fam_log_base(f, xi) - psi;
        for (int j = 0; j < f->dim; j++) {
            a += th[j] * s[j];
        }
        REAL(out)[i] = a;
    }
    SEXP res = value_status(out, st);
    UNPROTECT(1);
    return res;
}

SEXP ffi_family_log_partition(SEXP spec, SEXP theta) {
    glue_family g;
    glue_family_from(spec, &g, "spec", __func__);
    const double *th = glue_real_finite(theta, g.f.dim, "theta", __func__);
    double psi = NA_REAL;
    double *w = glue_scratch(hm_fam_work_len(&g.f));
    hm_status st = hm_fam_check_natural(&g.f, th);
    if (st == HM_OK) {
        st = hm_fam_log_partition(&g.f, th, &psi, w);
    }
    SEXP v = PROTECT(Rf_ScalarReal(psi));
    SEXP res = value_status(v, st);
    UNPROTECT(1);
    return res;
}

SEXP ffi_family_to_mean(SEXP spec, SEXP theta) {
    glue_family g;
    glue_family_from(spec, &g, "spec", __func__);
    const double *th = glue_real_finite(theta, g.f.dim, "theta", __func__);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, g.f.dim));
    double *w = glue_scratch(hm_fam_work_len(&g.f));
    hm_status st = hm_fam_check_natural(&g.f, th);
    if (st == HM_OK) {
        st = hm_fam_to_mean(&g.f, th, REAL(out), w);
    }
    SEXP res = value_status(out, st);
    UNPROTECT(1);
    return res;
}

SEXP ffi_family_to_natural(SEXP spec, SEXP eta, SEXP ctrl) {
    glue_family g;
    glue_family_from(spec, &g, "spec", __func__);
    const double *et = glue_real_finite(eta, g.f.dim, "eta", __func__);
    hm_ctrl ctl = glue_ctrl_from(ctrl, __func__);
    SEXP out = PROTECT(Rf_allocVector(REALSXP, g.f.dim));
    double *w = glue_scratch(hm_fam_work_len(&g.f));
    hm_status st = hm_fam_to_natural(&g.f, et, REAL(out), w, &ctl);
    SEXP res = value_status(out, st);
    UNPROTECT(1);
    return res;
}

SEXP ffi_family_neg_entropy(SEXP spec, SEXP eta, SEXP ctrl) {
    glue_family g;
    glue_family_from(spec, &g, "spec", __func__);
    const double *et = glue_real_finite(eta, g.f.dim, "eta", __func__);
    hm_ctrl ctl = glue_ctrl_from(ctrl, __func__);
    double phi = NA_REAL;
    double *w = glue_scratch(hm_fam_work_len(&g.f));
    hm_status st = hm_fam_neg_entropy(&g.f, et, &phi, w, &ctl);
    SEXP v = PROTECT(Rf_ScalarReal(phi));
    SEXP res = value_status(v, st);
    UNPROTECT(1);
    return res;
}

// Draws are produced row-major by the engine and transposed into R's
// column-major n x d matrix.
SEXP ffi_family_sample(SEXP spec, SEXP theta, SEXP n_) {
    glue_family g;
    glue_family_from(spec, &g, "spec", __func__);
    const hm_family *f = &g.f;
    const double *th = glue_real_finite(theta, f->dim, "theta", __func__);
    int n = glue_int_in(n_, 0, INT_MAX, "n", __func__);
    glue_check_size((double)n * f->d, "n", __func__);
    SEXP out = PROTECT(Rf_allocMatrix(REALSXP, n, f->d));
    double *x = glue_scratch((size_t)n * (size_t)f->d);
    double *w = glue_scratch(hm_fam_sample_work_len(f, n));
    hm_status st = hm_fam_check_natural(f, th);
    if (st == HM_OK) {
        hm_rng rng = glue_rng();
        GetRNGstate();
        st = hm_fam_sample(f, th, n, &rng, x, w);
        PutRNGstate();
    }
    for (int i = 0; i < n && st == HM_OK; i++) {
        for (int j = 0; j < f->d; j++) {
            REAL(out)[(size_t)j * (size_t)n + (size_t)i] = x[(size_t)i * (size_t)f->d + (size_t)j];
        }
    }
    SEXP res = value_status(out, st);
    UNPROTECT(1);
    return res;
}

SEXP ffi_family_check(SEXP spec, SEXP theta) {
    glue_family g;
    glue_family_from(spec, &g, "spec", __func__);
    const double *th = glue_real(theta, g.f.dim, "theta", __func__);
    return glue_status(hm_fam_check_natural(&g.f, th));
}

// The 1-based index of the first row outside the support, or 0.
SEXP ffi_family_check_data(SEXP spec, SEXP x) {
    glue_family g;
    glue_family_from(spec, &g, "spec", __func__);
    const hm_family *f = &g.f;
    int n = glue_matrix(x, f->d, "x", __func__);
    double *xi = glue_scratch((size_t)f->d);
    for (int i = 0; i < n; i++) {
        get_row(REAL(x), n, f->d, i, xi);
        if (hm_fam_check_data(f, xi) != HM_OK) {
            return Rf_ScalarInteger(i + 1);
        }
    }
    return Rf_ScalarInteger(0);
}
