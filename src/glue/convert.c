/*
 * convert.c: SEXP -> engine views and engine results -> named R lists.
 */
#include <stdarg.h>
#include <stdio.h>
#include <Rmath.h>

#include "convert.h"
#include <R_ext/GraphicsEngine.h> /* includes GraphicsDevice.h: R_interrupts_pending, _suspended */

// The classed condition every glue rejection raises, built here and
// signalled with base::stop() so the glue needs nothing from rlang or the
// namespace (a condition object is a list(message, call) with a class).
static const char *const native_class[] = {"harmonium_error_native", "harmonium_error", "error", "condition"};

void internal_error(const char *fn, const char *fmt, ...) {
    char buf[512], msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    snprintf(msg, sizeof msg, "%s (in %s)", buf, fn);
    SEXP cond = PROTECT(Rf_allocVector(VECSXP, 2));
    SET_VECTOR_ELT(cond, 0, Rf_mkString(msg));
    SEXP nms = PROTECT(Rf_allocVector(STRSXP, 2));
    SET_STRING_ELT(nms, 0, Rf_mkChar("message"));
    SET_STRING_ELT(nms, 1, Rf_mkChar("call"));
    Rf_setAttrib(cond, R_NamesSymbol, nms);
    SEXP cls = PROTECT(Rf_allocVector(STRSXP, 4));
    for (int i = 0; i < 4; i++) {
        SET_STRING_ELT(cls, i, Rf_mkChar(native_class[i]));
    }
    Rf_setAttrib(cond, R_ClassSymbol, cls);
    SEXP call = PROTECT(Rf_lang2(Rf_install("stop"), cond));
    Rf_eval(call, R_BaseEnv);
    UNPROTECT(4);
    Rf_error("%s", msg); // # nocov (stop() does not return)
}

void glue_check_finite(const double *v, R_xlen_t len, int allow_nan, const char *what, const char *fn) {
    for (R_xlen_t i = 0; i < len; i++) {
        if (!R_FINITE(v[i]) && !(allow_nan && ISNAN(v[i]))) {
            internal_error(fn, "`%s` has a non-finite value at position %lld", what, (long long)i + 1);
        }
    }
}

const double *glue_real(SEXP x, R_xlen_t len, const char *what, const char *fn) {
    if (TYPEOF(x) != REALSXP) {
        internal_error(fn, "`%s` must be a double vector, not %s", what, Rf_type2char(TYPEOF(x)));
    }
    if (len >= 0 && XLENGTH(x) != len) {
        internal_error(fn, "`%s` has length %lld, expected %lld", what, (long long)XLENGTH(x), (long long)len);
    }
    return REAL(x);
}

const double *glue_real_finite(SEXP x, R_xlen_t len, const char *what, const char *fn) {
    const double *v = glue_real(x, len, what, fn);
    glue_check_finite(v, XLENGTH(x), 0, what, fn);
    return v;
}

int glue_matrix(SEXP x, int cols, const char *what, const char *fn) {
    if (TYPEOF(x) != REALSXP || !Rf_isMatrix(x)) {
        internal_error(fn, "`%s` must be a double matrix", what);
    }
    if (Rf_ncols(x) != cols) {
        internal_error(fn, "`%s` has %d columns, expected %d", what, Rf_ncols(x), cols);
    }
    return Rf_nrows(x);
}

int glue_data(SEXP x, int cols, int min_rows, int allow_nan, const char *what, const char *fn) {
    const int n = glue_matrix(x, cols, what, fn);
    if (n < min_rows) {
        internal_error(fn, "`%s` has %d rows, expected at least %d", what, n, min_rows);
    }
    glue_check_finite(REAL_RO(x), XLENGTH(x), allow_nan, what, fn);
    return n;
}

int glue_int1(SEXP x, const char *what, const char *fn) {
    if (TYPEOF(x) != INTSXP || XLENGTH(x) != 1 || INTEGER(x)[0] == NA_INTEGER) {
        internal_error(fn, "`%s` must be one integer", what);
    }
    return INTEGER(x)[0];
}

int glue_int_in(SEXP x, int lo, int hi, const char *what, const char *fn) {
    const int v = glue_int1(x, what, fn);
    if (v < lo || v > hi) {
        internal_error(fn, "`%s` is %d, expected %d to %d", what, v, lo, hi);
    }
    return v;
}

