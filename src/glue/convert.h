/*
 * convert.h: SEXP <-> engine conversions and the glue's defensive checks.
 * R validates user input (R/check.R); a failure here is a bug in our own R
 * code and raises an internal error.
 */
#ifndef HM_GLUE_CONVERT_H
#define HM_GLUE_CONVERT_H

#define R_NO_REMAP
#include <R.h>
#include <Rinternals.h>

#include "../engine/hm_engine.h"

/* A family descriptor with room for product blocks. */
typedef struct glue_family {
    hm_family f;
    hm_family sub[HM_FAM_MAX_SUB];
} glue_family;

/* A harmonium descriptor with its families. */
/* Levels of a hierarchy (harmonium(Normal, harmonium(Normal, ... mixture))). */
#define GLUE_MAX_DEPTH 4

typedef struct glue_model {
    glue_family obs;
    glue_family lat;
    hm_family deep[GLUE_MAX_DEPTH - 1]; /* hierarchies: the Normal latents below lat */
    hm_family cat;                       /* composites: Categorical(K) */
    hm_family full;                      /* hmog_diag: the prior's Normal(q, full) */
    hm_harmonium part[2 * GLUE_MAX_DEPTH + 2]; /* composites: their parts */
    hm_harmonium h;
} glue_model;

/*
 * Limits of what the glue hands the engine, so that no size computed in
 * int overflows and no argument makes R allocate absurd amounts: family
 * size hyper-parameters and component counts, a family's parameter count,
 * a model's parameter count (bounded before the engine's own checks), one
 * allocation in doubles (4 GiB), and threads (as lvm_control()).
 */
#define GLUE_MAX_UNITS (1 << 24)
#define GLUE_MAX_DIM (1 << 26)
#define GLUE_MAX_MODEL (1 << 28)
#define GLUE_MAX_ALLOC 536870912.0
#define GLUE_MAX_THREADS 1024

#ifndef NORET
#define NORET __attribute__((noreturn))
#endif

/*
 * Raises a condition of class c("harmonium_error_native", "harmonium_error",
 * "error", "condition") with the message "<fmt ...> (in <fn>)"; the message
 * names the argument in backquotes. Reaching it from an exported function
 * means R's validation missed a case.
 */
NORET void internal_error(const char *fn, const char *fmt, ...);

void glue_family_from(SEXP spec, glue_family *g, const char *what, const char *fn);
void glue_model_from(SEXP kind, SEXP obs, SEXP lat, glue_model *m, const char *fn);
/* ctrl = c(reg, tol, maxit, floor), finite, tol, maxit and floor >= 0. */
hm_ctrl glue_ctrl_from(SEXP ctrl, const char *fn);

/* Checks that x is a double vector of length len (len < 0: any length). */
const double *glue_real(SEXP x, R_xlen_t len, const char *what, const char *fn);
/* The same, and every value finite. */
const double *glue_real_finite(SEXP x, R_xlen_t len, const char *what, const char *fn);
/* Every value of v[len] finite (or NaN when allow_nan). */
void glue_check_finite(const double *v, R_xlen_t len, int allow_nan, const char *what, const char *fn);
/* Checks that x is a double matrix with `cols` columns; returns its rows. */
int glue_matrix(SEXP x, int cols, const char *what, const char *fn);
/* A data matrix: glue_matrix, at least min_rows rows, no infinite value and
 * no NaN unless allow_nan (NaN = a missing value where the engine says so). */
int glue_data(SEXP x, int cols, int min_rows, int allow_nan, const char *what, const char *fn);
/* Observations of family f: glue_data with f->d columns, and every row in
 * the family's support (rows with a NaN skipped when allow_nan). */
int glue_obs_data(SEXP x, const hm_family *f, int min_rows, int allow_nan, const char *what, const char *fn);
/* 1 if the kind's E-step takes a row with a NaN as missing (mixtures). */
int glue_missing_ok(const hm_harmonium *h);
/* NULL (R NULL) or n finite non-negative weights. */
const double *glue_weights(SEXP w, int n, const char *fn);
int glue_int1(SEXP x, const char *what, const char *fn);
/* One integer in [lo, hi]. */
int glue_int_in(SEXP x, int lo, int hi, const char *what, const char *fn);
/* The thread request: one integer in 1..GLUE_MAX_THREADS. */
int glue_threads(SEXP x, const char *fn);
/* A logical (type LGLSXP) or integer (INTSXP) vector of len non-NA flags. */
const int *glue_flags(SEXP x, int type, R_xlen_t len, const char *what, const char *fn);
/* Refuses an allocation of more than GLUE_MAX_ALLOC values asked for by `what`. */
void glue_check_size(double len, const char *what, const char *fn);

/* R-allocated scratch (freed by R on error or interrupt). */
/* Whether R has an interrupt pending (read without calling R): the engine's
 * interrupt check during the EM loops (hm_set_interrupt_check). */
int glue_interrupt_pending(void);
double *glue_scratch(size_t len);

/* The host RNG backed by R's generator (call between GetRNGstate/PutRNGstate). */
hm_rng glue_rng(void);

/* A named list from names and values (values already protected by caller). */
SEXP glue_list(int n, const char **names, SEXP *values);

/* list(status = , message = ) fields appended by every fallible entry point. */
SEXP glue_status(hm_status st);

#endif
