/*
 * lds.c: the linear dynamical system (theory.md 5.7) -- Kalman filter,
 * Rauch-Tung-Striebel smoother and the Shumway-Stoffer EM statistics, over
 * many sequences at once.
 *
 * Prediction is the transposed linear-Gaussian kernel (x' = A x + b,
 * P' = A P A' + Q); the update is the linear-Gaussian posterior computed
 * through the Cholesky factor of the innovation covariance S = C P C' + R of
 * the OBSERVED elements of y_t only (rows of C, d and the block of R that
 * belong to them), so no explicit inverse is formed and a partially missing
 * observation is used exactly. A column with no observed element skips the
 * update (the state is still predicted). Convention (theory.md 5.1): mu1/P1
 * is the state at the first time step, so the filter starts with an update.
 *
 * Memory: the filter keeps only the filtered moments of a sequence (q + q^2
 * per time point); the backward pass recomputes each prediction from them
 * with the same code path (so bit-identically) and overwrites them in place
 * with the smoothed moments, accumulating the EM statistics as it goes. The
 * lag-one cross covariance is never stored unless asked for.
 *
 * Threads run over sequences (style.md 3.9): each sequence's statistics go
 * into its own slot, reduced in sequence order in rounds of a fixed number of
 * sequences, so the sums do not depend on the thread count.
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "linalg.h"
#include "threads.h"

/* Sequences per reduction round: fixed, never derived from the thread count. */
#define LDS_ROUND 64

// --- the statistics layout -----------------------------------------------------

typedef struct lds_layout {
    size_t z1, z1z1, zp, zzp, zn, zzn, cross, zo, zzo, yo, yzo, yyo, len;
} lds_layout;

static lds_layout lds_layout_of(int p, int q) {
    const size_t P = (size_t)p, Q = (size_t)q;
    lds_layout l;
    l.z1 = 4;
    l.z1z1 = l.z1 + Q;
    l.zp = l.z1z1 + Q * Q;
    l.zzp = l.zp + Q;
    l.zn = l.zzp + Q * Q;
    l.zzn = l.zn + Q;
    l.cross = l.zzn + Q * Q;
    l.zo = l.cross + Q * Q;
    l.zzo = l.zo + Q;
    l.yo = l.zzo + Q * Q;
    l.yzo = l.yo + P;
    l.yyo = l.yzo + P * Q;
    l.len = l.yyo + P * P;
    return l;
}

size_t hm_lds_stats_len(int p, int q) {
    return lds_layout_of(p, q).len;
}

/* Doubles of per-thread scratch for one time step (filter or smoother). */
static size_t step_len(int p, int q) {
    const size_t P = (size_t)p, Q = (size_t)q;
    return 8 * P * P + 6 * P * Q + 12 * Q * Q + 8 * P + 8 * Q;
}

size_t hm_lds_estep_work_size(int p, int q, size_t t_max, int threads) {
    const size_t Q = (size_t)q;
    const size_t nt = (size_t)(threads < 1 ? 1 : threads);
    const size_t per_thread = t_max * (Q + Q * Q) + step_len(p, q);
    return nt * per_thread + (size_t)LDS_ROUND * (hm_lds_stats_len(p, q) + 2);
}

// --- small helpers -----------------------------------------------------------------

static void symmetrize(int ni, double *a) {
    const size_t n = (size_t)ni;
    for (size_t j = 0; j < n; j++) {
        for (size_t i = j + 1; i < n; i++) {
            const double m = 0.5 * (a[i + j * n] + a[j + i * n]);
            a[i + j * n] = m;
            a[j + i * n] = m;
        }
    }
}

static int count_observed(int p, const double *y) {
    int po = 0;
    for (int i = 0; i < p; i++) {
        po += isnan(y[i]) ? 0 : 1;
    }
    return po;
}

/* The rows of the p x q column-major a that `y` observes (keep = 1) or misses
 * (keep = 0), into out (n_out x q). */
