/*
 * glue_hmm.c: .Call entry point for hidden Markov chain inference (hmm.c).
 * R (R/model-hmm.R) validates the inputs; this returns list(loglik, filtered,
 * smoothed, pair, path, logjoint, status, message).
 */
#include <math.h>
#include <string.h>
#include "glue.h"

SEXP ffi_hmm_infer(SEXP logp, SEXP init, SEXP trans) {
    if (TYPEOF(logp) != REALSXP || !Rf_isMatrix(logp)) {
        internal_error(__func__, "`logp` must be a double matrix");
    }
    int S = Rf_ncols(logp);
    int T = glue_matrix(logp, S, "logp", __func__);
    if (S < 1 || T < 1) {
        internal_error(__func__, "`logp` must have at least one row and one column");
    }
    const double *pi = glue_real_finite(init, S, "init", __func__);
    const double *a = glue_real_finite(trans, (R_xlen_t)S * S, "trans", __func__); /* row-major: R passes t(A) */
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

// --- hidden Markov models with mixture-kind emissions (of families or of models) --------------------------------

// The stacked-sequence layout from R's 0-based starts, lengths and optional weights.
static hm_seqs seqs_from(SEXP starts, SEXP lengths, SEXP w, int n, const char *fn) {
    if (TYPEOF(starts) != INTSXP || TYPEOF(lengths) != INTSXP || XLENGTH(starts) != XLENGTH(lengths) ||
        XLENGTH(lengths) < 1) {
        internal_error(fn, "`starts` and `lengths` must be integer vectors of one length");
    }
    hm_seqs sq;
    sq.nseq = (int)XLENGTH(lengths);
    sq.n = n;
    sq.start = INTEGER(starts);
    sq.len = INTEGER(lengths);
    sq.w = glue_weights(w, sq.nseq, fn);
    for (int s = 0; s < sq.nseq; s++) {
        if (sq.len[s] < 1 || sq.start[s] < 0 || (long long)sq.start[s] + sq.len[s] > n) {
            internal_error(fn, "`starts` and `lengths` put sequence %d outside the %d rows of `x`", s + 1, n);
        }
    }
    return sq;
}

// The complete rows of x (column-major n x d, NaN = missing) as their own matrix
// with the rows' sequence weights; NULL (nothing copied) when every row is complete.
static int *observed_rows(const double *x, int n, int d, const hm_seqs *sq, hm_data *obs, const char *fn) {
    int n_obs = 0;
    obs->tree = NULL;
    char *ok = (char *)R_alloc((size_t)(n > 0 ? n : 1), 1);
    for (int i = 0; i < n; i++) {
        ok[i] = 1;
        for (int j = 0; j < d; j++) {
            if (ISNAN(x[(size_t)j * (size_t)n + (size_t)i])) {
                ok[i] = 0;
                break;
            }
        }
        n_obs += ok[i];
    }
    double *rw = NULL;
    if (sq->w) {
        rw = glue_scratch((size_t)n);
        for (int s = 0; s < sq->nseq; s++) {
            for (int t = 0; t < sq->len[s]; t++) {
                rw[sq->start[s] + t] = sq->w[s];
            }
        }
    }
    if (n_obs == 0) {
        internal_error(fn, "`x` has no complete row");
    }
    if (n_obs == n) {
        obs->x = x;
        obs->n = n;
        obs->ldx = n;
        obs->w = rw;
        return NULL;
    }
    int *idx = (int *)R_alloc((size_t)n_obs, sizeof(int));
    double *xo = glue_scratch((size_t)n_obs * (size_t)d);
    double *wo = rw ? glue_scratch((size_t)n_obs) : NULL;
    int r = 0;
    for (int i = 0; i < n; i++) {
        if (!ok[i]) {
            continue;
        }
        idx[r] = i;
        for (int j = 0; j < d; j++) {
            xo[(size_t)j * (size_t)n_obs + (size_t)r] = x[(size_t)j * (size_t)n + (size_t)i];
        }
        if (wo) {
            wo[r] = rw[i];
        }
        r++;
    }
    obs->x = xo;
    obs->n = n_obs;
    obs->ldx = n_obs;
    obs->w = wo;
    return idx;
}

// Baum-Welch (style.md 3.5): hm_hmm_em_iterate, hm_em_test and an interrupt check
// per iteration on the master thread, all scratch R-allocated. chain = c(init,
// row-major trans); em = c(tol, maxit, previous loglik, init mode). Returns the
// parameters whose log-likelihood was recorded last (at the iteration cap, the next
// iterate), the trace, the convergence flag, the failing state and the status.
SEXP ffi_hmm_em_run(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP chain, SEXP x, SEXP starts, SEXP lengths,
                    SEXP w, SEXP ctrl, SEXP em, SEXP threads) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    if (hm_mix_classes(h) < 2) {
        internal_error(__func__, "`kind` must be a mixture (the emission)");
    }
    const int dim = hm_hm_dim(h), S = hm_mix_classes(h);
    const size_t ss = (size_t)S * (size_t)S;
    const double *th0 = glue_real_finite(theta, dim, "theta", __func__);
    const double *ch0 = glue_real_finite(chain, (R_xlen_t)S + (R_xlen_t)S * S, "chain", __func__);
    const int d = m.obs.f.d;
    int n = glue_obs_data(x, &m.obs.f, 1, 1, "x", __func__);
    hm_seqs sq = seqs_from(starts, lengths, w, n, __func__);
    hm_ctrl ctl = glue_ctrl_from(ctrl, __func__);
    const double *emc = glue_real(em, 4, "em", __func__);
    // c(tol, maxit, previous log-likelihood (NA or -Inf at the start), init mode).
    if (!R_FINITE(emc[0]) || emc[0] < 0.0 || !R_FINITE(emc[1]) || emc[1] < 0.0 || emc[1] > INT_MAX ||
        (!ISNAN(emc[2]) && emc[2] == R_PosInf) || !R_FINITE(emc[3]) || fabs(emc[3]) > 1e6) {
        internal_error(__func__, "`em` must be c(tol >= 0, maxit in 0 to 2^31 - 1, previous log-likelihood, mode)");
    }
    const double tol = emc[0];
    const int maxit = (int)emc[1];
    const int mode = (int)emc[3];
    int nt = glue_threads(threads, __func__);

    hm_data data = {REAL(x), n, n, NULL};
    hm_data od;
    int *orow = observed_rows(REAL(x), n, d, &sq, &od, __func__);
    double *cur = glue_scratch((size_t)dim), *nxt = glue_scratch((size_t)dim);
    double *ci = glue_scratch((size_t)S + ss), *cn = glue_scratch((size_t)S + ss);
    double *work = glue_scratch(hm_hmm_em_work_len(h, &sq, orow ? od.n : 0, nt));
    memcpy(cur, th0, sizeof(double) * (size_t)dim);
    memcpy(ci, ch0, sizeof(double) * ((size_t)S + ss));
    // The trace grows by doubling, so a large maxit allocates nothing up front.
    R_xlen_t tr_len = maxit < 1024 ? maxit : 1024;
    SEXP tr;
    PROTECT_INDEX tr_idx;
    PROTECT_WITH_INDEX(tr = Rf_allocVector(REALSXP, tr_len), &tr_idx);
    int nprot = 1;
    hm_status st = HM_CONTINUE;
    int bad = -1, it = 0, converged = 0;
    double ll_old = emc[2];
    for (; it < maxit; it++) {
        double ll = R_NaN;
        hm_set_interrupt_check(glue_interrupt_pending);
        hm_status ist = hm_hmm_em_iterate(h, cur, ci, ci + S, mode, &data, &sq, &od, orow, &ctl, nt, nxt, cn,
                                          cn + S, &ll, &bad, work);
        hm_set_interrupt_check(NULL);
        if (ist != HM_OK && (ist == HM_EINTR || glue_interrupt_pending())) {
            // As in glue_em.c: the longjmp frees the R_alloc'd scratch.
            R_CheckUserInterrupt();
            ll = R_NaN;
            bad = -1;
            ist = hm_hmm_em_iterate(h, cur, ci, ci + S, mode, &data, &sq, &od, orow, &ctl, nt, nxt, cn, cn + S, &ll,
                                    &bad, work);
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
        memcpy(cur, nxt, sizeof(double) * (size_t)dim);
        memcpy(ci, cn, sizeof(double) * ((size_t)S + ss));
        R_CheckUserInterrupt();
    }
    SEXP th = PROTECT(Rf_allocVector(REALSXP, dim));
    nprot++;
    memcpy(REAL(th), cur, sizeof(double) * (size_t)dim);
    SEXP chs = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)S + (R_xlen_t)ss));
    nprot++;
    memcpy(REAL(chs), ci, sizeof(double) * ((size_t)S + ss));
    SEXP trace = PROTECT(Rf_lengthgets(tr, it));
    nprot++;
    const char *nm[] = {"theta", "chain", "trace", "converged", "bad", "status"};
    SEXP v[6];
    v[0] = th;
    v[1] = chs;
    v[2] = trace;
    v[3] = PROTECT(Rf_ScalarLogical(converged));
    nprot++;
    v[4] = PROTECT(Rf_ScalarInteger(bad));
    nprot++;
    v[5] = PROTECT(glue_status(st));
    nprot++;
    SEXP out = glue_list(6, nm, v);
    UNPROTECT(nprot);
    return out;
}

