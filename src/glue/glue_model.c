/*
 * glue_model.c: .Call entry points for harmonium models (mixtures and the
 * linear-Gaussian kinds): coordinates, conjugation parameters, whitening,
 * mixture split/join, the E-step over data, ancestral sampling and
 * sequential conjugate updating.
 */
#include "glue.h"

static SEXP status_list(int n, const char **names, SEXP *values, hm_status st) {
    values[n - 1] = PROTECT(glue_status(st));
    SEXP out = glue_list(n, names, values);
    UNPROTECT(1);
    return out;
}

SEXP ffi_model_info(SEXP kind, SEXP obs, SEXP lat) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    SEXP out = PROTECT(Rf_allocVector(INTSXP, 4));
    INTEGER(out)[0] = hm_hm_dim(&m.h);
    INTEGER(out)[1] = hm_hm_post_len(&m.h);
    INTEGER(out)[2] = hm_stats_len(&m.h);
    INTEGER(out)[3] = hm_fam_closed_natural(&m.obs.f);
    UNPROTECT(1);
    return out;
}

SEXP ffi_model_log_partition(SEXP kind, SEXP obs, SEXP lat, SEXP theta) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const double *th = glue_real_finite(theta, hm_hm_dim(&m.h), "theta", __func__);
    double *w = glue_scratch(hm_hm_work_len(&m.h));
    double psi = NA_REAL;
    hm_status st = hm_hm_check_natural(&m.h, th, w);
    if (st == HM_OK) {
        st = hm_hm_log_partition(&m.h, th, &psi, w);
    }
    const char *nm[] = {"value", "status"};
    SEXP v[2];
    v[0] = PROTECT(Rf_ScalarReal(psi));
    SEXP out = status_list(2, nm, v, st);
    UNPROTECT(1);
    return out;
}

SEXP ffi_model_rho_chi(SEXP kind, SEXP obs, SEXP lat, SEXP theta) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const double *th = glue_real_finite(theta, hm_hm_dim(&m.h), "theta", __func__);
    double *w = glue_scratch(hm_hm_work_len(&m.h));
    // rho is in the prior family's coordinates (= lat but for the
    // restricted-posterior kinds).
    int dz = hm_hm_rho_len(&m.h);
    SEXP val = PROTECT(Rf_allocVector(REALSXP, dz + 1));
    hm_status st = hm_hm_check_natural(&m.h, th, w);
    if (st == HM_OK) {
        st = hm_hm_rho_chi(&m.h, th, REAL(val), REAL(val) + dz, w);
    }
    const char *nm[] = {"value", "status"};
    SEXP v[2] = {val, R_NilValue};
    SEXP out = status_list(2, nm, v, st);
    UNPROTECT(1);
    return out;
}

SEXP ffi_model_to_mean(SEXP kind, SEXP obs, SEXP lat, SEXP theta) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    int dim = hm_hm_dim(&m.h);
    const double *th = glue_real_finite(theta, dim, "theta", __func__);
    double *w = glue_scratch(hm_hm_work_len(&m.h));
    SEXP val = PROTECT(Rf_allocVector(REALSXP, dim));
    hm_status st = hm_hm_check_natural(&m.h, th, w);
    if (st == HM_OK) {
        st = hm_hm_to_mean(&m.h, th, REAL(val), w);
    }
    const char *nm[] = {"value", "status"};
    SEXP v[2] = {val, R_NilValue};
    SEXP out = status_list(2, nm, v, st);
    UNPROTECT(1);
    return out;
}

// whiten_prior on mean coordinates (identity unless the latent is Gaussian).
SEXP ffi_model_whiten(SEXP kind, SEXP obs, SEXP lat, SEXP eta) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    int dim = hm_hm_dim(&m.h);
    const double *et = glue_real_finite(eta, dim, "eta", __func__);
    double *w = glue_scratch(hm_hm_work_len(&m.h));
    SEXP val = PROTECT(Rf_allocVector(REALSXP, dim));
    hm_status st = hm_hm_whiten(&m.h, et, REAL(val), w);
    const char *nm[] = {"value", "status"};
    SEXP v[2] = {val, R_NilValue};
    SEXP out = status_list(2, nm, v, st);
    UNPROTECT(1);
    return out;
}