static void gather_rows(int p, int q, const double *a, const double *y, int keep, int n_out, double *out) {
    for (int j = 0; j < q; j++) {
        int k = 0;
        for (int i = 0; i < p; i++) {
            if ((isnan(y[i]) ? 0 : 1) == keep) {
                out[(size_t)k + (size_t)j * (size_t)n_out] = a[(size_t)i + (size_t)j * (size_t)p];
                k++;
            }
        }
    }
}

/* The block R[rows, cols] of the p x p r, rows observed if ro = 1 (missing if
 * 0), columns likewise by co, into out (leading dimension nr). */
static void gather_block(int p, const double *r, const double *y, int ro, int co, int nr, double *out) {
    int kj = 0;
    for (int j = 0; j < p; j++) {
        if ((isnan(y[j]) ? 0 : 1) != co) {
            continue;
        }
        int ki = 0;
        for (int i = 0; i < p; i++) {
            if ((isnan(y[i]) ? 0 : 1) == ro) {
                out[(size_t)ki + (size_t)kj * (size_t)nr] = r[(size_t)i + (size_t)j * (size_t)p];
                ki++;
            }
        }
        kj++;
    }
}

/* Prediction through the transition kernel: xo = A x + b, ap = A P (kept for
 * the smoother's gain), po = ap A' + Q. The filter and the smoother's
 * recomputation both go through here, so they agree bit for bit. */
static hm_status predict(const hm_lds_params *m, const double *x, const double *pm, double *xo, double *po,
                         double *ap) {
    const int q = m->q;
    const size_t qq = (size_t)q * (size_t)q;
    hm_status st;
    memcpy(xo, m->b, (size_t)q * sizeof(double));
    if ((st = hm_la_gemm('N', 'N', q, 1, q, 1.0, m->a, q, x, q, 1.0, xo, q)) != HM_OK ||
        (st = hm_la_gemm('N', 'N', q, q, q, 1.0, m->a, q, pm, q, 0.0, ap, q)) != HM_OK) {
        return st;
    }
    memcpy(po, m->qcov, qq * sizeof(double));
    if ((st = hm_la_gemm('N', 'T', q, q, q, 1.0, ap, q, m->a, q, 1.0, po, q)) != HM_OK) {
        return st;
    }
    symmetrize(q, po);
    return HM_OK;
}

// --- one sequence: filter ------------------------------------------------------------

/* Kalman filter over one sequence y (p x n, NaN = missing element). Writes the
 * filtered moments into xf (q x n) and pf (q^2 x n), optionally the predicted
 * ones into xp/pp, and the log-likelihood into *ll. s is step scratch. */