// Inference at given parameters: per-state log densities (n x S, R's column-major,
// so R sees them as a matrix), per-sequence log-likelihoods, filtered and smoothed
// marginals (n x S) and, with want[2], the Viterbi path of each sequence (0-based)
// and its log joint probability. want = c(filtered, smoothed, viterbi).
SEXP ffi_hmm_seq_infer(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP chain, SEXP x, SEXP starts,
                       SEXP lengths, SEXP want, SEXP threads) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    if (hm_mix_classes(h) < 2) {
        internal_error(__func__, "`kind` must be a mixture (the emission)");
    }
    const int dim = hm_hm_dim(h), S = hm_mix_classes(h);
    const double *th = glue_real_finite(theta, dim, "theta", __func__);
    const double *ch = glue_real_finite(chain, (R_xlen_t)S + (R_xlen_t)S * S, "chain", __func__);
    int n = glue_obs_data(x, &m.obs.f, 1, 1, "x", __func__);
    hm_seqs sq = seqs_from(starts, lengths, R_NilValue, n, __func__);
    const int *wa = glue_flags(want, LGLSXP, 3, "want", __func__);
    glue_check_size((double)n * S, "x", __func__);
    int nt = glue_threads(threads, __func__);
    const size_t ns = (size_t)n * (size_t)S;

    int nprot = 0;
    SEXP lpm = PROTECT(Rf_allocMatrix(REALSXP, n, S));
    nprot++;
    SEXP sll = PROTECT(Rf_allocVector(REALSXP, sq.nseq));
    nprot++;
    SEXP filt = wa[0] ? Rf_allocMatrix(REALSXP, n, S) : R_NilValue;
    PROTECT(filt);
    nprot++;
    SEXP smooth = wa[1] ? Rf_allocMatrix(REALSXP, n, S) : R_NilValue;
    PROTECT(smooth);
    nprot++;
    SEXP path = wa[2] ? Rf_allocVector(INTSXP, n) : R_NilValue;
    PROTECT(path);
    nprot++;
    SEXP lj = wa[2] ? Rf_allocVector(REALSXP, sq.nseq) : R_NilValue;
    PROTECT(lj);
    nprot++;

    hm_data data = {REAL(x), n, n, NULL};
    double *lp = glue_scratch(ns);
    double *w1 = glue_scratch(hm_mix_log_densities_work_len(h, nt));
    hm_status st = hm_mix_log_densities(h, th, &data, lp, nt, w1);
    double *stats = glue_scratch((size_t)hm_hmm_stats_len(S));
    if (st == HM_OK) {
        double *w2 = glue_scratch(hm_hmm_estep_work_len(S, &sq, nt));
        st = hm_hmm_estep(S, &sq, lp, ch, ch + S, nt, stats, REAL(sll), wa[0] ? REAL(filt) : NULL,
                          wa[1] ? REAL(smooth) : NULL, w2);
    }
    // R's matrix of the log densities (column-major) from the engine's row-major one.
    double *lpo = REAL(lpm);
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < S; k++) {
            lpo[(size_t)k * (size_t)n + (size_t)i] = st == HM_OK ? lp[(size_t)i * (size_t)S + (size_t)k] : NA_REAL;
        }
    }
    if (st == HM_OK && wa[2]) {
        int tmax = 1;
        for (int s = 0; s < sq.nseq; s++) {
            tmax = sq.len[s] > tmax ? sq.len[s] : tmax;
        }
        double *vw = glue_scratch(hm_hmm_viterbi_work_len(S, tmax));
        double *cm = glue_scratch((size_t)S * (size_t)tmax);
        int *bp = (int *)R_alloc((size_t)S * (size_t)tmax, sizeof(int));
        for (int s = 0; s < sq.nseq && st == HM_OK; s++) {
            const int T = sq.len[s];
            const size_t t0 = (size_t)sq.start[s];
            for (int k = 0; k < S; k++) {
                memcpy(cm + (size_t)k * (size_t)T, lpo + (size_t)k * (size_t)n + t0, sizeof(double) * (size_t)T);
            }
            st = hm_hmm_viterbi(S, T, cm, ch, ch + S, INTEGER(path) + t0, REAL(lj) + s, vw, bp);
        }
    }
    const char *nm[] = {"logp", "seq_loglik", "filtered", "smoothed", "path", "logjoint", "status"};
    SEXP v[7] = {lpm, sll, filt, smooth, path, lj, R_NilValue};
    v[6] = PROTECT(glue_status(st));
    nprot++;
    SEXP out = glue_list(7, nm, v);
    UNPROTECT(nprot);
    return out;
}

