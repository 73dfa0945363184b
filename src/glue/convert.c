/*
 * convert.c: SEXP -> engine views and engine results -> named R lists.
 */
#include <stdarg.h>
#include <stdio.h>
#include <Rmath.h>

#include "convert.h"
#include <R_ext/GraphicsEngine.h> /* includes GraphicsDevice.h: R_interrupts_pending, _suspended */

void internal_error(const char *fn, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    Rf_error("harmonium internal error in %s: %s; this should have been caught in R, please report", fn,
             buf); // # nocov
}

const double *glue_real(SEXP x, R_xlen_t len, const char *what, const char *fn) {
    if (TYPEOF(x) != REALSXP) {
        internal_error(fn, "`%s` must be a double vector", what); // # nocov
    }
    if (len >= 0 && XLENGTH(x) != len) {
        internal_error(fn, "`%s` has length %lld, expected %lld", what, (long long)XLENGTH(x),
                       (long long)len); // # nocov
    }
    return REAL(x);
}

int glue_matrix(SEXP x, int cols, const char *what, const char *fn) {
    if (TYPEOF(x) != REALSXP || !Rf_isMatrix(x)) {
        internal_error(fn, "`%s` must be a double matrix", what); // # nocov
    }
    if (Rf_ncols(x) != cols) {
        internal_error(fn, "`%s` has %d columns, expected %d", what, Rf_ncols(x), cols); // # nocov
    }
    return Rf_nrows(x);
}

int glue_int1(SEXP x, const char *what, const char *fn) {
    if (TYPEOF(x) != INTSXP || XLENGTH(x) != 1 || INTEGER(x)[0] == NA_INTEGER) {
        internal_error(fn, "`%s` must be one integer", what); // # nocov
    }
    return INTEGER(x)[0];
}

void glue_family_from(SEXP spec, glue_family *g, const char *fn) {
    if (TYPEOF(spec) != INTSXP) {
        internal_error(fn, "family spec must be an integer vector"); // # nocov
    }
    hm_status st = hm_family_from_spec(INTEGER(spec), (int)XLENGTH(spec), &g->f, g->sub, HM_FAM_MAX_SUB);
    if (st != HM_OK) {
        internal_error(fn, "malformed family spec"); // # nocov
    }
}

/*
 * A hierarchy of `depth` levels from its parts: fam[0] = obs, fam[1] =
 * top_lat (lat, or hmog_diag's full Normal),
 * fam[2..depth] = deep[0..]; at the bottom a K-component mixture of
 * fam[depth]; level d is the HMoG kind over fam[d] with the linear-Gaussian
 * harmonium of fam[d] and fam[d+1] as its coupling and level d+1 (or the
 * mixture) as its latent model. `out` is the top level.
 */
static hm_status hier_from(glue_model *m, int depth, int K, const hm_family *top_lat, hm_harmonium *out) {
    const hm_family *fam[GLUE_MAX_DEPTH + 1];
    fam[0] = &m->obs.f;
    fam[1] = top_lat;
    for (int d = 2; d <= depth; d++) {
        fam[d] = &m->deep[d - 2];
    }
    hm_status st = hm_family_init(&m->cat, HM_FAM_CATEGORICAL, K, 0, 0);
    if (st == HM_OK) {
        st = hm_hm_init(&m->part[0], HM_HM_MIXTURE, fam[depth], &m->cat);
    }
    const hm_harmonium *below = &m->part[0];
    for (int d = depth - 1; d >= 0 && st == HM_OK; d--) {
        hm_harmonium *lgm = &m->part[1 + 2 * (depth - 1 - d)];
        hm_harmonium *lev = d == 0 ? out : &m->part[2 + 2 * (depth - 1 - d)];
        st = hm_hm_init(lgm, HM_HM_LGM, fam[d], fam[d + 1]);
        if (st == HM_OK) {
            st = hm_hm_init_hmog(lev, fam[d], below, lgm);
        }
        below = lev;
    }
    return st;
}

// Leading HM_HM_HMOG entries of kv (the depth of a hierarchy spec).
static int hier_depth(const int *kv, int nk) {
    int d = 0;
    while (d < nk && kv[d] == HM_HM_HMOG) {
        d++;
    }
    return d;
}

// HMoG with a diagonal posterior: lat is the diagonal Normal(q); the
// symmetric hierarchy over the full Normal(q) (part[2], built from parts
// 0 and 1) and the posterior mixture of diagonal Normals (part[3]).
static hm_status hmog_diag_from(glue_model *m, int K) {
    hm_status st = hm_family_init(&m->full, HM_FAM_NORMAL, m->lat.f.n, HM_COV_FULL, 0);
    if (st == HM_OK) {
        st = hier_from(m, 1, K, &m->full, &m->part[2]);
    }
    if (st == HM_OK) {
        st = hm_hm_init(&m->part[3], HM_HM_MIXTURE, &m->lat.f, &m->cat);
    }
    if (st == HM_OK) {
        st = hm_hm_init_hmog_diag(&m->h, &m->obs.f, &m->part[3], &m->part[2]);
    }
    return st;
}

/*
 * kind is (kind) for a single harmonium; (HM_HM_HMOG x depth, K) for a
 * hierarchy of `depth` levels over a K-component mixture; (HM_HM_HMOG_DIAG,
 * K) for its diagonal-posterior variant (lat the diagonal Normal(q)); and
 * (HM_HM_MIXTURE_OF, K, base kind [, ...]) for a mixture of K copies of a
 * base model, which may be a hierarchy spec. obs and lat are the (base)
 * model's families; for a hierarchy lat is the latent Normal family, or
 * for depth > 1 a list of the Normal families level by level.
 */