SEXP ffi_model_to_natural(SEXP kind, SEXP obs, SEXP lat, SEXP eta, SEXP ctrl) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    int dim = hm_hm_dim(&m.h);
    const double *et = glue_real_finite(eta, dim, "eta", __func__);
    hm_ctrl ctl = glue_ctrl_from(ctrl, __func__);
    double *w = glue_scratch(hm_hm_work_len(&m.h));
    SEXP val = PROTECT(Rf_allocVector(REALSXP, dim));
    int bad = -1;
    hm_status st = hm_hm_to_natural(&m.h, et, REAL(val), w, &ctl, &bad);
    const char *nm[] = {"value", "bad", "status"};
    SEXP v[3];
    v[0] = val;
    v[1] = PROTECT(Rf_ScalarInteger(bad));
    SEXP out = status_list(3, nm, v, st);
    UNPROTECT(2);
    return out;
}

// Component natural parameters as a K x dim matrix (row k = component k).
SEXP ffi_mixture_split(SEXP kind, SEXP obs, SEXP lat, SEXP theta) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    if (m.h.kind != HM_HM_MIXTURE) {
        internal_error(__func__, "`kind` must be a mixture of a family");
    }
    int K = m.lat.f.n, dx = m.obs.f.dim;
    const double *th = glue_real_finite(theta, hm_hm_dim(&m.h), "theta", __func__);
    double *w = glue_scratch(hm_hm_work_len(&m.h));
    double *comp = glue_scratch((size_t)K * (size_t)dx);
    SEXP cm = PROTECT(Rf_allocMatrix(REALSXP, K, dx));
    SEXP pr = PROTECT(Rf_allocVector(REALSXP, K - 1));
    hm_status st = hm_mix_split(&m.h, th, comp, REAL(pr), w);
    for (int k = 0; k < K; k++) {
        for (int j = 0; j < dx; j++) {
            REAL(cm)[(size_t)j * (size_t)K + (size_t)k] = comp[(size_t)k * (size_t)dx + (size_t)j];
        }
    }
    const char *nm[] = {"components", "prior", "status"};
    SEXP v[3] = {cm, pr, R_NilValue};
    SEXP out = status_list(3, nm, v, st);
    UNPROTECT(2);
    return out;
}

SEXP ffi_mixture_join(SEXP kind, SEXP obs, SEXP lat, SEXP comps, SEXP prior) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    if (m.h.kind != HM_HM_MIXTURE) {
        internal_error(__func__, "`kind` must be a mixture of a family");
    }
    int K = m.lat.f.n, dx = m.obs.f.dim;
    if (glue_data(comps, dx, 0, 0, "comps", __func__) != K) {
        internal_error(__func__, "`comps` must have one row per component (%d)", K);
    }
    const double *pr = glue_real_finite(prior, K - 1, "prior", __func__);
    double *comp = glue_scratch((size_t)K * (size_t)dx);
    for (int k = 0; k < K; k++) {
        for (int j = 0; j < dx; j++) {
            comp[(size_t)k * (size_t)dx + (size_t)j] = REAL(comps)[(size_t)j * (size_t)K + (size_t)k];
        }
    }
    double *w = glue_scratch(hm_hm_work_len(&m.h));
    SEXP val = PROTECT(Rf_allocVector(REALSXP, hm_hm_dim(&m.h)));
    hm_status st = HM_OK;
    for (int k = 0; k < K && st == HM_OK; k++) {
        st = hm_fam_check_natural(&m.obs.f, comp + (size_t)k * (size_t)dx);
    }
    if (st == HM_OK) {
        st = hm_mix_join(&m.h, comp, pr, REAL(val), w);
    }
    const char *nm[] = {"value", "status"};
    SEXP v[2] = {val, R_NilValue};
    SEXP out = status_list(2, nm, v, st);
    UNPROTECT(1);
    return out;
}

// One E-step pass. `given` is NULL or an n x post_len matrix of posterior
// means; `want` = c(logp, post) flags.
SEXP ffi_model_estep(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP x, SEXP w, SEXP given,
                     SEXP want, SEXP threads) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    const double *th = glue_real_finite(theta, hm_hm_dim(h), "theta", __func__);
    int n = glue_obs_data(x, &m.obs.f, 0, glue_missing_ok(h), "x", __func__);
    const double *wt = glue_weights(w, n, __func__);
    int pl = hm_hm_post_len(h);
    const double *gv = NULL;
    if (!Rf_isNull(given)) {
        if (glue_data(given, pl, 0, 0, "given", __func__) != n) {
            internal_error(__func__, "`given` must have one row per row of `x` (%d)", n);
        }
        gv = REAL(given);
    }
    glue_flags(want, LGLSXP, 2, "want", __func__);
    int nt = glue_threads(threads, __func__);
    glue_check_size((double)n * pl, "x", __func__);
    int nprot = 0;
    SEXP stats = PROTECT(Rf_allocVector(REALSXP, hm_stats_len(h)));
    nprot++;
    SEXP logp = R_NilValue, post = R_NilValue;
    if (LOGICAL(want)[0]) {
        logp = PROTECT(Rf_allocVector(REALSXP, n));
        nprot++;
    }
    if (LOGICAL(want)[1]) {
        post = PROTECT(Rf_allocMatrix(REALSXP, n, pl));
        nprot++;
    }
    hm_data data = {REAL(x), n, n, wt};
    double *work = glue_scratch(hm_estep_work_len(h, nt));
    hm_status st = hm_estep(h, th, &data, gv, REAL(stats), Rf_isNull(logp) ? NULL : REAL(logp),
                            Rf_isNull(post) ? NULL : REAL(post), nt, work);
    const char *nm[] = {"stats", "logp", "post", "status"};
    SEXP v[4] = {stats, logp, post, R_NilValue};
    SEXP out = status_list(4, nm, v, st);
    UNPROTECT(nprot);
    return out;
}