// The stationary distribution of a row-major S x S transition.
SEXP ffi_hmm_stationary(SEXP trans) {
    glue_real(trans, -1, "trans", __func__);
    R_xlen_t len = XLENGTH(trans);
    int S = (int)(sqrt((double)len) + 0.5);
    if (S < 1 || S > 46340) {
        internal_error(__func__, "`trans` must hold a square transition matrix of 1 to 46340 states");
    }
    const double *a = glue_real_finite(trans, (R_xlen_t)S * S, "trans", __func__);
    SEXP pi = PROTECT(Rf_allocVector(REALSXP, S));
    double *work = glue_scratch((size_t)S * (size_t)S);
    hm_status st = hm_hmm_stationary(S, a, REAL(pi), work);
    const char *nm[] = {"value", "status"};
    SEXP v[2] = {pi, R_NilValue};
    v[1] = PROTECT(glue_status(st));
    SEXP out = glue_list(2, nm, v);
    UNPROTECT(2);
    return out;
}

// The E-step statistics of Baum-Welch at (theta, chain) over the sequences
// of x (hm_hmm_em_stats): list(hst, mst, status), for the chunked driver
// (R/chunked-fit.R), which sums them over chunks of whole sequences.
SEXP ffi_hmm_em_stats(SEXP kind, SEXP obs, SEXP lat, SEXP theta, SEXP chain, SEXP x, SEXP starts, SEXP lengths,
                      SEXP w, SEXP threads) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    if (hm_mix_classes(h) < 2) {
        internal_error(__func__, "`kind` must be a mixture (the emission)");
    }
    const int dim = hm_hm_dim(h), S = hm_mix_classes(h);
    const double *th = glue_real_finite(theta, dim, "theta", __func__);
    const double *ch = glue_real_finite(chain, (R_xlen_t)S + (R_xlen_t)S * S, "chain", __func__);
    const int d = m.obs.f.d;
    int n = glue_obs_data(x, &m.obs.f, 1, 1, "x", __func__);
    hm_seqs sq = seqs_from(starts, lengths, w, n, __func__);
    int nt = glue_threads(threads, __func__);
    hm_data data = {REAL(x), n, n, NULL};
    hm_data od;
    int *orow = observed_rows(REAL(x), n, d, &sq, &od, __func__);
    double *work = glue_scratch(hm_hmm_em_work_len(h, &sq, orow ? od.n : 0, nt));
    SEXP hst = PROTECT(Rf_allocVector(REALSXP, hm_hmm_stats_len(S)));
    SEXP mst = PROTECT(Rf_allocVector(REALSXP, hm_stats_len(h)));
    hm_status st = hm_hmm_em_stats(h, th, ch, ch + S, &data, &sq, &od, orow, nt, REAL(hst), REAL(mst), work);
    const char *nm[] = {"hst", "mst", "status"};
    SEXP v[3] = {hst, mst, PROTECT(glue_status(st))};
    SEXP out = glue_list(3, nm, v);
    UNPROTECT(3);
    return out;
}