static hm_status seq_filter(const hm_lds_params *m, size_t n, const double *y, double *xf, double *pf,
                            double *xp, double *pp, double *ll, double *s) {
    const int p = m->p, q = m->q;
    const size_t up = (size_t)p, uq = (size_t)q, qq = uq * uq;
    double *sm = s;              /* p x p innovation covariance, then its factor */
    double *v = sm + up * up;    /* p innovation */
    double *u = v + up;          /* p: S^-1 v */
    double *mc = u + up;         /* q x p: P C_o' */
    double *w = mc + uq * up;    /* p x q: S^-1 C_o P */
    double *co = w + up * uq;    /* p x q: observed rows of C */
    double *ro = co + up * uq;   /* p x p: observed block of R */
    double *dd = ro + up * up;   /* p: observed d */
    double *yo = dd + up;        /* p: observed y */
    double *xpb = yo + up;       /* q predicted mean */
    double *ppb = xpb + uq;      /* q x q predicted covariance */
    double *ap = ppb + qq;       /* q x q: A P */
    const double log2pi = 1.8378770664093454836;
    double total = 0.0;
    hm_status st;
    for (size_t t = 0; t < n; t++) {
        if (t == 0) {
            memcpy(xpb, m->mu1, uq * sizeof(double));
            memcpy(ppb, m->p1, qq * sizeof(double));
        } else if ((st = predict(m, xf + (t - 1) * uq, pf + (t - 1) * qq, xpb, ppb, ap)) != HM_OK) {
            return st;
        }
        if (xp != NULL) {
            memcpy(xp + t * uq, xpb, uq * sizeof(double));
        }
        if (pp != NULL) {
            memcpy(pp + t * qq, ppb, qq * sizeof(double));
        }
        double *xft = xf + t * uq, *pft = pf + t * qq;
        memcpy(xft, xpb, uq * sizeof(double));
        memcpy(pft, ppb, qq * sizeof(double));
        const double *yt = y + t * up;
        const int no = count_observed(p, yt);
        if (no == 0) {
            continue;
        }
        const double *cz = m->c, *dz = m->d, *rz = m->r, *yz = yt;
        if (no < p) {
            /* Only the observed rows enter the update (exact marginal of y_o). */
            gather_rows(p, q, m->c, yt, 1, no, co);
            gather_rows(p, 1, m->d, yt, 1, no, dd);
            gather_rows(p, 1, yt, yt, 1, no, yo);
            gather_block(p, m->r, yt, 1, 1, no, ro);
            cz = co;
            dz = dd;
            rz = ro;
            yz = yo;
        }
        const size_t un = (size_t)no;
        /* v = y_o - C_o x - d_o, M = P C_o', S = C_o M + R_oo */
        for (size_t i = 0; i < un; i++) {
            v[i] = yz[i] - dz[i];
        }
        if ((st = hm_la_gemm('N', 'N', no, 1, q, -1.0, cz, no, xpb, q, 1.0, v, no)) != HM_OK ||
            (st = hm_la_gemm('N', 'T', q, no, q, 1.0, ppb, q, cz, no, 0.0, mc, q)) != HM_OK) {
            return st;
        }
        memcpy(sm, rz, un * un * sizeof(double));
        if ((st = hm_la_gemm('N', 'N', no, no, q, 1.0, cz, no, mc, q, 1.0, sm, no)) != HM_OK) {
            return st;
        }
        symmetrize(no, sm);
        if ((st = hm_la_chol(no, sm)) != HM_OK) {
            return st;
        }
        const double logdet = hm_la_chol_logdet(no, sm);
        for (size_t i = 0; i < un; i++) {
            for (size_t j = 0; j < uq; j++) {
                w[i + j * un] = mc[j + i * uq];
            }
        }
        memcpy(u, v, un * sizeof(double));
        if ((st = hm_la_chol_solve(no, 1, sm, u)) != HM_OK || (st = hm_la_chol_solve(no, q, sm, w)) != HM_OK) {
            return st;
        }
        double quad = 0.0;
        for (size_t i = 0; i < un; i++) {
            quad += v[i] * u[i];
        }
        total -= 0.5 * ((double)no * log2pi + logdet + quad);
        /* x_f = x_p + M S^-1 v; P_f = P_p - M S^-1 M' */
        if ((st = hm_la_gemm('N', 'N', q, 1, no, 1.0, mc, q, u, no, 1.0, xft, q)) != HM_OK ||
            (st = hm_la_gemm('N', 'N', q, q, no, -1.0, mc, q, w, no, 1.0, pft, q)) != HM_OK) {
            return st;
        }
        symmetrize(q, pft);
    }
    *ll = total;
    return HM_OK;
}

// --- one sequence: smoother and statistics -----------------------------------------

/* Adds wt * (the moments of time t) to the statistics slot: z_t's smoothed mean
 * x and second moment ezz, and, for an observed t, the expected observation
 * moments. For partially observed y_t the missing elements are replaced by
 * their conditional law given z_t and the observed elements (Shumway and
 * Stoffer 1982; Holmes 2012): y_m = C_m z + d_m + X'(y_o - C_o z - d_o) + e,
 * X = R_oo^-1 R_om, Var(e) = R_mm - R_mo X, which gives E[y], E[y z'] and
 * E[y y'] under the smoothed law of z_t. */
