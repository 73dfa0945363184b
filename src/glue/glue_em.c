/*
 * glue_em.c: the in-memory EM loop (style.md 3.5): hm_em_iterate,
 * hm_em_test and R_CheckUserInterrupt() per iteration on the master thread.
 * All scratch is R-allocated, so an interrupt frees it. With trace on, R
 * calls this in short bursts (em[1] iterations) and reports in between.
 */
#include "glue.h"

// em = c(tol, maxit, previous log-likelihood[, iterations already run,
// abandon below, the 6 log-likelihoods before, oldest first]); returns the
// parameters whose log-likelihood was recorded last (except at the
// iteration cap), the trace (log-likelihood at the start of each
// iteration), the convergence flag, the status, the failing component,
// whether the start was abandoned, the statistics of the last E-step and
// whether they (and the trace's last value) are those of the returned
// parameters.
//
// Abandoning (R's lvm_control(abandon = )): once at least 10 iterations
// have run in all, a start whose conservative Aitken limit over the last
// HM_EM_ABANDON_RATES rates (hm_em_aitken_limit) is below `abandon below`
// stops at once; R passes the best healthy start's log-likelihood less a
// margin, or -Inf.
#define EM_HIST (HM_EM_ABANDON_RATES + 2)

SEXP ffi_em_run(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP x, SEXP w, SEXP ctrl, SEXP em,
                SEXP threads) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    const int dim = hm_hm_dim(h);
    const double *th0 = glue_real_finite(theta, dim, "theta", __func__);
    int n = glue_obs_data(x, &m.obs.f, 0, glue_missing_ok(h), "x", __func__);
    const double *wt = glue_weights(w, n, __func__);
    hm_ctrl ctl = glue_ctrl_from(ctrl, __func__);
    const R_xlen_t em_len = TYPEOF(em) == REALSXP && XLENGTH(em) == 5 + EM_HIST - 1 ? 5 + EM_HIST - 1 : 3;
    const double *emc = glue_real(em, em_len, "em", __func__);
    // The log-likelihoods may be NA or -Inf.
    if (!R_FINITE(emc[0]) || emc[0] < 0.0 || !R_FINITE(emc[1]) || emc[1] < 0.0 || emc[1] > INT_MAX ||
        (!ISNAN(emc[2]) && emc[2] == R_PosInf) ||
        (em_len > 3 && (!R_FINITE(emc[3]) || emc[3] < 0.0 || ISNAN(emc[4]) || emc[4] == R_PosInf))) {
        internal_error(__func__, "`em` must be c(tol >= 0, maxit in 0 to 2^31 - 1, previous log-likelihood[, "
                                 "iterations done >= 0, abandon below < Inf, %d log-likelihoods])",
                       EM_HIST - 1);
    }
    const double tol = emc[0];
    const int maxit = (int)emc[1];
    const double prev_ll = emc[2];
    const double done = em_len > 3 ? emc[3] : 0.0;
    const double below = em_len > 3 ? emc[4] : R_NegInf;
    // The recent log-likelihoods, oldest first; the newest slot is this
    // iteration's.
    double hist[EM_HIST];
    for (int i = 0; i < EM_HIST; i++) {
        hist[i] = em_len > 3 && i < EM_HIST - 1 ? emc[5 + i] : R_NaN;
    }
    int nt = glue_threads(threads, __func__);

    double *cur = glue_scratch((size_t)dim), *nxt = glue_scratch((size_t)dim);
    double *stats = glue_scratch((size_t)hm_stats_len(h));
    double *work = glue_scratch(hm_em_work_len(h, nt));
    // The trace grows by doubling, so a large maxit allocates nothing up front.
    R_xlen_t tr_len = maxit < 1024 ? maxit : 1024;
    SEXP tr;
    PROTECT_INDEX tr_idx;
    PROTECT_WITH_INDEX(tr = Rf_allocVector(REALSXP, tr_len), &tr_idx);
    for (int i = 0; i < dim; i++) {
        cur[i] = th0[i];
    }
    hm_data data = {REAL(x), n, n, wt};
    hm_status st = HM_CONTINUE;
    int bad = -1, it = 0, converged = 0, abandoned = 0, at_theta = 0;
    double ll_old = prev_ll;
    for (; it < maxit; it++) {
        double ll = R_NaN;
        hm_set_interrupt_check(glue_interrupt_pending);
        hm_status ist = hm_em_iterate(h, cur, &data, &ctl, nt, stats, nxt, &ll, &bad, work);
        hm_set_interrupt_check(NULL);
        if (ist != HM_OK && (ist == HM_EINTR || glue_interrupt_pending())) {
            // Scratch is R_alloc'd: the longjmp frees it. Should R not raise
            // (interrupts suspended meanwhile), redo the iteration unchecked.
            R_CheckUserInterrupt();
            ll = R_NaN;
            bad = -1;
            ist = hm_em_iterate(h, cur, &data, &ctl, nt, stats, nxt, &ll, &bad, work);
        }
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
                at_theta = 1;
            }
            break;
        }
        if (R_FINITE(ll_old) && hm_em_test(ll, ll_old, tol) == HM_OK) {
            converged = 1;
            at_theta = 1;
            st = HM_OK;
            it++;
            break;
        }
        hist[EM_HIST - 1] = ll;
        double lim;
        if (below > R_NegInf && done + it + 1 >= 10.0 &&
            hm_em_aitken_limit(hist, HM_EM_ABANDON_RATES, &lim) == HM_OK && lim < below) {
            abandoned = 1;
            at_theta = 1;
            it++;
            break;
        }
        for (int i = 0; i + 1 < EM_HIST; i++) {
            hist[i] = hist[i + 1];
        }
        ll_old = ll;
        for (int i = 0; i < dim; i++) {
            cur[i] = nxt[i];
        }
        R_CheckUserInterrupt();
    }
    // `cur` holds the parameters the loop stopped at: on convergence or an
    // M-step failure those whose log-likelihood was recorded last; at the
    // iteration cap the next iterate (R evaluates it with a final E-step and
    // may continue from it in the next burst).
    int nprot = 1;
    SEXP th = PROTECT(Rf_allocVector(REALSXP, dim));
    nprot++;
    for (int i = 0; i < dim; i++) {
        REAL(th)[i] = cur[i];
    }
    SEXP trace = PROTECT(Rf_lengthgets(tr, it));
    nprot++;
    const char *nm[] = {"theta", "trace", "converged", "bad", "status", "abandoned", "stats", "at_theta"};
    SEXP v[8];
    v[0] = th;
    v[1] = trace;
    v[2] = PROTECT(Rf_ScalarLogical(converged));
    nprot++;
    v[3] = PROTECT(Rf_ScalarInteger(bad));
    nprot++;
    v[4] = PROTECT(glue_status(st));
    nprot++;
    v[5] = PROTECT(Rf_ScalarLogical(abandoned));
    nprot++;
    const int sl = hm_stats_len(h);
    v[6] = PROTECT(Rf_allocVector(REALSXP, sl));
    nprot++;
    for (int i = 0; i < sl; i++) {
        REAL(v[6])[i] = at_theta ? stats[i] : NA_REAL;
    }
    v[7] = PROTECT(Rf_ScalarLogical(at_theta));
    nprot++;
    SEXP out = glue_list(8, nm, v);
    UNPROTECT(nprot);
    return out;
}
