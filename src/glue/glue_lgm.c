/*
 * glue_lgm.c: EM for factor analysis, PPCA and the LGM from the data's
 * moments (hm_lgm_moments, hm_em_iterate_moments): one threaded pass over
 * the rows, then an EM loop whose iterations cost O(p^2 q) whatever n. The
 * loop's contract is ffi_em_run's (glue_em.c): the same arguments but the
 * moments for the data, and the same result list. The gradient from the
 * moments has ffi_model_gradient's contract (glue_grad.c), for both Normal
 * latents (the diagonal-posterior kind has no EM and is fitted by it).
 */
#include "glue.h"

// The moments of x (n x p) with weights w (NULL: all 1), as a double
// vector [sum w | sum w x | sum w x x' row-major], with the status.
SEXP ffi_lgm_moments(SEXP kind, SEXP obs, SEXP lat, SEXP x, SEXP w, SEXP threads) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    if (h->kind != HM_HM_LGM && h->kind != HM_HM_LGM_DIAG && h->kind != HM_HM_BOLTZMANN_LGM &&
        h->kind != HM_HM_BOLTZMANN_LGM_MF) {
        internal_error(__func__, "`kind` must be a linear-Gaussian kind");
    }
    // A Normal observable's support is the finite reals, which the engine's
    // pass checks as it reads each value (HM_EDOM otherwise): the glue checks
    // the shape only, so the data are read once.
    int n = glue_matrix(x, m.obs.f.d, "x", __func__);
    const double *wt = glue_weights(w, n, __func__);
    int nt = glue_threads(threads, __func__);
    int nprot = 0;
    SEXP mom = PROTECT(Rf_allocVector(REALSXP, hm_lgm_moments_len(h)));
    nprot++;
    hm_data data = {REAL(x), n, n, wt};
    double *work = glue_scratch(hm_lgm_moments_work_len(h, nt));
    hm_status st = hm_lgm_moments(h, &data, nt, REAL(mom), work);
    const char *nm[] = {"moments", "status"};
    SEXP v[2];
    v[0] = mom;
    v[1] = PROTECT(glue_status(st));
    nprot++;
    SEXP out = glue_list(2, nm, v);
    UNPROTECT(nprot);
    return out;
}

// em = c(tol, maxit, previous log-likelihood), as for ffi_em_run.
SEXP ffi_lgm_em_moments(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP mom, SEXP ctrl, SEXP em) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    if (h->kind != HM_HM_LGM) {
        internal_error(__func__, "`kind` must be the LGM with a Normal latent");
    }
    const int dim = hm_hm_dim(h);
    const double *th0 = glue_real_finite(theta, dim, "theta", __func__);
    const double *mo = glue_real_finite(mom, hm_lgm_moments_len(h), "mom", __func__);
    hm_ctrl ctl = glue_ctrl_from(ctrl, __func__);
    const double *emc = glue_real(em, 3, "em", __func__);
    if (!R_FINITE(emc[0]) || emc[0] < 0.0 || !R_FINITE(emc[1]) || emc[1] < 0.0 ||
        emc[1] > INT_MAX || (!ISNAN(emc[2]) && emc[2] == R_PosInf)) {
        internal_error(__func__,
                       "`em` must be c(tol >= 0, maxit in 0 to 2^31 - 1, previous log-likelihood)");
    }
    const double tol = emc[0];
    const int maxit = (int)emc[1];
    double ll_old = emc[2];

    double *cur = glue_scratch((size_t)dim), *nxt = glue_scratch((size_t)dim);
    double *stats = glue_scratch((size_t)hm_stats_len(h));
    double *work = glue_scratch(hm_em_moments_work_len(h));
    R_xlen_t tr_len = maxit < 1024 ? maxit : 1024;
    SEXP tr;
    PROTECT_INDEX tr_idx;
    PROTECT_WITH_INDEX(tr = Rf_allocVector(REALSXP, tr_len), &tr_idx);
    for (int i = 0; i < dim; i++) {
        cur[i] = th0[i];
    }
    hm_status st = HM_CONTINUE;
    int bad = -1, it = 0, converged = 0;
    for (; it < maxit; it++) {
        double ll = R_NaN;
        hm_status ist = hm_em_iterate_moments(h, cur, mo, &ctl, stats, nxt, &ll, &bad, work);
        if (it == tr_len) {
            tr_len = 2 * tr_len < maxit ? 2 * tr_len : maxit;
            REPROTECT(tr = Rf_lengthgets(tr, tr_len), tr_idx);
        }
        if (!ISNAN(ll)) {
            REAL(tr)[it] = ll;
        }
        if (ist != HM_OK) {
            st = ist;
            if (!ISNAN(ll)) {
                it++;
            }
            break;
        }
        if (R_FINITE(ll_old) && hm_em_test(ll, ll_old, tol) == HM_OK) {
            converged = 1;
            st = HM_OK;
            it++;
            break;
        }
        ll_old = ll;
        for (int i = 0; i < dim; i++) {
            cur[i] = nxt[i];
        }
        // An iteration costs microseconds: look for an interrupt every 256.
        if ((it & 255) == 255) {
            R_CheckUserInterrupt();
        }
    }
    int nprot = 1;
    SEXP th = PROTECT(Rf_allocVector(REALSXP, dim));
    nprot++;
    for (int i = 0; i < dim; i++) {
        REAL(th)[i] = cur[i];
    }
    SEXP trace = PROTECT(Rf_lengthgets(tr, it));
    nprot++;
    const char *nm[] = {"theta", "trace", "converged", "bad", "status"};
    SEXP v[5];
    v[0] = th;
    v[1] = trace;
    v[2] = PROTECT(Rf_ScalarLogical(converged));
    nprot++;
    v[3] = PROTECT(Rf_ScalarInteger(bad));
    nprot++;
    v[4] = PROTECT(glue_status(st));
    nprot++;
    SEXP out = glue_list(5, nm, v);
    UNPROTECT(nprot);
    return out;
}

// The log-likelihood and its gradient at theta from the moments, as
// ffi_model_gradient gives them over the rows.
SEXP ffi_lgm_moments_gradient(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP mom) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    if (h->kind != HM_HM_LGM && h->kind != HM_HM_LGM_DIAG) {
        internal_error(__func__, "`kind` must be a linear-Gaussian kind with a Normal latent");
    }
    const int dim = hm_hm_dim(h);
    const double *th = glue_real_finite(theta, dim, "theta", __func__);
    const double *mo = glue_real_finite(mom, hm_lgm_moments_len(h), "mom", __func__);
    int nprot = 0;
    SEXP grad = PROTECT(Rf_allocVector(REALSXP, dim));
    nprot++;
    double *stats = glue_scratch((size_t)hm_stats_len(h));
    double *work = glue_scratch(hm_lgm_moments_estep_work_len(h));
    double *eta = glue_scratch((size_t)dim);
    double *hw = glue_scratch(hm_hm_work_len(h));
    double ll = NA_REAL;
    hm_status st = hm_lgm_moments_estep(h, th, mo, stats, work);
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