static hm_status add_moments(const hm_lds_params *m, const lds_layout *lo, size_t t, size_t n, const double *yt,
                             const double *x, const double *pm, double wt, double *slot, double *s) {
    const int p = m->p, q = m->q;
    const size_t up = (size_t)p, uq = (size_t)q, qq = uq * uq;
    double *ezz = s;                /* q x q */
    double *ey = ezz + qq;          /* p */
    double *eyz = ey + up;          /* p x q */
    double *eyy = eyz + up * uq;    /* p x p */
    double *roo = eyy + up * up;    /* po x po, then its factor */
    double *xs = roo + up * up;     /* po x pm: R_oo^-1 R_om */
    double *rmm = xs + up * up;     /* pm x pm */
    double *co = rmm + up * up;     /* po x q, later pm x po */
    double *bm = co + up * (up + uq); /* pm x q: C_m - X' C_o */
    double *bp = bm + up * uq;      /* pm x q: B_m P */
    double *res = bp + up * uq;     /* po residual */
    double *eym = res + up;         /* pm */
    hm_status st;
    for (size_t j = 0; j < uq; j++) {
        for (size_t i = 0; i < uq; i++) {
            ezz[i + j * uq] = pm[i + j * uq] + x[i] * x[j];
        }
    }
    if (t == 0) {
        for (size_t i = 0; i < uq; i++) {
            slot[lo->z1 + i] += wt * x[i];
        }
        for (size_t k = 0; k < qq; k++) {
            slot[lo->z1z1 + k] += wt * ezz[k];
        }
    }
    if (t + 1 < n) {
        for (size_t i = 0; i < uq; i++) {
            slot[lo->zp + i] += wt * x[i];
        }
        for (size_t k = 0; k < qq; k++) {
            slot[lo->zzp + k] += wt * ezz[k];
        }
    }
    if (t > 0) {
        for (size_t i = 0; i < uq; i++) {
            slot[lo->zn + i] += wt * x[i];
        }
        for (size_t k = 0; k < qq; k++) {
            slot[lo->zzn + k] += wt * ezz[k];
        }
    }
    const int no = count_observed(p, yt);
    if (no == 0) {
        return HM_OK;
    }
    slot[3] += wt;
    for (size_t i = 0; i < uq; i++) {
        slot[lo->zo + i] += wt * x[i];
    }
    for (size_t k = 0; k < qq; k++) {
        slot[lo->zzo + k] += wt * ezz[k];
    }
    if (no == p) {
        for (size_t i = 0; i < up; i++) {
            slot[lo->yo + i] += wt * yt[i];
        }
        for (size_t j = 0; j < uq; j++) {
            const double wx = wt * x[j];
            for (size_t i = 0; i < up; i++) {
                slot[lo->yzo + i + j * up] += yt[i] * wx;
            }
        }
        for (size_t j = 0; j < up; j++) {
            const double wy = wt * yt[j];
            for (size_t i = 0; i < up; i++) {
                slot[lo->yyo + i + j * up] += yt[i] * wy;
            }
        }
        return HM_OK;
    }
    const int nm = p - no;
    const size_t un = (size_t)no, um = (size_t)nm;
    gather_block(p, m->r, yt, 1, 1, no, roo);
    gather_block(p, m->r, yt, 1, 0, no, xs);
    gather_block(p, m->r, yt, 0, 0, nm, rmm);
    gather_rows(p, q, m->c, yt, 1, no, co);
    gather_rows(p, q, m->c, yt, 0, nm, bm);
    if ((st = hm_la_chol(no, roo)) != HM_OK || (st = hm_la_chol_solve(no, nm, roo, xs)) != HM_OK) {
        return st;
    }
    /* residual of the observed elements at the smoothed mean */
    {
        size_t k = 0;
        for (size_t i = 0; i < up; i++) {
            if (!isnan(yt[i])) {
                res[k++] = yt[i] - m->d[i];
            }
        }
    }
    if ((st = hm_la_gemm('N', 'N', no, 1, q, -1.0, co, no, x, q, 1.0, res, no)) != HM_OK) {
        return st;
    }
    /* E[y_m] = C_m x + d_m + X' res */
    {
        size_t k = 0;
        for (size_t i = 0; i < up; i++) {
            if (isnan(yt[i])) {
                eym[k++] = m->d[i];
            }
        }
    }
    if ((st = hm_la_gemm('N', 'N', nm, 1, q, 1.0, bm, nm, x, q, 1.0, eym, nm)) != HM_OK ||
        (st = hm_la_gemm('T', 'N', nm, 1, no, 1.0, xs, no, res, no, 1.0, eym, nm)) != HM_OK ||
        /* B_m = C_m - X' C_o; Var(e) = R_mm - R_mo X */
        (st = hm_la_gemm('T', 'N', nm, q, no, -1.0, xs, no, co, no, 1.0, bm, nm)) != HM_OK) {
        return st;
    }
    gather_block(p, m->r, yt, 0, 1, nm, co); /* co now holds R_mo (pm x po) */
    if ((st = hm_la_gemm('N', 'N', nm, nm, no, -1.0, co, nm, xs, no, 1.0, rmm, nm)) != HM_OK ||
        (st = hm_la_gemm('N', 'N', nm, q, q, 1.0, bm, nm, pm, q, 0.0, bp, nm)) != HM_OK ||
        /* rmm += B_m P B_m' */
        (st = hm_la_gemm('N', 'T', nm, nm, q, 1.0, bp, nm, bm, nm, 1.0, rmm, nm)) != HM_OK) {
        return st;
    }
    {
        size_t k = 0;
        for (size_t i = 0; i < up; i++) {
            ey[i] = isnan(yt[i]) ? eym[k++] : yt[i];
        }
    }
    for (size_t j = 0; j < uq; j++) {
        for (size_t i = 0; i < up; i++) {
            eyz[i + j * up] = ey[i] * x[j];
        }
    }
    for (size_t j = 0; j < up; j++) {
        for (size_t i = 0; i < up; i++) {
            eyy[i + j * up] = ey[i] * ey[j];
        }
    }
    /* the missing rows: E[y_m z'] += B_m P; E[y_m y_m'] += B_m P B_m' + Var(e) */
    {
        size_t ki = 0;
        for (size_t i = 0; i < up; i++) {
            if (!isnan(yt[i])) {
                continue;
            }
            for (size_t j = 0; j < uq; j++) {
                eyz[i + j * up] += bp[ki + j * um];
            }
            size_t kj = 0;
            for (size_t j = 0; j < up; j++) {
                if (isnan(yt[j])) {
                    eyy[i + j * up] += rmm[ki + kj * um];
                    kj++;
                }
            }
            ki++;
        }
    }
    (void)un;
    for (size_t i = 0; i < up; i++) {
        slot[lo->yo + i] += wt * ey[i];
    }
    for (size_t k = 0; k < up * uq; k++) {
        slot[lo->yzo + k] += wt * eyz[k];
    }
    for (size_t k = 0; k < up * up; k++) {
        slot[lo->yyo + k] += wt * eyy[k];
    }
    return HM_OK;
}

