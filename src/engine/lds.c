/*
 * lds.c: the linear dynamical system (theory.md 5.7) -- Kalman filter and
 * Rauch-Tung-Striebel smoother in covariance form. Prediction is the
 * transposed linear-Gaussian kernel (x' = A x + b, P' = A P A' + Q); the
 * update is the linear-Gaussian posterior, computed through the Cholesky
 * factor of the innovation covariance S = C P C' + R, so no explicit inverse
 * is formed. Observations are p x T column-major; a column that is entirely
 * NaN (NA) skips the update (the state is still predicted); partially
 * missing columns are refused (HM_EDOM) rather than silently mishandled.
 * Convention (theory.md 5.1): mu1/P1 is the state at the first time step.
 */
#include <math.h>
#include <string.h>

#include "hm_engine.h"
#include "linalg.h"

size_t hm_lds_work_size(int p, int q) {
    const size_t P = (size_t)p, Q = (size_t)q;
    return 2 * P * P + 2 * P + 2 * P * Q + 3 * Q * Q;
}

static void symmetrize(int ni, double *a) {
    const size_t n = (size_t)ni;
    for (size_t j = 0; j < n; j++) {
        for (size_t i = j + 1; i < n; i++) {
            const double m = 0.5 * (a[i + (size_t)j * n] + a[j + (size_t)i * n]);
            a[i + (size_t)j * n] = m;
            a[j + (size_t)i * n] = m;
        }
    }
}

/* 0 = observed, 1 = wholly missing, -1 = partially missing. */
static int column_missing(int p, const double *y) {
    int nmiss = 0;
    for (int i = 0; i < p; i++) {
        nmiss += isnan(y[i]) ? 1 : 0;
    }
    return nmiss == 0 ? 0 : (nmiss == p ? 1 : -1);
}

hm_status hm_lds_filter(const hm_lds_params *m,
                        size_t n_time,
                        const double *y,
                        double *xp,
                        double *pp,
                        double *xf,
                        double *pf,
                        double *loglik,
                        double *work) {
    const int p = m->p, q = m->q;
    const size_t uq = (size_t)q, qq = uq * uq, up = (size_t)p;
    double *s = work;                       /* p x p innovation covariance, then its factor */
    double *v = s + up * up;                /* p innovation */
    double *u = v + up;                     /* p: S^-1 v */
    double *mc = u + up;                    /* q x p: P C' */
    double *w = mc + uq * up;               /* p x q: S^-1 C P */
    double *tmp = w + up * uq;              /* q x q */
    hm_status st = HM_OK;
    double ll = 0.0;
    const double log2pi = 1.8378770664093454836;
    for (size_t t = 0; t < n_time; t++) {
        double *xpt = xp + t * uq, *ppt = pp + t * qq, *xft = xf + t * uq, *pft = pf + t * qq;
        if (t == 0) {
            memcpy(xpt, m->mu1, (size_t)q * sizeof(double));
            memcpy(ppt, m->p1, qq * sizeof(double));
        } else {
            /* prediction by the transition kernel */
            memcpy(xpt, m->b, (size_t)q * sizeof(double));
            if ((st = hm_la_gemm('N', 'N', q, 1, q, 1.0, m->a, q, xf + (t - 1) * uq, q, 1.0, xpt, q)) != HM_OK ||
                (st = hm_la_gemm('N', 'N', q, q, q, 1.0, m->a, q, pf + (t - 1) * qq, q, 0.0, tmp, q)) != HM_OK) {
                return st;
            }
            memcpy(ppt, m->qcov, qq * sizeof(double));
            if ((st = hm_la_gemm('N', 'T', q, q, q, 1.0, tmp, q, m->a, q, 1.0, ppt, q)) != HM_OK) {
                return st;
            }
            symmetrize(q, ppt);
        }
        const double *yt = y + t * (size_t)p;
        const int miss = column_missing(p, yt);
        if (miss < 0) {
            return HM_EDOM;
        }
        memcpy(xft, xpt, (size_t)q * sizeof(double));
        memcpy(pft, ppt, qq * sizeof(double));
        if (miss) {
            continue;
        }
        /* update: v = y - C x - d, M = P C', S = C M + R */
        for (int i = 0; i < p; i++) {
            v[i] = yt[i] - m->d[i];
        }
        if ((st = hm_la_gemm('N', 'N', p, 1, q, -1.0, m->c, p, xpt, q, 1.0, v, p)) != HM_OK ||
            (st = hm_la_gemm('N', 'T', q, p, q, 1.0, ppt, q, m->c, p, 0.0, mc, q)) != HM_OK) {
            return st;
        }
        memcpy(s, m->r, up * up * sizeof(double));
        if ((st = hm_la_gemm('N', 'N', p, p, q, 1.0, m->c, p, mc, q, 1.0, s, p)) != HM_OK) {
            return st;
        }
        symmetrize(p, s);
        if ((st = hm_la_chol(p, s)) != HM_OK) {
            return st;
        }
        const double logdet = hm_la_chol_logdet(p, s);
        /* w = M' (p x q), solved in place to S^-1 C P */
        for (size_t i = 0; i < up; i++) {
            for (size_t j = 0; j < uq; j++) {
                w[i + j * up] = mc[j + i * uq];
            }
        }
        memcpy(u, v, (size_t)p * sizeof(double));
        if ((st = hm_la_chol_solve(p, 1, s, u)) != HM_OK) {
            return st;
        }
        double quad = 0.0;
        for (int i = 0; i < p; i++) {
            quad += v[i] * u[i];
        }
        if ((st = hm_la_chol_solve(p, q, s, w)) != HM_OK) {
            return st;
        }
        ll -= 0.5 * ((double)p * log2pi + logdet + quad);
        /* x_f = x_p + M S^-1 v; P_f = P_p - M S^-1 M' */
        if ((st = hm_la_gemm('N', 'N', q, 1, p, 1.0, mc, q, u, p, 1.0, xft, q)) != HM_OK ||
            (st = hm_la_gemm('N', 'N', q, q, p, -1.0, mc, q, w, p, 1.0, pft, q)) != HM_OK) {
            return st;
        }
        symmetrize(q, pft);
    }
    *loglik = ll;
    return HM_OK;
}

