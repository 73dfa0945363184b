/*
 * glue_grad.c: the exact log-likelihood gradient for gradient-based fitting
 * (theory.md 1.5): sum_n w_n E[s(x_n, z) | x_n] - (sum_n w_n) eta(theta), in
 * the harmonium's natural coordinates, from one E-step and one mean map.
 * R chains it through its unconstrained reparameterisations.
 */
#include "glue.h"

SEXP ffi_model_gradient(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP x, SEXP w, SEXP threads) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    const int dim = hm_hm_dim(h);
    const double *th = glue_real_finite(theta, dim, "theta", __func__);
    int n = glue_obs_data(x, &m.obs.f, 0, glue_missing_ok(h), "x", __func__);
    const double *wt = glue_weights(w, n, __func__);
    int nt = glue_threads(threads, __func__);
    int nprot = 0;
    SEXP grad = PROTECT(Rf_allocVector(REALSXP, dim));
    nprot++;
    double *stats = glue_scratch((size_t)hm_stats_len(h));
    double *work = glue_scratch(hm_estep_work_len(h, nt));
    double *eta = glue_scratch((size_t)dim);
    double *hw = glue_scratch(hm_hm_work_len(h));
    hm_data data = {REAL(x), n, n, wt};
    double ll = NA_REAL;
    hm_status st = hm_estep(h, th, &data, NULL, stats, NULL, NULL, nt, work);
    if (st == HM_OK) {
        st = hm_hm_to_mean(h, th, eta, hw);
    }
    if (st == HM_OK) {
        ll = stats[dim];
        const double tot = stats[dim + 1];
        for (int i = 0; i < dim; i++) {
            REAL(grad)[i] = stats[i] - tot * eta[i];
        }
    }
    const char *nm[] = {"value", "gradient", "status"};
    SEXP v[3];
    v[0] = PROTECT(Rf_ScalarReal(ll));
    nprot++;
    v[1] = grad;
    v[2] = PROTECT(glue_status(st));
    nprot++;
    SEXP out = glue_list(3, nm, v);
    UNPROTECT(nprot);
    return out;
}