/* RTS smoother over one sequence, in place: xs/ps hold the filtered moments
 * on entry and the smoothed ones on return. Adds wt times the sequence's EM
 * statistics to slot (if not NULL) and writes Cov(z_t, z_{t-1} | y) into pc
 * (q^2 x n, slot 0 zero) if pc is not NULL. */
static hm_status seq_smooth(const hm_lds_params *m, const lds_layout *lo, size_t n, const double *y, double *xs,
                            double *ps, double *pc, double wt, double *slot, double *s) {
    const int p = m->p, q = m->q;
    const size_t up = (size_t)p, uq = (size_t)q, qq = uq * uq;
    double *l = s;            /* q x q: factor of the next prediction's covariance */
    double *jt = l + qq;      /* q x q: J' = P_p(t+1)^-1 A P_f(t) */
    double *ap = jt + qq;     /* q x q */
    double *ppn = ap + qq;    /* q x q */
    double *dm = ppn + qq;    /* q x q */
    double *tmp = dm + qq;    /* q x q */
    double *cr = tmp + qq;    /* q x q */
    double *xpn = cr + qq;    /* q */
    double *dif = xpn + uq;   /* q */
    double *ms = dif + uq;    /* scratch of add_moments */
    hm_status st;
    const size_t last = n - 1;
    if (slot != NULL &&
        (st = add_moments(m, lo, last, n, y + last * up, xs + last * uq, ps + last * qq, wt, slot, ms)) != HM_OK) {
        return st;
    }
    if (pc != NULL) {
        memset(pc, 0, qq * sizeof(double));
    }
    for (size_t t = last; t-- > 0;) {
        double *xst = xs + t * uq, *pst = ps + t * qq;
        const double *xs1 = xs + (t + 1) * uq, *ps1 = ps + (t + 1) * qq;
        if ((st = predict(m, xst, pst, xpn, ppn, ap)) != HM_OK) {
            return st;
        }
        memcpy(l, ppn, qq * sizeof(double));
        memcpy(jt, ap, qq * sizeof(double));
        if ((st = hm_la_chol(q, l)) != HM_OK || (st = hm_la_chol_solve(q, q, l, jt)) != HM_OK) {
            return st;
        }
        /* x_s(t) = x_f(t) + J (x_s(t+1) - x_p(t+1)) */
        for (size_t i = 0; i < uq; i++) {
            dif[i] = xs1[i] - xpn[i];
        }
        if ((st = hm_la_gemm('T', 'N', q, 1, q, 1.0, jt, q, dif, q, 1.0, xst, q)) != HM_OK) {
            return st;
        }
        /* P_s(t) = P_f(t) + J (P_s(t+1) - P_p(t+1)) J' */
        for (size_t k = 0; k < qq; k++) {
            dm[k] = ps1[k] - ppn[k];
        }
        if ((st = hm_la_gemm('T', 'N', q, q, q, 1.0, jt, q, dm, q, 0.0, tmp, q)) != HM_OK ||
            (st = hm_la_gemm('N', 'N', q, q, q, 1.0, tmp, q, jt, q, 1.0, pst, q)) != HM_OK) {
            return st;
        }
        symmetrize(q, pst);
        /* Cov(z_{t+1}, z_t | y) = P_s(t+1) J' */
        if ((st = hm_la_gemm('N', 'N', q, q, q, 1.0, ps1, q, jt, q, 0.0, cr, q)) != HM_OK) {
            return st;
        }
        if (pc != NULL) {
            memcpy(pc + (t + 1) * qq, cr, qq * sizeof(double));
        }
        if (slot != NULL) {
            for (size_t j = 0; j < uq; j++) {
                for (size_t i = 0; i < uq; i++) {
                    slot[lo->cross + i + j * uq] += wt * (cr[i + j * uq] + xs1[i] * xst[j]);
                }
            }
            if ((st = add_moments(m, lo, t, n, y + t * up, xst, pst, wt, slot, ms)) != HM_OK) {
                return st;
            }
        }
    }
    return HM_OK;
}

