/*
 * glue_cd.c: the contrastive-divergence (CD-k) estimate of the
 * log-likelihood gradient (theory.md 1.6) for the Boltzmann-latent kinds,
 * with the sign and summation of ffi_model_gradient (glue_grad.c), so the
 * two can be compared or swapped. The chains draw from R's RNG.
 */
#include "glue.h"

SEXP ffi_model_cd_gradient(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP x, SEXP k) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    const int dim = hm_hm_dim(h);
    const double *th = glue_real_finite(theta, dim, "theta", __func__);
    int n = glue_obs_data(x, &m.obs.f, 0, 0, "x", __func__);
    int steps = glue_int_in(k, 0, 100000, "k", __func__);
    int nprot = 0;
    SEXP grad = PROTECT(Rf_allocVector(REALSXP, dim));
    nprot++;
    double *work = glue_scratch(hm_hm_cd_gradient_work_len(h));
    hm_data data = {REAL(x), n, n, NULL};
    hm_rng rng = glue_rng();
    GetRNGstate();
    hm_status st = hm_hm_cd_gradient(h, th, &data, steps, &rng, REAL(grad), work);
    PutRNGstate();
    const char *nm[] = {"gradient", "status"};
    SEXP v[2];
    v[0] = grad;
    v[1] = PROTECT(glue_status(st));
    nprot++;
    SEXP out = glue_list(2, nm, v);
    UNPROTECT(nprot);
    return out;
}