void glue_model_from(SEXP kind, SEXP obs, SEXP lat, glue_model *m, const char *fn) {
    glue_family_from(obs, &m->obs, fn);
    int nlat = 1;
    if (TYPEOF(lat) == VECSXP) {
        nlat = (int)XLENGTH(lat);
        if (nlat < 1 || nlat > GLUE_MAX_DEPTH) {
            internal_error(fn, "`lat` must list 1 to %d family specs", GLUE_MAX_DEPTH); // # nocov
        }
        glue_family_from(VECTOR_ELT(lat, 0), &m->lat, fn);
        for (int i = 1; i < nlat; i++) {
            SEXP sp = VECTOR_ELT(lat, i);
            if (TYPEOF(sp) != INTSXP ||
                hm_family_from_spec(INTEGER(sp), (int)XLENGTH(sp), &m->deep[i - 1], NULL, 0) != HM_OK) {
                internal_error(fn, "malformed family spec"); // # nocov
            }
        }
    } else {
        glue_family_from(lat, &m->lat, fn);
    }
    if (TYPEOF(kind) != INTSXP || XLENGTH(kind) < 1 || XLENGTH(kind) > GLUE_MAX_DEPTH + 3) {
        internal_error(fn, "`kind` must be an integer vector of length 1 to %d", GLUE_MAX_DEPTH + 3); // # nocov
    }
    const int *kv = INTEGER(kind);
    const int nk = (int)XLENGTH(kind);
    hm_status st = HM_EINVAL;
    if (nk == 1) {
        st = nlat == 1 ? hm_hm_init(&m->h, kv[0], &m->obs.f, &m->lat.f) : HM_EINVAL;
    } else if (kv[0] == HM_HM_HMOG) {
        const int depth = hier_depth(kv, nk - 1);
        if (depth == nlat && nk == depth + 1) {
            st = hier_from(m, depth, kv[depth], &m->lat.f, &m->h);
        }
    } else if (kv[0] == HM_HM_HMOG_DIAG && nk == 2 && nlat == 1) {
        st = hmog_diag_from(m, kv[1]);
    } else if (kv[0] == HM_HM_MIXTURE_OF && nk >= 3) {
        const int depth = hier_depth(kv + 2, nk - 3);
        hm_harmonium *base = &m->part[2 * GLUE_MAX_DEPTH + 1];
        if (depth > 0 && depth == nlat && nk == depth + 3) {
            st = hier_from(m, depth, kv[nk - 1], &m->lat.f, base);
        } else if (nk == 3 && nlat == 1) {
            st = hm_hm_init(base, kv[2], &m->obs.f, &m->lat.f);
        }
        if (st == HM_OK) {
            st = hm_hm_init_mixture_of(&m->h, kv[1], base);
        }
    }
    if (st != HM_OK) {
        internal_error(fn, "malformed model spec"); // # nocov
    }
}

// c(reg, tol, maxit, floor) or c(reg, tol, maxit, floor, lower).
hm_ctrl glue_ctrl_from(SEXP ctrl, const char *fn) {
    const R_xlen_t len = TYPEOF(ctrl) == REALSXP && XLENGTH(ctrl) == 5 ? 5 : 4;
    const double *c = glue_real(ctrl, len, "ctrl", fn);
    hm_ctrl out;
    out.reg = c[0];
    out.tol = c[1];
    out.maxit = (int)c[2];
    out.floor = c[3];
    out.lower = len == 5 ? c[4] : 0.0;
    return out;
}

// Reads R's pending flag (set by the SIGINT handler) without calling R, so
// the engine can stop between rounds of blocks; the EM loops then raise the
// interrupt with R_CheckUserInterrupt() after the engine has returned.
// Windows sets the flag only when R processes events, so there the check per
// iteration stays.
int glue_interrupt_pending(void) {
    return R_interrupts_pending && !R_interrupts_suspended;
}

double *glue_scratch(size_t len) {
    return (double *)R_alloc(len > 0 ? len : 1, sizeof(double));
}

// --- the host RNG ------------------------------------------------------------

static double r_unif(void *ctx) {
    (void)ctx;
    return unif_rand();
}
static double r_norm(void *ctx) {
    (void)ctx;
    return norm_rand();
}
static double r_exp(void *ctx) {
    (void)ctx;
    return exp_rand();
}
static double r_gamma(void *ctx, double shape) {
    (void)ctx;
    return Rf_rgamma(shape, 1.0);
}
static double r_pois(void *ctx, double mu) {
    (void)ctx;
    return Rf_rpois(mu);
}
static double r_binom(void *ctx, double n, double p) {
    (void)ctx;
    return Rf_rbinom(n, p);
}

hm_rng glue_rng(void) {
    hm_rng r;
    r.ctx = NULL;
    r.unif = r_unif;
    r.norm = r_norm;
    r.exp = r_exp;
    r.gamma = r_gamma;
    r.poisson = r_pois;
    r.binom = r_binom;
    return r;
}

// --- results -------------------------------------------------------------------

SEXP glue_list(int n, const char **names, SEXP *values) {
    SEXP out = PROTECT(Rf_allocVector(VECSXP, n));
    SEXP nms = PROTECT(Rf_allocVector(STRSXP, n));
    for (int i = 0; i < n; i++) {
        SET_VECTOR_ELT(out, i, values[i]);
        SET_STRING_ELT(nms, i, Rf_mkChar(names[i]));
    }
    Rf_setAttrib(out, R_NamesSymbol, nms);
    UNPROTECT(2);
    return out;
}

SEXP glue_status(hm_status st) {
    return Rf_ScalarInteger((int)st);
}