// --- the driver over sequences --------------------------------------------------------

typedef struct lds_ctx {
    const hm_lds_params *m;
    const lds_layout *lo;
    const int *len;
    const double *y;
    const double *w;
    const hm_lds_moments *out;
    double *loglik;
    size_t t_max;
    size_t per_thread;
} lds_ctx;

/* One sequence: filter, optional outputs, smoother and statistics. */
static hm_status one_sequence(const lds_ctx *c, int i, size_t off, double *slot, double *tw) {
    const hm_lds_params *m = c->m;
    const size_t uq = (size_t)m->q, qq = uq * uq, up = (size_t)m->p;
    const size_t n = (size_t)c->len[i];
    const hm_lds_moments *o = c->out;
    double *xf = tw, *pf = xf + c->t_max * uq, *s = pf + c->t_max * qq;
    const double *y = c->y + off * up;
    double ll = 0.0;
    hm_status st = seq_filter(m, n, y, xf, pf, o && o->xp ? o->xp + off * uq : NULL,
                              o && o->pp ? o->pp + off * qq : NULL, &ll, s);
    if (st != HM_OK) {
        return st;
    }
    const double wt = c->w ? c->w[i] : 1.0;
    c->loglik[i] = ll;
    if (o && o->xf) {
        memcpy(o->xf + off * uq, xf, n * uq * sizeof(double));
    }
    if (o && o->pf) {
        memcpy(o->pf + off * qq, pf, n * qq * sizeof(double));
    }
    if (slot != NULL) {
        memset(slot, 0, c->lo->len * sizeof(double));
        slot[0] = wt * ll;
        slot[1] = wt;
        slot[2] = wt * (double)(n - 1);
    }
    st = seq_smooth(m, c->lo, n, y, xf, pf, o && o->pc ? o->pc + off * qq : NULL, wt, slot, s);
    if (st != HM_OK) {
        return st;
    }
    if (o && o->xs) {
        memcpy(o->xs + off * uq, xf, n * uq * sizeof(double));
    }
    if (o && o->ps) {
        memcpy(o->ps + off * qq, pf, n * qq * sizeof(double));
    }
    return HM_OK;
}

