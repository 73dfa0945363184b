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

void internal_error(const char *fn, const char *fmt, ...);

void glue_family_from(SEXP spec, glue_family *g, const char *fn);
void glue_model_from(SEXP kind, SEXP obs, SEXP lat, glue_model *m, const char *fn);
hm_ctrl glue_ctrl_from(SEXP ctrl, const char *fn);

/* Checks that x is a double vector of length len (len < 0: any length). */
const double *glue_real(SEXP x, R_xlen_t len, const char *what, const char *fn);
/* Checks that x is a double matrix with `cols` columns; returns its rows. */
int glue_matrix(SEXP x, int cols, const char *what, const char *fn);
int glue_int1(SEXP x, const char *what, const char *fn);

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