// Baum-Welch's update from summed statistics (hm_hmm_em_update): chain =
// c(init, row-major trans) before the update, mode the initial mode.
SEXP ffi_hmm_em_update(SEXP kind, SEXP obs, SEXP lat, SEXP hst, SEXP mst, SEXP chain, SEXP mode, SEXP ctrl) {
    glue_model m;
    glue_model_from(kind, obs, lat, &m, __func__);
    const hm_harmonium *h = &m.h;
    if (hm_mix_classes(h) < 2) {
        internal_error(__func__, "`kind` must be a mixture (the emission)");
    }
    const int dim = hm_hm_dim(h), S = hm_mix_classes(h);
    const size_t ss = (size_t)S * (size_t)S;
    const double *hs = glue_real(hst, hm_hmm_stats_len(S), "hst", __func__);
    const double *ms = glue_real(mst, hm_stats_len(h), "mst", __func__);
    const double *ch = glue_real_finite(chain, (R_xlen_t)S + (R_xlen_t)ss, "chain", __func__);
    const int md = glue_int_in(mode, -1000000, 1000000, "mode", __func__);
    hm_ctrl ctl = glue_ctrl_from(ctrl, __func__);
    SEXP th = PROTECT(Rf_allocVector(REALSXP, dim));
    SEXP chs = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)S + (R_xlen_t)ss));
    double *work = glue_scratch(hm_hmm_em_update_work_len(h));
    int bad = -1;
    hm_status st = hm_hmm_em_update(h, hs, ms, ch, ch + S, md, &ctl, REAL(th), REAL(chs), REAL(chs) + S, &bad, work);
    const char *nm[] = {"theta", "chain", "status", "bad"};
    SEXP v[4] = {th, chs, PROTECT(glue_status(st)), PROTECT(Rf_ScalarInteger(bad))};
    SEXP out = glue_list(4, nm, v);
    UNPROTECT(4);
    return out;
}