hm_status hm_lds_estep(const hm_lds_params *m,
                       int n_seq,
                       const int *len,
                       const double *y,
                       const double *w,
                       int threads,
                       double *loglik,
                       double *stats,
                       const hm_lds_moments *out,
                       int *bad,
                       double *work) {
    if (m->p < 1 || m->q < 1 || n_seq < 1) {
        return HM_EINVAL;
    }
    size_t t_max = 0;
    for (int i = 0; i < n_seq; i++) {
        if (len[i] < 1) {
            return HM_EINVAL;
        }
        if ((size_t)len[i] > t_max) {
            t_max = (size_t)len[i];
        }
    }
    const lds_layout lo = lds_layout_of(m->p, m->q);
    const int ntw = threads < 1 ? 1 : threads;
    const int nt = hm_threads(n_seq, ntw);
    const size_t uq = (size_t)m->q;
    const size_t per_thread = t_max * (uq + uq * uq) + step_len(m->p, m->q);
    double *slots = work + (size_t)ntw * per_thread;
    double *sst = slots + (size_t)LDS_ROUND * lo.len;
    lds_ctx ctx = {m, &lo, len, y, w, out, loglik, t_max, per_thread};
    const lds_ctx *cp = &ctx;
    if (stats != NULL) {
        memset(stats, 0, lo.len * sizeof(double));
    }
    *bad = -1;
    size_t off0 = 0;
    for (int i0 = 0; i0 < n_seq; i0 += LDS_ROUND) {
        const int nr = (n_seq - i0 < LDS_ROUND) ? n_seq - i0 : LDS_ROUND;
        size_t offs[LDS_ROUND];
        for (int k = 0; k < nr; k++) {
            offs[k] = off0;
            off0 += (size_t)len[i0 + k];
        }
        const int use_slots = stats != NULL;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1) default(none) \
    shared(cp, offs, slots, sst, work) firstprivate(i0, nr, use_slots)
        for (int k = 0; k < nr; k++) {
            const int tid = omp_get_thread_num();
            double *tw = work + (size_t)tid * cp->per_thread;
            double *slot = use_slots ? slots + (size_t)k * cp->lo->len : NULL;
            sst[k] = (double)one_sequence(cp, i0 + k, offs[k], slot, tw);
        }
        // Reduce in sequence order: the sum is independent of the thread count.
        for (int k = 0; k < nr; k++) {
            if (sst[k] != (double)HM_OK) {
                *bad = i0 + k;
                return (hm_status)(int)sst[k];
            }
            if (stats != NULL) {
                const double *sl = slots + (size_t)k * lo.len;
                for (size_t j = 0; j < lo.len; j++) {
                    stats[j] += sl[j];
                }
            }
        }
    }
    return HM_OK;
}

// --- self-test (selftest.c's table; tools/engine-check runs it under sanitizers) ---

#include <stdio.h>

#include "selftest.h"

static int lds_st_fail(char *msg, size_t msglen, const char *what) {
    snprintf(msg, msglen, "lds: %s", what);
    return 1;
}