int glue_threads(SEXP x, const char *fn) {
    return glue_int_in(x, 1, GLUE_MAX_THREADS, "threads", fn);
}

const int *glue_flags(SEXP x, int type, R_xlen_t len, const char *what, const char *fn) {
    if (TYPEOF(x) != type || XLENGTH(x) != len) {
        internal_error(fn, "`%s` must be %lld %s flags", what, (long long)len, Rf_type2char((SEXPTYPE)type));
    }
    const int *v = type == LGLSXP ? LOGICAL(x) : INTEGER(x);
    for (R_xlen_t i = 0; i < len; i++) {
        if (v[i] == NA_INTEGER) {
            internal_error(fn, "`%s` has an NA flag", what);
        }
    }
    return v;
}

void glue_check_size(double len, const char *what, const char *fn) {
    if (!(len <= GLUE_MAX_ALLOC)) {
        internal_error(fn, "`%s` asks for %.4g values, more than the limit of %.4g", what, len,
                       (double)GLUE_MAX_ALLOC);
    }
}

// A base family from its four spec integers, checked against the glue's
// limits first (the engine's own checks compute products of sizes that
// must not overflow an int).
static void base_family(const int *s, hm_family *f, const char *what, const char *fn) {
    for (int i = 0; i < 4; i++) {
        if (s[i] == NA_INTEGER) {
            internal_error(fn, "`%s` has an NA in its family spec", what);
        }
    }
    if (s[0] < HM_FAM_NORMAL || s[0] >= HM_FAM_PRODUCT) {
        internal_error(fn, "`%s` has an unknown family kind %d", what, s[0]);
    }
    if (s[1] < 1 || s[1] > GLUE_MAX_UNITS) {
        internal_error(fn, "`%s` has family size %d, expected 1 to %d", what, s[1], GLUE_MAX_UNITS);
    }
    hm_status st = hm_family_init(f, s[0], s[1], s[2], s[3]);
    if (st != HM_OK || f->dim > GLUE_MAX_DIM) {
        internal_error(fn, "`%s` is a malformed or too large family spec (%s)", what,
                       st == HM_OK ? "size too large" : hm_status_string(st));
    }
}