SEXP ffi_model_sample(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP n_) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    const double *th = glue_real_finite(theta, hm_hm_dim(h), "theta", __func__);
    int n = glue_int_in(n_, 0, INT_MAX, "n", __func__), d = m.obs.f.d;
    // The engine writes lat->d doubles per row (a class for a mixture, the
    // q latent values otherwise): a vector when 1, else an n x q matrix.
    int dz = hm_hm_z_len(h);
    glue_check_size((double)n * (d > dz ? d : dz), "n", __func__);
    SEXP xo = PROTECT(Rf_allocMatrix(REALSXP, n, d));
    SEXP zo = PROTECT(dz == 1 ? Rf_allocVector(REALSXP, n) : Rf_allocMatrix(REALSXP, n, dz));
    double *x = glue_scratch((size_t)n * (size_t)d);
    double *z = dz == 1 ? REAL(zo) : glue_scratch((size_t)n * (size_t)dz);
    double *w = glue_scratch(hm_hm_sample_work_len(h, n));
    hm_status st = hm_hm_check_natural(h, th, w);
    if (st == HM_OK) {
        hm_rng rng = glue_rng();
        GetRNGstate();
        st = hm_hm_sample(h, th, n, &rng, x, z, w);
        PutRNGstate();
    }
    for (int i = 0; i < n && st == HM_OK; i++) {
        for (int j = 0; j < d; j++) {
            REAL(xo)[(size_t)j * (size_t)n + (size_t)i] = x[(size_t)i * (size_t)d + (size_t)j];
        }
        for (int j = 0; j < dz && dz > 1; j++) {
            REAL(zo)[(size_t)j * (size_t)n + (size_t)i] = z[(size_t)i * (size_t)dz + (size_t)j];
        }
    }
    const char *nm[] = {"x", "z", "status"};
    SEXP v[3] = {xo, zo, R_NilValue};
    SEXP out = status_list(3, nm, v, st);
    UNPROTECT(2);
    return out;
}

// Sequential conjugate updating (hm_hm_posterior_fold): the latent
// family's natural parameters after each row of x (n x obs->d; 0-based
// codes for a categorical observable), as an n x lat->dim matrix; NA on
// failure.
SEXP ffi_model_posterior_fold(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP x) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    const double *th = glue_real_finite(theta, hm_hm_dim(h), "theta", __func__);
    const int d = m.obs.f.d, dz = m.lat.f.dim;
    const int n = glue_obs_data(x, &m.obs.f, 0, 0, "x", __func__);
    glue_check_size((double)n * (d > dz ? d : dz), "x", __func__);
    SEXP val = PROTECT(Rf_allocMatrix(REALSXP, n, dz));
    // The engine reads data and writes results row-major.
    double *xr = glue_scratch((size_t)n * (size_t)d);
    double *out = glue_scratch((size_t)n * (size_t)dz);
    double *w = glue_scratch(hm_hm_fold_work_len(h));
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++) {
            xr[(size_t)i * (size_t)d + (size_t)j] = REAL(x)[(size_t)j * (size_t)n + (size_t)i];
        }
    }
    hm_status st = hm_hm_posterior_fold(h, th, xr, n, out, w);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < dz; j++) {
            REAL(val)[(size_t)j * (size_t)n + (size_t)i] =
                st == HM_OK ? out[(size_t)i * (size_t)dz + (size_t)j] : NA_REAL;
        }
    }
    const char *nm[] = {"value", "status"};
    SEXP v[2] = {val, R_NilValue};
    SEXP out_list = status_list(2, nm, v, st);
    UNPROTECT(1);
    return out_list;
}