int hm_lds_selftest(char *msg, size_t msglen) {
    static double work[4096];
    int bad = -1;
    /* (1) one time point of a scalar model: y ~ N(c mu1 + d, c^2 p1 + r), and the
     * posterior of z_1 in closed form. */
    {
        const double mu1 = 0.4, p1 = 2.385, a = 0.9, b = 0.1, qv = 0.7, c = 1.3, d = -0.2, r = 0.5, y = 1.7;
        const hm_lds_params m = {1, 1, &mu1, &p1, &a, &b, &qv, &c, &d, &r};
        const int len = 1;
        double ll, xs, ps, st[64];
        hm_lds_moments out = {NULL, NULL, NULL, NULL, &xs, &ps, NULL};
        if (hm_lds_estep(&m, 1, &len, &y, NULL, 1, &ll, st, &out, &bad, work) != HM_OK) {
            return lds_st_fail(msg, msglen, "scalar E-step failed");
        }
        const double s = c * c * p1 + r, e = y - c * mu1 - d;
        const double want = -0.5 * (log(2.0 * 3.14159265358979323846 * s) + e * e / s);
        const double kg = p1 * c / s;
        if (fabs(ll - want) > 1e-13 || fabs(xs - (mu1 + kg * e)) > 1e-13 || fabs(ps - (p1 - kg * c * p1)) > 1e-13) {
            return lds_st_fail(msg, msglen, "scalar update differs from the closed form");
        }
    }
    /* (2) a partially missing column of a 2-d observation with diagonal R is the
     * 1-d model of its observed row; (3) threads 1 and 2 agree bit for bit. */
    {
        const double mu1[1] = {0.3}, p1[1] = {1.1}, a[1] = {0.8}, b[1] = {0.0}, qv[1] = {0.6};
        const double c2[2] = {1.2, -0.7}, d2[2] = {0.5, 1.0}, r2[4] = {0.4, 0.0, 0.0, 0.9};
        const double c1[1] = {-0.7}, d1[1] = {1.0}, r1[1] = {0.9};
        const hm_lds_params m2 = {2, 1, mu1, p1, a, b, qv, c2, d2, r2};
        const hm_lds_params m1 = {1, 1, mu1, p1, a, b, qv, c1, d1, r1};
        const double nan = NAN;
        const double y2[6] = {nan, 0.3, nan, -1.2, nan, 2.2};
        const double y1[3] = {0.3, -1.2, 2.2};
        const int len = 3;
        double l2, l1;
        if (hm_lds_estep(&m2, 1, &len, y2, NULL, 1, &l2, NULL, NULL, &bad, work) != HM_OK ||
            hm_lds_estep(&m1, 1, &len, y1, NULL, 1, &l1, NULL, NULL, &bad, work) != HM_OK) {
            return lds_st_fail(msg, msglen, "partially missing E-step failed");
        }
        if (fabs(l2 - l1) > 1e-13 * (1.0 + fabs(l1))) {
            return lds_st_fail(msg, msglen, "a partially missing column is not the model of its observed rows");
        }
        const int lens[5] = {4, 2, 7, 3, 5};
        double y[42], w[5] = {1.0, 0.5, 2.0, 1.5, 0.25}, la[5], lb[5], sa[64], sb[64];
        for (int i = 0; i < 42; i++) {
            y[i] = sin(1.7 * (double)i) + (i % 11 == 3 ? nan : 0.0);
        }
        if (hm_lds_stats_len(2, 1) > 64) {
            return lds_st_fail(msg, msglen, "statistics longer than the test's buffer");
        }
        if (hm_lds_estep(&m2, 5, lens, y, w, 1, la, sa, NULL, &bad, work) != HM_OK ||
            hm_lds_estep(&m2, 5, lens, y, w, 2, lb, sb, NULL, &bad, work) != HM_OK) {
            return lds_st_fail(msg, msglen, "multi-sequence E-step failed");
        }
        if (memcmp(sa, sb, hm_lds_stats_len(2, 1) * sizeof(double)) != 0 || memcmp(la, lb, sizeof la) != 0) {
            return lds_st_fail(msg, msglen, "threads 1 and 2 differ");
        }
    }
    /* (4) a singular innovation covariance is a status, with the sequence. */
    {
        const double z = 0.0, one = 1.0, y[3] = {1.0, 2.0, 3.0};
        const hm_lds_params m = {1, 1, &z, &one, &one, &z, &one, &z, &z, &z};
        const int lens[2] = {1, 2};
        double ll[2];
        if (hm_lds_estep(&m, 2, lens, y, NULL, 1, ll, NULL, NULL, &bad, work) != HM_ENOTPD || bad != 0) {
            return lds_st_fail(msg, msglen, "a singular innovation covariance was not reported");
        }
    }
    return 0;
}