void glue_family_from(SEXP spec, glue_family *g, const char *what, const char *fn) {
    if (TYPEOF(spec) != INTSXP || XLENGTH(spec) < 2 || XLENGTH(spec) > 2 + 4 * HM_FAM_MAX_SUB) {
        internal_error(fn, "`%s` must be an integer family spec", what);
    }
    const int *s = INTEGER(spec);
    const int len = (int)XLENGTH(spec);
    if (s[0] == HM_FAM_PRODUCT) {
        if (s[1] == NA_INTEGER || s[1] < 1 || s[1] > HM_FAM_MAX_SUB || len != 2 + 4 * s[1]) {
            internal_error(fn, "`%s` is a product spec with a bad block count", what);
        }
        // Blocks one by one (a nested product is refused by base_family's
        // kind check), their dimensions summed without overflow.
        long long dim = 0;
        for (int b = 0; b < s[1]; b++) {
            base_family(s + 2 + 4 * b, &g->sub[b], what, fn);
            dim += g->sub[b].dim;
        }
        if (dim > GLUE_MAX_DIM) {
            internal_error(fn, "`%s` is a product of %lld parameters, more than the limit of %d", what, dim,
                           GLUE_MAX_DIM);
        }
    } else if (len != 4) {
        internal_error(fn, "`%s` must be a family spec of 4 integers", what);
    } else {
        base_family(s, &g->f, what, fn);
    }
    hm_status st = hm_family_from_spec(s, len, &g->f, g->sub, HM_FAM_MAX_SUB);
    if (st != HM_OK) {
        internal_error(fn, "`%s` is a malformed family spec (%s)", what, hm_status_string(st));
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

// --- size bounds ---------------------------------------------------------------
// The engine computes a model's sizes in int; the glue first bounds them in
// double. A harmonium of families a and b has at most (dim a + 1)(dim b + 1)
// parameters (a coupling no larger than dim a x dim b), and every composite
// is a sum of such pairs.

static double pair_bound(const hm_family *a, double b_dim) {
    return ((double)a->dim + 1.0) * (b_dim + 1.0);
}

static int check_k(int k, const char *fn) {
    if (k == NA_INTEGER || k < 1 || k > GLUE_MAX_UNITS) {
        internal_error(fn, "`kind` asks for %d components, expected 1 to %d", k, GLUE_MAX_UNITS);
    }
    return k;
}

static double hier_bound(const glue_model *m, int depth, int K, const hm_family *top_lat) {
    const hm_family *fam[GLUE_MAX_DEPTH + 1];
    fam[0] = &m->obs.f;
    fam[1] = top_lat;
    for (int d = 2; d <= depth; d++) {
        fam[d] = &m->deep[d - 2];
    }
    double b = 0.0;
    for (int d = 0; d < depth; d++) {
        b += pair_bound(fam[d], (double)fam[d + 1]->dim);
    }
    return b + pair_bound(fam[depth], (double)K - 1.0);
}

// A single harmonium: the pair, and room for a prior family richer than the
// latent one (a full Normal over the latent units).
static double single_bound(const glue_model *m) {
    return pair_bound(&m->obs.f, (double)m->lat.f.dim) + (double)m->lat.f.n * (double)m->lat.f.n;
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
    glue_family_from(obs, &m->obs, "obs", fn);
    int nlat = 1;
    if (TYPEOF(lat) == VECSXP) {
        nlat = (int)XLENGTH(lat);
        if (nlat < 1 || nlat > GLUE_MAX_DEPTH) {
            internal_error(fn, "`lat` must list 1 to %d family specs", GLUE_MAX_DEPTH);
        }
        glue_family_from(VECTOR_ELT(lat, 0), &m->lat, "lat", fn);
        for (int i = 1; i < nlat; i++) {
            SEXP sp = VECTOR_ELT(lat, i);
            if (TYPEOF(sp) != INTSXP || XLENGTH(sp) != 4) {
                internal_error(fn, "`lat` has a malformed family spec at position %d", i + 1);
            }
            base_family(INTEGER(sp), &m->deep[i - 1], "lat", fn);
        }
    } else {
        glue_family_from(lat, &m->lat, "lat", fn);
    }
    if (TYPEOF(kind) != INTSXP || XLENGTH(kind) < 1 || XLENGTH(kind) > GLUE_MAX_DEPTH + 3) {
        internal_error(fn, "`kind` must be an integer vector of length 1 to %d", GLUE_MAX_DEPTH + 3);
    }
    const int *kv = INTEGER(kind);
    const int nk = (int)XLENGTH(kind);
    hm_status st = HM_EINVAL;
    double bound = 0.0;
    int shape_ok = 0;
    if (nk == 1) {
        shape_ok = nlat == 1;
        bound = single_bound(m);
    } else if (kv[0] == HM_HM_HMOG) {
        const int depth = hier_depth(kv, nk - 1);
        shape_ok = depth == nlat && nk == depth + 1;
        if (shape_ok) {
            bound = hier_bound(m, depth, check_k(kv[depth], fn), &m->lat.f);
        }
    } else if (kv[0] == HM_HM_HMOG_DIAG && nk == 2 && nlat == 1) {
        shape_ok = 1;
        const double q = (double)m->lat.f.n, full = q + q * (q + 1.0) / 2.0;
        const int K = check_k(kv[1], fn);
        bound = pair_bound(&m->obs.f, full) + (full + 1.0) * K + pair_bound(&m->lat.f, K - 1.0);
    } else if (kv[0] == HM_HM_MIXTURE_OF && nk >= 3) {
        const int depth = hier_depth(kv + 2, nk - 3);
        const int K = check_k(kv[1], fn);
        if (depth > 0 && depth == nlat && nk == depth + 3) {
            shape_ok = 1;
            bound = hier_bound(m, depth, check_k(kv[nk - 1], fn), &m->lat.f);
        } else if (nk == 3 && nlat == 1) {
            shape_ok = 1;
            bound = single_bound(m);
        }
        bound = (bound + 1.0) * K;
    }
    if (!shape_ok) {
        internal_error(fn, "`kind` does not match the shape of `lat`");
    }
    if (!(bound <= GLUE_MAX_MODEL)) {
        internal_error(fn, "`kind`, `obs` and `lat` describe a model of up to %.4g parameters, more than the limit of %d",
                       bound, GLUE_MAX_MODEL);
    }
    // The shapes are right and the sizes bounded: the engine checks the rest.
    if (nk == 1) {
        st = hm_hm_init(&m->h, kv[0], &m->obs.f, &m->lat.f);
    } else if (kv[0] == HM_HM_HMOG) {
        const int depth = nlat;
        st = hier_from(m, depth, kv[depth], &m->lat.f, &m->h);
    } else if (kv[0] == HM_HM_HMOG_DIAG) {
        st = hmog_diag_from(m, kv[1]);
    } else {
        hm_harmonium *base = &m->part[2 * GLUE_MAX_DEPTH + 1];
        st = nk == 3 ? hm_hm_init(base, kv[2], &m->obs.f, &m->lat.f) : hier_from(m, nlat, kv[nk - 1], &m->lat.f, base);
        if (st == HM_OK) {
            st = hm_hm_init_mixture_of(&m->h, kv[1], base);
        }
    }
    if (st != HM_OK) {
        internal_error(fn, "`kind` does not fit the families `obs` and `lat` (%s)", hm_status_string(st));
    }
}

// c(reg, tol, maxit, floor) or c(reg, tol, maxit, floor, lower).
hm_ctrl glue_ctrl_from(SEXP ctrl, const char *fn) {
    const R_xlen_t got = TYPEOF(ctrl) == REALSXP ? XLENGTH(ctrl) : 0;
    const R_xlen_t len = got == 5 || got == 6 ? got : 4;
    const double *c = glue_real_finite(ctrl, len, "ctrl", fn);
    if (c[1] < 0.0 || c[2] < 0.0 || c[2] > 1e9 || c[3] < 0.0 || (len >= 5 && c[4] < 0.0) ||
        (len == 6 && (c[5] < 0.0 || c[5] > 1e-3))) {
        internal_error(fn, "`ctrl` must be c(reg, tol >= 0, maxit in 0 to 1e9, floor >= 0[, lower >= 0[, cfloor in [0, 1e-3]]])");
    }
    hm_ctrl out;
    out.reg = c[0];
    out.tol = c[1];
    out.maxit = (int)c[2];
    out.floor = c[3];
    out.lower = len >= 5 ? c[4] : 0.0;
    out.cfloor = len == 6 ? c[5] : 0.0;
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

// 1 if every finite vector is in the family's support (a Normal, or a
// product of Normals): glue_data's finiteness check is then the whole check.
static int support_is_real(const hm_family *f) {
    if (f->kind == HM_FAM_PRODUCT) {
        for (int b = 0; b < f->n_sub; b++) {
            if (f->sub[b].kind != HM_FAM_NORMAL) {
                return 0;
            }
        }
        return 1;
    }
    return f->kind == HM_FAM_NORMAL;
}

int glue_obs_data(SEXP x, const hm_family *f, int min_rows, int allow_nan, const char *what, const char *fn) {
    const int n = glue_data(x, f->d, min_rows, allow_nan, what, fn);
    if (support_is_real(f)) {
        // No row-by-row pass: a NaN row is missing where allowed, and no
        // other non-finite value got through glue_data.
        return n;
    }
    const double *v = REAL_RO(x);
    double *xi = (double *)R_alloc((size_t)(f->d > 0 ? f->d : 1), sizeof(double));
    for (int i = 0; i < n; i++) {
        int na = 0;
        for (int j = 0; j < f->d; j++) {
            xi[j] = v[(size_t)j * (size_t)n + (size_t)i];
            na |= ISNAN(xi[j]);
        }
        if (na && allow_nan) {
            continue;
        }
        if (hm_fam_check_data(f, xi) != HM_OK) {
            internal_error(fn, "`%s` row %d is outside the support of the family", what, i + 1);
        }
    }
    return n;
}

int glue_missing_ok(const hm_harmonium *h) {
    return h->kind == HM_HM_MIXTURE || h->kind == HM_HM_MIXTURE_OF;
}

const double *glue_weights(SEXP w, int n, const char *fn) {
    if (Rf_isNull(w)) {
        return NULL;
    }
    const double *v = glue_real_finite(w, n, "w", fn);
    for (int i = 0; i < n; i++) {
        if (v[i] < 0.0) {
            internal_error(fn, "`w` has a negative weight at position %d", i + 1);
        }
    }
    return v;
}

double *glue_scratch(size_t len) {
    if (!((double)len <= GLUE_MAX_ALLOC)) {
        internal_error("glue_scratch",
                       "a workspace of %.4g doubles exceeds the limit of %.4g: `kind`, `obs`, `lat`, `n`, `threads` "
                       "or the data are too large",
                       (double)len, GLUE_MAX_ALLOC);
    }
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