hm_status hm_lds_smooth(const hm_lds_params *m,
                        size_t n_time,
                        const double *xp,
                        const double *pp,
                        const double *xf,
                        const double *pf,
                        double *xs,
                        double *ps,
                        double *pcross,
                        double *work) {
    const int q = m->q;
    const size_t uq = (size_t)q, qq = uq * uq;
    double *l = work, *jt = l + qq, *dif = jt + qq;
    hm_status st;
    memcpy(xs + (n_time - 1) * uq, xf + (n_time - 1) * uq, (size_t)q * sizeof(double));
    memcpy(ps + (n_time - 1) * qq, pf + (n_time - 1) * qq, qq * sizeof(double));
    for (size_t t = n_time - 1; t-- > 0;) {
        /* J' = P_p(t+1)^-1 A P_f(t), from the Cholesky factor of the predicted covariance */
        memcpy(l, pp + (t + 1) * qq, qq * sizeof(double));
        if ((st = hm_la_chol(q, l)) != HM_OK ||
            (st = hm_la_gemm('N', 'N', q, q, q, 1.0, m->a, q, pf + t * qq, q, 0.0, jt, q)) != HM_OK ||
            (st = hm_la_chol_solve(q, q, l, jt)) != HM_OK) {
            return st;
        }
        double *xst = xs + t * uq, *pst = ps + t * qq;
        memcpy(xst, xf + t * uq, (size_t)q * sizeof(double));
        for (int i = 0; i < q; i++) {
            dif[i] = xs[(t + 1) * uq + (size_t)i] - xp[(t + 1) * uq + (size_t)i];
        }
        if ((st = hm_la_gemm('T', 'N', q, 1, q, 1.0, jt, q, dif, q, 1.0, xst, q)) != HM_OK) {
            return st;
        }
        /* P_s(t) = P_f + J (P_s(t+1) - P_p(t+1)) J' */
        for (size_t k = 0; k < qq; k++) {
            l[k] = ps[(t + 1) * qq + k] - pp[(t + 1) * qq + k];
        }
        memcpy(pst, pf + t * qq, qq * sizeof(double));
        double *tmp = dif + q;
        if ((st = hm_la_gemm('T', 'N', q, q, q, 1.0, jt, q, l, q, 0.0, tmp, q)) != HM_OK ||
            (st = hm_la_gemm('N', 'N', q, q, q, 1.0, tmp, q, jt, q, 1.0, pst, q)) != HM_OK) {
            return st;
        }
        symmetrize(q, pst);
        /* Cov(z_{t+1}, z_t) = P_s(t+1) J' */
        if (pcross != NULL &&
            (st = hm_la_gemm('N', 'N', q, q, q, 1.0, ps + (t + 1) * qq, q, jt, q, 0.0, pcross + t * qq, q)) != HM_OK) {
            return st;
        }
    }
    return HM_OK;
}
